"""The eigendirection experiments of Jacot et al. (2018) §5 (notebook 04).

One job: train (or only initialise) finite networks on targets built from the principal
components of the limit kernel and report what the paper's §5 predicts about them —

* ``EigendirectionExperiment``: the limit NTK Θ∞ on the training inputs, its eigenvalues
  λ_i = (Gram eigenvalue)/N (½·mean loss), eigenvectors v_i, principal components
  f^(i) = √N v_i (‖f^(i)‖²_{p_in} = 1), the learning rate and the GD rates
  r_i = −ln(1 − ηλ_i)/η; and the experiments on it:

  - ``train``: one network trained on f* = f_0 + Σ_i c_i f^(i) with NTK snapshots, beside
    gradient descent with the network's own initial kernel Θ̂_0 (``SnapshotRun``);
  - ``initial_rate_scale``: the rate scale of GD with one network's Θ̂_0 (no training);
  - ``kernel_change``: ‖Θ̂_T − Θ̂_0‖_F / ‖Θ̂_0‖_F of one trained network (the kernel-growth
    study), and ``kernel_growth`` for a grid of widths and amplitudes (``KernelGrowth``);
  - ``early_stopping``: kernel regression of label-noised targets stopped early
    (``EarlyStopping``).

* the notebook's panels: ``plot_principal_components``, ``plot_figure3``, ``plot_rates``,
  ``plot_limit``, ``plot_kernel_growth``, ``plot_early_stopping`` (they draw on given axes and
  never import ``pyplot``), and ``figure_*``: each makes a pyplot figure with one section's
  panels (pyplot is imported there only, so that a notebook shows the figure).

* the section summaries ``Spectrum``, ``Figure3Study``, ``RateStudy``, ``InitialKernelLimit``
  (and ``KernelGrowth``, ``EarlyStopping``): ``print`` gives the notebook's per-network lines,
  ``metrics()`` the entries of the results file, and their methods the claims' statistics,
  each with the prediction scaled by a factor for the claim's resolution.

Time is t = steps × η throughout; the loss is ½·mean over the N training points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import _validation as check
from .dynamics import (fit_rate_scale, gd_decay_rates, gradient_descent_predict,
                       gradient_flow_predict, kernel_eigendecomposition, rayleigh_quotients)
from .empirical import empirical_ntk
from .kernels import analytic_kernels
from .models import MLP
from .plotting import legend_outside, loglog_with_fit
from .stats import (bootstrap_ci, decay_rate, inverse_width_limit, log_mean_ratio, loglog_slope_t,
                    max_ratio_deviation, mean_abs_log_ratio, mean_max_deviation)
from .training import train_full_batch

__all__ = ["EigendirectionExperiment", "SnapshotRun", "KernelGrowth", "EarlyStopping", "Spectrum",
           "Figure3Study", "RateStudy", "InitialKernelLimit",
           "plot_principal_components", "plot_figure3", "plot_rates", "plot_limit",
           "plot_kernel_growth", "plot_early_stopping", "figure_principal_components",
           "figure_3", "figure_rates", "figure_limit", "figure_kernel_growth",
           "figure_early_stopping", "bound_args", "collect_metrics",
           "print_and_save"]

#: Components whose subspace defines the rate scale s (indices 1..5: f^(2), …, f^(6)).
RATE_SCALE_COMPONENTS = 5


@dataclass
class SnapshotRun:
    """One trained network next to GD with its own initial kernel (``EigendirectionExperiment.train``).

    Attributes:
        t: (T,) float64 recorded times (steps × η).
        net: (T, N) float64 coordinates ⟨f_t − f*, v_j⟩ of the network's residual along the
            limit kernel's eigenvectors v_1..v_N.
        own: (T, N) the same for full-batch GD with the network's initial NTK Θ̂_0,
            (I − ηΘ̂_0/N)^k (f_0 − f*).
        ntk: {step: (N, N) float64 empirical NTK} at the snapshot steps (0 and the last included).
        experiment: the ``EigendirectionExperiment`` that trained it.
    """

    t: np.ndarray
    net: np.ndarray
    own: np.ndarray
    ntk: dict[int, torch.Tensor]
    experiment: EigendirectionExperiment = field(repr=False)

    @property
    def kernel_change(self) -> float:
        """Δ = ‖Θ̂_T − Θ̂_0‖_F / ‖Θ̂_0‖_F over the whole training (T the last step)."""
        last = self.ntk[self.experiment.steps]
        return float((last - self.ntk[0]).norm() / self.ntk[0].norm())

    @property
    def g(self) -> np.ndarray:
        """(T,) ‖g_t‖_{p_in} = |⟨f_t − f*, f^(2)⟩_{p_in}| = |⟨f_t − f*, v_2⟩|/√N (Fig. 3c)."""
        return np.abs(self.net[:, 1]) / math.sqrt(self.net.shape[1])

    @property
    def g_own(self) -> np.ndarray:
        """(T,) ``g`` for GD with the initial kernel Θ̂_0."""
        return np.abs(self.own[:, 1]) / math.sqrt(self.own.shape[1])

    @property
    def h(self) -> np.ndarray:
        """(T,) ‖h_t‖_{p_in}: the norm of the residual orthogonal to f^(2) (Fig. 3b)."""
        rest = (self.net ** 2).sum(1) - self.net[:, 1] ** 2
        return np.sqrt(np.maximum(rest, 0)) / math.sqrt(self.net.shape[1])

    def component_rates(self, key: str = "net") -> np.ndarray:
        """(K,) fitted decay rates of |⟨f_t − f*, v_i⟩| for the experiment's components
        (``stats.decay_rate``, 5 % floor); ``key``: ``"net"`` or ``"own"``."""
        coords = self._coords(key)
        return np.array([decay_rate(self.t, coords[:, i], floor=0.05)
                         for i in self.experiment.components])

    def rate_scale(self, key: str = "net") -> float:
        """Rate scale s of the residual in span(f^(2), …, f^(6)) (``dynamics.fit_rate_scale``
        against the experiment's rates r_2..r_6); ``key``: ``"net"`` or ``"own"``."""
        ex = self.experiment
        comps = ex.components[:RATE_SCALE_COMPONENTS]
        return fit_rate_scale(self.t, self._coords(key)[:, comps], ex.rates[:RATE_SCALE_COMPONENTS])

    def rayleigh_quotients(self) -> np.ndarray:
        """(S, 5) ρ_i(t) = v_iᵀ Θ̂_t v_i / (N λ_i) at the S snapshots, components 2–6."""
        ex = self.experiment
        comps = ex.components[:RATE_SCALE_COMPONENTS]
        return np.array([rayleigh_quotients(k, ex.vec[:, comps], ex.lam[comps]).numpy()
                         for k in self.ntk.values()])

    def eta_lambda_max(self) -> np.ndarray:
        """(S,) η λ̂_max(t) = η · (largest eigenvalue of Θ̂_t)/N at the snapshots (GD on the
        ½·mean loss is stable while it is below 2)."""
        ex = self.experiment
        return np.array([ex.eta * float(torch.linalg.eigvalsh(k)[-1]) / ex.n_points
                         for k in self.ntk.values()])

    def _coords(self, key: str) -> np.ndarray:
        check.choice("key", key, ["net", "own"])
        return self.net if key == "net" else self.own


@dataclass
class KernelGrowth:
    """The kernel change Δ(n, a) = ‖Θ̂_T − Θ̂_0‖_F/‖Θ̂_0‖_F on a grid (``kernel_growth``).

    Attributes:
        widths: (W,) widths n at ``amplitude``; by_width: (W, R) Δ there (R repeats).
        amplitudes: (3,) a/2, a, 2a at ``n_mid``; by_amplitude: (3, R) Δ there.
        n_lo, n_mid, n_hi: smallest, middle, largest width; a_lo = a √(n_lo/n_hi), where
            a_lo²/n_lo = a²/n_hi; same: (R,) Δ(n_lo, a_lo).
        slope_n, slope_a: ``stats.SlopeFit`` of ln Δ on ln n and on ln a (t intervals), and
        same_ratio: ``stats.LogRatio`` ln Δ(n_hi, a) − ln Δ(n_lo, a_lo) at level ``ratio_ci`` —
        set by ``kernel_growth`` (``None`` when built directly).
    """

    widths: list[int]
    amplitude: float
    by_width: np.ndarray
    amplitudes: list[float]
    by_amplitude: np.ndarray
    n_lo: int
    n_mid: int
    n_hi: int
    a_lo: float
    same: np.ndarray
    slope_n: Any = None
    slope_a: Any = None
    same_ratio: Any = None
    ratio_ci: float | None = None

    def __str__(self) -> str:
        """The two fitted exponents, and Δ at equal a²/n with the a/n law's log ratio."""
        r = self.same_ratio
        return (f"slope in n: {self.slope_n}; slope in a: {self.slope_a}\n"
                f"Δ(n={self.n_hi}, a={self.amplitude:g}) = {self.by_width[-1].mean():.4f}, "
                f"Δ(n={self.n_lo}, a={self.a_lo:.3g}) = {self.same.mean():.4f}: log ratio "
                f"{r.estimate:.3f} ± {r.halfwidth:.3f} ({100 * self.ratio_ci:g} %); "
                f"a/n would give {-0.5 * np.log(self.n_hi / self.n_lo):.3f}")

    def metrics(self) -> dict[str, Any]:
        """{"growth": every Δ of the grid and the three fits}, for ``Notebook.finish``."""
        return {"growth": {"widths": self.widths, "by_width": self.by_width,
                           "amplitudes": self.amplitudes, "by_amplitude": self.by_amplitude,
                           "slope_n": self.slope_n, "slope_a": self.slope_a,
                           "log_ratio_99": self.same_ratio,
                           "same_a2_over_n": {"n": self.n_lo, "a": self.a_lo, "values": self.same}}}

    def same_ratio_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.within`` for "ln Δ(n_hi, a) − ln Δ(n_lo, a_lo) = 0":
        measured = the log ratio, expected = 0, tol = its interval's half-width, its interval,
        digits=3 (the claim's α is the caller's: 1 − ``ratio_ci``).

        Raises:
            ValueError: no log ratio fitted (``same_ratio`` is ``None``).
        """
        r = self.same_ratio
        if r is None:
            raise ValueError("same_ratio is None: build KernelGrowth with kernel_growth()")
        return dict(measured=r.estimate, expected=0.0, tol=r.halfwidth, digits=3,
                    interval=(r.ci_low, r.ci_high))

    def points(self) -> list[tuple[int, float, np.ndarray]]:
        """Every measured (n, a, Δ values (R,)) of the grid, for a plot against a²/n."""
        return ([(n, self.amplitude, d) for n, d in zip(self.widths, self.by_width)]
                + [(self.n_mid, a, d) for a, d in zip(self.amplitudes, self.by_amplitude)]
                + [(self.n_lo, self.a_lo, self.same)])


@dataclass
class EarlyStopping:
    """Kernel regression on label-noised targets, stopped early (``early_stopping``).

    Attributes:
        times: (T,) gradient-flow times, the last ``inf`` (kernel interpolation).
        gain: (M,) per test point, mean over noise draws of MSE(t = ∞) − MSE(t*), both
            against the clean labels, t* the validation optimum of each draw.
        stops: (D,) t* per noise draw.
        noise_share: (D,) share of the label noise's energy in the top N/10 kernel components.
        clean_share: the same for the clean labels.
        curves: {"val": (T, M_val), "test": (T, M_test)} squared errors of the first draw.
        gain_ci: ``stats.bootstrap_ci`` of the mean gain over test points at level ``ci`` (set
            by ``early_stopping`` when asked for an interval, else ``None``).
    """

    times: np.ndarray
    gain: np.ndarray
    stops: np.ndarray
    noise_share: np.ndarray
    clean_share: float
    curves: dict[str, np.ndarray]
    gain_ci: Any = None
    ci: float | None = None

    def __str__(self) -> str:
        """Stopping times, the gain with its interval, and the top-10 % energy shares."""
        g = self.gain_ci
        return (f"{len(self.stops)} noise draws, {self.gain.size} test points: stopping times "
                f"{self.stops.min():.3g}–{self.stops.max():.3g}; test-MSE gain of stopping "
                f"{g.estimate:.3f} [{g.ci_low:.3f}, {g.ci_high:.3f}] ({100 * self.ci:g} %)\n"
                f"share in the top 10 % of kernel components: clean labels "
                f"{self.clean_share:.2f}, label noise {self.noise_share.mean():.2f}")

    def metrics(self) -> dict[str, Any]:
        """{"early_stopping": stopping times, gain interval, energy shares}."""
        return {"early_stopping": {"t_star": self.stops, "gain": self.gain_ci,
                                   "noise_share_top10pct": self.noise_share,
                                   "clean_share_top10pct": self.clean_share}}

    def gain_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.greater_than`` for "the gain's CI lies above the
        bound": measured = lower end of ``gain_ci``, digits=3, resolution = the interval's
        half-width (ci_high − ci_low)/2 (kind "interval"); the bound and α are the caller's.

        Raises:
            ValueError: no interval (``gain_ci`` is ``None``: ``early_stopping`` without ``ci``).
        """
        g = self.gain_ci
        if g is None:
            raise ValueError("gain_ci is None: call early_stopping with ci=...")
        return dict(measured=g.ci_low, digits=3, resolution=(g.ci_high - g.ci_low) / 2,
                    resolution_kind="interval")


def _fmt(values: Any, digits: int = 3, sep: str = ", ") -> str:
    return sep.join(f"{v:.{digits}f}" for v in values)


@dataclass
class Spectrum:
    """Top eigenvalues λ_i = eig/N of Θ∞ and of one wide network's empirical NTK (``spectrum``).

    Attributes:
        analytic: (N,) λ_i of Θ∞ (float64 tensor, decreasing); empirical: (N,) those of Θ̂_0 of
        one width-``width`` network; eta: the learning rate.
    """

    analytic: Any
    empirical: Any
    width: int
    eta: float

    def __str__(self) -> str:
        """λ_1..3 of both kernels, Jacot et al.'s values, and η with the stability bound 2/λ_1."""
        return (f"λ_1..3 analytic:         {', '.join(f'{v:.3g}' for v in self.analytic[:3])}\n"
                f"λ_1..3 empirical n={self.width}: "
                f"{', '.join(f'{v:.3g}' for v in self.empirical[:3])}\n"
                "Jacot et al. (MNIST, n=10000): 0.0457, 0.00108, 0.00078\n"
                f"learning rate η = {self.eta:.3g} (stability bound 2/λ_1 = "
                f"{2 / float(self.analytic[0]):.3g})")

    def metrics(self) -> dict[str, Any]:
        """The top ten eigenvalues of both kernels and η."""
        return {"lambda_analytic_top10": self.analytic[:10],
                f"lambda_empirical_n{self.width}_top10": self.empirical[:10], "eta": self.eta}


class _Study:
    """Trained networks {(n, s): SnapshotRun} of ``train_many`` (width-major), s < ``trials``."""

    def __init__(self, runs: dict[tuple[int, int], SnapshotRun],
                 experiment: EigendirectionExperiment) -> None:
        self.runs, self.experiment = runs, experiment
        self.widths = list(dict.fromkeys(n for n, _ in runs))
        self.trials = len(runs) // len(self.widths)
        self.small, self.big = self.widths[0], self.widths[-1]

    def at(self, values: dict[tuple[int, int], Any], width: int) -> np.ndarray:
        """(trials, …) ``values[width, s]`` stacked over the networks s of one width."""
        return np.array([values[width, s] for s in range(self.trials)])

    def max_kernel_change(self) -> float:
        """max Δ = ‖Θ̂_T − Θ̂_0‖_F/‖Θ̂_0‖_F over the networks of the widest width."""
        return max(r.kernel_change for (n, _), r in self.runs.items() if n == self.big)

    def own_kernel_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.less_than`` for "the network follows its initial
        kernel": measured = ``own_kernel_deviation()``, digits=3, prediction =
        ``own_kernel_deviation`` (scaled by the resolution search); the bound is the caller's."""
        return dict(measured=self.own_kernel_deviation(), digits=3,
                    prediction=self.own_kernel_deviation)

    def kernel_changes(self) -> dict[tuple[int, int], float]:
        """{(n, s): Δ} of every network."""
        return {k: r.kernel_change for k, r in self.runs.items()}


class Figure3Study(_Study):
    """Jacot et al. Fig. 3: networks trained on f* = f_0 + a f^(2) (``figure3``).

    Attributes:
        runs: {(n, s): SnapshotRun}; amplitude: a; widths; trials; small, big: extreme widths;
        g_rate, g_rate_own: {(n, s): fitted decay rate of ‖g_t‖} of the network and of GD with
        its own Θ̂_0 (``stats.decay_rate``, 5 % floor); h_max: {n: mean over networks of
        max_t ‖h_t‖}.
    """

    def __init__(self, runs: dict[tuple[int, int], SnapshotRun],
                 experiment: EigendirectionExperiment, amplitude: float) -> None:
        super().__init__(runs, experiment)
        self.amplitude = amplitude
        self.g_rate = {k: decay_rate(r.t, r.g) for k, r in runs.items()}
        self.g_rate_own = {k: decay_rate(r.t, r.g_own) for k, r in runs.items()}
        self.h_max = {n: np.mean([runs[n, s].h.max() for s in range(self.trials)])
                      for n in self.widths}

    def limit(self, scale: float = 1.0) -> np.ndarray:
        """(T,) the limit kernel's ‖g_t‖ = a e^{−s r_2 t} at the recorded times (s = ``scale``)."""
        return self.experiment.limit_curve(self.runs[self.small, 0].t, self.amplitude, scale)

    def own_kernel_deviation(self, scale: float = 1.0) -> float:
        """max over the widest networks of |rate/(scale · rate with own Θ̂_0) − 1| (‖g_t‖)."""
        return max_ratio_deviation(self.at(self.g_rate, self.big),
                                   scale * self.at(self.g_rate_own, self.big))

    @property
    def g_over_r2(self) -> np.ndarray:
        """(trials,) fitted rate of ‖g_t‖ / r_2 of the widest networks."""
        return self.at(self.g_rate, self.big) / self.experiment.rates[0]

    def r2_tolerance(self) -> float:
        """δ_n + half the range of ``g_over_r2``, δ_n = 0.3 √(1000/n) at the widest n, rounded
        to 3 decimals (the single-direction allowance of the ‖g_t‖-decays-at-r_2 claim)."""
        ratios = self.g_over_r2
        return round(0.3 * np.sqrt(1000 / self.big) + (ratios.max() - ratios.min()) / 2, 3)

    def g_deviation(self, width: int, scale: float = 1.0) -> float:
        """Mean over the networks of one width of max_t |‖g_t‖ − a e^{−s r_2 t}|."""
        return mean_max_deviation([self.runs[width, s].g for s in range(self.trials)],
                                  self.limit(scale))

    def g_approaches_limit(self, scale: float = 1.0) -> bool:
        """Whether ``g_deviation`` is smaller at the widest than at the narrowest width."""
        return bool(self.g_deviation(self.big, scale) < self.g_deviation(self.small, scale))

    def approach_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.check`` for "‖g_t‖ approaches the limit with width":
        passed = ``g_approaches_limit()``, measured = ``g_deviation_ratio()``, digits=2,
        prediction = ``g_approaches_limit``; the expected text ("< 1") is the caller's."""
        return dict(passed=self.g_approaches_limit(), measured=self.g_deviation_ratio(), digits=2,
                    prediction=self.g_approaches_limit)

    def g_deviation_ratio(self) -> float:
        """``g_deviation`` at the widest over that at the narrowest width."""
        return self.g_deviation(self.big) / self.g_deviation(self.small)

    @property
    def h_ratio(self) -> float:
        """``h_max`` at the widest over that at the narrowest width."""
        return self.h_max[self.big] / self.h_max[self.small]

    def __str__(self) -> str:
        """Per width: ‖g_t‖ rate / r_2, / the own-kernel rate, and Δ of each network."""
        r2 = self.experiment.rates[0]
        return "\n".join(
            f"n={n}: ‖g_t‖ rate / r_2 = {_fmt(self.at(self.g_rate, n) / r2)}; / rate with own "
            f"Θ̂_0 = {_fmt(self.at(self.g_rate, n) / self.at(self.g_rate_own, n))}; kernel "
            f"change Δ = {_fmt(self.runs[n, s].kernel_change for s in range(self.trials))}"
            for n in self.widths)

    def metrics(self) -> dict[str, Any]:
        """Fitted rates, h_max and kernel changes, for ``Notebook.finish``."""
        return {"g_rate by (width, trial)": self.g_rate,
                "g_rate_own_kernel by (width, trial)": self.g_rate_own,
                "h_max by width": self.h_max,
                "kernel_change_fig3 by (width, trial)": self.kernel_changes()}


class RateStudy(_Study):
    """Networks trained on f* = f_0 + a Σ_{i=2}^{11} f^(i) (``rate_study``).

    Attributes:
        runs: {(n, s): SnapshotRun}; widths; trials; small, big;
        ratio: {(n, s): (K,) fitted rate / r_i, components 2..K+1};
        rate_fit: {n: (K,) network-mean fitted rates}; s_net, s_own: {(n, s): rate scale s}
        of the network and of GD with its own Θ̂_0 (span f^(2)..f^(6));
        rho: {(n, s): (S, 5) Rayleigh quotients}; lam_max: {(n, s): (S,) η λ̂_max(t)}.
    """

    def __init__(self, runs: dict[tuple[int, int], SnapshotRun],
                 experiment: EigendirectionExperiment) -> None:
        super().__init__(runs, experiment)
        rates = experiment.rates
        self.ratio = {k: r.component_rates() / rates for k, r in runs.items()}
        self.rate_fit = {n: np.mean(self.at(self.ratio, n), 0) * rates for n in self.widths}
        self.s_net = {k: r.rate_scale("net") for k, r in runs.items()}
        self.s_own = {k: r.rate_scale("own") for k, r in runs.items()}
        self.rho = {k: r.rayleigh_quotients() for k, r in runs.items()}
        self.lam_max = {k: r.eta_lambda_max() for k, r in runs.items()}

    @property
    def rho_widest(self) -> np.ndarray:
        """(S, 5) mean Rayleigh quotients of the widest networks (panel d)."""
        return np.mean(self.at(self.rho, self.big), 0)

    def own_kernel_deviation(self, scale: float = 1.0) -> float:
        """max over the widest networks of |s_net/(scale · s_own) − 1|."""
        return max_ratio_deviation(self.at(self.s_net, self.big),
                                   scale * self.at(self.s_own, self.big))

    def kendall_tau(self, scale: float = 1.0) -> float:
        """Kendall τ between the widest networks' mean fitted rates and scale · r_i."""
        from scipy.stats import kendalltau

        return kendalltau(self.rate_fit[self.big], scale * self.experiment.rates).statistic

    def log_error(self, width: int, scale: float = 1.0) -> float:
        """mean |ln(fitted/(scale · r_i))| over the networks of one width and components 2..11
        (``stats.mean_abs_log_ratio``)."""
        return mean_abs_log_ratio(self.at(self.ratio, width) / scale)

    def approaches_limit(self, scale: float = 1.0) -> bool:
        """Whether ``log_error`` is smaller at the widest than at the narrowest width."""
        return bool(self.log_error(self.big, scale) < self.log_error(self.small, scale))

    def approach_args(self) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.check`` for "rates approach λ_i with width": passed =
        ``approaches_limit()``, measured = ``log_error_ratio()``, digits=2, prediction =
        ``approaches_limit``; the expected text ("< 1") is the caller's."""
        return dict(passed=self.approaches_limit(), measured=self.log_error_ratio(), digits=2,
                    prediction=self.approaches_limit)

    def log_error_ratio(self) -> float:
        """``log_error`` at the widest over that at the narrowest width."""
        return self.log_error(self.big) / self.log_error(self.small)

    def __str__(self) -> str:
        """Per network: fitted/predicted rates, s_net, s_own, ρ at the first and last
        snapshot, Δ and max η λ̂_max."""
        t_end = self.experiment.t_snapshots[-1]
        return "\n".join(
            f"n={n} net {s}: fitted/predicted (2..11) {_fmt(r, 2, ' ')}; s_net "
            f"{self.s_net[n, s]:.3f}, s_own {self.s_own[n, s]:.3f}; ρ_2..6 t=0: "
            f"{_fmt(self.rho[n, s][0], 2, ' ')}, t={t_end:.0f}: {_fmt(self.rho[n, s][-1], 2, ' ')}; "
            f"Δ {self.runs[n, s].kernel_change:.3f}; max ηλ̂_max {self.lam_max[n, s].max():.2f}"
            for (n, s), r in self.ratio.items())

    def metrics(self) -> dict[str, Any]:
        """Predicted and fitted rates, rate scales, Kendall τ, Rayleigh quotients, η λ̂_max and
        kernel changes, for ``Notebook.finish``."""
        ex = self.experiment
        return {"rate_predicted": ex.rates, "rate_ratio by (width, net)": self.ratio,
                "rate_fitted (network mean) by width": self.rate_fit,
                "rate_scale_net by (width, net)": self.s_net,
                "rate_scale_own_kernel by (width, net)": self.s_own,
                "kendall_tau": self.kendall_tau(),
                "rayleigh_quotients by (width, net)": self.rho,
                "eta_lambda_max by (width, net)": self.lam_max, "t_snapshots": ex.t_snapshots,
                "kernel_change by (width, net)": self.kernel_changes()}


@dataclass
class InitialKernelLimit:
    """Rate scales s_0 of GD with initial kernels Θ̂_0 and their n → ∞ limit
    (``initial_kernel_limit``).

    Attributes:
        widths: (W,) widths; s0: (W, M) rate scale per width and network;
        fit: ``stats.WidthLimit`` of s̄_0(n) = s_∞ + b/n (``stats.inverse_width_limit``).
    """

    widths: list[int]
    s0: np.ndarray
    fit: Any

    def __str__(self) -> str:
        """Mean s_0 ± s.e. and the sd per network at each width, then the fit."""
        lines = []
        for n, row in zip(self.widths, self.s0):
            sd = row.std(ddof=1)
            lines.append(f"n={n}: s_0 mean {row.mean():.3f} ± {sd / np.sqrt(len(row)):.3f} "
                         f"(sd per network {sd:.3f})")
        return "\n".join([*lines, str(self.fit)])

    def metrics(self) -> dict[str, Any]:
        """{"initial_kernel_rate_scale": widths, s0 and the fit}."""
        return {"initial_kernel_rate_scale": {"widths": self.widths, "s0": self.s0,
                                              "fit": self.fit}}

    def within_args(self, expected: float = 1.0) -> dict[str, Any]:
        """Keyword arguments of ``ClaimSet.within`` for "s_∞ = ``expected``": measured = the
        fitted s_∞, tol = its interval's half-width, its interval (ci_low, ci_high), digits=3
        (the claim's α is the caller's: 1 − the fit's level)."""
        f = self.fit
        return dict(measured=f.limit, expected=check.finite_float("expected", expected),
                    tol=f.halfwidth, digits=3, interval=(f.ci_low, f.ci_high))


class EigendirectionExperiment:
    """The limit kernel's principal components on the training inputs, and the §5 experiments.

    Args:
        x: (N, n0) training inputs (float64, as the analytic kernel is computed).
        depth, activation, sigma_w, sigma_b: the architecture (``MLP``, ``analytic_kernels``).
        t_max: training time; ``steps`` = ⌈t_max/η⌉.
        eta: learning rate; ``None``: 1/λ_1.
        planted_error: relative error δ planted in the predicted rates r_i (power tests).
        n_components: K, the components f^(2), …, f^(K+1) whose rates are predicted.
        device: where the networks are trained (kernels and results come back on the CPU).
        seed_for: seed_for(*keys) -> int (``Notebook.seed_for``); with it, the studies take a
            ``stream`` index k instead of ``seed`` and seed network s of width n with
            seed_for(k, s, n) (kernel growth: seed_for(k, s, n, round(10⁶ a)); early stopping:
            draw d with seed_for(k, d) mod 2⁶²; spectrum: seed_for(k, 0, n)).

    Attributes:
        theta: (N, N) float64 Θ∞; lam: (N,) λ_i = eigenvalue/N, decreasing; vec: (N, N)
        eigenvectors (columns); f_pc: √N·vec; eta; steps; components: [1..K]; rates: (K,)
        r_i = (1 + δ)(−ln(1 − ηλ_i)/η) of those components; snapshots: the NTK snapshot steps
        (0, 8 geometric steps up to ``steps``); record_steps: every 4th step and the snapshots.

    Raises:
        ValueError: bad ``t_max``, ``planted_error``, ``n_components``, or an η for which some
        predicted component does not decay (ηλ_i ∉ (0, 2)).
    """

    def __init__(self, x: torch.Tensor, *, depth: int, activation: str, sigma_w: float,
                 sigma_b: float, t_max: float, eta: float | None = None,
                 planted_error: float = 0.0, n_components: int = 10,
                 device: torch.device | str = "cpu",
                 seed_for: Callable[..., int] | None = None) -> None:
        t_max = check.finite_float("t_max", t_max, strictly_positive=True)
        planted_error = check.finite_float("planted_error", planted_error, minimum=-0.99)
        if x.ndim != 2 or not 1 <= n_components < x.shape[0]:
            raise ValueError(f"x must be (N, n0) and 1 <= n_components < N, got shape "
                             f"{tuple(x.shape)} and n_components={n_components!r}")
        self.x, self.seed_for = x, seed_for
        self.arch = dict(depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
        self.device = torch.device(device)
        self.n_points = x.shape[0]
        self.theta = analytic_kernels(x, **self.arch).ntk
        self.lam, self.vec = kernel_eigendecomposition(self.theta)            # λ_i = eig/N
        self.f_pc = math.sqrt(self.n_points) * self.vec                       # ‖f^(i)‖_{p_in} = 1
        self.eta = eta if eta is not None else 1.0 / float(self.lam[0])
        self.components = list(range(1, n_components + 1))
        self.rates = (1 + planted_error) * gd_decay_rates(self.lam[self.components], self.eta).numpy()
        self.steps = int(math.ceil(t_max / self.eta))
        self.snapshots = sorted({0, *np.unique(np.geomspace(1, self.steps, 8).astype(int)).tolist()})
        self.record_steps = sorted({*range(0, self.steps + 1, 4), self.steps, *self.snapshots})

    @classmethod
    def from_knobs(cls, x: torch.Tensor, knobs: Any, seed_for: Callable[..., int] | None = None,
                   device: torch.device | str = "cpu") -> EigendirectionExperiment:
        """The experiment of a notebook's knobs: reads ``knobs.depth``, ``.activation``,
        ``.sigma_w``, ``.sigma_b``, ``.eta``, ``.t_max`` and ``.planted_error`` (attributes, e.g.
        ``Notebook.p``); ``x``, ``seed_for`` and ``device`` as in the constructor.

        Raises:
            ValueError: a knob missing, or any the constructor rejects.
        """
        names = ("depth", "activation", "sigma_w", "sigma_b", "eta", "t_max", "planted_error")
        missing = [k for k in names if not hasattr(knobs, k)]
        if missing:
            raise ValueError(f"knobs lacks {missing}; it needs {list(names)}")
        return cls(x, **{k: getattr(knobs, k) for k in names}, device=device, seed_for=seed_for)

    def _seed(self, seed: Any, stream: int | None, keys: Callable[..., tuple]) -> Any:
        """``seed`` if given, else the function (*args) -> seed_for(stream, *keys(*args))."""
        if (seed is None) == (stream is None):
            raise ValueError(f"give exactly one of seed and stream, got seed={seed!r}, "
                             f"stream={stream!r}")
        if seed is not None:
            return seed
        if self.seed_for is None:
            raise ValueError("stream needs the experiment's seed_for (constructor argument)")
        return lambda *args: self.seed_for(stream, *keys(*args))

    @property
    def t_snapshots(self) -> np.ndarray:
        """(S,) times of the NTK snapshots."""
        return np.array(self.snapshots) * self.eta

    def target(self, amplitude: float) -> torch.Tensor:
        """(N,) a Σ_{i=2}^{K+1} f^(i): the target shift of the rate and kernel-change studies."""
        return amplitude * self.f_pc[:, self.components].sum(1)

    def limit_curve(self, t: Any, amplitude: float, scale: float = 1.0) -> np.ndarray:
        """‖g_t‖ of the limit kernel, a e^{−s r_2 t} (``scale`` s = 1: the prediction)."""
        return amplitude * np.exp(-scale * self.rates[0] * np.asarray(t))

    def _net(self, width: int, seed: int) -> MLP:
        return MLP(self.x.shape[1], width, seed=seed, dtype=torch.float32, device=self.device, **self.arch)

    def train(self, width: int, coefficients: Sequence[float], seed: int) -> SnapshotRun:
        """Train one width-n network (float32, full-batch GD, η, ``steps``) on
        f* = f_0 + Σ_i c_i f^(i+1) (``coefficients`` c_0, c_1, … along f^(1), f^(2), …), recording
        its outputs every 4th step and its NTK at the snapshots; beside it, GD with its own Θ̂_0
        (closed form). Returns a ``SnapshotRun``."""
        net = self._net(check.positive_int("width", width), seed)
        x = self.x
        with torch.no_grad():
            f0 = net(x.float().to(self.device))[:, 0].double().cpu()
        coefficients = torch.as_tensor(coefficients, dtype=torch.float64)
        r0 = -(self.f_pc[:, : len(coefficients)] @ coefficients)            # f0 − f*
        rec = train_full_batch(net, x.float(), (f0 - r0).float(), steps=self.steps, eta=self.eta,
                               record_steps=self.record_steps, ntk_steps=self.snapshots)
        ntk = {k: v.double() for k, v in rec.ntk.items()}
        zero = torch.zeros(self.n_points, dtype=torch.float64)
        own = gradient_descent_predict(ntk[0], zero, r0, rec.steps.double(), eta=self.eta).train
        net_coords = ((rec.f_train.double() - (f0 - r0)) @ self.vec).numpy()
        return SnapshotRun(rec.t.numpy(), net_coords, (own @ self.vec).numpy(), ntk, self)

    def train_many(self, widths: Sequence[int], repeats: int, coefficients: Sequence[float],
                   seed: Callable[[int, int], int]) -> dict[tuple[int, int], SnapshotRun]:
        """``train`` for every width and repeat s < ``repeats`` (width-major), with network seed
        ``seed(n, s)``; returns {(n, s): SnapshotRun}."""
        return {(n, s): self.train(n, coefficients, seed(n, s)) for n in widths for s in range(repeats)}

    def initial_rate_scale(self, width: int, amplitude: float, seed: int) -> float:
        """Rate scale s_0 of GD with the initial NTK Θ̂_0 of one width-n network (no training):
        the residual (I − ηΘ̂_0/N)^k (f_0 − f*), f_0 − f* = −a Σ_{i=2}^{K+1} f^(i), k = 0..steps,
        projected on v_2..v_6 and fitted by ``dynamics.fit_rate_scale`` against r_2..r_6."""
        check.finite_float("amplitude", amplitude, strictly_positive=True)
        kernel = empirical_ntk(self._net(check.positive_int("width", width), seed), self.x).double().cpu()
        ks = torch.arange(self.steps + 1, dtype=torch.float64)
        zero = torch.zeros(self.n_points, dtype=torch.float64)
        res = gradient_descent_predict(kernel, zero, -self.target(amplitude), ks, eta=self.eta).train
        comps = self.components[:RATE_SCALE_COMPONENTS]
        return fit_rate_scale(ks.numpy() * self.eta, (res @ self.vec[:, comps]).numpy(),
                              self.rates[:RATE_SCALE_COMPONENTS])

    def kernel_change(self, width: int, amplitude: float, seed: int) -> float:
        """Δ = ‖Θ̂_T − Θ̂_0‖_F/‖Θ̂_0‖_F of one width-n network trained for ``steps`` on
        f* = f_0 + a Σ_{i=2}^{K+1} f^(i) (only Θ̂ at steps 0 and T is computed)."""
        check.finite_float("amplitude", amplitude, strictly_positive=True)
        net = self._net(check.positive_int("width", width), seed)
        with torch.no_grad():
            f0 = net(self.x.float().to(self.device))[:, 0].double().cpu()
        rec = train_full_batch(net, self.x.float(), (f0 + self.target(amplitude)).float(),
                               steps=self.steps, eta=self.eta, record_every=self.steps,
                               ntk_steps=[0, self.steps])
        return float((rec.ntk[self.steps] - rec.ntk[0]).norm() / rec.ntk[0].norm())

    def kernel_growth(self, widths: Sequence[int], amplitude: float, repeats: int,
                      seed: Callable[[int, float, int], int] | None = None,
                      reuse: dict[tuple[int, int], SnapshotRun] | None = None,
                      slope_ci: float = 0.995, ratio_ci: float = 0.99, *,
                      stream: int | None = None) -> KernelGrowth:
        """Δ(n, a) on the grid of ``KernelGrowth``: every width at ``amplitude``, the amplitudes
        a/2, a, 2a at the middle width, and (n_lo, a √(n_lo/n_hi)); ``repeats`` networks per
        point with seeds ``seed(n, a, s)``. Runs in ``reuse`` ({(n, s): SnapshotRun}, or a study
        with such ``runs``, e.g. a ``RateStudy``, trained on
        the same target, e.g. ``train`` with coefficients [0, a, …, a]) replace new networks at
        a width where all ``repeats`` of them exist. Also fits the exponents of n and a
        (``stats.loglog_slope_t``, level ``slope_ci``) and the log ratio at equal a²/n
        (``stats.log_mean_ratio``, level ``ratio_ci``). ``stream`` k instead of ``seed``:
        seed_for(k, s, n, round(10⁶ a)). Raises ``ValueError`` for fewer than 2 widths or
        repeats, or not exactly one of ``seed`` and ``stream``."""
        seed = self._seed(seed, stream, lambda n, a, s: (s, n, round(a * 1e6)))
        widths = [check.positive_int("widths", n) for n in widths]
        if len(widths) < 2 or check.positive_int("repeats", repeats) < 2:
            raise ValueError(f"need >= 2 widths and >= 2 repeats, got {widths!r}, {repeats!r}")
        reuse = getattr(reuse, "runs", reuse) or {}               # a study or its runs
        n_lo, n_mid, n_hi = widths[0], widths[len(widths) // 2], widths[-1]
        amps = [amplitude / 2, amplitude, 2 * amplitude]
        a_lo = amplitude * math.sqrt(n_lo / n_hi)                  # same a²/n as (n_hi, a)

        def delta(n: int, a: float, s: int) -> float:
            return self.kernel_change(n, a, seed(n, a, s))

        def column(n: int) -> list[float]:
            if all((n, s) in reuse for s in range(repeats)):
                return [reuse[n, s].kernel_change for s in range(repeats)]
            return [delta(n, amplitude, s) for s in range(repeats)]

        by_width = np.array([column(n) for n in widths])
        by_amplitude = np.array([[delta(n_mid, a, s) for s in range(repeats)] if a != amplitude
                                 else by_width[widths.index(n_mid)] for a in amps])
        same = np.array([delta(n_lo, a_lo, s) for s in range(repeats)])
        return KernelGrowth(widths, amplitude, by_width, amps, by_amplitude, n_lo, n_mid, n_hi,
                            a_lo, same, loglog_slope_t(widths, by_width, ci=slope_ci),
                            loglog_slope_t(amps, by_amplitude, ci=slope_ci),
                            log_mean_ratio(by_width[-1], same, ci=ratio_ci), ratio_ci)

    def early_stopping(self, train_labels: Any, x_heldout: torch.Tensor, heldout_labels: Any, *,
                       noise: float, n_val: int | None = None,
                       seeds: Sequence[int] | None = None, times: Any = None,
                       ci: float | None = None, bootstrap_seed: int = 0,
                       stream: int | None = None, draws: int | None = None) -> EarlyStopping:
        """Early stopping of the infinite-width network on ±1 labels with flipped noise.

        The classes y = ±1 (``train_labels``, ``heldout_labels``: boolean, True → +1) on the
        training inputs get a fraction ``noise`` flipped (one draw per seed in ``seeds``:
        ``torch.rand(N) < noise`` with that generator seed). Gradient flow from f_0 = 0 predicts
        Θ(x, X)Θ^{-1}(I − e^{−Θt/N}) y_noisy (``dynamics.gradient_flow_predict``) on the first
        ``n_val`` held-out points (validation) and the rest (test); t* minimises the validation
        MSE over the finite ``times`` (default: 60 log-spaced from 1 to 10⁷, then ∞). With
        ``ci``, ``gain_ci`` is the bootstrap interval of the mean gain (2000 resamples of the test
        points, ``stats.bootstrap_ci`` with ``bootstrap_seed``). ``n_val`` None: min(M // 3, 400)
        of the M held-out points. ``stream`` k and ``draws`` D instead of ``seeds``: the seeds
        seed_for(k, d) mod 2⁶², d < D. Returns an ``EarlyStopping``; raises ``ValueError`` for
        bad ``noise``/``n_val``, no seed, or not exactly one of ``seeds`` and ``stream``."""
        if n_val is None:
            n_val = min(len(x_heldout) // 3, 400)
        if stream is not None and draws is None:
            raise ValueError("stream needs draws (the number of noise draws)")
        draw_seed = self._seed(seeds, stream, lambda d: (d,))
        if seeds is None:
            seeds = [draw_seed(d) % 2**62 for d in range(check.positive_int("draws", draws))]
        noise = check.finite_float("noise", noise, minimum=0.0)
        if not noise < 1 or not 0 < n_val < len(x_heldout) or len(seeds) < 1:
            raise ValueError(f"need 0 <= noise < 1, 0 < n_val < {len(x_heldout)} and >= 1 seed, "
                             f"got noise={noise!r}, n_val={n_val!r}, {len(seeds)} seeds")
        if times is None:
            times = np.concatenate([np.geomspace(1, 1e7, 60), [math.inf]])
        sign = lambda b: torch.where(torch.as_tensor(b), 1.0, -1.0).double()   # noqa: E731
        xv, yv = x_heldout[:n_val], sign(heldout_labels[:n_val])
        xs, ys = x_heldout[n_val:], sign(heldout_labels[n_val:])
        clean = sign(train_labels)
        k_val, k_test = (analytic_kernels(a, self.x, **self.arch).ntk for a in (xv, xs))
        zero = torch.zeros(self.n_points, dtype=torch.float64)

        def squared_errors(noisy: torch.Tensor, k: torch.Tensor, y: torch.Tensor) -> np.ndarray:
            pred = gradient_flow_predict(self.theta, noisy, zero, times, ntk_test_train=k,
                                         f0_test=torch.zeros(len(y), dtype=torch.float64)).test
            return ((pred - y) ** 2).numpy()

        top = self.vec[:, : self.n_points // 10]
        diffs, stops, share, curves = [], [], [], {}
        for d, flip_seed in enumerate(seeds):
            flip = torch.rand(self.n_points, generator=torch.Generator().manual_seed(flip_seed)) < noise
            noisy = torch.where(flip, -clean, clean)
            val, test = squared_errors(noisy, k_val, yv), squared_errors(noisy, k_test, ys)
            best = int(np.argmin(val.mean(1)[:-1]))
            diffs.append(test[-1] - test[best])                 # per test point: MSE(∞) − MSE(t*)
            stops.append(times[best])
            share.append(float(((top.T @ (noisy - clean)) ** 2).sum() / ((noisy - clean) ** 2).sum()))
            if d == 0:
                curves = {"val": val, "test": test}
        clean_share = float(((top.T @ clean) ** 2).sum() / (clean ** 2).sum())
        gain = np.mean(diffs, 0)
        gain_ci = None if ci is None else bootstrap_ci(gain, np.mean, n_boot=2000,
                                                       seed=bootstrap_seed, ci=ci)
        return EarlyStopping(np.asarray(times), gain, np.array(stops), np.array(share),
                             clean_share, curves, gain_ci, ci)

    def spectrum(self, width: int, seed: int | None = None, *,
                 stream: int | None = None) -> Spectrum:
        """λ_i of Θ∞ beside those of the empirical NTK of one width-n network (float64,
        ``empirical_ntk``, λ_i = eig/N by ``dynamics.kernel_eigendecomposition``); network seed
        ``seed``, or seed_for(``stream``, 0, n)."""
        seed = self._seed(seed, stream, lambda n: (0, n))
        seed = seed(width) if callable(seed) else seed
        net = MLP(self.x.shape[1], check.positive_int("width", width), seed=seed,
                  dtype=torch.float64, device=self.device, **self.arch)
        lam, _ = kernel_eigendecomposition(empirical_ntk(net, self.x).cpu())
        return Spectrum(self.lam, lam, width, self.eta)

    def figure3(self, widths: Sequence[int], trials: int, amplitude: float,
                seed: Callable[[int, int], int] | None = None, *,
                stream: int | None = None) -> Figure3Study:
        """Jacot et al. Fig. 3: ``train_many`` on f* = f_0 + a f^(2) (coefficients [0, a]);
        network seeds ``seed(n, s)`` or seed_for(``stream``, s, n)."""
        seed = self._seed(seed, stream, lambda n, s: (s, n))
        return Figure3Study(self.train_many(widths, trials, [0.0, amplitude], seed), self, amplitude)

    def rate_study(self, widths: Sequence[int], trials: int, amplitude: float,
                   seed: Callable[[int, int], int] | None = None, *,
                   stream: int | None = None) -> RateStudy:
        """``train_many`` on f* = f_0 + a Σ_{i=2}^{K+1} f^(i) (coefficients [0, a, …, a]);
        network seeds ``seed(n, s)`` or seed_for(``stream``, s, n)."""
        seed = self._seed(seed, stream, lambda n, s: (s, n))
        coefficients = [0.0] + [amplitude] * len(self.components)
        return RateStudy(self.train_many(widths, trials, coefficients, seed), self)

    def initial_kernel_limit(self, widths: Sequence[int], nets: int, amplitude: float,
                             seed: Callable[[int, int], int] | None = None, ci: float = 0.95, *,
                             stream: int | None = None) -> InitialKernelLimit:
        """``initial_rate_scale`` of ``nets`` networks per width (seeds ``seed(n, i)`` or
        seed_for(``stream``, i, n), width-major) and the weighted fit s̄_0(n) = s_∞ + b/n with
        its ``ci`` interval."""
        seed = self._seed(seed, stream, lambda n, i: (i, n))
        s0 = np.array([[self.initial_rate_scale(n, amplitude, seed(n, i)) for i in range(nets)]
                       for n in widths])
        return InitialKernelLimit(list(widths), s0, inverse_width_limit(widths, s0, ci=ci))


def bound_args(measured: Any, bound: float) -> dict[str, Any]:
    """Keyword arguments of ``ClaimSet.less_than`` for a design bound: measured, bound, and
    resolution = bound − measured (kind "bound", the margin left before the claim flips).

    Raises:
        ValueError: non-finite ``measured`` or ``bound``.
    """
    m, b = check.finite_float("measured", measured), check.finite_float("bound", bound)
    return dict(measured=m, bound=b, resolution=b - m, resolution_kind="bound")


def print_and_save(notebook: Any, result: Any, fig: Any, panel: str) -> None:
    """``print(result)`` (a section's summary lines), then ``notebook.savefig(fig, panel)``.

    Raises:
        ValueError: ``notebook`` without a ``savefig`` method.
    """
    if not callable(getattr(notebook, "savefig", None)):
        raise ValueError(f"notebook must have savefig(fig, panel), got {type(notebook).__name__}")
    print(result)
    notebook.savefig(fig, panel)


def collect_metrics(*results: Any) -> dict[str, Any]:
    """The union of ``r.metrics()`` over ``results`` in the given order (later keys win), for
    ``Notebook.finish``.

    Raises:
        ValueError: a result without a ``metrics()`` method.
    """
    merged: dict[str, Any] = {}
    for r in results:
        if not callable(getattr(r, "metrics", None)):
            raise ValueError(f"{type(r).__name__} has no metrics() method")
        merged.update(r.metrics())
    return merged


# ----------------------------------------------------------------------------- the panels
def plot_principal_components(ax: Any, experiment: EigendirectionExperiment, labels: Any) -> None:
    """Each training point at (f^(2)(x), f^(3)(x)), coloured by its digit (panel a)."""
    f = experiment.f_pc
    sc = ax.scatter(f[:, 1], f[:, 2], c=np.asarray(labels), cmap="tab10", s=8)
    ax.figure.colorbar(sc, ax=ax, label="digit")
    ax.set(xlabel=r"$f^{(2)}(x)$", ylabel=r"$f^{(3)}(x)$", title="(a)")


def plot_figure3(axes: Sequence[Any], runs: dict[tuple[int, int], SnapshotRun], limit: np.ndarray) -> None:
    """Jacot et al. Fig. 3b, c: ‖h_t‖ and ‖g_t‖ of every network (colour by width), ‖g_t‖ of
    GD with each network's Θ̂_0 (dotted) and the limit a e^{−r_2 t} (dashed); log y axes."""
    widths = list(dict.fromkeys(n for n, _ in runs))
    for (n, s), r in runs.items():
        colour, first = f"C{widths.index(n)}", s == 0
        axes[0].plot(r.t, r.h, color=colour, lw=1, label=f"n = {n}" if first else None)
        axes[1].plot(r.t, r.g, color=colour, lw=1, label=f"n = {n}" if first else None)
        own = r"GD with $\hat\Theta_0$" if first and n == widths[0] else None
        axes[1].plot(r.t, r.g_own, color=colour, lw=0.8, ls=":", label=own)
    axes[1].plot(next(iter(runs.values())).t, limit, "k--", label=r"$a\,e^{-r_2 t}$")
    axes[0].set(xlabel="t", ylabel=r"$\|h_t\|_{p_{in}}$", title="(b)", yscale="log")
    axes[1].set(xlabel="t", ylabel=r"$\|g_t\|_{p_{in}}$", title="(c)", yscale="log")
    legend_outside(axes[1])


def plot_rates(axes: Sequence[Any], experiment: EigendirectionExperiment,
               rate_fit: dict[int, np.ndarray], rho: np.ndarray,
               lam_max: dict[tuple[int, int], np.ndarray]) -> None:
    """Three panels: fitted (network mean) against predicted rates r_i, log-log; (d) the mean
    Rayleigh quotients ρ_i(t) of the widest networks (``rho``: (S, 5)); (e) η λ̂_max(t) of every
    network with the stability edge 2. Time axes are symlog (linear up to η)."""
    ex = experiment
    for i, (n, fitted) in enumerate(rate_fit.items()):
        axes[0].loglog(ex.rates, fitted, "o", ms=4, color=f"C{i}", label=f"n = {n}")
    lims = [0.8 * ex.rates.min(), 1.4 * max(np.nanmax(v) for v in rate_fit.values())]
    axes[0].plot(lims, lims, "k-", lw=0.8, label="fitted = $r_i$")
    axes[0].set(xlabel=r"predicted rate $r_i$", ylabel="fitted rate", title="rates, components 2–11")
    axes[0].xaxis.set_minor_formatter(_null_formatter())
    for j in range(rho.shape[1]):
        axes[1].plot(ex.t_snapshots, rho[:, j], "-o", ms=3, label=f"$v_{{{j + 2}}}$")
    axes[1].set(ylabel=r"$\rho_i(t)$ (mean)", title=f"(d) n = {list(rate_fit)[-1]}")
    widths = list(rate_fit)
    for (n, s), values in lam_max.items():
        axes[2].plot(ex.t_snapshots, values, "-o", ms=3, color=f"C{widths.index(n)}",
                     label=f"n = {n}" if s == 0 else None)
    axes[2].axhline(2, color="k", ls=":", lw=0.8, label="edge 2")
    axes[2].set(ylabel=r"$\eta\hat\lambda_{\max}(t)$", title="(e) stability")
    for ax in axes[1:]:
        ax.set_xscale("symlog", linthresh=ex.eta)
        ax.set(xlim=(0, None), xlabel="t")
    for ax in axes:
        legend_outside(ax, where="below")


def plot_limit(ax: Any, widths: Sequence[int], s0: np.ndarray, fit: Any) -> None:
    """Mean initial-kernel rate scale s̄_0 ± s.e. against 1/n, the fit s_∞ + b/n and the
    interval of s_∞ at 1/n = 0 (``fit``: ``stats.WidthLimit``), and the prediction s = 1."""
    inv = 1 / np.asarray(widths, dtype=float)
    ax.errorbar(inv, s0.mean(1), yerr=s0.std(1, ddof=1) / math.sqrt(s0.shape[1]), fmt="o",
                color="C0", label=r"mean $s_0$ ± s.e.")
    grid = np.linspace(0, inv.max() * 1.05, 50)
    ax.plot(grid, fit.limit + fit.coefficient * grid, "C0-", lw=1,
            label=f"$s_\\infty + b/n$, $s_\\infty$ = {fit.limit:.3f}")
    ax.errorbar([0], [fit.limit], yerr=[[fit.limit - fit.ci_low], [fit.ci_high - fit.limit]],
                fmt="s", color="C1", label="interval of $s_\\infty$")
    ax.axhline(1, color="k", ls=":", lw=0.8, label="prediction 1")
    ax.set(xlabel="1 / width", ylabel=r"rate scale $s_0$", title=r"rates $\to\lambda_i$")
    legend_outside(ax)


def plot_kernel_growth(axes: Sequence[Any], growth: KernelGrowth, slope_n: Any, slope_a: Any) -> None:
    """Δ against n (at a) and against a (at n_mid), log-log with mean ± sd and the fitted
    power laws (``stats.SlopeFit``), and every point against a²/n."""
    g = growth
    for ax, xs, d, fit, xlabel in ((axes[0], g.widths, g.by_width, slope_n, f"width n (a = {g.amplitude:g})"),
                                   (axes[1], g.amplitudes, g.by_amplitude, slope_a, f"amplitude a (n = {g.n_mid})")):
        loglog_with_fit(ax, xs, d, fit, label="mean ± sd")
        ax.set(xlabel=xlabel, ylabel=r"$\Delta$")
        ax.set_xticks(xs, [f"{v:g}" for v in xs])
        ax.xaxis.set_minor_formatter(_null_formatter())
        legend_outside(ax, where="below", ncol=1)
    for n, a, d in g.points():
        axes[2].loglog(np.full(len(d), a ** 2 / n), d, "o", ms=3, color="C1")
    axes[2].set(xlabel=r"$a^2/n$", ylabel=r"$\Delta$", title="all points")
    axes[2].xaxis.set_minor_formatter(_null_formatter())


def plot_early_stopping(ax: Any, result: EarlyStopping) -> None:
    """Validation and test MSE (first noise draw) against t, their values at t = ∞ (dotted)
    and the chosen stopping time."""
    t = result.times[:-1]
    for name in ("val", "test"):
        mse = result.curves[name].mean(1)
        ax.semilogx(t, mse[:-1], label=f"{name} (first noise draw)")
        ax.axhline(mse[-1], ls=":", color="k" if name == "test" else "0.6", lw=0.8,
                   label=f"{name}, t = ∞")
    ax.axvline(result.stops[0], color="C3", lw=0.8, label="stop (chosen on val)")
    ax.set(xlabel="t", ylabel="MSE (clean labels)")
    legend_outside(ax)


# ----------------------------------------------------------------------------- whole figures
def _subplots(ncols: int, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt         # pyplot only here, so that notebooks show the figure

    return plt.subplots(1, ncols, figsize=figsize)


def figure_principal_components(experiment: EigendirectionExperiment, labels: Any) -> Any:
    """A new figure with ``plot_principal_components`` (panel a); returns it."""
    fig, ax = _subplots(1, (4.8, 4.0))
    plot_principal_components(ax, experiment, labels)
    return fig


def figure_3(study: Figure3Study) -> Any:
    """A new figure with ``plot_figure3`` (Fig. 3b, c) of a ``Figure3Study``; returns it."""
    fig, axes = _subplots(2, (10, 3.6))
    plot_figure3(axes, study.runs, study.limit())
    return fig


def figure_rates(study: RateStudy) -> Any:
    """A new figure with ``plot_rates`` (rates, panels d, e) of a ``RateStudy``; returns it."""
    fig, axes = _subplots(3, (13, 4.4))
    plot_rates(axes, study.experiment, study.rate_fit, study.rho_widest, study.lam_max)
    return fig


def figure_limit(limit: InitialKernelLimit) -> Any:
    """A new figure with ``plot_limit`` of an ``InitialKernelLimit``; returns it."""
    fig, ax = _subplots(1, (6.6, 3.6))
    plot_limit(ax, limit.widths, limit.s0, limit.fit)
    return fig


def figure_kernel_growth(growth: KernelGrowth) -> Any:
    """A new figure with ``plot_kernel_growth`` and the fits ``kernel_growth`` made; returns it."""
    fig, axes = _subplots(3, (13, 4.2))
    plot_kernel_growth(axes, growth, growth.slope_n, growth.slope_a)
    return fig


def figure_early_stopping(result: EarlyStopping) -> Any:
    """A new figure with ``plot_early_stopping``; returns it."""
    fig, ax = _subplots(1, (6.6, 3.6))
    plot_early_stopping(ax, result)
    return fig


def _null_formatter() -> Any:
    from matplotlib.ticker import NullFormatter

    return NullFormatter()
