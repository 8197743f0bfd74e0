"""The NTK-convergence-with-width experiments of notebook 02 (Jacot et al. 2018, Fig. 1 and
Thms 1–2): the CLT rate at initialisation, stability during training, the pooled mean kernel,
standard parameterisation and the layerwise-vs-``torch.func`` consistency check.

One job: run those experiments on one architecture and report them.

* ``WidthConvergence``: the architecture, the circle grid x(γ) = (cos γ, sin γ) (65 angles in
  [−π, π], x0 = x(0) = (1, 0)), the training set (N Gaussian inputs, f*(x) = x1 x2), the
  prediction Θ∞ (optionally with a planted relative error) and one seed per network,
  ``seed_of(study, i, s)`` = 10⁶·seed + 10⁵·study + 10³·i + s; its methods run one section each:
  ``figure_1`` (§1), ``init_convergence`` (§2), ``training_stability`` (§3), ``pooled_mean``
  (§4), ``standard_parameterisation`` (§5), ``consistency`` (§6).
* one result per section (``KernelBundles``, ``InitConvergence``, ``TrainingStability``,
  ``PooledMean``, ``StandardParameterisation``, ``LayerwiseConsistency``): ``print`` gives the
  notebook's lines, ``metrics()`` the entries of the results file.
* ``figure_*``: a new pyplot figure with one section's panel (pyplot is imported there only, so
  that a notebook shows the figure); ``interval_upper_end``: the arguments of a claim on the
  upper end of a slope interval.

Training is full-batch GD on ½·mean over the N points, t = steps × η, float64 throughout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import _validation as check
from .data import circle_grid, gaussian_inputs
from .empirical import empirical_ntk
from .kernels import analytic_kernels
from .models import MLP, PARAMETERIZATIONS
from .plotting import curve_bundles, legend_outside, mean_test_panel, slope_panel
from .stats import (PooledWidthMean, SlopeFit, interval_half_width, loglog_slope_t,
                    pooled_width_mean, projection_ratio, relative_frobenius_error)
from .training import NTKChange, train_ntk_change, width_scaled_learning_rate

__all__ = ["WidthConvergence", "KernelBundles", "InitConvergence", "TrainingStability",
           "PooledMean", "StandardParameterisation", "LayerwiseConsistency",
           "interval_upper_end", "figure_kernel_bundles", "figure_init_convergence",
           "figure_training_stability", "figure_pooled_mean", "figure_standard_parameterisation"]

#: Study numbers in the network seeds (§1 figure, §2 init, §3 training, §5 SP, §6, §4 bias).
STUDIES = dict(figure=0, init=1, training=2, standard=3, consistency=4, bias=5)


def _widths(name: str, widths: Sequence[int]) -> list[int]:
    widths = [check.positive_int(name, n) for n in widths]
    if not widths:
        raise ValueError(f"{name} must name at least one width, got {widths!r}")
    return widths


@dataclass
class KernelBundles:
    """§1 (Jacot et al. Fig. 1): Θ̂(x0, x(γ)) before and after training, ``n_inits`` per width.

    Attributes:
        gamma: (G,) angles; runs: {n: [NTKChange per init]}; row: the index of x0 in the grid;
        reference: (G,) float64 Θ∞(x0, x(γ)) at the widest width.
    """

    gamma: torch.Tensor
    runs: dict[int, list[NTKChange]]
    row: int
    reference: torch.Tensor

    @property
    def curves(self) -> dict[str, torch.Tensor]:
        """{"n = …, t = …": (inits, G) kernel slices}, by width, then time."""
        return {f"n = {n}, t = {t:g}": torch.stack([run.ntk[t][self.row] for run in runs])
                for n, runs in self.runs.items() for t in runs[0].ntk}

    @property
    def initial(self) -> dict[int, list[torch.Tensor]]:
        """{n: [(G, G) Θ̂_0 per init]}."""
        return {n: [run.initial for run in runs] for n, runs in self.runs.items()}

    def __str__(self) -> str:
        return "final training loss, mean over inits: " + ", ".join(
            f"n={n}: {np.mean([run.loss for run in runs]):.2e}" for n, runs in self.runs.items())

    def metrics(self) -> dict[str, Any]:
        """No entries: the panel is the result."""
        return {}


@dataclass
class InitConvergence:
    """§2: ‖Θ̂_n − Θ∞‖_F/‖Θ∞‖_F on the grid at initialisation and its log-log slope.

    Attributes:
        widths: (W,) widths; kernels: {n: [(G, G) Θ̂_n per seed]}; errors: (W, S) float64;
        fit: ``SlopeFit`` (99 % Student-t, ``loglog_slope_t``); row: the index of x0.
    """

    widths: list[int]
    kernels: dict[int, list[torch.Tensor]]
    errors: np.ndarray
    fit: SlopeFit
    row: int

    @property
    def diagonal_means(self) -> list[float]:
        """Mean over seeds of Θ̂_n(x0, x0), per width."""
        return [float(np.mean([float(k[self.row, self.row]) for k in ks]))
                for ks in self.kernels.values()]

    def __str__(self) -> str:
        return str(self.fit)

    def metrics(self) -> dict[str, Any]:
        return {"init_relative_error by width (seeds)": dict(zip(self.widths, self.errors)),
                "init_slope": self.fit}


@dataclass
class TrainingStability:
    """§3: ‖Θ̂_T − Θ̂_0‖_F/‖Θ̂_0‖_F and the relative inflation
    mean_γ(Θ̂_T − Θ̂_0)(x0, x(γ)) / mean_γ Θ∞(x0, x(γ)) after training, against width.

    Attributes:
        widths: (W,); runs: {n: [NTKChange per seed]}; change, inflation: (W, S) float64;
        change_fit: their log-log ``SlopeFit`` (99 %); inflation_fit: the same for the
        inflation, or None when some width's mean inflation is not positive.
    """

    widths: list[int]
    runs: dict[int, list[NTKChange]]
    change: np.ndarray
    inflation: np.ndarray
    change_fit: SlopeFit
    inflation_fit: SlopeFit | None

    def __str__(self) -> str:
        return f"{self.change_fit}\nrelative inflation (mean ± sd over seeds): " + ", ".join(
            f"n={n}: {m:+.3f} ± {s:.3f}"
            for n, m, s in zip(self.widths, self.inflation.mean(1), self.inflation.std(1)))

    def metrics(self) -> dict[str, Any]:
        return {"training_change_slope": self.change_fit, "inflation_slope": self.inflation_fit,
                "training_change by width (seeds)": dict(zip(self.widths, self.change)),
                "relative_inflation by width (seeds)": dict(zip(self.widths, self.inflation))}


@dataclass
class PooledMean:
    """§4: the n-weighted mean of the projection ratio r = ⟨Θ̂_n, Θ∞⟩_F/‖Θ∞‖²_F over the
    networks with n >= ``wide`` and its 1/n bias (``stats.pooled_width_mean``).

    Attributes:
        wide: the narrowest pooled width; pooled: the ``PooledWidthMean`` (99 % interval).
    """

    wide: int
    pooled: PooledWidthMean

    @property
    def test(self) -> Any:
        """The ``MeanTest`` of the pooled mean."""
        return self.pooled.test

    def holds_at(self, expected: float) -> bool:
        """Whether ``expected`` lies in the interval (``PooledWidthMean.holds_at``)."""
        return self.pooled.holds_at(expected)

    def __str__(self) -> str:
        return str(self.pooled)

    def metrics(self) -> dict[str, Any]:
        pooled = self.pooled
        return {"projection_ratio (width, r)": np.stack([pooled.widths, pooled.values], 1),
                "pooled_mean_test": vars(pooled.test), "projection_ratio_bias_b": pooled.bias.b,
                "pooled_mean_bias": pooled.pooled_bias}


@dataclass
class StandardParameterisation:
    """§5: Θ̂(x0, x0) at initialisation in standard parameterisation against width, beside
    the prediction Θ_SP(n) = nA + B (``analytic_kernels(..., parameterization="standard")``).

    Attributes:
        widths: (W,); diagonal: (W, S) float64 Θ̂(x0, x0); predicted: (W,) Θ_SP(n)(x0, x0);
        predicted_slope: the least-squares log-log slope of ``predicted``, rounded to 3 digits;
        fit: the ``SlopeFit`` of ``diagonal`` (99 %); reference: (W,) the mean Θ̂(x0, x0) of the
        §2 networks; reference_label: their parameterisation.
    """

    widths: list[int]
    diagonal: np.ndarray
    predicted: np.ndarray
    predicted_slope: float
    fit: SlopeFit
    reference: list[float]
    reference_label: str

    def __str__(self) -> str:
        return f"{self.fit}; slope of Θ_SP(n): {self.predicted_slope}"

    def metrics(self) -> dict[str, Any]:
        return {"standard_param_diag by width": dict(zip(self.widths, self.diagonal)),
                "standard_param_slope": self.fit,
                "standard_param_predicted_slope": self.predicted_slope}


@dataclass
class LayerwiseConsistency:
    """§6: the layerwise empirical NTK ``fast`` against the ``torch.func`` Jacobian contraction
    ``reference`` on the grid, for one network; ``difference`` = ‖fast − ref‖_F/‖ref‖_F."""

    fast: torch.Tensor
    reference: torch.Tensor
    difference: float

    def with_reference_scaled(self, scale: float) -> float:
        """‖fast − scale·ref‖_F/‖scale·ref‖_F (the claim's resolution)."""
        return relative_frobenius_error(self.fast, scale * self.reference)

    def __str__(self) -> str:
        return f"relative difference, layerwise vs torch.func: {self.difference:.1e}"

    def metrics(self) -> dict[str, Any]:
        return {"layerwise_vs_jacobian": self.difference}


class WidthConvergence:
    """One architecture, its inputs and its limit kernel, and the sections of notebook 02.

    Args:
        depth, activation, sigma_w, sigma_b, parameterization: the network (``MLP``, float64)
            and its limit (``analytic_kernels``).
        eta: learning rate in NTK parameterisation (``width_scaled_learning_rate``: η/n in SP).
        steps: GD steps of the trained networks; n_train: N training points x ~ N(0, I_2)
            (seed ``seed + 1``), targets f*(x) = x1 x2.
        seed: the base seed of every network (``seed_of``).
        planted_error: δ, the prediction is (1 + δ) Θ∞ (power tests; 0: none).
        device: where the networks live (kernels come back as ``empirical_ntk`` returns them).

    Attributes:
        gamma: (65,) angles in [−π, π]; grid: (65, 2) x(γ); row: 32, the index of x0 = (1, 0);
        x0: (1, 2); x_train: (N, 2); y_train: (N,).

    Raises:
        ValueError: a bad ``parameterization``, ``eta``, ``steps``, ``n_train`` or
        ``planted_error`` (<= −1).
    """

    def __init__(self, *, depth: int, activation: str, sigma_w: float, sigma_b: float,
                 parameterization: str, eta: float, steps: int, n_train: int, seed: int,
                 planted_error: float = 0.0, device: torch.device | str = "cpu") -> None:
        check.choice("parameterization", parameterization, PARAMETERIZATIONS)
        self.eta = check.finite_float("eta", eta, strictly_positive=True)
        self.steps = check.positive_int("steps", steps)
        self.planted_error = check.finite_float("planted_error", planted_error, minimum=-0.99)
        self.arch = dict(depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
                         parameterization=parameterization)
        self.parameterization = parameterization
        self.seed = seed
        self.device = device
        self.gamma, self.grid = circle_grid(65)         # x(γ) = (cos γ, sin γ)
        self.row = 32
        self.x0 = self.grid[32:33]                      # γ = 0: x0 = (1, 0)
        self.x_train = gaussian_inputs(check.positive_int("n_train", n_train), 2, seed=seed + 1)
        self.y_train = self.x_train[:, 0] * self.x_train[:, 1]
        self._limits: dict[int, torch.Tensor] = {}

    # ----------------------------------------------------------------- building blocks
    def seed_of(self, study: int, i: int, s: int) -> int:
        """The seed of repeat ``s`` at the ``i``-th width of ``study``:
        10⁶·seed + 10⁵·study + 10³·i + s (independent networks across studies and widths)."""
        return 10**6 * self.seed + 10**5 * study + 10**3 * i + s

    def net(self, width: int, seed: int, **overrides: Any) -> MLP:
        """A float64 width-n ``MLP`` on 2 inputs (architecture knobs ``overrides`` replaced)."""
        return MLP(2, width, seed=seed, dtype=torch.float64, device=self.device,
                   **(self.arch | overrides))

    def per_width(self, study: int, widths: Sequence[int], repeats: int,
                  run: Callable[[int, int], Any]) -> dict[int, list[Any]]:
        """{n: [run(n, seed_of(study, i, s)) for s < repeats]} for the i-th width n, in order."""
        repeats = check.positive_int("repeats", repeats)
        return {n: [run(n, self.seed_of(study, i, s)) for s in range(repeats)]
                for i, n in enumerate(_widths("widths", widths))}

    def theta_inf(self, x1: torch.Tensor, x2: torch.Tensor, width: int,
                  parameterization: str | None = None) -> torch.Tensor:
        """The prediction (1 + δ) Θ∞(x1, x2), float64 (N, M); ``width`` matters only in SP."""
        arch = self.arch | dict(parameterization=parameterization or self.parameterization)
        return (1 + self.planted_error) * analytic_kernels(x1, x2, width=width, **arch).ntk

    def limit_on_grid(self, width: int) -> torch.Tensor:
        """(G, G) ``theta_inf`` on the grid (computed once per width)."""
        if width not in self._limits:
            self._limits[width] = self.theta_inf(self.grid, self.grid, width)
        return self._limits[width]

    def ntk_on_grid(self, width: int, seed: int) -> torch.Tensor:
        """(G, G) Θ̂_n on the grid of one network at initialisation."""
        return empirical_ntk(self.net(width, seed), self.grid)

    def trained(self, width: int, seed: int) -> NTKChange:
        """Θ̂ on the grid before and after ``steps`` GD steps on (x_train, y_train)."""
        eta = width_scaled_learning_rate(self.eta, width, self.parameterization)
        return train_ntk_change(self.net(width, seed), self.x_train, self.y_train, self.grid,
                                steps=self.steps, eta=eta)

    def _ratios(self, kernels: dict[int, list[torch.Tensor]]) -> list[tuple[int, float]]:
        return [(n, projection_ratio(k, self.limit_on_grid(n)))
                for n, ks in kernels.items() for k in ks]

    # ----------------------------------------------------------------- the sections
    def figure_1(self, widths: Sequence[int], n_inits: int) -> KernelBundles:
        """§1: ``n_inits`` trained networks per width (study 0); Θ∞(x0, ·) at the widest."""
        runs = self.per_width(STUDIES["figure"], widths, n_inits, self.trained)
        reference = self.theta_inf(self.x0, self.grid, list(widths)[-1])[0]
        return KernelBundles(self.gamma, runs, self.row, reference)

    def init_convergence(self, widths: Sequence[int], n_seeds: int) -> InitConvergence:
        """§2: Θ̂_n on the grid of ``n_seeds`` networks per width (study 1), their relative
        Frobenius distance to Θ∞ and its log-log slope (99 % Student-t interval)."""
        kernels = self.per_width(STUDIES["init"], widths, n_seeds, self.ntk_on_grid)
        errors = np.array([[relative_frobenius_error(k, self.limit_on_grid(n)) for k in ks]
                           for n, ks in kernels.items()])
        return InitConvergence(list(kernels), kernels, errors,
                               loglog_slope_t(list(kernels), errors, ci=0.99), self.row)

    def training_stability(self, widths: Sequence[int], n_seeds: int) -> TrainingStability:
        """§3: ``n_seeds`` trained networks per width (study 2), the kernel change and the
        relative inflation, with their log-log slopes (99 %)."""
        runs = self.per_width(STUDIES["training"], widths, n_seeds, self.trained)
        change = np.array([[run.change for run in rs] for rs in runs.values()])
        inflation = np.array([[run.relative_inflation(self.row, self.limit_on_grid(n))
                               for run in rs] for n, rs in runs.items()])
        widths = list(runs)
        change_fit = loglog_slope_t(widths, change, ci=0.99)
        inflation_fit = (loglog_slope_t(widths, inflation, ci=0.99)
                         if np.all(inflation.mean(1) > 0) else None)
        return TrainingStability(widths, runs, change, inflation, change_fit, inflation_fit)

    def pooled_mean(self, figure: KernelBundles, init: InitConvergence,
                    bias_widths: Sequence[int], bias_inits: int) -> PooledMean:
        """§4: r of every initial kernel of §1–2, tested as the n-weighted mean over
        n >= min(§1 widths) (99 %); the 1/n bias fitted on those and ``bias_inits`` extra
        networks at each of ``bias_widths`` (study 5)."""
        narrow = self.per_width(STUDIES["bias"], bias_widths, bias_inits, self.ntk_on_grid)
        wide = min(figure.runs)
        pooled = pooled_width_mean(self._ratios(figure.initial) + self._ratios(init.kernels),
                                   self._ratios(narrow), min_width=wide, expected=1.0, ci=0.99)
        return PooledMean(wide, pooled)

    def standard_parameterisation(self, widths: Sequence[int], n_seeds: int,
                                  init: InitConvergence) -> StandardParameterisation:
        """§5: Θ̂(x0, x0) of ``n_seeds`` standard-parameterisation networks per width (study 3),
        their log-log slope (99 %) and the slope of Θ_SP(n)(x0, x0) over the same widths."""
        diag = lambda n, s: float(empirical_ntk(self.net(n, s, parameterization="standard"),
                                                self.x0))
        diagonal = np.array(list(self.per_width(STUDIES["standard"], widths, n_seeds,
                                                diag).values()))
        widths = _widths("widths", widths)
        predicted = np.array([float(self.theta_inf(self.x0, self.x0, n, "standard"))
                              for n in widths])
        slope = round(float(np.polyfit(np.log(widths), np.log(predicted), 1)[0]), 3)
        return StandardParameterisation(widths, diagonal, predicted, slope,
                                        loglog_slope_t(widths, diagonal, ci=0.99),
                                        init.diagonal_means, self.parameterization)

    def consistency(self, width: int) -> LayerwiseConsistency:
        """§6: one width-n network (study 4), its layerwise NTK on the grid against the
        ``torch.func`` Jacobian contraction."""
        net = self.net(width, self.seed_of(STUDIES["consistency"], 0, 0))
        fast = empirical_ntk(net, self.grid)
        ref = empirical_ntk(net, self.grid, implementation="jacobian", batch_size=16)
        return LayerwiseConsistency(fast, ref, relative_frobenius_error(fast, ref))


def interval_upper_end(fit: SlopeFit | None) -> dict[str, Any]:
    """The ``measured`` value and resolution of a ``ClaimSet.less_than`` claim on the upper
    end of a slope interval: ``fit.ci_high`` (NaN when nothing was fitted) and the interval's
    half-width (None then)."""
    return dict(measured=fit.ci_high if fit else math.nan,
                resolution=fit and interval_half_width(fit), resolution_kind="interval")


# --------------------------------------------------------------------------- figures
def _axes(figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt         # pyplot only here, so that notebooks show the figure

    return plt.subplots(figsize=figsize)


def figure_kernel_bundles(result: KernelBundles) -> Any:
    """A new figure: Θ̂(x0, x(γ)) per width and time with Θ∞ dashed (Fig. 1); returns it."""
    fig, ax = _axes((8, 3.8))
    curve_bundles(ax, result.gamma, result.curves, reference=result.reference,
                  reference_label=r"$\Theta_\infty$", xlabel=r"$\gamma$",
                  ylabel=r"$\Theta(x_0, x(\gamma))$")
    return fig


def figure_init_convergence(result: InitConvergence) -> Any:
    """A new figure: the §2 distance against width, its fit and an n^{−1/2} guide; returns it."""
    fig, ax = _axes((6.4, 3.6))
    slope_panel(ax, result.widths, result.errors, result.fit, label="mean over seeds ± sd",
                guides=(-0.5,), ylabel=r"$\|\hat\Theta_n-\Theta_\infty\|_F/\|\Theta_\infty\|_F$")
    return fig


def figure_training_stability(result: TrainingStability) -> Any:
    """A new figure: the §3 kernel change against width, its fit and n^{−1/2}, n^{−1} guides;
    returns it."""
    fig, ax = _axes((6.4, 3.6))
    slope_panel(ax, result.widths, result.change, result.change_fit,
                label="mean over seeds ± sd", guides=(-0.5, -1.0),
                ylabel=r"$\|\hat\Theta_T-\hat\Theta_0\|_F/\|\hat\Theta_0\|_F$")
    return fig


def figure_pooled_mean(result: PooledMean) -> Any:
    """A new figure: r per network against width, the pooled mean's interval and 1; returns it."""
    fig, ax = _axes((6.4, 3.6))
    pooled = result.pooled
    mean_test_panel(ax, pooled.widths, pooled.values, pooled.test, label="one network",
                    expected_label=r"$\Theta_\infty$",
                    interval_label=f"99 % interval, n ≥ {result.wide}",
                    ylabel=r"projection ratio $r$")
    return fig


def figure_standard_parameterisation(result: StandardParameterisation) -> Any:
    """A new figure: SP Θ̂(x0, x0) against width with its fit, Θ_SP(n) dotted and the §2
    networks' mean; returns it."""
    fig, ax = _axes((6.4, 3.6))
    slope_panel(ax, result.widths, result.diagonal, result.fit, label="standard", legend=None,
                ylabel=r"$\hat\Theta(x_0,x_0)$ at init")
    ax.loglog(result.widths, result.predicted, "k:", lw=1, label=r"$\Theta_{\rm SP}(n)=nA+B$")
    ax.loglog(result.widths, result.reference, "s-",
              label=f"{result.reference_label} (§2 networks)")
    legend_outside(ax)
    return fig
