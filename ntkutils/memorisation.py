"""Notebook 09: wide networks and their kernels memorise random labels, and interpolation still generalises.

Three results, each on scikit-learn's bundled digits (a binary task: 0–4 against 5–9, inputs
centred by the training mean and projected onto S^63):

* Zhang et al. (2017, arXiv:1611.03530) §2: random labels are fitted to zero training error,
  only more slowly, and the test error grows with the corrupted fraction p;
* Arora, Du, Hu, Li & Wang (2019, arXiv:1901.08584) Thm 4.1 and §5: the training loss of the
  two-layer relu net of ``two_layer_relu`` is ½ Σ_i (1 − ηλ_i)^{2k} (v_iᵀy)² with (λ_i, v_i) the
  eigenpairs of H∞, so labels with mass on small λ_i are fitted slowly, and the complexity
  √(2 yᵀ(H∞)⁻¹y / N) of their generalisation bound grows with p and tracks the test error;
* Belkin, Ma & Mandal (2018, arXiv:1802.01396): the ridgeless interpolant of noisy labels still
  classifies clean test points well, close to the regularised kernel; the NTK beside their
  Laplacian kernel.

Labels are ±1. "Corrupting a fraction p" replaces round(pN) training labels, chosen at random,
by uniform random labels (Zhang et al.'s "partially corrupted labels"): about p/2 of them flip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats as sps

from . import _validation as check
from .data import load_digits
from .kernels import _identical_rows
from .plotting import new_figure
from .two_layer_relu import ReluTraining, predicted_loss, relu_gram, relu_nets, train_relu_nets

ZHANG = "Zhang et al. 2017"
ARORA = "Arora et al. 2019"
BELKIN = "Belkin, Ma & Mandal 2018"


@dataclass
class BinaryTask:
    """A ±1 classification task on the sphere.

    Attributes:
        x_train, x_test: inputs on the unit sphere, (N, d) and (N_test, d), float64.
        y_train, y_test: clean labels ±1, (N,) and (N_test,), float64.
        name: what it is.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str


def binary_digits(n_train: int, *, seed: int) -> BinaryTask:
    """Digits 0–4 (label +1) against 5–9 (−1): a random split of the 1797 images, n_train for
    training and the rest for testing; centred by the training mean and projected onto S^63.

    Raises:
        ValueError: ``n_train`` not in 2…1700.
    """
    n_train = check.int_in_range("n_train", n_train, 2, 1700)
    data = load_digits(sphere=False)
    idx = torch.as_tensor(np.random.default_rng(check.nonnegative_int("seed", seed)).permutation(len(data.x)))
    x = data.x[idx]
    x = x - x[:n_train].mean(0, keepdim=True)
    x = x / torch.linalg.vector_norm(x, dim=1, keepdim=True)
    y = torch.where(data.labels[idx] < 5, 1.0, -1.0).to(torch.float64)
    return BinaryTask(x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                      f"sklearn digits 0-4 vs 5-9, N={n_train}, {len(x) - n_train} test")


def corrupt_labels(y, fraction: float, *, seed: int) -> torch.Tensor:
    """Replace round(fraction·N) labels, chosen without replacement, by uniform random ±1 labels.

    Args:
        y: labels ±1, (N,).
        fraction: p in [0, 1].
        seed: seed of the choice and the new labels.

    Returns:
        The corrupted labels, (N,), float64.

    Raises:
        ValueError: ``fraction`` outside [0, 1].
    """
    p = check.finite_float("fraction", fraction, minimum=0.0)
    if p > 1:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction!r}")
    y = torch.as_tensor(y, dtype=torch.float64).clone()
    rng = np.random.default_rng(check.nonnegative_int("seed", seed))
    k = rng.choice(len(y), int(round(p * len(y))), replace=False)
    y[torch.as_tensor(k, dtype=torch.long)] = torch.as_tensor(rng.choice([-1.0, 1.0], len(k)))
    return y


def laplace_kernel(x, z=None, *, bandwidth: float) -> torch.Tensor:
    """Laplacian kernel exp(−‖x − z‖/σ) (Belkin et al.), float64, exactly 1 on identical rows."""
    bandwidth = check.positive_float("bandwidth", bandwidth)
    x = torch.as_tensor(x, dtype=torch.float64)
    zz = x if z is None else torch.as_tensor(z, dtype=torch.float64)
    d2 = ((x * x).sum(1)[:, None] + (zz * zz).sum(1)[None, :] - 2 * x @ zz.T).clamp_min(0.0)
    d2[_identical_rows(x, None if z is None else zz)] = 0.0
    return torch.exp(-d2.sqrt() / bandwidth)


def kernel_gd(gram, gram_test, y, eta: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient descent on ½‖u − y‖² with the kernel H∞ from u(0) = 0, in closed form:
    u(k) = V (1 − (1 − ηλ)^k) Vᵀ y and f_k(x) = H∞(x, X) V ((1 − (1 − ηλ)^k)/λ) Vᵀ y
    (the NTK-regression limit of the network; Arora et al. eq. 8 with κ → 0).

    Args:
        gram: H∞(X, X), (N, N); gram_test: H∞(X_test, X), (N_test, N).
        y: labels, (B, N).
        eta, steps: step and number of steps K.

    Returns:
        (train outputs (B, N), test outputs (B, N_test)) at step K.
    """
    lam, vec = torch.linalg.eigh(gram)
    gain = 1 - (1 - eta * lam) ** steps
    coef = (y @ vec) * gain                                                           # (B, N)
    return coef @ vec.T, (coef / lam) @ (gram_test @ vec).T


def complexity(gram, y) -> torch.Tensor:
    """Arora et al. (2019) Thm 5.1's data-dependent complexity √(2 yᵀ(H∞)⁻¹y / N), (B,) for y (B, N)."""
    chol = torch.linalg.cholesky(gram)
    z = torch.cholesky_solve(y.T, chol)                                               # (N, B)
    return torch.sqrt(2 * (y.T * z).sum(0) / gram.shape[0])


@dataclass
class RankCorrelation:
    """Spearman's ρ of paired values with a bootstrap interval over the pairs (percentile)."""

    rho: float
    ci_low: float
    ci_high: float


def spearman_interval(x, y, *, ci: float, n_boot: int = 2000, seed: int = 0) -> RankCorrelation:
    """Spearman's rank correlation of (x_i, y_i) and its percentile bootstrap interval (pairs
    resampled with replacement; resamples where either side is constant are skipped). All NaN
    when x or y is constant (e.g. no run reached a threshold), so a claim on it FAILs.

    Raises:
        ValueError: fewer than 3 pairs or mismatched lengths.
    """
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or len(x) < 3:
        raise ValueError(f"x and y must be paired with at least 3 pairs, got {x.shape} and {y.shape}")
    ci = check.confidence_level(ci)
    if x.std() == 0 or y.std() == 0:                  # ranks undefined: no correlation to claim
        return RankCorrelation(math.nan, math.nan, math.nan)
    rho = float(sps.spearmanr(x, y).statistic)
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    xs, ys = x[idx], y[idx]
    keep = (xs.std(1) > 0) & (ys.std(1) > 0)
    if not keep.any():
        return RankCorrelation(rho, math.nan, math.nan)
    rx = sps.rankdata(xs[keep], axis=1)
    ry = sps.rankdata(ys[keep], axis=1)
    rx -= rx.mean(1, keepdims=True)
    ry -= ry.mean(1, keepdims=True)
    boot = (rx * ry).sum(1) / np.sqrt((rx * rx).sum(1) * (ry * ry).sum(1))
    lo, hi = np.quantile(boot, [(1 - ci) / 2, (1 + ci) / 2])
    return RankCorrelation(rho, float(lo), float(hi))


@dataclass
class MemorisationStudy:
    """Networks and NTK regression on labels with a corrupted fraction p (Zhang et al.; Arora et al.).

    Runs are the pairs (p, label seed), R = len(fractions)·n_label_seeds, p-major.

    Attributes:
        task: the clean task.
        fractions: the corrupted fractions p, (P,).
        p: the p of each run, (R,).
        labels: training labels of each run, (R, N).
        gram: H∞(X, X), (N, N); eigenvalues ``lam`` (N,) ascending.
        eta, steps, width: GD step, steps K, network width m.
        threshold: the training-loss fraction whose first-passage step is "the time to fit".
        net: the networks' ``ReluTraining`` (one network per run).
        predicted: Arora et al.'s ½ Σ (1 − ηλ_i)^{2k}(v_iᵀy)², (R, K+1).
        kernel_train, kernel_test: NTK-regression outputs at K, (R, N) and (R, N_test).
        complexity: √(2 yᵀ(H∞)⁻¹y/N), (R,).
    """

    task: BinaryTask
    fractions: np.ndarray
    p: np.ndarray
    labels: torch.Tensor
    gram: torch.Tensor
    lam: torch.Tensor
    eta: float
    steps: int
    width: int
    threshold: float
    net: ReluTraining
    predicted: torch.Tensor
    kernel_train: torch.Tensor
    kernel_test: torch.Tensor
    complexity: np.ndarray

    def flipped(self) -> np.ndarray:
        """Fraction of training labels that differ from the clean ones, (R,)."""
        return (self.labels != self.task.y_train).double().mean(1).numpy()

    def train_error(self, outputs: torch.Tensor | None = None) -> np.ndarray:
        """Training 0-1 error (sign of the output against the run's labels), (R,); the networks'
        by default."""
        u = self.net.outputs if outputs is None else outputs
        return (torch.sign(u) != self.labels).double().mean(1).numpy()

    def test_error(self, outputs: torch.Tensor | None = None) -> np.ndarray:
        """Test 0-1 error against the clean test labels, (R,); the networks' by default."""
        f = self.net.test_outputs if outputs is None else outputs
        return (torch.sign(f) != self.task.y_test).double().mean(1).numpy()

    def fit_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """First step with training loss ≤ threshold·Φ(0): (networks, NTK regression), (R,) each."""
        pred = (self.predicted <= self.threshold * self.predicted[:, :1]).numpy()
        kern = np.where(pred.any(1), pred.argmax(1), self.steps + 1)
        return self.net.steps_to(self.threshold), kern

    def curve_deviation(self, eigenvalue_scale: float = 1.0, exponent: float = 2.0) -> float:
        """Arora et al. Thm 4.1 in its own form, ‖y − u(k)‖ = √(Σ_i (1 − ηλ_i)^{2k}(v_iᵀy)²) ± ε:
        max over runs and steps of |‖y − u_net(k)‖ − √(2Φ_pred(k))| / ‖y‖, with the prediction's
        eigenvalues scaled by ``eigenvalue_scale`` and its decay (1 − ηλ)^{exponent·k} (planted
        errors; scale 1 and exponent 2 are the theorem)."""
        pred = predicted_loss(self.gram * eigenvalue_scale, self.labels, self.eta, torch.arange(self.steps + 1),
                              exponent=exponent)
        return float(((self.net.loss.sqrt() - pred.sqrt()).abs() / self.net.loss[:, :1].sqrt()).max())

    def by_fraction(self, values: np.ndarray) -> np.ndarray:
        """Values of the runs arranged (P, seeds)."""
        return np.asarray(values).reshape(len(self.fractions), -1)

    def table(self) -> str:
        """Per p, means over the label seeds."""
        t_net, t_ker = self.fit_steps()
        cols = dict(flipped=self.flipped(), net_train_err=self.train_error(),
                    ntk_train_err=self.train_error(self.kernel_train), steps_net=t_net, steps_ntk=t_ker,
                    net_test_err=self.test_error(), ntk_test_err=self.test_error(self.kernel_test),
                    complexity=self.complexity)
        lines = [f"{self.task.name}; width m={self.width}, eta={self.eta:.4g} (1/λ_max), K={self.steps} steps, "
                 f"λ_min(H∞)={float(self.lam[0]):.4g}; time to fit = first step with loss ≤ "
                 f"{self.threshold:g}·Φ(0)",
                 "    p  " + "  ".join(f"{k:>13}" for k in cols)]
        for i, p in enumerate(self.fractions):
            lines.append(f"{p:5.2f}  " + "  ".join(f"{self.by_fraction(v)[i].mean():13.4g}" for v in cols.values()))
        lines.append("Arora et al. Thm 4.1, max over runs and steps of |‖y − u_net(k)‖ − ‖y − u_pred(k)‖| / ‖y‖: "
                     f"{self.curve_deviation():.4g}")
        return "\n".join(lines)


def memorisation_study(task: BinaryTask, fractions, *, n_label_seeds: int, width: int, steps: int,
                       seed: int, threshold: float = 0.01) -> MemorisationStudy:
    """Train one symmetrised two-layer relu net (Du et al.'s model, u(0) = 0) per (p, label seed)
    by GD with η = 1/λ_max(H∞), and run NTK regression (kernel GD with H∞) with the same η and K.

    Args:
        task: the clean task (``binary_digits``).
        fractions: corrupted fractions p in [0, 1], increasing.
        n_label_seeds: corruption draws per p, >= 1.
        width: network width m (even).
        steps: GD steps K.
        seed: seed of the corruptions and the networks.
        threshold: the training-loss fraction that defines the time to fit.

    Returns:
        ``MemorisationStudy``.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or len(fractions) < 2 or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"fractions must be at least two increasing values in [0, 1], got {fractions.tolist()}")
    n_label_seeds = check.positive_int("n_label_seeds", n_label_seeds)
    threshold = check.finite_float("threshold", threshold, strictly_positive=True)
    if threshold >= 1:
        raise ValueError(f"threshold must lie in (0, 1) (a share of the initial loss), got {threshold!r}")
    labels = torch.stack([corrupt_labels(task.y_train, p, seed=seed + 1000 * i + s)
                          for i, p in enumerate(fractions) for s in range(n_label_seeds)])
    gram = relu_gram(task.x_train)
    lam = torch.linalg.eigvalsh(gram)
    eta = 1.0 / float(lam[-1])
    nets = relu_nets(len(labels), width, task.x_train.shape[1], seed=seed, symmetric=True)
    net = train_relu_nets(nets, task.x_train, labels, steps=steps, eta=eta, record_every=steps, x_test=task.x_test)
    pred = predicted_loss(gram, labels, eta, torch.arange(steps + 1))
    k_train, k_test = kernel_gd(gram, relu_gram(task.x_test, task.x_train), labels, eta, steps)
    return MemorisationStudy(task, fractions, np.repeat(fractions, n_label_seeds), labels, gram, lam, eta, steps,
                             width, threshold, net, pred, k_train, k_test, complexity(gram, labels).numpy())


def _ridge_fit(gram: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """Coefficients (K + ridge·tr(K)/N · I)⁻¹ y for y (B, N), by Cholesky (ridge 0: the
    interpolant, with a 1e-12 relative jitter that changes nothing at the printed precision)."""
    n = gram.shape[0]
    shift = max(ridge, 1e-12) * float(torch.trace(gram)) / n
    chol = torch.linalg.cholesky(gram + shift * torch.eye(n, dtype=gram.dtype))
    return torch.cholesky_solve(y.T, chol).T


def cross_validated_ridge(gram: torch.Tensor, y: torch.Tensor, ridges, *, folds: int, seed: int) -> np.ndarray:
    """The ridge of ``ridges`` with the smallest k-fold cross-validated 0-1 error against the
    (noisy) training labels, for each row of y (B, N); ties go to the smaller ridge. (B,)."""
    ridges = np.sort(np.asarray(ridges, dtype=np.float64))       # argmin takes the first of a tie
    n = gram.shape[0]
    fold = torch.as_tensor(np.random.default_rng(seed).permutation(n) % folds)
    errors = np.zeros((len(y), len(ridges)))
    for f in range(folds):
        tr, va = fold != f, fold == f
        for j, r in enumerate(ridges):
            coef = _ridge_fit(gram[tr][:, tr], y[:, tr], r)
            errors[:, j] += (torch.sign(coef @ gram[va][:, tr].T) != y[:, va]).double().sum(1).numpy()
    return ridges[errors.argmin(1)]


@dataclass
class InterpolationStudy:
    """Ridgeless interpolants against cross-validated ridge regression on noisy labels (Belkin et al.).

    Attributes:
        task: the clean task.
        fractions: corrupted fractions p, (P,), the first 0 (the clean reference).
        kernels: kernel names, (Q,).
        flipped: fraction of flipped training labels, (P, S).
        interpolant_error, ridge_error: clean-test 0-1 errors, (Q, P, S).
        ridge: the cross-validated ridges, (Q, P, S).
        train_error: the interpolants' training 0-1 error against their labels, (Q, P, S).
    """

    task: BinaryTask
    fractions: np.ndarray
    kernels: tuple[str, ...]
    flipped: np.ndarray
    interpolant_error: np.ndarray
    ridge_error: np.ndarray
    ridge: np.ndarray
    train_error: np.ndarray

    def excess_share(self) -> np.ndarray:
        """(error of the interpolant at p − its error at p = 0, same seed) / flipped fraction,
        mean over seeds, (Q, P−1): the share of the label noise that reaches the test error."""
        excess = self.interpolant_error[:, 1:] - self.interpolant_error[:, :1]
        return (excess / self.flipped[None, 1:]).mean(2)

    def ridge_gap_share(self) -> np.ndarray:
        """(interpolant error − ridge error) / flipped fraction, mean over seeds, (Q, P−1)."""
        return ((self.interpolant_error - self.ridge_error)[:, 1:] / self.flipped[None, 1:]).mean(2)

    def table(self) -> str:
        lines = [f"{self.task.name}; clean test labels; means over {self.flipped.shape[1]} corruption draws",
                 "kernel    p  flipped  interp_err  ridge_err  median_ridge  noise_share  ridge_gap_share"]
        share, gap = self.excess_share(), self.ridge_gap_share()
        for q, k in enumerate(self.kernels):
            for i, p in enumerate(self.fractions):
                s = (f"{share[q, i - 1]:11.3f}  {gap[q, i - 1]:15.3f}") if i else f"{'—':>11}  {'—':>15}"
                lines.append(f"{k:8s} {p:4.2f}  {self.flipped[i].mean():7.3f}  {self.interpolant_error[q, i].mean():10.4f}"
                             f"  {self.ridge_error[q, i].mean():9.4f}  {np.median(self.ridge[q, i]):12.3g}  {s}")
        return "\n".join(lines)


def interpolation_study(task: BinaryTask, fractions, *, n_label_seeds: int, bandwidth: float, ridges, folds: int = 5,
                        seed: int) -> InterpolationStudy:
    """Interpolate corrupted labels with H∞ (the two-layer relu NTK of ``two_layer_relu``) and the
    Laplacian kernel, and compare with ridge regression whose ridge (relative to tr(K)/N) is
    chosen by ``folds``-fold cross-validation on the noisy training labels.

    Args:
        task: the clean task (test labels stay clean).
        fractions: p values, increasing, the first 0.
        n_label_seeds: corruption draws per p.
        bandwidth: σ of the Laplacian kernel.
        ridges: candidate ridges, > 0.
        folds: cross-validation folds.
        seed: seed of the corruptions and folds.

    Returns:
        ``InterpolationStudy``.
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or len(fractions) < 2 or fractions[0] != 0 or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"fractions must increase from 0, got {fractions.tolist()}")
    ridges = np.asarray(ridges, dtype=np.float64)
    if ridges.ndim != 1 or not len(ridges) or np.any(~(ridges > 0)):
        raise ValueError(f"ridges must be positive numbers, got {ridges.tolist()}")
    n_label_seeds = check.positive_int("n_label_seeds", n_label_seeds)
    labels = torch.stack([corrupt_labels(task.y_train, p, seed=seed + 1000 * i + s)
                          for i, p in enumerate(fractions) for s in range(n_label_seeds)])
    flipped = (labels != task.y_train).double().mean(1).numpy().reshape(len(fractions), -1)
    grams = {"NTK": (relu_gram(task.x_train), relu_gram(task.x_test, task.x_train)),
             "Laplace": (laplace_kernel(task.x_train, bandwidth=bandwidth),
                         laplace_kernel(task.x_test, task.x_train, bandwidth=bandwidth))}
    shape = (len(grams), len(fractions), n_label_seeds)
    out = {k: np.zeros(shape) for k in ("interp", "ridge_err", "ridge", "train")}
    for q, (k_train, k_test) in enumerate(grams.values()):
        chosen = cross_validated_ridge(k_train, labels, ridges, folds=folds, seed=seed)
        coef = _ridge_fit(k_train, labels, 0.0)
        out["interp"][q] = (torch.sign(coef @ k_test.T) != task.y_test).double().mean(1).numpy().reshape(shape[1:])
        out["train"][q] = (torch.sign(coef @ k_train) != labels).double().mean(1).numpy().reshape(shape[1:])
        out["ridge"][q] = chosen.reshape(shape[1:])
        for r in np.unique(chosen):
            rows = np.flatnonzero(chosen == r)
            c = _ridge_fit(k_train, labels[rows], r)
            err = (torch.sign(c @ k_test.T) != task.y_test).double().mean(1).numpy()
            out["ridge_err"][q].reshape(-1)[rows] = err
    return InterpolationStudy(task, fractions, tuple(grams), flipped, out["interp"], out["ridge_err"], out["ridge"],
                              out["train"])


def complexity_by_fraction(task: BinaryTask, fractions, *, n_draws: int, seed: int) -> np.ndarray:
    """√(2 yᵀ(H∞)⁻¹y/N) for ``n_draws`` corruptions at each p (kernel only, cheap), (P, n_draws).
    The seeds differ from the networks' label sets (offset 10⁶)."""
    n_draws = check.positive_int("n_draws", n_draws)
    labels = torch.stack([corrupt_labels(task.y_train, p, seed=seed + 10**6 + 1000 * i + s)
                          for i, p in enumerate(fractions) for s in range(n_draws)])
    return complexity(relu_gram(task.x_train), labels).numpy().reshape(len(fractions), n_draws)


# ----------------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------------

def figure_memorisation(study: MemorisationStudy, draws: np.ndarray) -> Any:
    """(a) training loss against steps, networks and Arora et al.'s prediction, one colour per p;
    (b) time to fit against p; (c) test error against p; (d) complexity against test error."""
    fig, (ax, bx, cx, dx) = new_figure(1, 4, figsize=(15.5, 3.7))
    k = np.arange(study.steps + 1)
    seeds = len(study.p) // len(study.fractions)
    for i, p in enumerate(study.fractions):
        r = i * seeds
        ax.plot(k, study.net.loss[r] / study.net.loss[r, 0], "-", color=f"C{i}", lw=1.2, label=f"p={p:g}")
        ax.plot(k, study.predicted[r] / study.predicted[r, 0], "--", color=f"C{i}", lw=0.9)
    ax.plot([], [], "k-", lw=1.2, label="network")
    ax.plot([], [], "k--", lw=0.9, label="Arora Thm 4.1")
    ax.axhline(study.threshold, color="0.5", lw=0.6, ls=":")
    ax.set(yscale="log", xlabel="GD step k", ylabel=r"$\Phi(k)/\Phi(0)$", title="(a) training loss")
    ax.legend(fontsize=6.5, ncol=2, loc="lower left")
    t_net, t_ker = study.fit_steps()
    for v, mk, lab in ((t_net, "o", "network"), (t_ker, "s", "NTK regression")):
        bx.plot(study.p, v, mk, ms=4, alpha=0.7, label=lab)
        bx.plot(study.fractions, study.by_fraction(v).mean(1), "-", lw=1, color="C0" if mk == "o" else "C1")
    bx.set(xlabel="corrupted fraction p", ylabel=f"steps to {study.threshold:g}·Φ(0)", title="(b) time to fit")
    bx.legend(fontsize=7, loc="lower right")
    for v, mk, lab in ((study.test_error(), "o", "network"), (study.test_error(study.kernel_test), "s", "NTK regression")):
        cx.plot(study.p, v, mk, ms=4, alpha=0.7, label=lab)
        cx.plot(study.fractions, study.by_fraction(v).mean(1), "-", lw=1, color="C0" if mk == "o" else "C1")
    cx.plot(study.fractions, study.by_fraction(study.flipped()).mean(1), "k:", lw=1, label="flipped labels")
    cx.set(xlabel="corrupted fraction p", ylabel="test error (clean labels)", title="(c) test error")
    cx.legend(fontsize=7, loc="upper left")
    dx.scatter(study.complexity, study.test_error(), c=study.p, cmap="viridis", s=18)
    dx.set(xlabel=r"$\sqrt{2y^\top (H^\infty)^{-1}y/N}$", ylabel="network test error",
           title=f"(d) complexity (mean of {draws.shape[1]} draws per p: {draws.mean(1).min():.2f}–{draws.mean(1).max():.2f})")
    dx.title.set_fontsize(8)
    return fig


def figure_interpolation(study: InterpolationStudy) -> Any:
    """Belkin et al.: clean-test error of the interpolants and the cross-validated ridge, per
    kernel, against p, beside the error a noise-copying classifier would add."""
    fig, axes = new_figure(1, len(study.kernels), figsize=(10.5, 3.6))
    flips = study.flipped.mean(1)
    for q, (ax, name) in enumerate(zip(np.atleast_1d(axes), study.kernels)):
        clean = study.interpolant_error[q, 0].mean()
        ax.plot(study.fractions, study.interpolant_error[q].mean(1), "o-", label="interpolant (ridge 0)")
        ax.plot(study.fractions, study.ridge_error[q].mean(1), "s--", label="ridge, cross-validated")
        ax.plot(study.fractions, clean + flips, "k:", label="clean error + flipped fraction")
        ax.plot(study.fractions, clean + 0.5 * flips, ":", color="0.6", label="… + half of it")
        ax.set(xlabel="corrupted fraction p", ylabel="test error (clean labels)", title=f"{name} kernel")
        ax.legend(fontsize=7, loc="upper left")
    return fig


# ----------------------------------------------------------------------------------------------
# claims, metrics, text
# ----------------------------------------------------------------------------------------------

def _trend(c: Any, name: str, paper: str, corr: RankCorrelation, sign: int, alpha: float) -> None:
    """A rank-correlation claim: PASS iff the interval lies on the predicted side of 0."""
    ok = corr.ci_low > 0 if sign > 0 else corr.ci_high < 0
    c.check(name, paper, bool(ok), corr.rho, f"Spearman rho {'>' if sign > 0 else '<'} 0", digits=2,
            tolerance=f"{100 * (1 - alpha):g} % bootstrap CI [{corr.ci_low:.2f}, {corr.ci_high:.2f}] excludes 0",
            alpha=alpha, resolution=(corr.ci_high - corr.ci_low) / 2 if math.isfinite(corr.ci_high - corr.ci_low)
            else math.inf, resolution_kind="interval")


def _against_bound(measured: float) -> Any:
    """``prediction`` for a bound claim: comparing measured/s with the bound is comparing measured
    with the bound scaled by s (so the resolution is the relative error of the bound that flips it)."""
    return lambda s: measured / s if s > 0 else math.inf


def add_claims(claims: Any, *, memo: MemorisationStudy, draws: np.ndarray, interp: InterpolationStudy,
               alpha: dict[str, float], tolerances: dict[str, float], seed: int, trend: int = 1,
               loss_exponent: float = 2.0, noise_share: float = 0.5, ridge_share: float = 0.25) -> None:
    """Record notebook 09's claims in ``claims`` (a ``ClaimSet``).

    Planted errors of tests/power: ``trend`` = −1 predicts that the time to fit, the test error
    and the complexity fall with p; ``loss_exponent`` the power of (1 − ηλ_i) per step in Arora et
    al.'s loss (2; 1 is the residual's, a wrong normalisation); ``noise_share`` and ``ridge_share``
    the largest shares of the flipped fraction that may reach the interpolant's test error, and
    separate it from the ridge's (Belkin et al.: "far below", "close").
    """
    if trend not in (1, -1):
        raise ValueError(f"trend must be 1 (grows with p) or -1 (falls), got {trend!r}")
    c = claims
    for name, u in (("network", memo.net.outputs), ("NTK regression", memo.kernel_train)):
        worst = float(memo.train_error(u).max())
        c.check(f"{name} fits every corrupted label set (train 0-1 error 0 after K={memo.steps} steps, every p)",
                f"{ZHANG}, §2, Fig. 1a", worst == 0.0, worst, "0", tolerance="any misclassified training point fails",
                resolution=1.0 / memo.labels.shape[1], resolution_kind="bound")
    t_net, t_ker = memo.fit_steps()
    for i, (name, t) in enumerate((("network", t_net), ("NTK regression", t_ker))):
        _trend(c, f"time to fit {memo.threshold:g} of the loss {'grows' if trend > 0 else 'falls'} with p ({name})",
               f"{ZHANG}, Fig. 1b; {ARORA}, §4", spearman_interval(memo.p, t, ci=1 - alpha["time"], seed=seed + i), trend,
               alpha["time"])
    for i, (name, f) in enumerate((("network", memo.net.test_outputs), ("NTK regression", memo.kernel_test))):
        _trend(c, f"test error {'grows' if trend > 0 else 'falls'} with p ({name})", f"{ZHANG}, Fig. 1c",
               spearman_interval(memo.p, memo.test_error(f), ci=1 - alpha["test"], seed=seed + 2 + i), trend,
               alpha["test"])
    dev = lambda s: memo.curve_deviation(s, loss_exponent)  # noqa: E731
    c.less_than(f"loss = sum_i (1-eta lam_i)^({loss_exponent:g}k) (v_i'y)^2: max | |y-u_net| - |y-u_pred| | / |y|",
                f"{ARORA}, Thm 4.1, Fig. 1", dev(1.0), tolerances["curve"], digits=2, prediction=dev)
    means = draws.mean(1)
    steps = np.diff(means) * trend
    c.check(f"complexity sqrt(2 y'H^-1 y / N) {'increases' if trend > 0 else 'decreases'} with p "
            f"(mean of {draws.shape[1]} draws, smallest step)", f"{ARORA}, Thm 5.1, Fig. 2",
            bool(np.all(steps > 0)), float(steps.min()), "every consecutive step > 0", digits=2,
            tolerance="strict monotonicity of the means", resolution=float(steps.min()), resolution_kind="bound")
    _trend(c, f"complexity tracks the network's test error (rank correlation {'>' if trend > 0 else '<'} 0)",
           f"{ARORA}, §5, Fig. 2", spearman_interval(memo.complexity, memo.test_error(), ci=1 - alpha["tracks"],
                                                     seed=seed + 4), trend, alpha["tracks"])
    share, gap = interp.excess_share(), interp.ridge_gap_share()
    for q, k in enumerate(interp.kernels):
        worst = float(share[q].max())
        c.less_than(f"{k} interpolant: test error added by noise < {noise_share:g} x flipped fraction (max over "
                    f"p={', '.join(f'{p:g}' for p in interp.fractions[1:])})", f"{BELKIN}, §1 and §4", worst,
                    noise_share, digits=2, prediction=_against_bound(worst))
        g = float(gap[q].max())
        c.less_than(f"{k} interpolant within {ridge_share:g} x flipped fraction of the cross-validated ridge",
                    f"{BELKIN}, §4", g, ridge_share, digits=2, prediction=_against_bound(g))


def metrics(*, memo: MemorisationStudy, draws: np.ndarray, interp: InterpolationStudy) -> dict[str, Any]:
    """The studies' numbers for the results file."""
    t_net, t_ker = memo.fit_steps()
    per_p = lambda v: memo.by_fraction(v).mean(1).tolist()  # noqa: E731
    return {
        "memorisation": dict(fractions=memo.fractions.tolist(), width=memo.width, steps=memo.steps, eta=memo.eta,
                             lambda_0=float(memo.lam[0]), lambda_max=float(memo.lam[-1]),
                             lambda_min_network_init=memo.net.lambda_min[:, 0].tolist(),
                             flipped=per_p(memo.flipped()), steps_to_fit_network=per_p(t_net),
                             steps_to_fit_ntk=per_p(t_ker), test_error_network=per_p(memo.test_error()),
                             test_error_ntk=per_p(memo.test_error(memo.kernel_test)),
                             complexity=per_p(memo.complexity), curve_deviation=memo.curve_deviation()),
        "complexity_draws": dict(mean=draws.mean(1).tolist(), std=draws.std(1, ddof=1).tolist() if draws.shape[1] > 1
                                 else None),
        "interpolation": dict(fractions=interp.fractions.tolist(), kernels=list(interp.kernels),
                              flipped=interp.flipped.mean(1).tolist(),
                              interpolant_error=interp.interpolant_error.mean(2).tolist(),
                              ridge_error=interp.ridge_error.mean(2).tolist(),
                              noise_share=interp.excess_share().tolist(), ridge_gap_share=interp.ridge_gap_share().tolist()),
    }


def memorisation_answer(memo: MemorisationStudy, interp: InterpolationStudy) -> str:
    """Two sentences with this run's numbers."""
    t_net, t_ker = memo.fit_steps()
    err = memo.by_fraction(memo.test_error()).mean(1)
    share = interp.excess_share()
    return (f"Memorisation: networks of width {memo.width} and NTK regression fit every label set, the clean one in "
            f"{memo.by_fraction(t_net).mean(1)[0]:.0f} and {memo.by_fraction(t_ker).mean(1)[0]:.0f} steps, fully random "
            f"labels in {memo.by_fraction(t_net).mean(1)[-1]:.0f} and {memo.by_fraction(t_ker).mean(1)[-1]:.0f}, while the "
            f"network's test error climbs from {err[0]:.3f} to {err[-1]:.3f}. Interpolation: at p={interp.fractions[-1]:g} "
            + ", ".join(f"the {k} interpolant passes {100 * share[q, -1]:.0f} %" for q, k in enumerate(interp.kernels))
            + " of the flipped labels on to its clean test error.")
