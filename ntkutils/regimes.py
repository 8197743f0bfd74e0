"""Notebook 08: where wide networks stop being kernel machines (lazy and rich regimes).

Three studies, each a function returning a dataclass, with its figure and claims:

* ``implicit_bias_study``: diagonal linear networks from ℓ2 to ℓ1 with the initial scale α
  (Woodworth et al. 2020, Thm 1 and 2, Fig. 1), on ``diagonal``;
* ``lazy_scale_study``: a two-layer student of a 3-neuron relu teacher, output scaled by τ
  (Chizat, Oyallon & Bach 2019, §3 and the shallow experiment), on ``scaled``;
* ``crossover_study``: widths h at α h^c for a grid of α√h (Geiger, Spigler, Jacot & Wyart
  2020): with c = 1/2 the curves of all widths collapse, the crossover near α√h ≈ 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats as sps

from . import _validation as check
from .diagonal import (DiagonalPath, SparseRegression, diagonal_net_gd, implicit_bias_solution,
                       min_l1_interpolant, min_l2_interpolant, sparse_regression)
from .dynamics import gradient_descent_predict
from .plotting import legend_outside, new_figure
from .scaled import TwoLayerNets, train_output_scaled, two_layer_nets, two_layer_ntk
from .stats import SlopeFit, loglog_slope

__all__ = ["CrossoverStudy", "ImplicitBiasStudy", "LazyScaleStudy", "TeacherTask", "WidthExponent", "width_exponent",
           "add_claims", "crossover_study", "figure_crossover", "figure_implicit_bias", "figure_lazy_scale",
           "implicit_bias_study", "lazy_scale_study", "metrics", "regimes_answer", "teacher_task",
           "woodworth_l2_epsilon"]

WOODWORTH, CHIZAT, GEIGER = "Woodworth et al. 2020", "Chizat, Oyallon & Bach 2019", "Geiger et al. 2020"


# ---------------------------------------------------------------- 1. diagonal networks

def woodworth_l2_epsilon(alpha: float, l2_norm: float) -> float:
    """The ε of Woodworth et al.'s Theorem 2 (ℓ2 part) at scale α: the smallest ε > 0 with
    α ≥ √(2(1 + ε)(1 + 2/ε)‖β*_ℓ2‖₂), which guarantees ‖β_α‖₂² ≤ (1 + ε)‖β*_ℓ2‖₂²; inf if none.

    (1 + ε)(1 + 2/ε) = 3 + ε + 2/ε decreases in ε on (0, √2], so ε solves ε² − (r − 3)ε + 2 = 0
    with r = α²/(2‖β*_ℓ2‖₂), the smaller root; no ε ≤ √2 exists when r < 3 + 2√2.
    """
    r = alpha ** 2 / (2 * l2_norm)
    disc = (r - 3) ** 2 - 8
    if r < 3 + 2 * math.sqrt(2) or disc < 0:
        return math.inf
    return ((r - 3) - math.sqrt(disc)) / 2


@dataclass(frozen=True)
class ImplicitBiasStudy:
    """Diagonal networks trained by GD on P sparse-regression problems at A scales α.

    Attributes:
        alphas: (A,) initial scales.
        problems: the P problems.
        path: the trained networks (``DiagonalPath``, β of shape (P, A, d)).
        predicted: (P, A, d) argmin Q_α subject to Xβ = y (Woodworth et al., Thm 1).
        l1: (P, d) minimum-ℓ1 interpolants; l2: (P, d) minimum-ℓ2 interpolants.
    """

    alphas: np.ndarray
    problems: list[SparseRegression]
    path: DiagonalPath
    predicted: np.ndarray
    l1: np.ndarray
    l2: np.ndarray

    @property
    def beta(self) -> np.ndarray:
        """(P, A, d) the trained β."""
        return self.path.beta

    def predicted_at(self, alpha_factor: float) -> np.ndarray:
        """(P, A, d) argmin Q_{α·factor}: the prediction with a relative error in α."""
        if alpha_factor == 1.0:
            return self.predicted
        return np.stack([np.stack([implicit_bias_solution(p.x, p.y, a * alpha_factor) for a in self.alphas])
                         for p in self.problems])

    def prediction_error(self, alpha_factor: float = 1.0) -> np.ndarray:
        """(P, A) ‖β_GD − β_Q‖/‖β_Q‖ with Q at α·alpha_factor."""
        q = self.predicted_at(alpha_factor)
        return np.linalg.norm(self.beta - q, axis=2) / np.linalg.norm(q, axis=2)

    def population_error(self) -> np.ndarray:
        """(P, A) E(⟨β, x⟩ − y)² = ‖β − β*‖² + noise² of the trained β."""
        return np.stack([p.population_error(b) for p, b in zip(self.problems, self.beta)])

    def limit_errors(self) -> tuple[np.ndarray, np.ndarray]:
        """((P,), (P,)) population errors of the minimum-ℓ1 and minimum-ℓ2 interpolants."""
        return (np.array([p.population_error(b) for p, b in zip(self.problems, self.l1)]),
                np.array([p.population_error(b) for p, b in zip(self.problems, self.l2)]))

    def norm_excess(self) -> tuple[np.ndarray, np.ndarray]:
        """((P, A), (P, A)) ‖β‖₁/‖β_ℓ1‖₁ − 1 and ‖β‖₂²/‖β_ℓ2‖₂² − 1 (Woodworth et al., Fig. 1b)."""
        l1 = np.abs(self.beta).sum(2) / np.abs(self.l1).sum(1)[:, None] - 1
        l2 = (self.beta ** 2).sum(2) / (self.l2 ** 2).sum(1)[:, None] - 1
        return l1, l2

    def __str__(self) -> str:
        """GD against the prediction per α (max over problems): error, steps, drift, convergence."""
        rows = [("alpha:                 ", [f"{a:8.0e}" for a in self.alphas]),
                ("|GD - argmin Q|/|Q|:   ", [f"{e:8.1e}" for e in self.prediction_error().max(0)]),
                ("GD steps (max):        ", [f"{s:8d}" for s in self.path.steps.max(0)]),
                ("drift of log alpha^2:  ", [f"{s:8.1e}" for s in self.path.alpha_drift.max(0)])]
        return "\n".join(head + " ".join(cells) for head, cells in rows) + \
            f"\nall converged: {bool(self.path.converged.all())}"

    def population_summary(self) -> str:
        """Population errors of the two interpolants and of GD at the ends of the α grid."""
        e1, e2 = self.limit_errors()
        pop = self.population_error()
        return (f"population error: min-l1 {e1.mean():.4f}, min-l2 {e2.mean():.4f}; "
                f"GD at alpha={self.alphas[0]:g}: {pop[:, 0].mean():.4f}, at alpha={self.alphas[-1]:g}: "
                f"{pop[:, -1].mean():.4f}")

    def metrics(self) -> dict[str, Any]:
        l1x, l2x = self.norm_excess()
        e1, e2 = self.limit_errors()
        return {"alphas": self.alphas, "prediction_error": self.prediction_error(), "l1_excess": l1x,
                "l2_excess": l2x, "population_error": self.population_error(), "l1_population_error": e1,
                "l2_population_error": e2, "steps": self.path.steps, "converged": self.path.converged,
                "alpha_drift": self.path.alpha_drift}


def implicit_bias_study(alphas: Sequence[float], *, d: int, n: int, k: int, noise: float, n_problems: int,
                        seed: int, rtol: float = 1e-4, max_steps: int = 1_000_000) -> ImplicitBiasStudy:
    """Train diagonal networks at every α on ``n_problems`` sparse problems; solve Q_α, ℓ1, ℓ2.

    Args:
        alphas: initial scales α > 0.
        d, n, k, noise: the problem (``sparse_regression``).
        n_problems: number of independent problems P.
        seed: seed of problem p is ``seed + p``.
        rtol, max_steps: GD stopping rule (``diagonal_net_gd``).

    Returns:
        ``ImplicitBiasStudy``.
    """
    problems = [sparse_regression(d, n, k, noise=noise, seed=seed + p)
                for p in range(check.positive_int("n_problems", n_problems))]
    alphas = _increasing("alphas", alphas)
    path = diagonal_net_gd(np.stack([p.x for p in problems]), np.stack([p.y for p in problems]), alphas,
                           rtol=rtol, max_steps=max_steps)
    predicted = np.stack([np.stack([implicit_bias_solution(p.x, p.y, a) for a in alphas]) for p in problems])
    return ImplicitBiasStudy(alphas, problems, path, predicted, np.stack([min_l1_interpolant(p.x, p.y) for p in problems]),
                             np.stack([min_l2_interpolant(p.x, p.y) for p in problems]))


def figure_implicit_bias(study: ImplicitBiasStudy, *, problem: int = 0) -> Any:
    """Woodworth et al. Fig. 1 (a, b) and the path of β: population error against α (GD, the
    Q_α prediction, the ℓ1 and ℓ2 interpolants); the norm excesses; β_i(α) of one problem."""
    fig, (ax, bx, cx) = new_figure(1, 3, figsize=(13.0, 3.8))
    a = study.alphas
    err = study.population_error()
    e1, e2 = study.limit_errors()
    pred = np.stack([p.population_error(q) for p, q in zip(study.problems, study.predicted)])
    for p in range(err.shape[0]):
        ax.plot(a, err[p], "o", color=f"C{p}", ms=4, label="GD" if p == 0 else None)
        ax.plot(a, pred[p], "-", color=f"C{p}", lw=1, label=r"argmin $Q_\alpha$" if p == 0 else None)
        ax.axhline(e1[p], color=f"C{p}", ls=":", lw=0.8)
        ax.axhline(e2[p], color=f"C{p}", ls="--", lw=0.8)
    ax.plot([], [], "k:", lw=0.8, label=r"min $\ell_1$")
    ax.plot([], [], "k--", lw=0.8, label=r"min $\ell_2$")
    ax.set(xscale="log", yscale="log", xlabel=r"initial scale $\alpha$", ylabel="population error",
           title="(a) test error between the two limits")
    ax.legend(fontsize=7, loc="center right")
    l1x, l2x = study.norm_excess()
    floor = 1e-9
    for p in range(l1x.shape[0]):
        bx.plot(a, np.maximum(l1x[p], floor), "o-", color=f"C{p}", ms=3, label=r"$\|\beta\|_1/\|\beta_{\ell_1}\|_1-1$" if p == 0 else None)
        bx.plot(a, np.maximum(l2x[p], floor), "s--", color=f"C{p}", ms=3, label=r"$\|\beta\|_2^2/\|\beta_{\ell_2}\|_2^2-1$" if p == 0 else None)
    bx.set(xscale="log", yscale="log", xlabel=r"initial scale $\alpha$", ylabel="relative norm excess",
           title="(b) the limits (Fig. 1b)")
    bx.set_ylim(floor / 2, 10)
    bx.legend(fontsize=7, loc="center left")
    beta = study.beta[problem]
    top = np.argsort(-np.abs(study.l1[problem]) - np.abs(study.l2[problem]))[:12]
    for i, j in enumerate(top):
        cx.plot(a, beta[:, j], "-", color=f"C{i % 10}", lw=1)
        cx.plot([a[0] / 2], [study.l1[problem, j]], "<", color=f"C{i % 10}", ms=4)
        cx.plot([a[-1] * 2], [study.l2[problem, j]], ">", color=f"C{i % 10}", ms=4)
    cx.plot([], [], "k<", ms=4, label=r"min $\ell_1$")
    cx.plot([], [], "k>", ms=4, label=r"min $\ell_2$")
    cx.set(xscale="log", xlabel=r"initial scale $\alpha$", ylabel=r"$\beta_i$ (12 largest)",
           title=f"(c) the path of β (problem {problem})")
    cx.legend(fontsize=7, loc="upper right")
    return fig


# ---------------------------------------------------------------- 2. lazy training by output scale

@dataclass(frozen=True)
class TeacherTask:
    """A two-layer relu teacher y = Σ_k s_k relu(⟨θ_k, x⟩), ‖θ_k‖ = 1, s_k = ±1, on the sphere
    of radius √d (Chizat et al.'s shallow experiment). Tensors are float64.

    Attributes:
        x_train: (N, d); y_train: (N,); x_test: (M, d); y_test: (M,).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def teacher_task(d: int, n_train: int, n_test: int, *, n_teacher: int = 3, seed: int = 0) -> TeacherTask:
    """Draw inputs uniformly on the sphere of radius √d and label them with a random teacher.

    Args:
        d: input dimension; n_train, n_test: numbers of points; n_teacher: teacher neurons.
        seed: seed of the torch generator.

    Returns:
        ``TeacherTask``.
    """
    d, n_train, n_test = (check.positive_int(k, v) for k, v in (("d", d), ("n_train", n_train), ("n_test", n_test)))
    g = torch.Generator().manual_seed(int(seed))
    x = torch.randn(n_train + n_test, d, generator=g, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(d)
    theta = torch.randn(check.positive_int("n_teacher", n_teacher), d, generator=g, dtype=torch.float64)
    theta = theta / theta.norm(dim=1, keepdim=True)
    sign = torch.where(torch.rand(n_teacher, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    y = torch.relu(x @ theta.T) @ sign
    return TeacherTask(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def _repeat_nets(nets: TwoLayerNets, times: int) -> TwoLayerNets:
    """Each of the S networks repeated ``times`` times, scale-major: row t·S + s is network s."""
    def rep(t):
        return None if t is None else t.repeat(times, *([1] * (t.dim() - 1)))
    return TwoLayerNets(rep(nets.w), rep(nets.c), rep(nets.a), nets.sigma_w, nets.sigma_b, nets.activation)


def _lazy_predictions(nets: TwoLayerNets, task: TeacherTask, steps: int, eta,
                      k0: torch.Tensor | None = None) -> torch.Tensor:
    """(B, M) test outputs of each network's lazy limit: kernel GD with its Θ₀ (``k0`` on the
    training inputs, if already computed) from f = 0."""
    k0 = two_layer_ntk(nets, task.x_train) if k0 is None else k0
    k0_test = two_layer_ntk(nets, task.x_test, task.x_train)
    etas = np.broadcast_to(np.asarray(eta, dtype=np.float64), (k0.shape[0],))
    zero_train, zero_test = torch.zeros_like(task.y_train), torch.zeros_like(task.y_test)
    return torch.stack([gradient_descent_predict(k0[b], task.y_train, zero_train, steps, eta=float(etas[b]),
                                                 ntk_test_train=k0_test[b], f0_test=zero_test).test[-1]
                        for b in range(k0.shape[0])])


def _lazy_test_loss(nets: TwoLayerNets, task: TeacherTask, steps: int, eta) -> np.ndarray:
    return (0.5 * ((_lazy_predictions(nets, task, steps, eta) - task.y_test) ** 2).mean(1)).numpy()


def _increasing(name: str, values: Sequence[float]) -> np.ndarray:
    """``values`` as float64 if positive, finite and strictly increasing (the claims read the ends)."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size < 2 or not np.all(np.isfinite(arr) & (arr > 0)) or not np.all(np.diff(arr) > 0):
        raise ValueError(f"{name} must be at least two positive, finite, strictly increasing numbers, got {list(values)}")
    return arr


def _relative_change(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (b - a).flatten(1).norm(dim=1) / a.flatten(1).norm(dim=1)


@dataclass(frozen=True)
class LazyScaleStudy:
    """Symmetrised students τ·h(w) (h(w₀) = 0) of a teacher, S seeds at T scales τ; arrays (T, S).

    Attributes:
        scales: (T,) τ.
        weight_change: ‖w_T − w₀‖/‖w₀‖.
        ntk_change: ‖Θ_T − Θ₀‖_F/‖Θ₀‖_F on the training inputs.
        lazy_deviation: ‖f_τ − f_lazy‖/‖f_lazy‖ on the test inputs, f_lazy the linearised model
            (kernel GD with Θ₀, the same steps and step size).
        test_loss: ½·mean squared test error of the network; train_loss: the same on the
            training set.
        lazy_test_loss: (S,) test loss of the lazy limit, the τ → ∞ network trained with
            ``eta`` (kernel GD with Θ₀).
        lazy_from: fits use τ ≥ lazy_from.
        fits: log-log fits of weight_change, ntk_change and lazy_deviation against τ.
        activation: the students' nonlinearity.
    """

    scales: np.ndarray
    weight_change: np.ndarray
    ntk_change: np.ndarray
    lazy_deviation: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    lazy_test_loss: np.ndarray
    lazy_from: float
    fits: dict[str, SlopeFit]
    activation: str = "relu"

    def table(self) -> str:
        """Seed means per τ of the changes, the distance to the lazy limit and the losses."""
        lines = ["tau          weight change  NTK change  to lazy limit  test loss  train loss"]
        for i, t in enumerate(self.scales):
            lines.append(f"{t:<12.3g} {self.weight_change[i].mean():<14.3g} {self.ntk_change[i].mean():<11.3g} "
                         f"{self.lazy_deviation[i].mean():<14.3g} {self.test_loss[i].mean():<10.3g} "
                         f"{self.train_loss[i].mean():.2g}")
        return "\n".join(lines + [f"lazy limit: test loss {self.lazy_test_loss.mean():.3g}"])

    def deviation_text(self) -> str:
        """One line: the seed-mean distance to the lazy limit at every τ."""
        return f"{self.activation} student, distance to its lazy limit: " + ", ".join(
            f"{t:g}: {v:.2g}" for t, v in zip(self.scales, self.lazy_deviation.mean(1)))

    def metrics(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("scales", "weight_change", "ntk_change", "lazy_deviation",
                                              "test_loss", "train_loss", "lazy_test_loss", "lazy_from",
                                              "activation")} | {
            f"{k}_slope": (f.slope, f.ci_low, f.ci_high) for k, f in self.fits.items()}


def lazy_scale_study(task: TeacherTask, scales: Sequence[float], *, width: int, n_seeds: int, steps: int,
                     eta: float, seed: int, lazy_from: float = 1.0, ci: float = 0.99,
                     sigma_b: float = 1.0, activation: str = "relu") -> LazyScaleStudy:
    """Train symmetrised two-layer students at every scale τ and compare with the lazy limit.

    The step is ``eta``·min(1, τ): stable for the τ-independent lazy dynamics at τ ≥ 1 and
    shrinking with the curvature ∝ 1/τ of the loss at small τ. All scales of one seed start
    from the same network.

    Args:
        task: the teacher's data.
        scales: output scales τ > 0, at least two of them ≥ ``lazy_from``.
        width: student width m (even); n_seeds: networks S per scale; steps: GD steps.
        eta: step size at τ ≥ 1 (below 2N/λ_max(Θ₀)).
        seed: seed of the students' initialisation.
        lazy_from: the fits use τ ≥ lazy_from.
        ci: coverage of the fits' intervals (bootstrap over seeds).
        sigma_b: the students' bias scale.
        activation: the students' nonlinearity (relu; a smooth one, e.g. erf, as the control
            for Chizat et al.'s O(1/τ), which needs a Lipschitz Jacobian).

    Returns:
        ``LazyScaleStudy``.
    """
    tau = _increasing("scales", scales)
    s = check.positive_int("n_seeds", n_seeds)
    base = two_layer_nets(s, task.x_train.shape[1], width, sigma_b=sigma_b, activation=activation, symmetric=True,
                          seed=seed)
    nets = _repeat_nets(base, len(tau))
    taus = torch.as_tensor(np.repeat(tau, s))
    steps_per = torch.as_tensor(eta * np.minimum(1.0, np.repeat(tau, s)))
    run = train_output_scaled(nets, taus, task.x_train, task.y_train, steps=steps, eta=steps_per,
                              x_test=task.x_test, y_test=task.y_test, center=False, record_every=steps)
    k0, kt = two_layer_ntk(nets, task.x_train), two_layer_ntk(run.final, task.x_train)
    lazy = _lazy_predictions(nets, task, steps, steps_per.numpy(), k0)
    deviation = (run.test_output - lazy).norm(dim=1) / lazy.norm(dim=1)
    lazy_loss = 0.5 * ((lazy - task.y_test) ** 2).mean(1)
    shape = (len(tau), s)
    arr = {k: v.reshape(shape).numpy() for k, v in dict(weight_change=run.weight_change, ntk_change=_relative_change(k0, kt),
                                                       lazy_deviation=deviation, test_loss=run.test_loss,
                                                       train_loss=run.train_loss).items()}
    big = np.nonzero(tau >= lazy_from)[0]
    if big.size < 2:
        raise ValueError(f"scales must have at least two values >= lazy_from = {lazy_from}, got {list(tau)}")
    # The lazy limit of the schedule is the kernel model trained with eta (rows with tau >= 1).
    lazy_test = lazy_loss.reshape(shape).numpy()[big[0]]
    fits = {k: loglog_slope(tau[big], arr[k][big], seed=seed, ci=ci)
            for k in ("weight_change", "ntk_change", "lazy_deviation")}
    return LazyScaleStudy(tau, arr["weight_change"], arr["ntk_change"], arr["lazy_deviation"], arr["test_loss"],
                          arr["train_loss"], lazy_test, float(lazy_from), fits, activation)


def figure_lazy_scale(study: LazyScaleStudy, control: LazyScaleStudy | None = None) -> Any:
    """(a) test loss against τ with the lazy limit (Chizat et al.'s shallow experiment);
    (b) weight change, NTK change and distance to the lazy limit against τ with their fits, and
    the distance to the lazy limit of a smooth ``control`` student (open squares)."""
    fig, (ax, bx) = new_figure(1, 2, figsize=(11.0, 3.9))
    tau = study.scales
    m, sd = study.test_loss.mean(1), study.test_loss.std(1)
    ax.errorbar(tau, m, yerr=sd, fmt="o-", ms=4, capsize=2, label="trained network (mean ± sd)")
    ax.axhline(study.lazy_test_loss.mean(), color="k", ls="--", lw=1, label=r"lazy limit (kernel GD with $\Theta_0$)")
    ax.set(xscale="log", yscale="log", xlabel=r"output scale $\tau$", ylabel="test loss (½ mean square)",
           title="(a) rich (small τ) against lazy (large τ)")
    ax.legend(fontsize=7, loc="lower right")
    labels = {"weight_change": r"$\|w_T-w_0\|/\|w_0\|$", "ntk_change": r"$\|\Theta_T-\Theta_0\|/\|\Theta_0\|$",
              "lazy_deviation": r"$\|f_\tau-f_{\rm lazy}\|/\|f_{\rm lazy}\|$"}
    for i, (k, lab) in enumerate(labels.items()):
        y = getattr(study, k)
        bx.plot(tau, y.mean(1), "o", color=f"C{i}", ms=4, label=f"{lab}: slope {study.fits[k].slope:.2f}")
        keep = tau >= study.lazy_from
        bx.plot(tau[keep], study.fits[k].predict(tau[keep]), "-", color=f"C{i}", lw=1)
    if control is not None:
        keep = control.scales >= control.lazy_from
        fit = control.fits["lazy_deviation"]
        bx.plot(control.scales, control.lazy_deviation.mean(1), "s", mfc="none", color="C3", ms=4,
                label=f"same, {control.activation} student: slope {fit.slope:.2f}")
        bx.plot(control.scales[keep], fit.predict(control.scales[keep]), "-", color="C3", lw=1)
    bx.set(xscale="log", yscale="log", xlabel=r"output scale $\tau$", ylabel="relative change",
           title="(b) how lazy")
    legend_outside(bx, fontsize=7)
    return fig


# ---------------------------------------------------------------- 3. the crossover at α√h

@dataclass(frozen=True)
class WidthExponent:
    """Fixed-effects fit log y = c_i + b·log h over an aligned grid (i: the grid point, h: width).

    Attributes:
        b: exponent of h at a fixed grid point (0 when the curves collapse).
        stderr: its standard error (from the residuals).
        ci_low, ci_high: its Student-t interval.
        dof: residual degrees of freedom.
    """

    b: float
    stderr: float
    ci_low: float
    ci_high: float
    dof: int


def width_exponent(widths: np.ndarray, values: np.ndarray, *, ci: float = 0.99) -> WidthExponent:
    """Fit log values[h, i, s] = c_i + b·log h by least squares; t-interval for b.

    Args:
        widths: (H,) widths h.
        values: (H, A, S) positive values at width h, grid point i, seed s.
        ci: coverage of the interval.

    Returns:
        ``WidthExponent``.
    """
    hh, aa, ss = values.shape
    y = np.log(values).reshape(-1)
    logh = np.repeat(np.log(np.asarray(widths, dtype=np.float64)), aa * ss)
    point = np.tile(np.repeat(np.arange(aa), ss), hh)
    design = np.column_stack([logh, (point[:, None] == np.arange(aa)[None, :]).astype(float)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = len(y) - design.shape[1]
    sigma2 = resid @ resid / dof
    se = math.sqrt(sigma2 * np.linalg.inv(design.T @ design)[0, 0])
    t = sps.t.ppf(0.5 + ci / 2, dof)
    return WidthExponent(float(coef[0]), se, float(coef[0] - t * se), float(coef[0] + t * se), dof)


@dataclass(frozen=True)
class CrossoverStudy:
    """Centred students α(h(w) − h(w₀)) of widths h, with α = x/h^c on a grid of x; arrays (H, A, S).

    Attributes:
        widths: (H,) widths h.
        x: (A,) grid of x = α·h^c (c = ``exponent``; Geiger et al.: c = 1/2, x = α√h).
        exponent: c.
        weight_change, ntk_change, test_loss: as in ``LazyScaleStudy`` (ΔΘ on test inputs).
        train_loss: final training loss.
        lazy_test_loss: (H, S) test loss of each network's lazy limit (kernel GD with its Θ₀,
            the same steps and ``eta``): the width-h kernel itself has finite-width effects.
    """

    widths: np.ndarray
    x: np.ndarray
    exponent: float
    weight_change: np.ndarray
    ntk_change: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    lazy_test_loss: np.ndarray

    @property
    def relative_test_loss(self) -> np.ndarray:
        """(H, A, S) test loss over the same network's lazy-limit test loss."""
        return self.test_loss / self.lazy_test_loss[:, None, :]

    def alpha_sqrt_h(self) -> np.ndarray:
        """(H, A) α√h of every run."""
        return self.x[None, :] * self.widths[:, None] ** (0.5 - self.exponent)

    def width_exponent(self, quantity: str, *, ci: float = 0.99) -> WidthExponent:
        """``width_exponent`` of ``quantity`` over the grid in x."""
        return width_exponent(self.widths, getattr(self, quantity), ci=ci)

    def crossing(self, level: float = 1.0, quantity: str = "ntk_change") -> np.ndarray:
        """(H,) x = α·h^c at which the seed-mean of ``quantity`` first crosses ``level`` (log-log
        interpolation between the two grid points around it; NaN if it does not cross). With
        c = 1/2 this is α√h.

        Args:
            level: the level crossed (ΔΘ/Θ₀ = 1 falls through it, the relative test loss rises).
            quantity: "ntk_change", "relative_test_loss", "weight_change" or "test_loss".
        """
        out = np.full(len(self.widths), np.nan)
        for i, y in enumerate(getattr(self, quantity).mean(2)):
            side = np.sign(np.log(y) - math.log(level))
            change = np.nonzero(side[:-1] * side[1:] < 0)[0]
            if change.size:
                j = change[0]
                f = (math.log(level) - math.log(y[j])) / (math.log(y[j + 1]) - math.log(y[j]))
                out[i] = math.exp(math.log(self.x[j]) + f * (math.log(self.x[j + 1]) - math.log(self.x[j])))
        return out

    def summary(self, *, ci: float = 0.99) -> str:
        """The width exponents (with ``ci`` intervals) and the two crossings, one per line."""
        lines = []
        for q in ("ntk_change", "relative_test_loss", "weight_change"):
            w = self.width_exponent(q, ci=ci)
            lines.append(f"{q}: exponent of h at fixed alpha*h^{self.exponent:g}: {w.b:.3f} "
                         f"[{w.ci_low:.3f}, {w.ci_high:.3f}]")
        for text, cross in (("the NTK change is 1", self.crossing()),
                            ("the test loss is half its lazy limit's", self.crossing(0.5, "relative_test_loss"))):
            lines.append(f"alpha*h^c where {text}: " + ", ".join(f"h={h}: {c:.3g}" for h, c in zip(self.widths, cross)))
        return "\n".join(lines)

    def metrics(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("widths", "x", "exponent", "weight_change", "ntk_change",
                                              "test_loss", "train_loss", "lazy_test_loss")} | {
            "crossing": self.crossing(), "test_loss_half_way": self.crossing(0.5, "relative_test_loss")}


def crossover_study(task: TeacherTask, widths: Sequence[int], x: Sequence[float], *, n_seeds: int, steps: int,
                    eta: float, seed: int, exponent: float = 0.5, ntk_points: int = 100,
                    sigma_b: float = 1.0) -> CrossoverStudy:
    """Train centred students of each width h at α = x/h^c, for every x, and measure their changes.

    The step is ``eta``·min(1, α√h) (the loss's curvature grows like 1/(α√h) in the rich regime).

    Args:
        task: the data; widths: h; x: the grid of α·h^c.
        n_seeds: networks per (h, x); steps: GD steps; eta: step at α√h ≥ 1.
        seed: seed of width h's networks is seed + h.
        exponent: c (1/2: Geiger et al.'s α√h).
        ntk_points: ΔΘ/Θ is measured on this many test inputs.
        sigma_b: the students' bias scale.

    Returns:
        ``CrossoverStudy``.
    """
    widths_a = np.asarray([check.positive_int("widths", h) for h in widths])
    xs = _increasing("x", x)
    s = check.positive_int("n_seeds", n_seeds)
    out = {k: [] for k in ("weight_change", "ntk_change", "test_loss", "train_loss")}
    lazy_loss = []
    probe = task.x_test[: check.positive_int("ntk_points", ntk_points)]
    for h in widths_a:
        alpha = np.repeat(xs / h ** exponent, s)
        base = two_layer_nets(s, task.x_train.shape[1], int(h), sigma_b=sigma_b, seed=seed + int(h))
        nets = _repeat_nets(base, len(xs))
        lazy_loss.append(_lazy_test_loss(base, task, steps, eta))
        run = train_output_scaled(nets, torch.as_tensor(alpha), task.x_train, task.y_train, steps=steps,
                                  eta=torch.as_tensor(eta * np.minimum(1.0, alpha * math.sqrt(h))),
                                  x_test=task.x_test, y_test=task.y_test, center=True, record_every=steps)
        change = _relative_change(two_layer_ntk(nets, probe), two_layer_ntk(run.final, probe))
        for k, v in (("weight_change", run.weight_change), ("ntk_change", change), ("test_loss", run.test_loss),
                     ("train_loss", run.train_loss)):
            out[k].append(v.reshape(len(xs), s).numpy())
    return CrossoverStudy(widths_a, xs, float(exponent), *(np.stack(out[k]) for k in
                                                           ("weight_change", "ntk_change", "test_loss", "train_loss")),
                          np.stack(lazy_loss))


def figure_crossover(study: CrossoverStudy) -> Any:
    """ΔΘ/Θ₀ and the test loss against α√h for every width (Geiger et al.'s collapse), and ΔΘ/Θ₀
    against α itself, which does not collapse."""
    fig, (ax, bx, cx) = new_figure(1, 3, figsize=(13.0, 3.8))
    xs = study.alpha_sqrt_h()
    for i, h in enumerate(study.widths):
        kw = dict(color=f"C{i}", ms=4, label=f"h = {h}")
        ax.errorbar(xs[i], study.ntk_change[i].mean(1), yerr=study.ntk_change[i].std(1), fmt="o-", capsize=2, **kw)
        rel = study.relative_test_loss[i]
        bx.errorbar(xs[i], rel.mean(1), yerr=rel.std(1), fmt="o-", capsize=2, **kw)
        cx.plot(xs[i] / math.sqrt(h), study.ntk_change[i].mean(1), "o-", **kw)
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    ax.axvline(1.0, color="0.5", ls=":", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel=r"$\alpha\sqrt{h}$", ylabel=r"$\|\Theta_T-\Theta_0\|/\|\Theta_0\|$",
           title="(a) kernel change collapses")
    bx.axvline(1.0, color="0.5", ls=":", lw=0.8)
    bx.axhline(1.0, color="k", ls="--", lw=0.8)
    bx.set(xscale="log", yscale="log", xlabel=r"$\alpha\sqrt{h}$", ylabel="test loss / its lazy limit's",
           title="(b) test loss collapses")
    cx.set(xscale="log", yscale="log", xlabel=r"$\alpha$", ylabel=r"$\|\Theta_T-\Theta_0\|/\|\Theta_0\|$",
           title="(c) against α alone: no collapse")
    for z in (ax, bx, cx):
        z.legend(fontsize=7, loc="lower left" if z is not bx else "lower right")
    return fig


# ---------------------------------------------------------------- claims, metrics, answer

def add_claims(claims: Any, *, bias: ImplicitBiasStudy, lazy: LazyScaleStudy, control: LazyScaleStudy,
               crossover: CrossoverStudy, alpha: dict[str, float], tolerances: dict[str, float],
               planted_error: float = 0.0, rich_limit: str = "l1", weight_exponent: float = -1.0,
               deviation_exponent: float = -0.5, smooth_exponent: float = -1.0) -> None:
    """Record notebook 08's claims in ``claims`` (a ``ClaimSet``) with the notebook's tolerances.

    The predictions carry the planted errors of tests/power: ``planted_error`` is a relative
    error in the α of the predicted Q_α; ``rich_limit`` the predicted α → 0 limit ("l1"; "l2"
    swaps the two ends); ``weight_exponent`` the predicted rate of the weight change (−1);
    ``deviation_exponent`` the predicted rate of the approach to the lazy
    limit (−1/2 for relu); ``smooth_exponent`` the rate Chizat et al. guarantee for a model with a
    Lipschitz Jacobian (O(1/τ): the ``control`` student's slope must be at most −1).
    """
    c = claims
    check.choice("rich_limit", rich_limit, ("l1", "l2"))
    ends = (bias.l1, bias.l2) if rich_limit == "l1" else (bias.l2, bias.l1)
    factor = 1.0 + planted_error
    err = lambda s: float(np.max(bias.prediction_error(factor * s)))  # noqa: E731
    c.less_than("GD on the diagonal net ends at argmin Q_alpha s.t. X beta = y (max rel. error over alpha)",
                f"{WOODWORTH}, Thm 1", err(1.0), tolerances["q_alpha"], digits=2, prediction=err)
    beta = bias.beta
    rich = float(np.max(np.abs(np.abs(beta[:, 0]).sum(1) / np.abs(ends[0]).sum(1) - 1)))
    c.less_than(f"alpha -> 0: |beta|_1 -> min l1 interpolant (rel. excess at alpha={bias.alphas[0]:g})",
                f"{WOODWORTH}, Thm 2, Fig. 1b", rich, tolerances["l1_limit"], digits=2,
                resolution=tolerances["l1_limit"], resolution_kind="bound")
    eps = min(woodworth_l2_epsilon(float(bias.alphas[-1]), float(np.linalg.norm(b))) for b in bias.l2)
    lazy_end = float(np.max(np.abs((beta[:, -1] ** 2).sum(1) / (ends[1] ** 2).sum(1) - 1)))
    c.less_than(f"alpha -> inf: |beta|_2^2 <= (1+eps)|min l2|^2, eps={eps:.3g} at alpha={bias.alphas[-1]:g}",
                f"{WOODWORTH}, Thm 2", lazy_end, round(eps, 4), digits=2, resolution=round(eps, 4), resolution_kind="bound")
    e1, e2 = bias.limit_errors()
    pop = bias.population_error()
    target = (e1, e2) if rich_limit == "l1" else (e2, e1)
    moved = float(max(np.max(np.abs(pop[:, 0] - target[0]) / (e2 - e1)), np.max(np.abs(pop[:, -1] - target[1]) / (e2 - e1))))
    c.less_than("test error moves from the l1 to the l2 interpolant's (gap-relative error at both ends)",
                f"{WOODWORTH}, Fig. 1a", moved, tolerances["test_ends"], digits=2,
                resolution=tolerances["test_ends"], resolution_kind="bound")
    c.slope(f"weight change ∝ tau^{weight_exponent:g} (slope, tau >= {lazy.lazy_from:g})", f"{CHIZAT}, Thm 2.2",
            lazy.fits["weight_change"], weight_exponent, tol=tolerances["slope"], alpha=alpha["weight"])
    nf = lazy.fits["ntk_change"]
    last = float(lazy.ntk_change[-1].mean())
    c.check(f"NTK change -> 0 as tau grows (slope CI < 0, < {tolerances['ntk_vanish']:g} at tau={lazy.scales[-1]:g})",
            f"{CHIZAT}, §2", bool(nf.ci_high < 0 and last < tolerances["ntk_vanish"]), last,
            f"slope < 0 and < {tolerances['ntk_vanish']:g}", digits=2,
            tolerance=f"slope CI [{nf.ci_low:.2f}, {nf.ci_high:.2f}]", alpha=alpha["ntk"],
            resolution=tolerances["ntk_vanish"], resolution_kind="bound")
    c.slope(f"distance to the lazy limit ∝ tau^{deviation_exponent:g} (slope, tau >= {lazy.lazy_from:g})",
            f"{CHIZAT}, Thm 2.4 (relu: gate flips)", lazy.fits["lazy_deviation"], deviation_exponent,
            tol=tolerances["slope"], alpha=alpha["deviation"])
    sf = control.fits["lazy_deviation"]
    tol = tolerances["slope"]
    c.check(f"smooth ({control.activation}) student: distance to the lazy limit O(tau^{smooth_exponent:g}) (slope <=)",
            f"{CHIZAT}, Thm 2.4", bool(sf.ci_high <= smooth_exponent + tol), sf.slope,
            f"CI upper end <= {smooth_exponent:g} + {tol:g}", digits=2,
            tolerance=f"CI [{sf.ci_low:.2f}, {sf.ci_high:.2f}]", alpha=alpha["smooth"],
            resolution=(sf.ci_high - sf.ci_low) / 2, resolution_kind="interval")
    ratio = float(np.max(lazy.test_loss[0] / lazy.lazy_test_loss))
    c.less_than(f"tau={lazy.scales[0]:g}: test loss below the lazy limit's (max ratio over seeds)",
                f"{CHIZAT}, §3 (shallow teacher–student)", ratio, 1.0, digits=2,
                resolution=1.0, resolution_kind="bound")
    w = crossover.width_exponent("ntk_change", ci=1 - alpha["ntk_change"])
    tol = tolerances["collapse"]
    c.check(f"kernel change collapses against alpha*h^{crossover.exponent:g} (exponent of h at fixed alpha*h^c)",
            f"{GEIGER}, Fig. 2", bool(w.ci_low - tol <= 0 <= w.ci_high + tol), w.b,
            f"0 in CI ± {tol:g}", digits=2, tolerance=f"CI [{w.ci_low:.3f}, {w.ci_high:.3f}] ± {tol:g}",
            alpha=alpha["ntk_change"], resolution=(w.ci_high - w.ci_low) / 2, resolution_kind="interval")
    half = crossover.crossing(0.5, "relative_test_loss")
    spread = float(np.ptp(np.log10(half))) if np.all(np.isfinite(half)) else float("nan")
    c.less_than(f"test loss collapses: it reaches half the lazy limit's at one alpha*h^{crossover.exponent:g} "
                "(spread in decades over h)", f"{GEIGER}, Fig. 2", spread, tolerances["half_way_decades"], digits=2,
                resolution=tolerances["half_way_decades"], resolution_kind="bound")
    cross = crossover.crossing()
    off = float(np.max(np.abs(np.log10(cross)))) if np.all(np.isfinite(cross)) else float("nan")
    c.less_than(f"crossover: NTK change = 1 at alpha*h^{crossover.exponent:g} within a decade of 1 (max |log10|, all h)",
                f"{GEIGER}, Fig. 2", off, tolerances["crossing_decades"], digits=2,
                resolution=tolerances["crossing_decades"], resolution_kind="bound")


def metrics(*, bias: ImplicitBiasStudy, lazy: LazyScaleStudy, control: LazyScaleStudy,
            crossover: CrossoverStudy) -> dict[str, Any]:
    """The studies' numbers for the results file (``control``: the smooth student)."""
    return {"implicit_bias": bias.metrics(), "lazy_scale": lazy.metrics(), "lazy_scale_control": control.metrics(),
            "crossover": crossover.metrics() | {
                f"{q}_width_exponent": vars(crossover.width_exponent(q)) for q in
                ("ntk_change", "relative_test_loss", "weight_change")}}


def regimes_answer(bias: ImplicitBiasStudy, lazy: LazyScaleStudy, crossover: CrossoverStudy) -> str:
    """Two sentences with this run's numbers: where the kernel picture holds, and where it stops."""
    e1, e2 = bias.limit_errors()
    pop = bias.population_error()
    cross = crossover.crossing()
    return (f"Kernel regime: at large scale the diagonal net is the minimum-l2 interpolant (population error "
            f"{pop[:, -1].mean():.3f} against {e2.mean():.3f}) and the tau={lazy.scales[-1]:g} student moves its weights by "
            f"{100 * lazy.weight_change[-1].mean():.2g} % and its kernel by {100 * lazy.ntk_change[-1].mean():.2g} %. "
            f"Rich regime: at small scale the diagonal net approaches the minimum-l1 interpolant (error {pop[:, 0].mean():.3f} "
            f"against {e1.mean():.3f}), the tau={lazy.scales[0]:g} student beats the lazy limit "
            f"({lazy.test_loss[0].mean():.3g} against {lazy.lazy_test_loss.mean():.3g}), and the crossover sits at "
            f"alpha*sqrt(h) = {np.nanmin(cross):.2g}–{np.nanmax(cross):.2g} for widths {', '.join(map(str, crossover.widths))}.")
