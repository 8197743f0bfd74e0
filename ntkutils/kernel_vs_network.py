"""Notebook 11: infinite networks (NNGP and NTK regression) against trained ones on real data.

Lee et al. 2020 ("Finite versus infinite neural networks: an empirical study", arXiv:2007.15801)
compare kernel regression with the NNGP Σ and the NTK Θ of a fully-connected architecture with
the same architecture trained by gradient descent; Ali, Kolter & Tibshirani 2019 (AISTATS,
arXiv:1810.10082) compare early-stopped gradient flow with ridge regression. Here on MNIST-1D
(Greydanus 2020), with one-hot targets minus 0.1 and the mean-normalised MSE ½·mean‖f − y‖².

Conventions: kernels (N, M) float64; targets (N, C); a relative ridge ``r`` means ε = r·tr(K)/N
(neural-tangents' ``diag_reg``); gradient descent on ½·mean over N of the loss with step η
moves the training residual by (I − ηK/N) per step and gradient flow for time t by e^{−Kt/N},
so the ridge ε corresponds to the time t = N/ε (Ali et al.'s calibration t = 1/λ, their ridge
penalty λ being our ε/N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from . import _validation as check
from ._progress import progress_bar
from .data import LabelledData
from .dynamics import analytic_stability_bound
from .kernels import analytic_kernels
from .models import MLP
from .stats import loglog_slope
from .tiled import kernel_regression, progress_context, tiled_kernels
from .training import train_network

LEE2020 = "Lee et al. 2020 (arXiv:2007.15801)"
LEE2019 = "Lee et al. 2019 (arXiv:1902.06720)"
ALI = "Ali, Kolter & Tibshirani 2019 (arXiv:1810.10082)"
#: Ali et al.'s bound on the risk of gradient flow at t = 1/λ over that of ridge at λ (Thms 1-2).
ALI_RISK_RATIO = 1.6862
KINDS = ("nngp", "ntk")
OFFSET = 0.1


def one_hot_targets(labels: torch.Tensor, n_classes: int = 10) -> np.ndarray:
    """One-hot rows minus 0.1 (zero mean over 10 classes), (N, C) float64."""
    return torch.nn.functional.one_hot(labels, n_classes).double().numpy() - OFFSET


def accuracy(pred: np.ndarray, labels) -> float:
    """Share of rows whose argmax is the label."""
    return float((np.asarray(pred).argmax(1) == np.asarray(labels)).mean())


def mse(pred: np.ndarray, targets: np.ndarray) -> float:
    """½·mean over rows of the squared error summed over outputs (the training loss's scale)."""
    return 0.5 * float(((np.asarray(pred) - targets) ** 2).sum(1).mean())


def paired_difference(correct_a, correct_b) -> tuple[float, float]:
    """Accuracy difference a − b on the same test points and its standard error (paired).

    Args:
        correct_a, correct_b: (M,) booleans, one per test point.

    Returns:
        ``(difference, se)``, se = sd(d)/√M of the per-point differences d ∈ {−1, 0, 1}.
    """
    d = np.asarray(correct_a, dtype=np.float64) - np.asarray(correct_b, dtype=np.float64)
    if len(d) < 2:
        raise ValueError(f"need at least 2 test points, got {len(d)}")
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


class SpectralPredictor:
    """Kernel predictions for any ridge, flow time or GD step count from one K = V diag(λ) Vᵀ.

    Args:
        k_train: K(X, X), (N, N); y: Y, (N, C); k_test_train: K(x, X), (M, N) (float64).
    """

    def __init__(self, k_train, y, k_test_train):
        k = np.asarray(k_train, dtype=np.float64)
        self.n = k.shape[0]
        self.scale = float(np.trace(k)) / self.n
        self.evals, self.vecs = np.linalg.eigh(k)
        self.lam = np.maximum(self.evals, 0.0)
        self.proj = self.vecs.T @ np.asarray(y, dtype=np.float64)
        self.cross = np.asarray(k_test_train, dtype=np.float64) @ self.vecs

    def _apply(self, gain: np.ndarray, coefficients: np.ndarray | None = None) -> np.ndarray:
        return self.cross @ ((self.proj if coefficients is None else coefficients) * gain[:, None])

    def _ratio(self, numerator: np.ndarray, limit: np.ndarray | float) -> np.ndarray:
        safe = np.where(self.lam > 0, self.lam, 1.0)
        return np.where(self.lam > 0, numerator / safe, limit)

    def ridge(self, ridge: float) -> np.ndarray:
        """K(x, X)(K + εI)⁻¹Y with ε = ridge·tr(K)/N: (M, C)."""
        return self._apply(1.0 / (self.evals + ridge * self.scale))

    def ridge_time(self, ridge: float) -> float:
        """The flow time t = N/ε that corresponds to a relative ridge (Ali et al.'s t = 1/λ)."""
        return self.n / (ridge * self.scale)

    def flow(self, t: float) -> np.ndarray:
        """Gradient flow from f = 0 for time t: K(x, X)K⁻¹(I − e^{−Kt/N})Y, (M, C)."""
        return self._apply(self._ratio(-np.expm1(-self.lam * t / self.n), t / self.n))

    def gd(self, steps: int, eta: float, residual0: np.ndarray, f0_test: np.ndarray) -> np.ndarray:
        """T steps of GD of the kernel model from f0 (Lee et al. 2019, eq. 10 in discrete time).

        f0(x) + K(x, X)K⁻¹(I − (I − ηK/N)^T)(Y − f0(X)); ``residual0`` = Y − f0(X), (N, C);
        ``f0_test`` (M, C). Returns (M, C).
        """
        decay = (1.0 - eta * self.lam / self.n) ** steps
        return f0_test + self._apply(self._ratio(1.0 - decay, eta * steps / self.n), self.vecs.T @ residual0)


@dataclass
class KernelResults:
    """NNGP and NTK regression on one split, over a ridge grid.

    Attributes:
        ridges: (R,) relative ridges; val_accuracy: {kind: (R,)} on the validation split;
        chosen: {kind: ridge with the best validation accuracy (ties: the larger ridge)};
        test_accuracy, test_mse: {kind: (R,)} trained on the whole training set;
        correct: {kind: (M,) bool at the chosen ridge}; predictors: {kind: SpectralPredictor};
        flow_mse, flow_accuracy: (R,) the NTK's gradient flow at t = N/ε of each ridge;
        y_test: (M, C) the test targets; n_train, n_val: the sizes.
    """

    ridges: np.ndarray
    val_accuracy: dict[str, np.ndarray]
    chosen: dict[str, float]
    test_accuracy: dict[str, np.ndarray]
    test_mse: dict[str, np.ndarray]
    correct: dict[str, np.ndarray]
    predictors: dict[str, SpectralPredictor]
    flow_mse: np.ndarray
    flow_accuracy: np.ndarray
    y_test: np.ndarray
    n_train: int
    n_val: int

    def accuracy_at_chosen(self, kind: str) -> float:
        return float(self.correct[kind].mean())

    def flow_ratio(self) -> np.ndarray:
        """Test MSE of the NTK's gradient flow at t = N/ε over ridge's at ε, (R,)."""
        return self.flow_mse / self.test_mse["ntk"]

    def __str__(self) -> str:
        lines = [f"kernel regression: N = {self.n_train} (ridge chosen on {self.n_val} held-out training points)"]
        for k in KINDS:
            i = int(np.argmin(np.abs(self.ridges - self.chosen[k])))
            lines.append(f"  {k.upper():4s}: chosen ridge {self.chosen[k]:.0e}, test accuracy "
                         f"{self.test_accuracy[k][i]:.3f} (best on the grid {self.test_accuracy[k].max():.3f}), "
                         f"test MSE {self.test_mse[k][i]:.4f}")
        ratio = self.flow_ratio()
        lines.append(f"  NTK flow at t = N/eps over ridge at eps (test MSE): {ratio.min():.3f} ... {ratio.max():.3f}")
        return "\n".join(lines)


def _kernels(x1, x2, architecture) -> dict[str, np.ndarray]:
    k = analytic_kernels(x1, x2, **architecture)
    return {"nngp": k.nngp.numpy(), "ntk": k.ntk.numpy()}


def kernel_study(train: LabelledData, test: LabelledData, *, architecture: dict, ridges: Sequence[float],
                 n_val: int, seed: int) -> KernelResults:
    """NNGP and NTK regression over a ridge grid; the ridge is chosen on held-out training points.

    The training set is split (seeded) into N − n_val fitting and n_val validation points; each
    kernel's ridge is the grid value with the best validation accuracy (ties: the larger ridge).
    Then both kernels are refitted on all N points, and their test accuracy and MSE are
    recorded for every ridge, with the NTK's gradient flow at the calibrated time t = N/ε.

    Args:
        train, test: ``LabelledData`` (x (N, n0), labels).
        architecture: keyword arguments of ``analytic_kernels``.
        ridges: relative ridges, > 0.
        n_val: validation points, 1 <= n_val < N.
        seed: seed of the split.

    Returns:
        ``KernelResults``.
    """
    ridges = np.sort(np.asarray([check.finite_float("ridges", r, strictly_positive=True) for r in ridges]))
    n = len(train.x)
    n_val = check.int_in_range("n_val", n_val, 1, n - 1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(check.nonnegative_int("seed", seed)))
    fit, val = order[n_val:], order[:n_val]
    y_all = one_hot_targets(train.labels)
    k_fit = _kernels(train.x[fit], None, architecture)
    k_val = _kernels(train.x[val], train.x[fit], architecture)
    val_acc, chosen = {}, {}
    for kind in KINDS:
        p = SpectralPredictor(k_fit[kind], y_all[fit.numpy()], k_val[kind])
        val_acc[kind] = np.array([accuracy(p.ridge(r), train.labels[val]) for r in ridges])
        best = np.flatnonzero(val_acc[kind] == val_acc[kind].max())
        chosen[kind] = float(ridges[best[-1]])
    k_train = _kernels(train.x, None, architecture)
    k_test = _kernels(test.x, train.x, architecture)
    y_test = one_hot_targets(test.labels)
    preds, acc, err, correct = {}, {}, {}, {}
    for kind in KINDS:
        p = preds[kind] = SpectralPredictor(k_train[kind], y_all, k_test[kind])
        out = [p.ridge(r) for r in ridges]
        acc[kind] = np.array([accuracy(o, test.labels) for o in out])
        err[kind] = np.array([mse(o, y_test) for o in out])
        correct[kind] = p.ridge(chosen[kind]).argmax(1) == test.labels.numpy()
    p = preds["ntk"]
    flows = [p.flow(p.ridge_time(r)) for r in ridges]
    res = KernelResults(ridges=ridges, val_accuracy=val_acc, chosen=chosen, test_accuracy=acc, test_mse=err,
                        correct=correct, predictors=preds, flow_mse=np.array([mse(f, y_test) for f in flows]),
                        flow_accuracy=np.array([accuracy(f, test.labels) for f in flows]), y_test=y_test,
                        n_train=n, n_val=n_val)
    return res


@dataclass
class NetworkResults:
    """Networks of several widths trained by full-batch GD, beside the NTK's GD from their f0.

    Attributes:
        widths: (W,); seeds: S; steps: T; eta: η.
        accuracy: (W, S) test accuracy after T steps; train_loss: (W, S) final ½·mean loss.
        correct: (W, S, M) bool per test point.
        distance: (W, S) ‖f_n(T) − f_∞(T; f_0)‖_F / ‖f_∞(T; f_0) − f_0‖_F on the test inputs, f_∞
            the analytic NTK's GD from the same network's initial outputs f_0.
        kernel_gd_accuracy: (W, S) accuracy of f_∞(T; f_0).
    """

    widths: np.ndarray
    seeds: int
    steps: int
    eta: float
    accuracy: np.ndarray
    train_loss: np.ndarray
    correct: np.ndarray
    distance: np.ndarray
    kernel_gd_accuracy: np.ndarray
    depth: int

    def distance_fit(self, ci: float, seed: int = 0):
        """Log-log slope of the distance against width (bootstrap over seeds)."""
        return loglog_slope(self.widths, self.distance, ci=ci, seed=seed)

    def __str__(self) -> str:
        lines = [f"networks: depth {self.depth}, {self.seeds} seeds per width, {self.steps} GD steps, eta = {self.eta:.3g}"]
        for i, w in enumerate(self.widths):
            lines.append(f"  width {int(w):5d}: test accuracy {self.accuracy[i].mean():.3f} "
                         f"(NTK GD from the same f0: {self.kernel_gd_accuracy[i].mean():.3f}), "
                         f"train loss {self.train_loss[i].mean():.4f}, "
                         f"|f_n - f_inf| / |f_inf - f0| = {self.distance[i].mean():.4f}")
        return "\n".join(lines)


def gd_learning_rate(x_train, *, architecture: dict, fraction: float) -> float:
    """η = fraction · 2N/λ_max(Θ), the analytic NTK's stability bound for the ½·mean loss.

    Raises:
        ValueError: ``fraction`` not in (0, 1) (at or above the bound GD diverges).
    """
    fraction = check.finite_float("eta_fraction", fraction, strictly_positive=True)
    if fraction >= 1:
        raise ValueError(f"eta_fraction must be below 1 (the 2/lambda_max stability bound), got {fraction!r}")
    arch = {k: architecture[k] for k in ("depth", "activation", "sigma_w", "sigma_b")}
    return fraction * analytic_stability_bound(x_train, normalization="mean", **arch)


def train_networks(x, y, x_test, *, widths: Sequence[int], architecture: dict, seeds: int, steps: int,
                   eta: float, seed: int) -> list[list[Any]]:
    """Train MLPs (NTK parameterisation, 10 outputs) by full-batch GD; returns records [w][s].

    Each record is ``(f0_train, f0_test, fT_test, final_loss)`` as float64 NumPy arrays.
    """
    arch = {k: architecture[k] for k in ("depth", "activation", "sigma_w", "sigma_b")}
    runs = []
    for w in progress_bar(list(widths), desc="widths"):
        row = []
        for s in range(seeds):
            net = MLP(x.shape[1], int(w), n_out=y.shape[1], seed=seed + 1000 * s + int(w), **arch)
            rec = train_network(net, x, torch.as_tensor(y, dtype=torch.float32), steps=steps, eta=eta,
                                x_test=x_test, record_steps=[0, steps], normalization="mean",
                                check_stability=False)
            row.append((rec.f_train[0].double().numpy(), rec.f_test[0].double().numpy(),
                        rec.f_test[-1].double().numpy(), float(rec.loss[-1])))
        runs.append(row)
    return runs


def network_study(train: LabelledData, test: LabelledData, kernels: KernelResults, *, architecture: dict,
                  widths: Sequence[int], seeds: int, steps: int, eta_fraction: float, seed: int) -> NetworkResults:
    """Networks of each width against the NTK's GD from the same initial outputs (Lee et al. 2019).

    The networks are trained on all of ``train`` (the set of ``kernels``) with η =
    ``eta_fraction``·2N/λ_max(Θ) for ``steps`` steps, float32; f_∞(T; f_0) uses the analytic Θ.
    """
    widths = [check.positive_int("widths", w) for w in widths]
    seeds = check.positive_int("seeds", seeds)
    steps = check.positive_int("steps", steps)
    eta = gd_learning_rate(train.x, architecture=architecture, fraction=eta_fraction)
    y = one_hot_targets(train.labels)
    runs = train_networks(train.x.float(), y, test.x.float(), widths=widths, architecture=architecture,
                          seeds=seeds, steps=steps, eta=eta, seed=seed)
    p = kernels.predictors["ntk"]
    labels = test.labels.numpy()
    shape = (len(widths), seeds)
    acc, loss, dist, kacc = (np.empty(shape) for _ in range(4))
    correct = np.empty(shape + (len(labels),), dtype=bool)
    for i, row in enumerate(runs):
        for s, (f0, f0t, ft, final) in enumerate(row):
            ref = p.gd(steps, eta, y - f0, f0t)
            dist[i, s] = np.linalg.norm(ft - ref) / np.linalg.norm(ref - f0t)
            correct[i, s] = ft.argmax(1) == labels
            acc[i, s], loss[i, s], kacc[i, s] = correct[i, s].mean(), final, accuracy(ref, labels)
    return NetworkResults(widths=np.asarray(widths), seeds=seeds, steps=steps, eta=eta, accuracy=acc,
                          train_loss=loss, correct=correct, distance=dist, kernel_gd_accuracy=kacc,
                          depth=architecture["depth"])


@dataclass
class LearningCurves:
    """Test error against N for NNGP and NTK regression (tiled, PCG) and a trained network.

    Attributes:
        sizes: (P,); n_test: M; error: {name: (P,)} test 0-1 error; iterations: {kind: (P,)}
        PCG iterations; ridges: {kind: relative ridge}; width, steps: the network's.
    """

    sizes: np.ndarray
    n_test: int
    error: dict[str, np.ndarray]
    iterations: dict[str, np.ndarray]
    ridges: dict[str, float]
    width: int
    steps: int
    dataset: str

    def fit(self, name: str, ci: float, seed: int = 0):
        """Power law error ∝ N^slope (residual bootstrap over the sizes)."""
        return loglog_slope(self.sizes, self.error[name], ci=ci, seed=seed)

    def __str__(self) -> str:
        head = f"learning curves on {self.dataset} ({self.n_test} test points); test error at N ="
        lines = [head, "  N        " + " ".join(f"{int(n):>7d}" for n in self.sizes)]
        for name, e in self.error.items():
            lines.append(f"  {name:8s} " + " ".join(f"{v:7.3f}" for v in e))
        return "\n".join(lines)


def learning_curves(train: LabelledData, test: LabelledData, sizes: Sequence[int], *, architecture: dict,
                    ridges: dict[str, float], width: int, steps: int, eta_fraction: float, seed: int,
                    n_test: int | None = None) -> LearningCurves:
    """Test error against N: NNGP and NTK by ``tiled_kernels`` + ``kernel_regression`` (Dask), and
    a network of ``width`` trained for ``steps`` full-batch GD steps (the first N training points).

    Args:
        train, test: the data (nested subsets: the first N points of ``train``).
        sizes: training-set sizes, increasing, each <= len(train).
        ridges: the relative ridge of each kernel (chosen in ``kernel_study``).
        n_test: test points used (default all).
    """
    import dask

    sizes = sorted(check.positive_int("sizes", n) for n in sizes)
    if sizes[-1] > len(train.x):
        raise ValueError(f"sizes must be at most the {len(train.x)} training points, got {sizes[-1]}")
    m = len(test.x) if n_test is None else check.int_in_range("n_test", n_test, 1, len(test.x))
    xt, lt = test.x[:m], test.labels[:m].numpy()
    err = {"NNGP": [], "NTK": [], "network": []}
    its = {"nngp": [], "ntk": []}
    for n in progress_bar(sizes, desc="N"):
        x, labels = train.x[:n], train.labels[:n]
        y = one_hot_targets(labels)
        with progress_context():
            k = tiled_kernels(x, **architecture)
            kt = tiled_kernels(xt, x, chunk=k.chunk, **architecture)
            trained = dict(zip(KINDS, dask.persist(k.nngp, k.ntk)))     # each tile computed once, for both
            for kind in KINDS:
                reg = kernel_regression(trained[kind], y, kt.kernel(kind), ridge=ridges[kind])
                err[kind.upper()].append(1.0 - accuracy(reg.test, lt))
                its[kind].append(reg.solve.iterations)
        eta = gd_learning_rate(x, architecture=architecture, fraction=eta_fraction)
        _, _, ft, _ = train_networks(x.float(), y, xt.float(), widths=[width], architecture=architecture,
                                     seeds=1, steps=steps, eta=eta, seed=seed)[0][0]
        err["network"].append(1.0 - accuracy(ft, lt))
    return LearningCurves(sizes=np.asarray(sizes), n_test=m, error={k: np.asarray(v) for k, v in err.items()},
                          iterations={k: np.asarray(v) for k, v in its.items()}, ridges=dict(ridges), width=width,
                          steps=steps, dataset=train.name.removesuffix("-train"))


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------

DATASETS = ("mnist1d", "digits")


def load_classification_data(dataset: str, *, n_train: int, n_test: int, num_samples: int = 5000, seed: int = 0,
              data_seed: int = 42) -> tuple[LabelledData, LabelledData]:
    """A training and a test set: MNIST-1D (generated offline) or scikit-learn's digits.

    MNIST-1D: ``load_mnist1d(num_samples, seed=data_seed)`` (5000 and 42 are the published
    set), the first ``n_train`` of its training split and the first ``n_test`` of its test
    split (nested subsets). Digits: the 1797 images on the unit sphere S⁶³, split at random
    (``seed``) into ``n_train`` training and ``n_test`` test images.

    Raises:
        ValueError: unknown dataset, or sizes larger than the data.
    """
    from .data import load_digits, load_mnist1d, random_split

    dataset = check.choice("dataset", dataset, DATASETS)
    n_train, n_test = check.positive_int("n_train", n_train), check.positive_int("n_test", n_test)
    if dataset == "mnist1d":
        train, test = load_mnist1d(num_samples, seed=data_seed)
    else:
        data = load_digits(sphere=True)
        if n_train >= len(data.x):
            raise ValueError(f"n_train must be below the {len(data.x)} digits, got {n_train}")
        train, test = random_split(data, n_train, seed=seed)
    for name, part, n in (("n_train", train, n_train), ("n_test", test, n_test)):
        if n > len(part.x):
            raise ValueError(f"{name} must be at most the {len(part.x)} points of {part.name}, got {n}")
    return (LabelledData(train.x[:n_train], train.labels[:n_train], train.name),
            LabelledData(test.x[:n_test], test.labels[:n_test], test.name))


# ----------------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------------

def figure_networks(kernels: KernelResults, nets: NetworkResults, *, ci: float) -> Any:
    """(a) test accuracy against width: networks, the infinite network from the same f0 (NTK GD
    for the same T steps), NNGP and NTK regression; (b) distance to that infinite network."""
    from .plotting import new_figure, slope_panel, width_ticks

    fig, (ax, bx) = new_figure(1, 2, figsize=(11.5, 3.8))
    w = nets.widths
    ax.errorbar(w, nets.accuracy.mean(1), yerr=nets.accuracy.std(1), fmt="o-", capsize=3, label="trained network")
    ax.plot(w, nets.kernel_gd_accuracy.mean(1), "s--", label=f"NTK GD, same f0, {nets.steps} steps")
    for kind, ls in (("nngp", ":"), ("ntk", "-.")):
        ax.axhline(kernels.accuracy_at_chosen(kind), color="k" if kind == "nngp" else "0.45", ls=ls, lw=1.1,
                   label=f"{kind.upper()} regression (ridge {kernels.chosen[kind]:.0e})")
    ax.set(xscale="log", xlabel="width n", ylabel="test accuracy", title="(a) finite against infinite")
    width_ticks(ax, w)
    ax.legend(fontsize=7, loc="center right")
    fit = nets.distance_fit(ci)
    slope_panel(bx, w, nets.distance, fit, label="distance", guides=(-0.5,),
                ylabel=r"$\|f_n(T)-f_\infty(T;f_0)\|/\|f_\infty(T;f_0)-f_0\|$")
    bx.set_title("(b) distance to the infinite network")
    return fig


def figure_regulariser(kernels: KernelResults) -> Any:
    """NTK regression's test MSE and accuracy against the ridge ε, and gradient flow's against
    N/t (Ali et al.'s calibration puts t = N/ε on top of ε)."""
    from .plotting import new_figure

    fig, (ax, bx) = new_figure(1, 2, figsize=(11.5, 3.8))
    eps = kernels.ridges * kernels.predictors["ntk"].scale
    ax.plot(eps, kernels.test_mse["ntk"], "o-", label="ridge ε")
    ax.plot(eps, kernels.flow_mse, "s--", label="gradient flow, t = N/ε")
    bx.plot(eps, kernels.test_accuracy["ntk"], "o-", label="ridge ε")
    bx.plot(eps, kernels.flow_accuracy, "s--", label="gradient flow, t = N/ε")
    ax.set(xscale="log", xlabel="ε  (or N/t)", ylabel="test MSE", title="(a) NTK: ridge against early stopping")
    bx.set(xscale="log", xlabel="ε  (or N/t)", ylabel="test accuracy", title="(b) the same, accuracy")
    for a in (ax, bx):
        a.legend(fontsize=7)
    return fig


def figure_learning_curves(curves: LearningCurves, *, ci: float) -> Any:
    """Test error against N, log-log, with each power-law fit."""
    from .plotting import new_figure

    fig, ax = new_figure(1, 1, figsize=(6.4, 3.8))
    for i, (name, e) in enumerate(curves.error.items()):
        fit = curves.fit(name, ci)
        ax.plot(curves.sizes, e, "os^"[i % 3] + "-", color=f"C{i}",
                label=f"{name}: slope {fit.slope:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}]")
    ax.set(xscale="log", yscale="log", xlabel="training points N", ylabel="test error",
           title=f"learning curves ({curves.dataset}, {curves.n_test} test points)")
    ax.legend(fontsize=7)
    return fig


# ----------------------------------------------------------------------------------------------
# claims, metrics
# ----------------------------------------------------------------------------------------------

def curve_deviation(kernels: KernelResults, calibration: float = 1.0) -> float:
    """max over the ridge grid of |MSE_flow(t = c·N/ε) − MSE_ridge(ε)| over the ridge curve's range.

    The range is MSE(f = 0) − min_ε MSE_ridge(ε): how far the curve moves at all.
    """
    p = kernels.predictors["ntk"]
    flow = np.array([mse(p.flow(calibration * p.ridge_time(r)), kernels.y_test) for r in kernels.ridges])
    ridge = kernels.test_mse["ntk"]
    span = mse(np.zeros_like(kernels.y_test), kernels.y_test) - ridge.min()
    return float(np.abs(flow - ridge).max() / span)


def _z(alpha: float) -> float:
    from scipy.stats import norm
    return float(norm.ppf(1 - alpha))


def add_claims(claims: Any, *, kernels: KernelResults, nets: NetworkResults, curves: LearningCurves,
               alpha: dict[str, float], tolerances: dict[str, float], seed: int, kernel_margin: float = 0.0,
               approach_trend: int = -1, approach_exponent: float = -0.5, nngp_margin: float = 0.0,
               calibration: float = 1.0, error_trend: int = -1) -> None:
    """Record notebook 11's claims in ``claims`` (a ``ClaimSet``).

    Planted errors of tests/power: ``kernel_margin`` the predicted lead of the kernels over the
    best network (accuracy points; 0: "at least as accurate"); ``approach_trend`` +1 predicts
    that networks move away from the infinite network with width; ``approach_exponent`` the
    rate (−1/2); ``nngp_margin`` the predicted lead of NNGP over NTK; ``calibration`` c in
    t = c·N/ε; ``error_trend`` +1 predicts test errors that grow with N.
    """
    for name, v in (("approach_trend", approach_trend), ("error_trend", error_trend)):
        if v not in (1, -1):
            raise ValueError(f"{name} must be -1 (falls) or 1 (grows), got {v!r}")
    c = claims
    # 1. kernels at least as accurate as every trained width (paired over test points)
    kind = max(KINDS, key=lambda k: kernels.val_accuracy[k].max())
    z = _z(alpha["kernel"] / len(nets.widths))
    leads = [paired_difference(kernels.correct[kind], nets.correct[i].mean(0)) for i in range(len(nets.widths))]
    i = int(np.argmin([d + z * se for d, se in leads]))
    d, se = leads[i]
    bound = kernel_margin - z * se
    c.check(f"{kind.upper()} regression (ridge chosen on validation) at least as accurate as the trained network "
            f"of every width{'' if kernel_margin == 0 else f' plus {kernel_margin:g}'} (paired accuracy lead, "
            f"worst width {int(nets.widths[i])})", f"{LEE2020}, §3, Fig. 1 (FCN, no tricks)", bool(d >= bound), d,
            f">= {bound:.3f}", digits=2, tolerance=f"z·SE = {z * se:.3f}, one-sided, Bonferroni over widths",
            alpha=alpha["kernel"], resolution=z * se, resolution_kind="bound")
    # 2. networks approach the infinite network with width, at rate n^-1/2
    fit = nets.distance_fit(1 - alpha["approach"], seed=seed)
    if approach_trend < 0:
        c.less_than("networks approach the infinite network trained from the same f0 as width grows "
                    "(slope of the distance, upper end of its interval < 0)", f"{LEE2019}, Thm 2.1; {LEE2020}",
                    fit.ci_high, 0.0, digits=2, alpha=alpha["approach"], resolution=(fit.ci_high - fit.ci_low) / 2,
                    resolution_kind="interval")
    else:
        c.greater_than("networks move away from the infinite network as width grows (slope, lower end > 0)",
                       f"{LEE2019}, Thm 2.1", fit.ci_low, 0.0, digits=2, alpha=alpha["approach"],
                       resolution=(fit.ci_high - fit.ci_low) / 2, resolution_kind="interval")
    c.slope(f"distance to the infinite network ∝ n^{approach_exponent:g}", f"{LEE2019}, Thm 2.1, Fig. 3",
            fit, approach_exponent, tol=tolerances["approach"], alpha=alpha["rate"])
    # 3. NNGP against NTK
    d, se = paired_difference(kernels.correct["nngp"], kernels.correct["ntk"])
    zn = _z(alpha["nngp"])
    bound = nngp_margin - zn * se
    c.check(f"NNGP regression at least as accurate as NTK regression{'' if nngp_margin == 0 else f' plus {nngp_margin:g}'}"
            f" (paired accuracy lead)", f"{LEE2020}, §4 (NNGP ≥ NTK for FCNs)", bool(d >= bound), d, f">= {bound:.3f}",
            digits=2, tolerance=f"z·SE = {zn * se:.3f}, one-sided", alpha=alpha["nngp"], resolution=zn * se,
            resolution_kind="bound")
    # 4. the ridge behaves like early stopping
    dev = lambda s: curve_deviation(kernels, calibration * s)  # noqa: E731
    c.less_than(f"ridge eps and gradient flow at t = {calibration:g} N/eps give the same test-MSE curve "
                f"(max gap / range of the curve)", f"{ALI}, §3 (t = 1/lambda)", dev(1.0), tolerances["curve"],
                digits=2, prediction=dev)
    # 5. learning curves
    for i, name in enumerate(curves.error):
        f = curves.fit(name, 1 - alpha["curve"], seed=seed + 1 + i)
        half = (f.ci_high - f.ci_low) / 2
        if error_trend < 0:
            c.less_than(f"{name} test error falls with N (power-law slope, upper end of interval < 0)",
                        f"{LEE2020}, Fig. 5 (learning curves)", f.ci_high, 0.0, digits=2, alpha=alpha["curve"],
                        resolution=half, resolution_kind="interval")
        else:
            c.greater_than(f"{name} test error grows with N (power-law slope, lower end > 0)",
                           f"{LEE2020}, Fig. 5", f.ci_low, 0.0, digits=2, alpha=alpha["curve"],
                           resolution=half, resolution_kind="interval")


def metrics(*, kernels: KernelResults, nets: NetworkResults, curves: LearningCurves, ci: float) -> dict[str, Any]:
    """The studies' numbers for the results file."""
    fit = nets.distance_fit(ci)
    out = {
        "kernels": dict(n_train=kernels.n_train, n_val=kernels.n_val, ridges=kernels.ridges.tolist(),
                        chosen=kernels.chosen, **{f"test_accuracy_{k}": kernels.test_accuracy[k].tolist() for k in KINDS},
                        **{f"accuracy_at_chosen_{k}": kernels.accuracy_at_chosen(k) for k in KINDS},
                        test_mse_ntk=kernels.test_mse["ntk"].tolist(), flow_mse_ntk=kernels.flow_mse.tolist(),
                        curve_deviation=curve_deviation(kernels)),
        "networks": dict(widths=nets.widths.tolist(), seeds=nets.seeds, steps=nets.steps, eta=nets.eta,
                         accuracy=nets.accuracy.tolist(), kernel_gd_accuracy=nets.kernel_gd_accuracy.tolist(),
                         train_loss=nets.train_loss.tolist(), distance=nets.distance.tolist(),
                         distance_slope=[fit.slope, fit.ci_low, fit.ci_high]),
        "learning_curves": dict(dataset=curves.dataset, sizes=curves.sizes.tolist(), n_test=curves.n_test,
                                ridges=curves.ridges, width=curves.width, steps=curves.steps,
                                error={k: v.tolist() for k, v in curves.error.items()},
                                pcg_iterations={k: v.tolist() for k, v in curves.iterations.items()},
                                slopes={k: list(map(float, (f.slope, f.ci_low, f.ci_high)))
                                        for k in curves.error for f in [curves.fit(k, ci)]}),
    }
    return out
