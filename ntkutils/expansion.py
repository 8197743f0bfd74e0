"""Notebook 07's experiments: what is the expansion parameter of the finite-width expansion?

Four studies, each a function returning a frozen result with its claim statistics and a
figure function:

* ``expansion_grid``: f(x) and Θ̂(x, x) of thousands of networks per (depth L, width n), drawn
  exactly by ``finite_width.sample_output_and_ntk``, against the exact relu laws
  E f⁴/(3(E f²)²) = (1 + 5/n)^(L−1) (``kernels.relu_output_moments``) and E Θ̂, E Θ̂²
  (``finite_width.relu_ntk_moments``), with β = (L − 1)/n = Σ_hidden 1/n_l (Hanin & Nica's β);
* ``lambda_min_study``: concentration of the smallest eigenvalue of the empirical NTK on N
  points of the sphere;
* ``tail_study``: the law of Θ̂(x, x)/Θ_∞ at β of order 1 (heavy right tail, sample means
  biased low);
* ``training_change_study``: the relative change of the empirical NTK during training, at fixed
  width, against depth.
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
from .data import sphere_uniform
from .dynamics import max_learning_rate
from .empirical import empirical_ntk
from .finite_width import relu_ntk_moments, sample_output_and_ntk
from .kernels import analytic_kernels, relu_output_moments
from .models import MLP
from .plotting import legend_outside, new_figure, slope_panel, width_ticks
from .stats import MaxZTest, SlopeFit, loglog_slope_t, max_z_test
from .training import train_ntk_change


def _seed(*keys: int) -> int:
    """An unrelated 63-bit seed for each tuple of non-negative integer keys."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def ratio_standard_error(moments: Sequence[float], n_samples: int) -> float:
    """Standard error of T̂ = mean(U²)/mean(U)² over S i.i.d. draws, by the delta method.

    With a_k = E U^k (k = 1…4): gradient (−2a₂/a₁³, 1/a₁²) with respect to (mean U, mean U²),
    Cov(U, U²) = [[a₂ − a₁², a₃ − a₁a₂], [a₃ − a₁a₂, a₄ − a₂²]]. The exact moments are used,
    not the sample's: for heavy-tailed laws the sample's own fourth moment is too noisy.

    Args:
        moments: (a₁, a₂, a₃, a₄), a₁ > 0.
        n_samples: S >= 1.

    Returns:
        se(T̂) as a float.
    """
    a1, a2, a3, a4 = (float(m) for m in moments)
    g1, g2 = -2 * a2 / a1 ** 3, 1 / a1 ** 2
    var = g1 ** 2 * (a2 - a1 ** 2) + 2 * g1 * g2 * (a3 - a1 * a2) + g2 ** 2 * (a4 - a2 ** 2)
    return math.sqrt(max(var, 0.0) / check.positive_int("n_samples", n_samples))


def _mean_skewness(moments: Sequence[float], n_samples: int) -> float:
    """Skewness of the sample mean of U² over S draws, from the exact a_k = E U^k (k = 1…4):
    the coefficient of variation v of U² gives (v² + 3) v/√S, U² taken as log-normal."""
    a2, a4 = float(moments[1]), float(moments[3])
    v = math.sqrt(max(a4 - a2 ** 2, 0.0)) / a2
    return (v ** 2 + 3) * v / math.sqrt(n_samples)


@dataclass(frozen=True)
class ExpansionCell:
    """One (L, n) cell of ``expansion_grid``.

    Attributes:
        depth: L (weight layers); width: n; n_samples: S networks; beta: (L − 1)/n.
        output_ratio: mean f⁴ / (3 (mean f²)²) (shown).
        variance_ratio: R̂ = mean G² / (mean G)², G = Var(f | last hidden layer): the same
            expectation E f⁴/(3(E f²)²) (f = √G·Z), without the last layer's Gaussian noise (claimed).
        ntk_ratio: Q̂ = mean Θ̂² / (mean Θ̂)² (= 1 + Var/E² of the sample).
        ntk_mean: mean Θ̂ / Θ_∞(x, x); limit: Θ_∞(x, x) (``analytic_kernels``).
        exact: whether the exact relu laws below apply (relu without bias); if not, they are NaN.
        output_exact, output_se: (1 + 5/n)^(L−1) and se(R̂) under the exact law.
        ntk_exact, ntk_se: exact E Θ̂²/(E Θ̂)² and se(Q̂).
        ntk_mean_se: se of ``ntk_mean`` under the exact law.
        output_skew, ntk_skew: the skewness of the sample means of G² and of Θ̂², from their
            exact coefficient of variation v as for a log-normal variable, (v² + 3) v/√S; a cell
            is assessed when both are at most the grid's ``max_skewness`` (the z-test's normal
            approximation holds).
    """

    depth: int
    width: int
    n_samples: int
    beta: float
    output_ratio: float
    variance_ratio: float
    ntk_ratio: float
    ntk_mean: float
    limit: float
    exact: bool
    output_exact: float
    output_se: float
    ntk_exact: float
    ntk_se: float
    ntk_mean_se: float
    output_skew: float
    ntk_skew: float


@dataclass(frozen=True)
class LimitCoefficient:
    """The coefficient κ of β in log R at n → ∞ (``ExpansionGrid.limit_coefficient``).

    Attributes:
        kappa: WLS fit of y = log R̂ / β = κ + a/n over the assessed cells; stderr: its se.
        exact_kappa: the same fit on the law's own values (1 + c/n)^(L−1) (the finite-width
            curvature the 1/n term does not absorb); constant: the law's c.
        tol: z_{1−α/2}·stderr + |exact_kappa − c|, fixed by the design before the data.
        n_cells: cells fitted.
    """

    kappa: float
    stderr: float
    exact_kappa: float
    constant: float
    tol: float
    n_cells: int

    def __str__(self) -> str:
        return (f"kappa = {self.kappa:.3f} ± {self.stderr:.3f} (exact law on the same cells: "
                f"{self.exact_kappa:.3f}; {self.n_cells} cells)")


@dataclass(frozen=True)
class GrowthTest:
    """Var/E² of Θ̂ per unit β at the smallest and the largest assessed β of one depth.

    Attributes:
        depth: L; betas: (β_lo, β_hi); per_beta: ((Q̂−1)/β at each).
        rho: their ratio (1 if Var/E² grew linearly in β); stderr: se(ρ) (delta method, exact
            se of each cell); bound: 1 + z_{1−α}·stderr.
    """

    depth: int
    betas: tuple[float, float]
    per_beta: tuple[float, float]
    rho: float
    stderr: float
    bound: float

    def __str__(self) -> str:
        return (f"(Q-1)/beta at L={self.depth}: {self.per_beta[0]:.2f} (beta={self.betas[0]:.3g}) -> "
                f"{self.per_beta[1]:.2f} (beta={self.betas[1]:.3g}); rho = {self.rho:.3f} ± {self.stderr:.3f}")


@dataclass(frozen=True)
class ExpansionGrid:
    """The (L, n) grid of ``expansion_grid``; ``cells`` in the order of depths, then widths.

    Attributes:
        cells: tuple of ``ExpansionCell``; max_skewness: the assessment threshold;
        architecture: activation, sigma_w, sigma_b.
    """

    cells: tuple[ExpansionCell, ...]
    max_skewness: float
    architecture: dict[str, Any]

    @property
    def exact(self) -> bool:
        return all(c.exact for c in self.cells)

    def assessed(self) -> list[ExpansionCell]:
        """The cells whose sample means are close enough to normal for a z-test: exact law known
        and both skewness proxies (``output_skew``, ``ntk_skew``) at most ``max_skewness``."""
        return [c for c in self.cells if c.exact and max(c.output_skew, c.ntk_skew) <= self.max_skewness]

    def output_law_test(self, *, alpha: float, constant: float = 5.0) -> MaxZTest | None:
        """z = (R̂ − (1 + c/n)^(L−1))/se per assessed cell; None without an exact law."""
        rows = [(c.variance_ratio, (1 + constant / c.width) ** (c.depth - 1), c.output_se)
                for c in self.assessed()]
        return max_z_test(rows, alpha=alpha) if rows else None

    def limit_coefficient(self, *, alpha: float, constant: float = 5.0) -> LimitCoefficient | None:
        """Fit log R̂/β = κ + a/n (weights 1/se², se from the exact law) over the assessed cells."""
        cells = self.assessed()
        if len({c.width for c in cells}) < 3:
            return None
        n = np.array([c.width for c in cells], dtype=np.float64)
        beta = np.array([c.beta for c in cells])
        y = np.log([c.variance_ratio for c in cells]) / beta
        se = np.array([c.output_se / c.output_exact for c in cells]) / beta
        design = np.stack([np.ones_like(n), 1 / n], axis=1)
        w = 1 / se ** 2
        cov = np.linalg.inv(design.T @ (w[:, None] * design))
        fit = cov @ (design.T @ (w * y))
        exact = cov @ (design.T @ (w * (n * np.log1p(constant / n))))
        z = float(sps.norm.ppf(1 - alpha / 2))
        stderr = math.sqrt(cov[0, 0])
        return LimitCoefficient(float(fit[0]), stderr, float(exact[0]), constant,
                                z * stderr + abs(float(exact[0]) - constant), len(cells))

    def ntk_law_test(self, *, alpha: float, planted_error: float = 0.0) -> MaxZTest | None:
        """z = (Q̂ − Q)/se per assessed cell, Q the exact E Θ̂²/(E Θ̂)² with its excess over 1
        multiplied by 1 + ``planted_error``; None without an exact law."""
        rows = [(c.ntk_ratio, 1 + (c.ntk_exact - 1) * (1 + planted_error), c.ntk_se) for c in self.assessed()]
        return max_z_test(rows, alpha=alpha) if rows else None

    def ntk_mean_test(self, *, alpha: float, planted_error: float = 0.0) -> MaxZTest | None:
        """z = (mean Θ̂/Θ_∞ − (1 + planted_error))/se per assessed cell (relu without bias)."""
        rows = [(c.ntk_mean, 1 + planted_error, c.ntk_mean_se) for c in self.assessed()]
        return max_z_test(rows, alpha=alpha) if rows else None

    def growth_test(self, *, alpha: float) -> GrowthTest | None:
        """(Q̂−1)/β at the largest vs the smallest assessed β of the deepest depth with two cells."""
        for depth in sorted({c.depth for c in self.cells}, reverse=True):
            cells = sorted((c for c in self.assessed() if c.depth == depth), key=lambda c: c.beta)
            if len(cells) >= 2 and depth > 2:
                lo, hi = cells[0], cells[-1]
                per = ((lo.ntk_ratio - 1) / lo.beta, (hi.ntk_ratio - 1) / hi.beta)
                rho = per[1] / per[0]
                rel = math.hypot(hi.ntk_se / (hi.ntk_exact - 1), lo.ntk_se / (lo.ntk_exact - 1))
                se = abs(rho) * rel
                return GrowthTest(depth, (lo.beta, hi.beta), per, rho, se,
                                  1 + float(sps.norm.ppf(1 - alpha)) * se)
        return None

    def table(self) -> str:
        """One line per cell: β, R̂ (exact), Q̂ (exact), mean Θ̂/Θ_∞, assessed or not."""
        lines = []
        for c in self.cells:
            flag = "" if c in self.assessed() else "  (not assessed: heavy tail)"
            exact = (f" ({c.output_exact:.3f})", f" ({c.ntk_exact:.3f})") if c.exact else ("", "")
            lines.append(f"L={c.depth:>2} n={c.width:>3} beta={c.beta:.3f}: R={c.variance_ratio:.3f}{exact[0]} "
                         f"Q={c.ntk_ratio:.3f}{exact[1]} mean/limit={c.ntk_mean:.3f}{flag}")
        return "\n".join(lines)

    def metrics(self) -> dict[str, Any]:
        keys = ("depth", "width", "beta", "output_ratio", "variance_ratio", "output_exact", "ntk_ratio",
                "ntk_exact", "ntk_mean", "output_skew", "ntk_skew")
        return {"cells": [{k: getattr(c, k) for k in keys} | {"assessed": c in self.assessed()}
                          for c in self.cells]}


def expansion_grid(x, widths: Sequence[int], depths: Sequence[int], *, n_samples: int,
                   activation: str = "relu", sigma_w: float = math.sqrt(2.0),
                   sigma_b: float | None = None, seed: int = 0, max_skewness: float = 0.25,
                   device: torch.device | str | None = None) -> ExpansionGrid:
    """Draw f(x), Θ̂(x, x) of ``n_samples`` networks per (L, n) and set them beside the exact laws.

    Args:
        x: one input (1, n0).
        widths: hidden widths n; depths: weight layers L >= 2 (at least one hidden layer).
        n_samples: networks per cell.
        activation, sigma_w, sigma_b: the network (``MLP``); the exact laws need relu, no bias.
        seed: run seed; each cell draws with its own seed derived from (seed, L, n).
        max_skewness: a cell is assessed when the skewness of the sample means of G² and
            Θ̂² (``ExpansionCell.output_skew``) is at most this: the sample mean of a
            heavy-tailed variable is not yet normal before that.
        device: of the draws.

    Returns:
        ``ExpansionGrid``.

    Raises:
        ValueError: a depth < 2, bad widths, count or architecture.
    """
    widths = [check.positive_int("widths", w) for w in widths]
    depths = [check.int_in_range("depths", d, 2) for d in depths]
    n_samples = check.positive_int("n_samples", n_samples)
    max_skewness = check.positive_float("max_skewness", max_skewness)
    x = check.as_inputs("x", x, dtype=torch.float64)
    exact = activation == "relu" and sigma_b is None
    cells = []
    for depth in depths:
        limit = float(analytic_kernels(x, x, depth=depth, activation=activation, sigma_w=sigma_w,
                                       sigma_b=sigma_b).ntk[0, 0])
        for width in widths:
            d = sample_output_and_ntk(x, n_samples=n_samples, width=width, depth=depth,
                                      activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
                                      seed=_seed(seed, 7, depth, width), device=device)
            f2, g, th = d.f ** 2, d.variance, d.ntk
            values = (math.nan,) * 7
            if exact:
                fm = [float(m[0]) for m in relu_output_moments(x, width=width, depth=depth, sigma_w=sigma_w,
                                                                sigma_b=None, max_order=4)]
                gm = [fm[0], fm[1] / 3, fm[2] / 15, fm[3] / 105]      # E G^k = E f^{2k}/(2k − 1)!!
                tm = relu_ntk_moments(x, width=width, depth=depth, sigma_w=sigma_w, max_order=4)
                values = ((1 + 5 / width) ** (depth - 1), ratio_standard_error(gm, n_samples),
                          tm[1] / tm[0] ** 2, ratio_standard_error(tm, n_samples),
                          math.sqrt((tm[1] - tm[0] ** 2) / n_samples) / limit,
                          _mean_skewness(gm, n_samples), _mean_skewness(tm, n_samples))
            cells.append(ExpansionCell(depth, width, n_samples, (depth - 1) / width,
                                       float((f2 ** 2).mean() / (3 * f2.mean() ** 2)),
                                       float((g ** 2).mean() / g.mean() ** 2),
                                       float((th ** 2).mean() / th.mean() ** 2), float(th.mean() / limit),
                                       limit, exact, *(float(v) for v in values)))
    return ExpansionGrid(tuple(cells), max_skewness,
                         dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b))


def exact_ntk_exponents(x, *, width: int, betas: Sequence[float], sigma_w: float = math.sqrt(2.0)
                        ) -> dict[str, np.ndarray]:
    """log E Θ̂²/(E Θ̂)² of the exact relu law at width n and depths L = 1 + βn, and its local
    slope in β between successive βs (Hanin & Nica's exponent: 5 as β → ∞).

    Returns:
        ``{"beta": (B,), "log_ratio": (B,), "local_exponent": (B − 1,)}``, float64.
    """
    width = check.positive_int("width", width)
    depths = [1 + int(round(b * width)) for b in betas]
    beta = np.array([(d - 1) / width for d in depths])
    log_q = []
    for d in depths:
        m = relu_ntk_moments(x, width=width, depth=d, sigma_w=sigma_w, max_order=2)
        log_q.append(math.log(m[1] / m[0] ** 2))
    log_q = np.array(log_q)
    return {"beta": beta, "log_ratio": log_q, "local_exponent": np.diff(log_q) / np.diff(beta)}


@dataclass(frozen=True)
class MeanCorrection:
    """E Θ̂(x, x)/Θ_∞ − 1 = a/n fitted over widths for one architecture (``mean_correction``).

    Attributes:
        label: the architecture; widths: (W,); means, stderrs: (W,) mean Θ̂/Θ_∞ and their ses;
        coefficient: a (WLS through the origin in 1/n); stderr: se(a).
    """

    label: str
    widths: np.ndarray
    means: np.ndarray
    stderrs: np.ndarray
    coefficient: float
    stderr: float

    def __str__(self) -> str:
        return (f"{self.label}: E[Θ̂]/Θ∞ − 1 = a/n with a = {self.coefficient:+.3f} ± {self.stderr:.3f} "
                f"(1 se); per width " + ", ".join(f"n={w}: {m:.4f}" for w, m in zip(self.widths, self.means)))


def mean_correction(x, widths: Sequence[int], *, depth: int, n_samples: int, activation: str,
                    sigma_w: float, sigma_b: float | None, seed: int = 0, label: str = "",
                    device: torch.device | str | None = None) -> MeanCorrection:
    """Measure the 1/n term of E Θ̂(x, x) for any activation and bias (no exact law needed)."""
    x = check.as_inputs("x", x, dtype=torch.float64)
    limit = float(analytic_kernels(x, x, depth=depth, activation=activation, sigma_w=sigma_w,
                                   sigma_b=sigma_b).ntk[0, 0])
    means, ses = [], []
    for width in widths:
        th = sample_output_and_ntk(x, n_samples=n_samples, width=width, depth=depth, activation=activation,
                                   sigma_w=sigma_w, sigma_b=sigma_b, seed=_seed(seed, 8, depth, width),
                                   device=device).ntk / limit
        means.append(th.mean()), ses.append(th.std(ddof=1) / math.sqrt(n_samples))
    u, m, s = 1 / np.asarray(widths, dtype=np.float64), np.array(means), np.array(ses)
    info = float((u ** 2 / s ** 2).sum())                   # WLS of m − 1 on 1/n through 0
    return MeanCorrection(label or f"{activation}, sigma_b={sigma_b}", np.asarray(widths), m, s,
                          float((u * (m - 1) / s ** 2).sum()) / info, 1 / math.sqrt(info))


# ---------------------------------------------------------------------------------------------
# Concentration of λ_min, the tail at β ~ 1, the training-time change against depth
# ---------------------------------------------------------------------------------------------

def _sphere_points(n_points: int, n0: int, seed: int) -> torch.Tensor:
    """N points uniform on the sphere of radius √n0 (‖x‖² = n0), float64."""
    return sphere_uniform(n_points, n0, seed=seed) * math.sqrt(n0)


@dataclass(frozen=True)
class LambdaMinStudy:
    """λ_min of the empirical NTK on N points of the sphere against width (``lambda_min_study``).

    Attributes:
        n_points: N; widths: (W,); ratios: (W, R) λ_min(Θ̂)/λ_min(Θ_∞) of R networks per width.
        limit_min: λ_min(Θ_∞); limit_diag: Θ_∞(x, x) (the same at every point of the sphere).
        fit: log-log slope of mean_r |ratio − 1| against width over the widths >= fit_from.
        within: the smallest width from which the median |ratio − 1| is <= ``tolerance`` at it
            and at every wider width (None if never); tolerance: 0.1.
    """

    n_points: int
    widths: np.ndarray
    ratios: np.ndarray
    limit_min: float
    limit_diag: float
    fit: SlopeFit
    fit_from: int
    within: int | None
    tolerance: float

    @property
    def errors(self) -> np.ndarray:
        return np.abs(self.ratios - 1)

    def __str__(self) -> str:
        med = np.median(self.errors, axis=1)
        scale = self.limit_min / self.limit_diag
        within = "never" if self.within is None else f"n = {self.within} (n·λ_min/Θ(x,x) = {self.within * scale:.2f})"
        return (f"λ_min(Θ_∞) = {self.limit_min:.4g}, Θ_∞(x,x) = {self.limit_diag:.4g} (ratio {scale:.4f}, "
                f"1/ratio = {1 / scale:.0f})\nmedian |λ̂_min/λ_min − 1| by width: "
                + ", ".join(f"{w}: {m:.3f}" for w, m in zip(self.widths, med))
                + f"\nslope (n >= {self.fit_from}): {self.fit}\nwithin {self.tolerance:.0%} from {within}")

    def metrics(self) -> dict[str, Any]:
        return {"widths": self.widths, "ratios": self.ratios, "limit_min": self.limit_min,
                "limit_diag": self.limit_diag, "slope": self.fit.slope, "slope_ci": (self.fit.ci_low, self.fit.ci_high),
                "within_tolerance_from": self.within}


def lambda_min_study(n_points: int, n0: int, widths: Sequence[int], *, n_nets: int, depth: int,
                     activation: str = "relu", sigma_w: float = math.sqrt(2.0),
                     sigma_b: float | None = None, seed: int = 0, fit_from: int = 64,
                     tolerance: float = 0.1, ci: float = 0.99,
                     device: torch.device | str | None = None) -> LambdaMinStudy:
    """λ_min(Θ̂_n)/λ_min(Θ_∞) on ``n_points`` points of the sphere for ``n_nets`` nets per width.

    The relative error is O(n^{−1/2}) at large width (concentration: each entry of Θ̂ fluctuates
    by O(β^{1/2})), so its log-log slope is −1/2; the width at which it is below 10 % is set
    beside the heuristic n·λ_min ≫ 1 (λ_min in units of Θ_∞(x, x)).

    Raises:
        ValueError: fewer than 3 widths >= fit_from, or bad sizes.
    """
    widths = sorted(check.positive_int("widths", w) for w in widths)
    n_nets = check.int_in_range("n_nets", n_nets, 2)
    if sum(w >= fit_from for w in widths) < 3:
        raise ValueError(f"widths must include at least 3 widths >= fit_from={fit_from}, got {widths}")
    x = _sphere_points(check.positive_int("n_points", n_points), check.positive_int("n0", n0), _seed(seed, 10))
    arch = dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    limit = analytic_kernels(x, x, depth=depth, **arch).ntk
    lam = float(torch.linalg.eigvalsh(limit)[0])
    ratios = np.empty((len(widths), n_nets))
    for i, w in enumerate(widths):
        for r in range(n_nets):
            net = MLP(n0, w, depth, seed=_seed(seed, 11, w, r), dtype=torch.float64, device=device, **arch)
            ratios[i, r] = float(torch.linalg.eigvalsh(empirical_ntk(net, x).cpu())[0]) / lam
    errors = np.abs(ratios - 1)
    keep = np.array(widths) >= fit_from
    fit = loglog_slope_t(np.array(widths)[keep], errors[keep], ci=ci)
    med = np.median(errors, axis=1)
    ok = [i for i in range(len(widths)) if (med[i:] <= tolerance).all()]
    return LambdaMinStudy(n_points, np.array(widths), ratios, lam, float(limit[0, 0]), fit, fit_from,
                          widths[ok[0]] if ok else None, tolerance)


@dataclass(frozen=True)
class TailStudy:
    """The law of Θ̂(x, x)/Θ_∞ at β of order 1 and at a small β (``tail_study``).

    Attributes:
        depth: L; width, beta: of the heavy-tailed cell; draws: (S,) Θ̂/Θ_∞ there.
        reference_width, reference_beta, reference_draws: the same at a small β.
        group_size: m, draws per sample mean; exact_mean: E Θ̂/Θ_∞ (1 for relu without bias).
    """

    depth: int
    width: int
    beta: float
    draws: np.ndarray
    reference_width: int
    reference_beta: float
    reference_draws: np.ndarray
    group_size: int
    exact_mean: float

    def group_means(self) -> np.ndarray:
        g = self.draws.shape[0] // self.group_size
        return self.draws[: g * self.group_size].reshape(g, self.group_size).mean(1)

    def fraction_below(self, scale: float = 1.0) -> float:
        """Fraction of the m-draw sample means below ``scale`` × the exact mean."""
        return float((self.group_means() < scale * self.exact_mean).mean())

    def fraction_bound(self, alpha: float) -> float:
        """½ + z_{1−α}·½/√G: what a symmetric sampling law exceeds with probability α."""
        return 0.5 + float(sps.norm.ppf(1 - alpha)) * 0.5 / math.sqrt(self.group_means().shape[0])

    def summary(self) -> str:
        lines = []
        for label, w, b, d in (("heavy", self.width, self.beta, self.draws),
                               ("reference", self.reference_width, self.reference_beta, self.reference_draws)):
            q = np.quantile(d, [0.01, 0.5, 0.99])
            lines.append(f"{label}: L={self.depth} n={w} beta={b:.3f}: mean {d.mean():.3f}, median {q[1]:.3f}, "
                         f"1%-99% [{q[0]:.3f}, {q[2]:.3f}], P(>3) = {(d > 3).mean():.4f}, skewness {sps.skew(d):.1f}")
        means = self.group_means()
        lines.append(f"means of {self.group_size} draws at beta={self.beta:.3f}: median {np.median(means):.3f}, "
                     f"fraction below the exact mean {self.fraction_below():.3f} of {means.shape[0]}")
        return "\n".join(lines)

    def metrics(self) -> dict[str, Any]:
        return {"beta": self.beta, "width": self.width, "depth": self.depth,
                "median": float(np.median(self.draws)), "mean": float(self.draws.mean()),
                "quantile_99": float(np.quantile(self.draws, 0.99)),
                "fraction_below": self.fraction_below(), "group_size": self.group_size}


def tail_study(x, *, depth: int, width: int, reference_width: int, n_groups: int, group_size: int,
               reference_samples: int, sigma_w: float = math.sqrt(2.0), seed: int = 0,
               device: torch.device | str | None = None) -> TailStudy:
    """Draw n_groups × group_size values of Θ̂(x, x)/Θ_∞ (relu, no bias) at ``width`` and
    ``reference_samples`` at ``reference_width``, for one depth; E Θ̂ = Θ_∞ exactly
    (``relu_ntk_moments``)."""
    x = check.as_inputs("x", x, dtype=torch.float64)
    s = check.positive_int("n_groups", n_groups) * check.positive_int("group_size", group_size)
    reference_samples = check.positive_int("reference_samples", reference_samples)
    limit = float(analytic_kernels(x, x, depth=depth, activation="relu", sigma_w=sigma_w, sigma_b=None).ntk[0, 0])
    exact_mean = float(relu_ntk_moments(x, width=width, depth=depth, sigma_w=sigma_w, max_order=1)[0]) / limit
    draws = [sample_output_and_ntk(x, n_samples=k, width=w, depth=depth, sigma_w=sigma_w,
                                   seed=_seed(seed, 12, w), device=device).ntk / limit
             for w, k in ((width, s), (reference_width, reference_samples))]
    return TailStudy(depth, width, (depth - 1) / width, draws[0], reference_width,
                     (depth - 1) / reference_width, draws[1], group_size, exact_mean)


@dataclass(frozen=True)
class TrainingChangeStudy:
    """‖Θ̂_T − Θ̂_0‖_F/‖Θ̂_0‖_F at one width against depth (``training_change_study``).

    Attributes:
        width: n; depths: (D,) L; changes: (D, R); losses: (D, R) final losses (½·mean);
        etas: (D, R) learning rates (a fixed fraction of each net's own bound 2N/λ_max(Θ̂_0));
        steps: T;
        fit: log-log slope of the mean change against L (Roberts, Yaida & Hanin's depth);
        hidden_fit: the same against L − 1 (the hidden layers of β), printed beside it.
    """

    width: int
    depths: np.ndarray
    changes: np.ndarray
    losses: np.ndarray
    etas: np.ndarray
    steps: int
    fit: SlopeFit
    hidden_fit: SlopeFit

    def __str__(self) -> str:
        return ("relative kernel change by depth: "
                + ", ".join(f"L={d}: {m:.4f} ± {s:.4f}" for d, m, s in
                            zip(self.depths, self.changes.mean(1), self.changes.std(1, ddof=1)))
                + f"\nlargest final loss {self.losses.max():.1e}\nslope in L: {self.fit}\n"
                f"slope in L − 1: {self.hidden_fit}")

    def metrics(self) -> dict[str, Any]:
        return {"width": self.width, "depths": self.depths, "changes": self.changes, "losses": self.losses,
                "etas": self.etas, "steps": self.steps, "slope": self.fit.slope,
                "slope_ci": (self.fit.ci_low, self.fit.ci_high), "slope_hidden": self.hidden_fit.slope,
                "slope_hidden_ci": (self.hidden_fit.ci_low, self.hidden_fit.ci_high)}


def training_change_study(n_points: int, n0: int, width: int, depths: Sequence[int], *, n_nets: int,
                          steps: int, eta_fraction: float = 0.5, activation: str = "relu",
                          sigma_w: float = math.sqrt(2.0), sigma_b: float | None = None, seed: int = 0,
                          ci: float = 0.99, device: torch.device | str | None = None) -> TrainingChangeStudy:
    """Train ``n_nets`` nets per depth by full-batch GD (η = eta_fraction × 2N/λ_max(Θ̂_0), so
    every net trains at the same fraction of its own stability bound) on N sphere points with
    N(0, 1) targets, and measure the relative change of the empirical NTK on the training points.
    """
    depths = [check.int_in_range("depths", d, 2) for d in depths]
    n_nets = check.int_in_range("n_nets", n_nets, 2)
    x = _sphere_points(check.positive_int("n_points", n_points), check.positive_int("n0", n0), _seed(seed, 13))
    y = torch.randn(n_points, generator=torch.Generator().manual_seed(_seed(seed, 14)), dtype=torch.float64)
    arch = dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    x, y = x.to(device or "cpu"), y.to(device or "cpu")
    changes, losses, etas = (np.empty((len(depths), n_nets)) for _ in range(3))
    for i, d in enumerate(depths):
        for r in range(n_nets):
            net = MLP(n0, width, d, seed=_seed(seed, 15, d, r), dtype=torch.float64, device=device, **arch)
            etas[i, r] = eta_fraction * max_learning_rate(empirical_ntk(net, x))
            run = train_ntk_change(net, x, y, x, steps=steps, eta=etas[i, r])
            changes[i, r], losses[i, r] = run.change, run.loss
    fits = [loglog_slope_t(np.array(depths) - shift, changes, ci=ci) for shift in (0.0, 1.0)]
    return TrainingChangeStudy(width, np.array(depths), changes, losses, etas, steps, *fits)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _cells_panel(ax: Any, grid: ExpansionGrid, value: str, exact: str, se: str, *, limit: Any,
                 limit_label: str, ylabel: str) -> None:
    """Excess over 1 of a per-cell ratio against β: one marker per depth, one colour per width
    (hollow: not assessed), the exact law per width as thin lines, the n → ∞ curve in black."""
    from .plotting import OKABE_ITO

    widths = sorted({c.width for c in grid.cells})
    depths = sorted({c.depth for c in grid.cells})
    assessed = grid.assessed()
    for i, w in enumerate(widths):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        row = sorted((c for c in grid.cells if c.width == w), key=lambda c: c.beta)
        if grid.exact:
            ax.plot([c.beta for c in row], [getattr(c, exact) - 1 for c in row], "-", color=colour, lw=0.7, alpha=0.7)
        for c in row:
            marker = _MARKERS[depths.index(c.depth) % len(_MARKERS)]
            filled = c in assessed
            y = getattr(c, value) - 1
            if y > 0:
                ax.errorbar(c.beta, y, yerr=getattr(c, se) if filled else None, fmt=marker, color=colour,
                            mfc=colour if filled else "none", ms=5, capsize=2)
    beta = np.geomspace(min(c.beta for c in grid.cells), max(c.beta for c in grid.cells), 200)
    shown = [v - 1 for c in grid.cells for v in (getattr(c, value), getattr(c, exact)) if v - 1 > 0]
    ax.plot(beta, limit(beta), "k-", lw=1.5, label=limit_label)
    for i, w in enumerate(widths):
        ax.plot([], [], "s", color=OKABE_ITO[i % len(OKABE_ITO)], label=f"n = {w}")
    for j, d in enumerate(depths):
        ax.plot([], [], _MARKERS[j % len(_MARKERS)], color="0.4", mfc="none", label=f"L = {d}")
    ax.set(xscale="log", yscale="log", xlabel=r"$\beta=(L-1)/n$", ylabel=ylabel,
           ylim=(min(shown) / 3, 10 * max(shown)))          # the cells, not e^{5β} at the largest β
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(base=100.0, numticks=8))   # every other decade
    ax.yaxis.set_minor_formatter(NullFormatter())


def figure_collapse(grid: ExpansionGrid, *, constant: float = 5.0) -> Any:
    """R − 1 = E f⁴/(3(E f²)²) − 1 against β: cells, exact laws (1 + c/n)^(nβ) − 1 per width
    and the collapse curve e^{cβ} − 1; returns the figure."""
    fig, ax = new_figure(figsize=(7.2, 4.2))
    _cells_panel(ax, grid, "variance_ratio", "output_exact", "output_se",
                 limit=lambda b: np.expm1(constant * b), limit_label=rf"$e^{{{constant:g}\beta}}-1$",
                 ylabel=r"$\mathbb{E}f^4/3(\mathbb{E}f^2)^2-1$")
    legend_outside(ax, fontsize=7)
    return fig


def figure_ntk_variance(grid: ExpansionGrid, exponents: dict[str, np.ndarray]) -> Any:
    """Left: Var Θ̂/(E Θ̂)² against β (cells, exact law per width, e^{5β} − 1); right: the exact
    law's local exponent d log(E Θ̂²/(E Θ̂)²)/dβ against β, with Hanin & Nica's 5; returns it."""
    fig, (ax, bx) = new_figure(1, 2, figsize=(10.5, 4.0))
    _cells_panel(ax, grid, "ntk_ratio", "ntk_exact", "ntk_se", limit=lambda b: np.expm1(5 * b),
                 limit_label=r"$e^{5\beta}-1$", ylabel=r"$\mathrm{Var}\,\hat\Theta(x,x)/(\mathbb{E}\hat\Theta)^2$")
    ax.legend(fontsize=6, ncol=2, loc="upper left")
    b = exponents["beta"]
    mid = np.sqrt(b[1:] * b[:-1])
    bx.plot(mid, exponents["local_exponent"], "o-", label="exact law (n = 1024)")
    bx.axhline(5, color="k", ls=":", lw=1, label="Hanin & Nica: 5")
    bx.set(xscale="log", xlabel=r"$\beta$", ylabel=r"local exponent $d\log Q/d\beta$", ylim=(0, 5.5))
    bx.legend(loc="lower right")
    return fig


def figure_lambda_min(study: LambdaMinStudy) -> Any:
    """|λ_min(Θ̂)/λ_min(Θ_∞) − 1| against width with its fit, n^{−1/2} and the 10 % line."""
    fig, ax = new_figure()
    keep = study.widths >= study.fit_from
    slope_panel(ax, study.widths[keep], study.errors[keep], study.fit, label="mean over nets ± sd",
                guides=(-0.5,), ylabel=r"$|\lambda_{\min}(\hat\Theta_n)/\lambda_{\min}(\Theta_\infty)-1|$", legend=None)
    ax.plot(study.widths, np.median(study.errors, axis=1), "x", color="0.3", label="median over nets")
    ax.axhline(study.tolerance, color="0.5", ls="--", lw=0.8, label=f"{study.tolerance:.0%}")
    width_ticks(ax, study.widths)
    legend_outside(ax)
    return fig


def figure_tail(study: TailStudy) -> Any:
    """Histograms of log10 Θ̂/Θ_∞ at β ~ 1 and at a small β, with the exact mean and the medians."""
    fig, ax = new_figure()
    edges = np.linspace(-4, 2, 121)
    for label, d, colour in ((rf"$\beta$ = {study.beta:.3g} (n = {study.width})", study.draws, "C1"),
                             (rf"$\beta$ = {study.reference_beta:.3g} (n = {study.reference_width})",
                              study.reference_draws, "C0")):
        ax.hist(np.log10(np.clip(d, 1e-4, None)), bins=edges, density=True, histtype="step", color=colour,
                label=label)
        ax.axvline(np.log10(np.median(d)), color=colour, ls=":", lw=1)
    ax.axvline(np.log10(study.exact_mean), color="k", lw=1, label=r"$\mathbb{E}\hat\Theta=\Theta_\infty$ (exact)")
    ax.set(xlabel=r"$\log_{10}\hat\Theta(x,x)/\Theta_\infty(x,x)$ (dotted: medians)", ylabel="density",
           title=f"L = {study.depth}")
    legend_outside(ax)
    return fig


def figure_training_change(study: TrainingChangeStudy) -> Any:
    """‖Θ̂_T − Θ̂_0‖/‖Θ̂_0‖ against depth L at fixed width, with its fit and a line ∝ L/n."""
    fig, ax = new_figure()
    depth = study.depths.astype(np.float64)
    slope_panel(ax, depth, study.changes, study.fit, label=f"n = {study.width}, mean ± sd",
                xlabel="depth L (weight layers)", legend=None,
                ylabel=r"$\|\hat\Theta_T-\hat\Theta_0\|_F/\|\hat\Theta_0\|_F$")
    ax.plot(depth, study.changes.mean(1)[0] * depth / depth[0], "k:", lw=0.8, label=r"$\propto L/n$")
    legend_outside(ax)
    return fig


def expansion_answer(grid: ExpansionGrid, collapse: LimitCoefficient | None, spectrum: LambdaMinStudy,
                     tail: TailStudy, training: TrainingChangeStudy) -> str:
    """The notebook's answer to "what is the expansion parameter?", in two sentences with this
    run's numbers (rounded to what their errors justify)."""
    cells = sorted(grid.assessed(), key=lambda c: c.beta)
    kappa = (f"the fitted coefficient of beta at n -> inf is {collapse.kappa:.3f} ± {collapse.stderr:.3f}, "
             f"the exact law's own fit on these cells {collapse.exact_kappa:.3f}"
             if collapse else "no collapse fit at this scale")
    spread = (f"Var Θ̂/(E Θ̂)² = {cells[0].ntk_ratio - 1:.3f} at beta = {cells[0].beta:.3g} and "
              f"{cells[-1].ntk_ratio - 1:.2f} at beta = {cells[-1].beta:.3g}" if cells else "")
    within = ("never within 10 % at these widths" if spectrum.within is None else
              f"within 10 % from n = {spectrum.within} (n·lambda_min/Θ(x,x) = "
              f"{spectrum.within * spectrum.limit_min / spectrum.limit_diag:.0f})")
    return (f"The expansion parameter is beta = (L-1)/n, hidden layers over width: E f^4/3(E f^2)^2 = "
            f"(1+5/n)^(L-1) -> e^(5 beta) exactly ({kappa}), E Θ̂ = Θ_∞ at every width, and {spread}, "
            f"so a deep network needs n >> L, not only n >> 1.\n"
            f"Concentration of measure makes the NTK deterministic only while beta << 1: lambda_min of the "
            f"empirical NTK on {spectrum.n_points} points falls to its limit "
            f"as n^{spectrum.fit.slope:.2f} and is {within}; at beta = {tail.beta:g} the median Θ̂(x,x) is "
            f"{np.median(tail.draws):.2f} Θ_∞ and a mean of {tail.group_size} networks falls below E Θ̂ "
            f"{tail.fraction_below():.0%} of the time; at fixed n = {training.width} the training-time change "
            f"of the NTK grows as L^{training.fit.slope:.2f}.")


#: The four architectures whose 1/n term of E Θ̂ section 2 measures: (activation, σ_w, σ_b).
MEAN_CORRECTION_ARCHITECTURES = (("relu", math.sqrt(2.0), None), ("relu", math.sqrt(2.0), 0.1),
                                 ("tanh", 1.5, None), ("erf", 1.0, 0.1))


def mean_corrections(x, widths: Sequence[int], *, depth: int, n_samples: int, seeds: Sequence[int],
                     device: torch.device | str | None = None) -> list[MeanCorrection]:
    """``mean_correction`` for each of ``MEAN_CORRECTION_ARCHITECTURES`` (one seed each)."""
    return [mean_correction(x, widths, depth=depth, n_samples=n_samples, seed=s, activation=a, sigma_w=w,
                            sigma_b=b, label=f"{a}, sigma_w={w:.3g}, sigma_b={b}", device=device)
            for s, (a, w, b) in zip(seeds, MEAN_CORRECTION_ARCHITECTURES)]


def add_claims(claims: Any, *, grid: ExpansionGrid, collapse: LimitCoefficient | None,
               growth: GrowthTest | None, spectrum: LambdaMinStudy, tail: TailStudy,
               training: TrainingChangeStudy, alpha: dict[str, float], law_constant: float = 5.0,
               planted_error: float = 0.0) -> None:
    """Record notebook 07's eight claims in ``claims`` (a ``ClaimSet``), with the tolerances of
    the notebook's table: the predictions carry ``law_constant`` (the 5 of (1 + 5/n)^(L−1)) and
    ``planted_error`` (on the predicted NTK moments and the exact mean), both for tests/power."""
    c = claims
    hn, ryh = "Hanin & Nica 2019, Thm 1", "Roberts, Yaida & Hanin 2022"
    why = "no exact law: the exact laws are for relu without bias"
    c.max_z(f"E f^4/3(E f^2)^2 = (1+{law_constant:g}/n)^(L-1) at every assessed (L, n)", f"{hn}; {ryh}",
            grid.output_law_test(alpha=alpha["law"], constant=law_constant), reason=why)
    if collapse:
        c.within(f"collapse: log R/beta -> {law_constant:g} as n -> inf at fixed beta (kappa)", ryh,
                 collapse.kappa, law_constant, round(collapse.tol, 3), digits=3, alpha=alpha["collapse"])
    else:
        c.not_assessed("collapse: log R/beta -> 5 as n -> inf at fixed beta (kappa)", ryh,
                       why if not grid.exact else "fewer than 3 widths")
    c.max_z("E Θ̂²/(E Θ̂)² equals its exact finite-width value at every assessed (L, n)", hn,
            grid.ntk_law_test(alpha=alpha["ntk"], planted_error=planted_error), reason=why)
    c.max_z("E Θ̂(x,x) = Θ_∞(x,x) at every width (no 1/n term)", hn,
            grid.ntk_mean_test(alpha=alpha["mean"], planted_error=planted_error), reason=why)
    if growth:
        c.greater_than(f"Var Θ̂/(E Θ̂)² grows faster than linearly in beta (L={growth.depth}, rho)", hn,
                       growth.rho, round(growth.bound, 3), digits=3, alpha=alpha["growth"],
                       resolution=round(growth.bound - 1, 3), resolution_kind="bound")
    else:
        c.not_assessed("Var Θ̂/(E Θ̂)² grows faster than linearly in beta (rho)", hn,
                       why if not grid.exact else "no depth with two assessed cells")
    c.slope(f"|lambda_min(Θ̂)/lambda_min(Θ_∞) - 1| slope in width (n >= {spectrum.fit_from})",
            "concentration; Jacot et al. 2018, Thm 1", spectrum.fit, -0.5, alpha=alpha["slope"])
    scale = 1 + planted_error
    c.greater_than(f"at beta={tail.beta:g} means of {tail.group_size} draws fall below E Θ̂ (fraction)", hn,
                   tail.fraction_below(scale), round(tail.fraction_bound(alpha["tail"]), 3), digits=3,
                   alpha=alpha["tail"], prediction=lambda s: tail.fraction_below(scale * s))
    c.slope(f"training-time kernel change at n={training.width}: slope in depth L", ryh, training.fit, 1.0,
            alpha=alpha["slope"])


def metrics(*, grid: ExpansionGrid, collapse: LimitCoefficient | None, growth: GrowthTest | None,
            exponents: dict[str, np.ndarray], corrections: Sequence[MeanCorrection],
            spectrum: LambdaMinStudy, tail: TailStudy, training: TrainingChangeStudy) -> dict[str, Any]:
    """Notebook 07's metrics for its results file."""
    return {"grid": grid.metrics(), "collapse": collapse, "growth": growth, "exponents": exponents,
            "mean_corrections": {m.label: {"coefficient": m.coefficient, "stderr": m.stderr} for m in corrections},
            "lambda_min": spectrum.metrics(), "tail": tail.metrics(), "training": training.metrics()}
