"""Is an ensemble of trained networks distributed as a predicted Gaussian process?

Two checks used by notebook 06 (Jacot et al. 2018, Fig. 2; Lee et al. 2019, Fig. 2):

* ``compare_ensemble_to_gaussian``: the ensemble's mean and variance at every (time, test point)
  cell against the predicted mean μ and variance σ², with Monte Carlo bands for E members
  (Bonferroni over all cells, so the whole family holds at level α): the mean within
  z_{1−α/2K}·σ/√E, the variance ratio s²/σ² within the χ²_{E−1}/(E−1) quantiles. It also
  returns a single distance, ``gap`` = mean over cells of [(m̂ − μ)² + (ŝ − σ)²]/σ² (the squared
  2-Wasserstein distance between the fitted and predicted normals, in units of σ²), and the value
  that distance has from sampling noise alone, ``gap_floor`` = 1/E + 2(1 − c₄(E)).
* ``band_fraction`` and ``band_fraction_interval``: the fraction of curve points inside the
  predicted [q_lo, q_hi] percentile band, and the interval that fraction falls in when the
  curves are exact draws of the Gaussian (simulated, so the correlation along the curve counts).

* The reference those are compared with, for networks trained by gradient descent with step η
  (e^{−Θt/N} → (I − ηΘ/N)^k) jointly over times, is the closed form ``dynamics.gd_gaussian``
  (a ``dynamics.JointGaussian``).
* ``pooled_variance_ratio``, ``mean_projection``, ``gap_jackknife``: statistics pooled over all
  cells, with intervals that account for the correlation between cells (χ² with effective degrees
  of freedom, the predicted joint covariance) or for non-Gaussian members (jackknife), so that a
  few-% error of the prediction is resolved where cell-by-cell bands resolve only tens of %.
* ``pit_values``, ``pit_distance``, ``pit_distance_null``: probability-integral transforms of
  curves under the predicted marginals, their Wasserstein-1 distance from uniformity and its
  distribution for exact draws.

All inputs are converted to float64 NumPy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import all_finite as _check_finite
from ._validation import float64_array as _as_float64
from ._validation import int_in_range as _check_int


@dataclass(frozen=True)
class EnsembleComparison:
    """Ensemble statistics against a predicted Gaussian; see the module docstring.

    Attributes:
        max_abs_z: Largest |m̂ − μ| / (σ/√E) over the cells.
        z_bound: Its Bonferroni bound.
        var_ratio_min: Smallest s²/σ² over the cells.
        var_ratio_max: Largest s²/σ² over the cells.
        var_ratio_bounds: (lo, hi) band of the variance ratio.
        gap: Mean squared W2 distance in units of σ².
        gap_floor: Its expectation under the null.
        n_members: E.
        n_cells: K (times × points compared).
    """

    max_abs_z: float
    z_bound: float
    var_ratio_min: float
    var_ratio_max: float
    var_ratio_bounds: tuple[float, float]
    gap: float
    gap_floor: float
    n_members: int
    n_cells: int

    @property
    def mean_within_band(self) -> bool:
        return self.max_abs_z <= self.z_bound

    @property
    def variance_within_band(self) -> bool:
        lo, hi = self.var_ratio_bounds
        return lo <= self.var_ratio_min and self.var_ratio_max <= hi

    def __str__(self) -> str:
        lo, hi = self.var_ratio_bounds
        return (f"max |z| {self.max_abs_z:.2f} (bound {self.z_bound:.2f}); s²/σ² in "
                f"[{self.var_ratio_min:.2f}, {self.var_ratio_max:.2f}] (band [{lo:.2f}, {hi:.2f}]); "
                f"gap {self.gap:.4f} (noise floor {self.gap_floor:.4f}); E={self.n_members}, K={self.n_cells}")


def gap_noise_floor(n_members: int) -> float:
    """E[(m̂−μ)² + (ŝ−σ)²]/σ² for E Gaussian draws: 1/E + 2(1 − c₄(E)), c₄ = E[ŝ]/σ.

    Args:
        n_members: E ≥ 2.

    Returns:
        The expected gap as a float.
    """
    e = _check_int("n_members", n_members, 2)
    c4 = math.sqrt(2.0 / (e - 1)) * math.exp(math.lgamma(e / 2) - math.lgamma((e - 1) / 2))
    return 1.0 / e + 2.0 * (1.0 - c4)


def compare_ensemble_to_gaussian(samples: Any, mean: Any, variance: Any, *, alpha: float = 0.05,
                                 min_variance: float = 1e-12) -> EnsembleComparison:
    """Compare ensemble draws with a predicted Gaussian, cell by cell.

    Args:
        samples: (E, *cells) ensemble outputs, e.g. (E, T, M) for T times and M test points.
        mean: (*cells) predicted mean.
        variance: (*cells) predicted variance.
        alpha: Family-wise level of the bands (Bonferroni over the K cells).
        min_variance: Cells whose predicted variance is below this are left out (e.g. training
            points at t = ∞, where the limit is deterministic).

    Returns:
        An ``EnsembleComparison``.

    Raises:
        ValueError: On mismatched shapes, E < 2, non-finite inputs, α outside (0, 1), or no
            cell above ``min_variance``.
    """
    import scipy.stats

    f = _as_float64("samples", samples)
    mu, var = _as_float64("mean", mean), _as_float64("variance", variance)
    if f.ndim < 2 or f.shape[1:] != mu.shape or mu.shape != var.shape or f.shape[0] < 2:
        raise ValueError(f"samples must be (E >= 2, *cells) and mean, variance (*cells), got "
                         f"{f.shape}, {mu.shape}, {var.shape}")
    for name, a in (("samples", f), ("mean", mu), ("variance", var)):
        _check_finite(name, a)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    keep = var > min_variance
    if not keep.any():
        raise ValueError(f"no cell has predicted variance above min_variance={min_variance!r}")
    e, k = f.shape[0], int(keep.sum())
    m_hat, v_hat = f.mean(0)[keep], f.var(0, ddof=1)[keep]
    mu, var = mu[keep], var[keep]
    z = np.abs(m_hat - mu) / np.sqrt(var / e)
    ratio = v_hat / var
    a = alpha / (2 * k)
    lo, hi = (float(scipy.stats.chi2.ppf(q, e - 1) / (e - 1)) for q in (a, 1 - a))
    gap = float(np.mean(((m_hat - mu) ** 2 + (np.sqrt(v_hat) - np.sqrt(var)) ** 2) / var))
    return EnsembleComparison(float(z.max()), float(scipy.stats.norm.ppf(1 - a)), float(ratio.min()),
                              float(ratio.max()), (lo, hi), gap, gap_noise_floor(e), e, k)


def band_fraction(curves: Any, lower: Any, upper: Any) -> float:
    """Fraction of the points of ``curves`` with lower ≤ value ≤ upper.

    Args:
        curves: (S, G).
        lower: (G,).
        upper: (G,).

    Returns:
        The fraction as a float.
    """
    c = _as_float64("curves", curves)
    lo, hi = _as_float64("lower", lower), _as_float64("upper", upper)
    if c.ndim != 2 or lo.shape != (c.shape[1],) or hi.shape != lo.shape:
        raise ValueError(f"curves must be (S, G) and lower, upper (G,), got {c.shape}, {lo.shape}, {hi.shape}")
    return float(((c >= lo) & (c <= hi)).mean())


def band_fraction_interval(mean: Any, cov: Any, n_curves: int, *, quantiles: tuple[float, float] = (0.1, 0.9),
                           coverage: float = 0.95, n_rep: int = 2000, seed: int = 0,
                           jitter: float = 0.0) -> tuple[float, float]:
    """Central interval of ``band_fraction`` for exact Gaussian draws, by simulation.

    The draws of N(mean, cov) are compared with the Gaussian's own ``quantiles`` band. The
    expected fraction is q_hi − q_lo; the spread depends on how correlated the curve is.

    Args:
        mean: (G,).
        cov: (G, G).
        n_curves: Number of draws per repetition.
        quantiles: (q_lo, q_hi) of the band.
        coverage: Coverage of the central interval.
        n_rep: Number of repetitions (>= 10).
        seed: Generator seed.
        jitter: Added to the eigenvalues of ``cov`` before the square root.

    Returns:
        (low, high) as floats.
    """
    import scipy.stats

    mu, c = _as_float64("mean", mean), _as_float64("cov", cov)
    if mu.ndim != 1 or c.shape != (mu.size, mu.size):
        raise ValueError(f"mean must be (G,) and cov (G, G), got {mu.shape} and {c.shape}")
    n_curves, n_rep = _check_int("n_curves", n_curves, 1), _check_int("n_rep", n_rep, 10)
    sd = np.sqrt(np.clip(np.diag(c), 0.0, None))
    lo, hi = (mu + scipy.stats.norm.ppf(q) * sd for q in quantiles)
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    root = v * np.sqrt(np.clip(w, 0.0, None) + jitter)
    z = np.random.default_rng(_check_int("seed", seed, 0)).standard_normal((n_rep, n_curves, mu.size))
    draws = mu + z @ root.T
    fractions = ((draws >= lo) & (draws <= hi)).mean(axis=(1, 2))
    tail = (1 - coverage) / 2
    return float(np.quantile(fractions, tail)), float(np.quantile(fractions, 1 - tail))


# ---------------------------------------------------------------- issue 12:
# pooled variance ratio with a correlation-aware χ² interval, PIT distance from uniformity.

@dataclass(frozen=True)
class PooledVariance:
    """Pooled variance ratio R = mean over cells of s²/σ² and its null distribution.

    Under exact Gaussian draws (E members, cell correlations ρ), E[R] = 1 and
    Var R = 2/(E−1) · mean(ρ²); R is approximated by χ²_ν/ν with ν = (E−1)/mean(ρ²)
    (Satterthwaite).

    Attributes:
        ratio: R.
        dof: ν.
        interval: The central 1 − α range of R under the null.
        alpha: α.
        n_members: E.
        n_cells: Number of cells pooled.
        se_jackknife: The delete-one-member jackknife standard error of R, which also holds
            when the members are not Gaussian (heavy tails inflate the variance of s²).
    """

    ratio: float
    dof: float
    interval: tuple[float, float]
    alpha: float
    n_members: int
    n_cells: int
    se_jackknife: float = math.nan

    @property
    def se_gaussian(self) -> float:
        """Standard error of R under the Gaussian model, R·√(2/ν)."""
        return self.ratio * math.sqrt(2.0 / self.dof)

    def holds(self, scale: float = 1.0) -> bool:
        """R / scale inside the null interval (``scale``: the predicted variance multiplied by it)."""
        return self.interval[0] <= self.ratio / scale <= self.interval[1]

    @property
    def error_bars(self) -> tuple[float, float]:
        """(below, above) R: the lengths of the 1 − α error bar [R/hi, R/lo] of R, the variance
        scales s for which ``holds(s)`` (for ``matplotlib`` ``errorbar(yerr=...)``)."""
        return self.ratio - self.ratio / self.interval[1], self.ratio / self.interval[0] - self.ratio

    def __str__(self) -> str:
        return (f"pooled s²/σ² {self.ratio:.3f}, null {100 * (1 - self.alpha):g} % interval "
                f"[{self.interval[0]:.3f}, {self.interval[1]:.3f}] (ν = {self.dof:.0f}; se: Gaussian {self.se_gaussian:.3f}, "
                f"jackknife {self.se_jackknife:.3f}; E={self.n_members}, K={self.n_cells})")


def pooled_variance_ratio(samples: Any, cov: Any, *, alpha: float = 0.05, min_variance: float = 1e-12) -> PooledVariance:
    """Pool the variance ratios s²/σ² of all cells into one statistic with a χ² interval.

    Args:
        samples: (E, *cells) ensemble outputs (e.g. (E, R, M)).
        cov: (K, K) predicted joint covariance of the flattened cells (e.g.
            ``JointGaussian.cov``), whose correlations set the effective degrees of freedom.
        alpha: Two-sided level of the interval.
        min_variance: Cells with smaller predicted variance are left out.

    Returns:
        A ``PooledVariance``.

    Raises:
        ValueError: On mismatched shapes, E < 2, non-finite inputs, α outside (0, 1), or no
            cell above ``min_variance``.
    """
    import scipy.stats

    f = _as_float64("samples", samples)
    c = _as_float64("cov", cov)
    if f.ndim < 2 or f.shape[0] < 2:
        raise ValueError(f"samples must be (E >= 2, *cells), got {f.shape}")
    f = f.reshape(f.shape[0], -1)
    if c.shape != (f.shape[1], f.shape[1]):
        raise ValueError(f"cov must be ({f.shape[1]}, {f.shape[1]}) for {f.shape[1]} cells, got {c.shape}")
    _check_finite("samples", f)
    _check_finite("cov", c)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    var = np.diag(c)
    keep = var > min_variance
    if not keep.any():
        raise ValueError("no cell has predicted variance above min_variance")
    e = f.shape[0]
    fk = f[:, keep]
    ratio = float(np.mean(fk.var(0, ddof=1) / var[keep]))
    # delete-one jackknife of R from the sums of f and f² (exact, O(E·K))
    s1, s2 = fk.sum(0), (fk ** 2).sum(0)
    loo_mean = (s1 - fk) / (e - 1)
    loo_var = ((s2 - fk ** 2) - (e - 1) * loo_mean ** 2) / (e - 2) if e > 2 else np.zeros_like(fk)
    loo = (loo_var / var[keep]).mean(1)
    se_jk = float(np.sqrt((e - 1) / e * ((loo - loo.mean()) ** 2).sum())) if e > 2 else math.nan
    sd = np.sqrt(var[keep])
    rho2 = float(np.mean((c[np.ix_(keep, keep)] / np.outer(sd, sd)) ** 2))
    nu = (e - 1) / rho2
    lo, hi = (float(scipy.stats.chi2.ppf(q, nu) / nu) for q in (alpha / 2, 1 - alpha / 2))
    return PooledVariance(ratio, float(nu), (lo, hi), float(alpha), e, int(keep.sum()), se_jk)


def pit_values(curves: Any, mean: Any, sd: Any) -> np.ndarray:
    """Probability-integral transforms u = Φ((f − μ)/σ) of curves under N(μ, σ²) per point.

    Uniform on [0, 1] when the curves are draws of the Gaussian.

    Args:
        curves: (S, G).
        mean: μ, (G,).
        sd: σ, (G,), positive.

    Returns:
        u, (S, G) float64.
    """
    import scipy.stats

    c, mu, s = _as_float64("curves", curves), _as_float64("mean", mean), _as_float64("sd", sd)
    if c.ndim != 2 or mu.shape != (c.shape[1],) or s.shape != mu.shape or (s <= 0).any():
        raise ValueError(f"curves must be (S, G) and mean, sd (G,) with sd > 0, got {c.shape}, {mu.shape}, {s.shape}")
    return scipy.stats.norm.cdf((c - mu) / s)


def pit_distance(u: Any) -> float:
    """Wasserstein-1 distance between the empirical distribution of PIT values and U(0, 1).

    ∫|F̂(u) − u| du = mean |u_(i) − (i − ½)/n| up to O(1/n).

    Args:
        u: PIT values in [0, 1], any shape (flattened), non-empty.

    Returns:
        The distance as a float (0 for perfect calibration, ≤ ½).
    """
    v = np.sort(_as_float64("u", u).reshape(-1))
    n = v.size
    if n == 0 or (v < 0).any() or (v > 1).any():
        raise ValueError("u must be a non-empty array of values in [0, 1]")
    return float(np.mean(np.abs(v - (np.arange(n) + 0.5) / n)))


def pit_distance_null(mean: Any, cov: Any, n_curves: int, *, n_rep: int = 2000, seed: int = 0) -> np.ndarray:
    """``pit_distance`` of exact draws of N(mean, cov) against their own marginals, repeated.

    The curve's correlation along its points counts.

    Args:
        mean: (G,).
        cov: (G, G).
        n_curves: Number of draws per repetition.
        n_rep: Number of repetitions (>= 10).
        seed: Generator seed.

    Returns:
        (n_rep,) float64.
    """
    mu, c = _as_float64("mean", mean), _as_float64("cov", cov)
    if mu.ndim != 1 or c.shape != (mu.size, mu.size):
        raise ValueError(f"mean must be (G,) and cov (G, G), got {mu.shape} and {c.shape}")
    n_curves, n_rep = _check_int("n_curves", n_curves, 1), _check_int("n_rep", n_rep, 10)
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    root = v * np.sqrt(np.clip(w, 0.0, None))
    sd = np.sqrt(np.clip(np.diag(c), 1e-300, None))
    z = np.random.default_rng(_check_int("seed", seed, 0)).standard_normal((n_rep, n_curves, mu.size))
    draws = mu + z @ root.T
    return np.array([pit_distance(pit_values(d, mu, sd)) for d in draws])


@dataclass(frozen=True)
class MeanProjection:
    """Ensemble mean projected on the predicted mean, r = ⟨m̂, μ⟩_W / ⟨μ, μ⟩_W with W = diag(1/σ²).

    r = 1 when the ensemble mean is the prediction; a relative error δ of the predicted mean
    gives r = 1/(1 + δ).

    Attributes:
        ratio: r.
        se: Its standard error under the prediction (E exact Gaussian draws with the predicted
            joint covariance): √(wᵀ C w / E), w = W μ / ⟨μ, μ⟩_W.
        n_members: E.
        n_cells: Number of cells kept.
    """

    ratio: float
    se: float
    n_members: int
    n_cells: int

    def half_width(self, alpha: float) -> float:
        """z_{1−α/2} · se: the two-sided level-α tolerance of |r − 1|."""
        import scipy.stats

        return float(scipy.stats.norm.ppf(1 - alpha / 2) * self.se)


def mean_projection(samples: Any, mean: Any, cov: Any, *, min_variance: float = 1e-12) -> MeanProjection:
    """``MeanProjection`` of ensemble draws on the predicted mean.

    Args:
        samples: Ensemble draws, (E, *cells).
        mean: Predicted mean, (*cells).
        cov: Predicted joint covariance of the flattened cells, (K, K).
        min_variance: Cells with variance ≤ min_variance are left out.

    Returns:
        A ``MeanProjection``.

    Raises:
        ValueError: On mismatched shapes, E < 2, non-finite inputs, or ⟨μ, μ⟩_W ≤ 0.
    """
    f = _as_float64("samples", samples)
    mu, c = _as_float64("mean", mean).reshape(-1), _as_float64("cov", cov)
    if f.ndim < 2 or f.shape[0] < 2 or f[0].size != mu.size or c.shape != (mu.size, mu.size):
        raise ValueError(f"samples must be (E >= 2, *cells), mean (*cells) and cov (K, K) for the K cells, "
                         f"got {f.shape}, {_as_float64('mean', mean).shape}, {c.shape}")
    for name, a in (("samples", f), ("mean", mu), ("cov", c)):
        _check_finite(name, a)
    f = f.reshape(f.shape[0], -1)
    var = np.diag(c)
    keep = var > min_variance
    w = np.where(keep, mu / np.where(keep, var, 1.0), 0.0)
    norm = float(w @ mu)
    if norm <= 0:
        raise ValueError("the predicted mean is zero on every kept cell: nothing to project on")
    w = w / norm
    e = f.shape[0]
    return MeanProjection(float(f.mean(0) @ w), float(np.sqrt(max(w @ c @ w, 0.0) / e)), e, int(keep.sum()))


def gap_jackknife(samples: Any, mean: Any, variance: Any) -> tuple[float, float]:
    """``gap`` of ``compare_ensemble_to_gaussian`` and its delete-one-member jackknife error.

    The gap is the mean over cells of [(m̂ − μ)² + (ŝ − σ)²]/σ². The jackknife holds for
    non-Gaussian members too.

    Args:
        samples: (E, *cells), E > 2.
        mean: Predicted mean, (*cells).
        variance: Predicted variance, (*cells), positive.

    Returns:
        (gap, standard error) as floats.
    """
    f = _as_float64("samples", samples)
    mu, var = _as_float64("mean", mean), _as_float64("variance", variance)
    if f.ndim < 2 or f.shape[0] < 3 or f.shape[1:] != mu.shape or mu.shape != var.shape or (var <= 0).any():
        raise ValueError(f"samples must be (E >= 3, *cells) and mean, variance (*cells) with variance > 0, got "
                         f"{f.shape}, {mu.shape}, {var.shape}")
    e = f.shape[0]
    f, mu, var = f.reshape(e, -1), mu.reshape(-1), var.reshape(-1)

    def gap(m, v):
        return (((m - mu) ** 2 + (np.sqrt(np.clip(v, 0.0, None)) - np.sqrt(var)) ** 2) / var).mean(-1)

    s1, s2 = f.sum(0), (f ** 2).sum(0)
    loo_mean = (s1 - f) / (e - 1)
    loo = gap(loo_mean, ((s2 - f ** 2) - (e - 1) * loo_mean ** 2) / (e - 2))
    return float(gap(f.mean(0), f.var(0, ddof=1))), float(np.sqrt((e - 1) / e * ((loo - loo.mean()) ** 2).sum()))


# ---------------------------------------------------------------- issue 13: notebook 06's helpers


def curve_pit_distance(curves: Any, mean: Any, sd: Any, *, variance_scale: float = 1.0) -> float:
    """``pit_distance`` of the PIT values of ``curves`` under N(μ, s·σ²) per point: the
    Wasserstein-1 distance W = ∫|F̂(u) − u| du of u = Φ((f − μ)/(σ√s)) from U(0, 1).

    Args:
        curves: (S, G) curves f (S draws at G points); mean, sd: (G,) predicted μ and σ > 0.
        variance_scale: s, the predicted variance multiplied by it (a planted error, or the
            factor a claim's resolution searches over); values below 1e-12 count as 1e-12.

    Returns:
        W (float, 0 for perfect calibration, at most ½).

    Raises:
        ValueError: shapes that do not match, sd <= 0, or a non-finite ``variance_scale``.
    """
    s = float(variance_scale)
    if not math.isfinite(s):
        raise ValueError(f"variance_scale must be finite, got {variance_scale!r}")
    return pit_distance(pit_values(curves, mean, _as_float64("sd", sd) * math.sqrt(max(s, 1e-12))))


@dataclass(frozen=True)
class EnsembleReport:
    """An ensemble's outputs at R times and M points against a predicted joint Gaussian.

    Attributes:
        per_time: R ``EnsembleComparison`` (cell-by-cell bands and max |z| at each time).
        projection: ``MeanProjection`` of the ensemble mean on the predicted mean, all cells.
        pooled: ``PooledVariance`` of all cells.
        gap: (gap, jackknife se) over all cells (``gap_jackknife``).
    """

    per_time: list[EnsembleComparison]
    projection: MeanProjection
    pooled: PooledVariance
    gap: tuple[float, float]

    def __str__(self) -> str:
        zs = " ".join(f"{c.max_abs_z:5.2f}" for c in self.per_time)
        return (f"max |z| at t>0 [{zs}] (bound {self.per_time[0].z_bound:.2f}); "
                f"r = {self.projection.ratio:.4f} ± {self.projection.se:.4f}; {self.pooled}")


def ensemble_report(samples: Any, mean: Any, cov: Any, *, alpha_z: float = 0.05,
                    alpha_pooled: float = 0.01) -> EnsembleReport:
    """Every check of an ensemble against a Gaussian prediction jointly over times (e.g. the
    GD NTK-GP of ``dynamics.gd_gaussian``, Lee et al. 2019 eqs. 14–16): per time the max |z| of
    the mean with its Bonferroni bound at level ``alpha_z`` (``compare_ensemble_to_gaussian``),
    the mean projection r = ⟨m̂, μ⟩_W/⟨μ, μ⟩_W (``mean_projection``), the pooled variance
    ratio with its 1 − ``alpha_pooled`` χ² interval (``pooled_variance_ratio``) and the gap
    with its jackknife se (``gap_jackknife``).

    Args:
        samples: (E, R, M) outputs of E members at R times and M points.
        mean: (R, M) predicted mean; cov: (R·M, R·M) predicted joint covariance, rows ordered
            as ``mean.reshape(-1)`` (``JointGaussian.mean``, ``JointGaussian.cov``).

    Returns:
        ``EnsembleReport``.

    Raises:
        ValueError: shapes that do not match (E >= 3 members needed), non-finite values.
    """
    f, mu, c = _as_float64("samples", samples), _as_float64("mean", mean), _as_float64("cov", cov)
    if f.ndim != 3 or f.shape[1:] != mu.shape or c.shape != (mu.size, mu.size):
        raise ValueError(f"samples must be (E, R, M), mean (R, M) and cov (R·M, R·M), got "
                         f"{f.shape}, {mu.shape}, {c.shape}")
    var = np.clip(np.diag(c), 0.0, None).reshape(mu.shape)
    per_time = [compare_ensemble_to_gaussian(f[:, r], mu[r], var[r], alpha=alpha_z)
                for r in range(mu.shape[0])]
    return EnsembleReport(per_time, mean_projection(f, mu, c),
                          pooled_variance_ratio(f, c, alpha=alpha_pooled), gap_jackknife(f, mu, var))


def gaps_to(samples: Any, references: Any) -> list[float]:
    """``compare_ensemble_to_gaussian(samples, mean, variance).gap`` for each (mean, variance) in
    ``references``: the mean over points of [(m̂ − μ)² + (ŝ − σ)²]/σ² to each Gaussian.

    Args:
        samples: (E, M) ensemble outputs; references: sequence of ((M,) mean, (M,) variance).

    Returns:
        One gap per reference (floats).

    Raises:
        ValueError: as ``compare_ensemble_to_gaussian``, or no reference.
    """
    if len(references) == 0:
        raise ValueError("references must hold at least one (mean, variance) pair")
    return [compare_ensemble_to_gaussian(samples, m, v).gap for m, v in references]


def gap_ratio_null(mean: Any, cov: Any, n_members: int, references: Any, *, n_rep: int = 1000,
                   seed: int = 0, jitter: float = 1e-12) -> np.ndarray:
    """Null distribution of the gap ratio ``gaps_to(f, references)`` [0] / [1] for ensembles
    f of ``n_members`` exact draws of N(mean, cov) (e.g. the NTK-GP at the last time, with
    references the NTK-GP at t = ∞ and the NNGP posterior).

    The ``n_rep`` ensembles are ``stats.sample_gaussian(cov, n_rep·E, seed, jitter)`` in order,
    reshaped to (n_rep, E, M), plus the mean.

    Args:
        mean: (M,) or (1, M); cov: (M, M); references: two ((M,) mean, (M,) variance) pairs.

    Returns:
        (n_rep,) float64 ratios.

    Raises:
        ValueError: shapes that do not match, fewer than two references, bad n_rep or seed.
    """
    from .stats import sample_gaussian

    mu, c = _as_float64("mean", mean), _as_float64("cov", cov)
    if c.ndim != 2 or c.shape != (mu.size, mu.size) or len(references) != 2:
        raise ValueError(f"mean must have M entries, cov be (M, M) and references two pairs, got "
                         f"{mu.shape}, {c.shape}, {len(references)} references")
    e, n_rep = _check_int("n_members", n_members, 2), _check_int("n_rep", n_rep, 1)
    draws = sample_gaussian(c, n_rep * e, seed=seed, jitter=jitter).reshape(n_rep, e, mu.size)
    draws = draws + mu.reshape(-1)
    return np.array([a / b for a, b in (gaps_to(d, references) for d in draws)])


# --------------------------------------------------------------------------- notebook 01: prior draws
def sample_prior(x: Any, sigma: Any, widths: Any, *, n_samples: int, seed: int = 0, device: Any = None,
                 activation: str = "relu", sigma_w: float = 1.0, sigma_b: float | None = 0.1
                 ) -> tuple[dict[tuple[int, int], np.ndarray], dict[int, np.ndarray]]:
    """Outputs of random networks and samples of their limiting GP, for every (depth, width).

    For each depth L (the keys of ``sigma``, in order) and width n: ``n_samples`` networks
    (``empirical.sample_outputs_at_init`` with seed ``seed + 1000·L + n``) evaluated on ``x``;
    for each L: ``n_samples`` draws of N(0, Σ^{(L)} + 10⁻³ I) (``stats.sample_gaussian`` with
    seed ``seed + 7·L``, Matthews et al. 2018's jitter).

    Args:
        x: inputs (N, n0).
        sigma: ``{L: (N, N) NNGP kernel Σ^{(L)}}`` (the prediction under test).
        widths: hidden widths n.
        n_samples: draws per (L, n) and per L, >= 1.
        seed: base seed, >= 0.
        device: where the networks are evaluated.
        activation, sigma_w, sigma_b: the network (as ``MLP``).

    Returns:
        ``({(L, n): (n_samples, N) float64 outputs}, {L: (n_samples, N) float64 GP samples})``.

    Raises:
        ValueError: ``n_samples`` < 1 or ``seed`` < 0 (and the samplers' own checks).
    """
    from .empirical import sample_outputs_at_init
    from .stats import sample_gaussian

    s, seed = _check_int("n_samples", n_samples, 1), _check_int("seed", seed, 0)
    net = dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    draws = {(L, n): sample_outputs_at_init(x, n_samples=s, width=n, depth=L, device=device,
                                            seed=seed + 1000 * L + n, **net).cpu().numpy()
             for L in sigma for n in widths}
    gp = {L: sample_gaussian(sigma[L], s, seed=seed + 7 * L, jitter=1e-3) for L in sigma}
    return draws, gp


def mmd_against_gp(draws: Any, gp: Any, *, n_repeats: int, n_permutations: int, seed: int = 0,
                   lengthscale: float = 0.5, jitter: float = 1e-3
                   ) -> tuple[dict[tuple[int, int], np.ndarray], dict[int, float]]:
    """Repeated unbiased MMD² between network outputs and GP samples, and a permutation test.

    ``draws[L, n]`` and ``gp[L]`` are cut into ``n_repeats`` row blocks of S rows; block r of
    the networks gets jitter of variance ``jitter`` (seed ``seed + n + 97·r``) and is compared
    with block r of the GP (``stats.mmd2_blocks``, RBF kernel of ``lengthscale``; Gretton et al.
    2012). At the widest width (the last n of ``draws``), the first S jittered network rows
    (jitter seed ``seed + n``) and the first S GP rows are tested for equal laws
    (``stats.mmd_permutation_test`` with ``n_permutations`` and ``seed``).

    Args:
        draws: ``{(L, n): (R·S, N) outputs}`` (e.g. ``sample_prior``'s).
        gp: ``{L: (R·S, N) GP samples}``.
        n_repeats: R >= 1.
        n_permutations: permutations of the test, >= 1.
        seed: base seed, >= 0.
        lengthscale, jitter: the MMD kernel's lengthscale (> 0) and the jitter variance (>= 0).

    Returns:
        ``({(L, n): (R,) MMD² estimates}, {L: permutation p-value at the widest width})``.

    Raises:
        ValueError: bad ``n_repeats``, ``seed`` or shapes (from ``stats``).
    """
    from .stats import add_jitter, mmd2_blocks, mmd_permutation_test

    r, seed = _check_int("n_repeats", n_repeats, 1), _check_int("seed", seed, 0)
    mmd = {(L, n): mmd2_blocks(d, gp[L], n_blocks=r, lengthscale=lengthscale, jitter=jitter,
                               seeds=[seed + n + 97 * i for i in range(r)])
           for (L, n), d in draws.items()}
    big = list(draws)[-1][1]
    perm_p = {}
    for L in gp:
        s = draws[L, big].shape[0] // r
        perm_p[L] = mmd_permutation_test(add_jitter(draws[L, big][:s], jitter, seed=seed + big),
                                         gp[L][:s], lengthscale=lengthscale,
                                         n_permutations=n_permutations, seed=seed)[1]
    return mmd, perm_p


@dataclass(frozen=True)
class MomentStudy:
    """Second moment and excess kurtosis of f(x₁) against their exact finite-width values.

    Attributes:
        moments: ``{(L, n): stats.MomentEstimates}``.
        laws: ``{(L, n): kernels.FiniteWidthLaw}`` (exact Var f², κ_n and se(κ̂), NaN where
            unknown).
        predicted: ``{L: the predicted E f² = Σ^{(L)}(x₁, x₁)}``.
        activation: The network's activation.
    """

    moments: dict
    laws: dict
    predicted: dict
    activation: str

    @property
    def depths(self) -> list[int]:
        """The depths L of the study, in order."""
        return list(dict.fromkeys(L for L, _ in self.moments))

    def kurtosis_texts(self) -> dict[tuple[int, int], str]:
        """``{(L, n): "κ̂ (exact κ_n)"}`` with three decimals, for printing."""
        return {k: f"{m.kurtosis:.3f} (exact {self.laws[k].excess_kurtosis:.3f})"
                for k, m in self.moments.items()}

    def second_test(self, alpha: float) -> Any:
        """``stats.MaxZTest`` of mean f² against Σ^{(L)}(x₁, x₁) over the cells where
        E f² = Σ exactly: one hidden layer (L = 2), or every L for relu/identity."""
        from .stats import max_z_test

        exact = [(L, n) for L, n in self.moments if L == 2 or self.activation in ("relu", "identity")]
        return max_z_test([(self.moments[L, n].second, self.predicted[L], self.moments[L, n].second_se)
                           for L, n in exact], alpha=alpha)

    def kurtosis_test(self, alpha: float) -> Any:
        """``stats.MaxZTest`` of κ̂ against the exact κ_n over the cells that have one, at level
        ``alpha`` × (those cells / all cells); None when no cell has one."""
        from .stats import max_z_test

        cells = [k for k in self.moments if math.isfinite(self.laws[k].excess_kurtosis)]
        if not cells:
            return None
        return max_z_test([(self.moments[k].kurtosis, self.laws[k].excess_kurtosis,
                            self.moments[k].kurtosis_se) for k in cells],
                          alpha=alpha * len(cells) / len(self.moments))

    def exponent_fits(self, alpha: float) -> dict[int, Any]:
        """For each depth without an exact κ_n: the fit κ(n) = a n^p (1 + c/n)
        (``stats.power_law_with_correction``, interval at 1 − alpha/#depths), or None when κ̂ ≤ 0
        at some width (not resolved from 0)."""
        from .stats import power_law_with_correction

        depths, fits = self.depths, {}
        for L in depths:
            cells = [(n, m) for (d, n), m in self.moments.items() if d == L]
            if math.isfinite(self.laws[L, cells[0][0]].excess_kurtosis):
                continue
            w, m = [n for n, _ in cells], [m for _, m in cells]
            fits[L] = None if min(v.kurtosis for v in m) <= 0 else power_law_with_correction(
                w, [v.kurtosis for v in m], [v.kurtosis_se for v in m], ci=1 - alpha / len(depths))
        return fits

    def metrics(self) -> dict[str, dict]:
        """The study's numbers for the results file."""
        return {"second moment (mean, se) by (L, n)": {k: (m.second, m.second_se)
                                                       for k, m in self.moments.items()},
                "kurtosis by (L, n)": {k: m.kurtosis for k, m in self.moments.items()},
                "exact kurtosis by (L, n)": {k: v.excess_kurtosis for k, v in self.laws.items()}}


def moment_study(x1: Any, predicted: Any, widths: Any, *, n_samples: int, seed: int = 0,
                 device: Any = None, activation: str = "relu", sigma_w: float = 1.0,
                 sigma_b: float | None = 0.1) -> MomentStudy:
    """Draw f(x₁) of ``n_samples`` networks per (L, n), apply the exact finite-width law and
    estimate the moments, in one call (notebook 01, section 5). Depths L < 2 are left out: with
    no hidden layer f is linear in Gaussian weights, hence Gaussian at any width.

    Draws: ``empirical.sample_outputs_at_init`` with seed ``seed + 10⁶ + 1000·L + n``; law:
    ``kernels.finite_width_law`` (for relu E f² = Σ^{(L)}(x₁, x₁), E f⁴ = 3 E q_L² and the
    delta-method se(κ̂) from E f⁸; Hanin & Nica 2019); estimates: ``stats.moment_estimates``
    with the law's Var f² and se(κ̂) (bootstrap with ``seed`` where they are NaN).

    Args:
        x1: one input, (1, n0).
        predicted: ``{L: predicted Σ^{(L)}(x₁, x₁)}``; the study takes the depths L >= 2.
        widths: hidden widths n.
        n_samples: networks per cell, >= 2.
        seed: base seed, >= 0.
        device, activation, sigma_w, sigma_b: as for ``sample_prior``.

    Returns:
        ``MomentStudy`` over the cells (L, n), depths outer.

    Raises:
        ValueError: ``n_samples`` < 2 or ``seed`` < 0 (and the helpers' own checks).
    """
    from .empirical import sample_outputs_at_init
    from .kernels import finite_width_law
    from .stats import moment_estimates

    s, seed = _check_int("n_samples", n_samples, 2), _check_int("seed", seed, 0)
    net = dict(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    moments, laws = {}, {}
    predicted = {L: v for L, v in predicted.items() if L >= 2}
    for L in predicted:
        for n in widths:
            f = sample_outputs_at_init(x1, n_samples=s, width=n, depth=L, device=device,
                                       seed=seed + 10**6 + 1000 * L + n, **net)[:, 0].cpu().numpy()
            laws[L, n] = finite_width_law(x1, width=n, depth=L, n_samples=s, **net)
            moments[L, n] = moment_estimates(f, f2_variance=laws[L, n].f2_variance,
                                             kurtosis_se=laws[L, n].kurtosis_se, seed=seed)
    return MomentStudy(moments, laws, dict(predicted), activation)


def prior_metrics(*, ks: Any, covariance: Any, mmd: Any, perm_p: Any, upper: float,
                  study: MomentStudy) -> dict[str, Any]:
    """The metrics of notebook 01's results file, under their stored keys.

    Args:
        ks: ``{(L, n): (KS statistic, p-value)}``; covariance: ``{(L, n): stats.CovarianceCheck}``;
        mmd: ``{(L, n): (R,) MMD² repeats}``; perm_p: ``{L: permutation p at the widest width}``;
        upper: 95 % upper bound of MMD² at the widest width; study: the ``MomentStudy``.

    Returns:
        dict with the keys of the results file (the study's from ``MomentStudy.metrics``).

    Raises:
        ValueError: ``study`` is not a ``MomentStudy``.
    """
    if not isinstance(study, MomentStudy):
        raise ValueError(f"study must be a MomentStudy, got {type(study).__name__}")
    return {"ks (statistic, p) by (L, n)": ks, "covariance by (L, n)": covariance,
            "mmd2 repeats by (L, n)": mmd, "mmd2 permutation p at the widest width by L": perm_p,
            "mmd2 95% upper bound at the widest width": upper, **study.metrics()}


# ------------------------------------------------- issue 13: notebook 06's study objects and claims


@dataclass
class CurveCalibration:
    """Trained curves against limiting Gaussian bands (Jacot et al. 2018, Fig. 2).

    Attributes:
        inside: {(width, band name): fraction of the first ``n_shown`` curves' points inside
            μ ± z·σ} (``band_fraction``).
        interval: 95 % interval of that fraction for ``n_shown`` exact draws of the reference.
        pit: {width: ``curve_pit_distance`` of all its curves under the reference (μ, σ)}.
        pit_null: {width: [median, 1 − α quantile] of ``pit_distance_null`` for as many curves}.
        counts: {width: number of curves}; n_shown: curves per width in the figure; alpha: α.
        curves: {width: (E, G) curves}; mean, sd: (G,) reference μ, σ.
    """

    inside: dict
    interval: tuple
    pit: dict
    pit_null: dict
    counts: dict
    n_shown: int
    alpha: float
    curves: dict
    mean: Any
    sd: Any

    def pit_test(self, width: int) -> dict[str, Any]:
        """``measured`` (W), ``bound`` (the null quantile) and ``prediction`` (W as a function
        of the predicted variance's scale) for ``ClaimSet.less_than``."""
        curves, mean, sd = self.curves[width], self.mean, self.sd
        return dict(measured=self.pit[width], bound=self.pit_null[width][1],
                    prediction=lambda s: curve_pit_distance(curves, mean, sd, variance_scale=s))

    def metrics(self) -> dict[str, Any]:
        """The results-file entries (keys of notebook 06's ``jacot`` metrics)."""
        return {"inside_10_90": {f"{n}, {k}": v for (n, k), v in self.inside.items()},
                "pit_curves": self.counts, "exact_draw_interval_95": self.interval,
                "pit_distance": self.pit, "pit_null_median_and_quantile": self.pit_null}

    def __str__(self) -> str:
        lines = [f"n={n:>5}, {k} band: {f:.3f} of the points of {self.n_shown} curves inside the "
                 "10-90 % band" for (n, k), f in self.inside.items()]
        lines.append(f"exact draws of the limit: 95 % of runs of {self.n_shown} curves fall in "
                     f"[{self.interval[0]:.3f}, {self.interval[1]:.3f}]")
        lines += [f"n={n:>5}: PIT distance W = {self.pit[n]:.4f} from {self.counts[n]} curves; exact "
                  f"draws: median {med:.4f}, {100 * (1 - self.alpha):g} % quantile {q:.4f}"
                  for n, (med, q) in self.pit_null.items()]
        return "\n".join(lines)


def curve_calibration(curves: dict, bands: dict, cov: Any, *, n_shown: int, z: float, alpha: float,
                      seed: int = 0) -> CurveCalibration:
    """Band fractions and PIT distances of trained curves (``CurveCalibration``).

    Each width's first ``n_shown`` curves are checked against every band μ ± z·σ of ``bands``
    (``band_fraction``); all its curves give the PIT distance W under the first band's (μ, σ)
    (the reference, with joint covariance ``cov``), compared with the median and 1 − α
    quantile of W for as many exact draws (``pit_distance_null``, seed ``seed``).

    Args:
        curves: {width: (E, G) curves}; bands: {name: ((G,) μ, (G,) σ)}, the reference first;
        cov: (G, G) covariance of the reference; n_shown: 1 <= n_shown <= every E; z: band
            half-width in σ; alpha: level of the PIT quantile, in (0, 1).

    Returns:
        ``CurveCalibration``.

    Raises:
        ValueError: empty ``curves`` or ``bands``, bad ``n_shown`` or ``alpha``, or as the checks.
    """
    if len(curves) == 0 or len(bands) == 0:
        raise ValueError("curves and bands must each hold at least one entry")
    n_shown = _check_int("n_shown", n_shown, 1)
    if any(len(f) < n_shown for f in curves.values()) or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"n_shown must be <= every ensemble size and alpha in (0, 1), got "
                         f"n_shown={n_shown}, alpha={alpha}")
    mean, sd = next(iter(bands.values()))
    counts = {n: len(f) for n, f in curves.items()}
    inside = {(n, k): band_fraction(f[:n_shown], mu - z * s, mu + z * s)
              for n, f in curves.items() for k, (mu, s) in bands.items()}
    interval = band_fraction_interval(mean, cov, n_shown, seed=seed)
    pit = {n: curve_pit_distance(f, mean, sd) for n, f in curves.items()}
    pit_null = {n: np.quantile(pit_distance_null(mean, cov, c, seed=seed), [0.5, 1 - alpha])
                for n, c in counts.items()}
    return CurveCalibration(inside, interval, pit, pit_null, counts, n_shown, alpha, curves, mean, sd)


@dataclass
class EnsembleWidthStudy:
    """Ensembles at several widths against their Gaussian predictions (Lee et al. 2019, Fig. 2).

    Attributes:
        reports: {(width, variant): ``EnsembleReport``} over the trained times t > 0.
        samples: {(width, variant): (E, R, M) outputs at the trained times and test points}.
        references: {variant: ``dynamics.JointGaussian`` at the trained times and test points}.
        readout: ``PooledVariance`` of the extra readout-trained members at the widest width.
        widths, n_nets, readout_nets, times: the R trained times t.
    """

    reports: dict
    samples: dict
    references: dict
    readout: PooledVariance
    widths: list
    n_nets: int
    readout_nets: int
    times: list

    def gaps(self) -> dict[str, np.ndarray]:
        """{variant: (widths, 2) array of (gap, jackknife se)}."""
        variants = dict.fromkeys(k for _, k in self.reports)
        return {k: np.array([self.reports[n, k].gap for n in self.widths]) for k in variants}

    def z_test(self, variant: str, r: int) -> dict[str, Any]:
        """Max |z| of the widest ensemble's mean at trained time index r (0-based), its bound and
        the prediction (max |z| with the predicted mean × s) for ``ClaimSet.less_than``."""
        c, g = self.reports[self.widths[-1], variant].per_time[r], self.references[variant]
        f, mu = self.samples[self.widths[-1], variant][:, r].mean(0), g.mean[r]
        se = np.sqrt(g.variance[r] / self.n_nets)
        return dict(measured=c.max_abs_z, bound=c.z_bound,
                    prediction=lambda s: _max_abs_z(f, s * mu, se))

    def projection_test(self, variant: str, alpha: float) -> dict[str, Any]:
        """r of the widest ensemble, expected 1, tolerance its 1 − α half-width (``within``)."""
        c = self.reports[self.widths[-1], variant].projection
        return dict(measured=c.ratio, expected=1.0, tol=c.half_width(alpha))

    def trend_test(self, variant: str, alpha: float) -> dict[str, Any]:
        """gap(narrowest) − gap(widest) against z_{1−α}·√(se₁² + se₂²) (``greater_than``)."""
        (g_lo, se_lo), (g_hi, se_hi) = self.gaps()[variant][[0, -1]]
        threshold = float(_norm_ppf(1 - alpha) * math.hypot(se_lo, se_hi))
        return dict(measured=g_lo - g_hi, bound=threshold, resolution=threshold, resolution_kind="bound")

    def metrics(self) -> dict[str, Any]:
        """The results-file entries of notebook 06 (``lee_*`` keys)."""
        pooled = {f"{n}, {k}": vars(rep.pooled) for (n, k), rep in self.reports.items()}
        pooled[f"{self.widths[-1]}, readout-trained, {self.readout_nets} nets"] = vars(self.readout)
        return {"lee_max_abs_z": {f"{n}, {k}, t={self.times[r]:g}": vars(c)
                                  for (n, k), rep in self.reports.items() for r, c in enumerate(rep.per_time)},
                "lee_pooled_variance": pooled,
                "lee_mean_projection": {f"{n}, {k}": vars(r.projection) for (n, k), r in self.reports.items()},
                "lee_gap_and_jackknife_se": self.gaps()}

    def gaps_text(self, targets: dict[str, str]) -> str:
        """One line per variant: its gap ± se to ``targets[variant]`` at each width."""
        return "\n".join(f"{k:>16} gap to the {targets[k]} at t>0: "
                         + ", ".join(f"n={n}: {a:.4f} ± {b:.4f}" for n, (a, b) in zip(self.widths, g))
                         for k, g in self.gaps().items())

    def __str__(self) -> str:
        lines = [f"n={n:>4} {k:>16}: {rep}" for (n, k), rep in self.reports.items()]
        lines.append(f"n={self.widths[-1]:>4} readout-trained, {self.readout_nets} nets: {self.readout}")
        return "\n".join(lines)


def ensemble_width_study(runs: dict, references: dict, readout: Any, *, n_test: int, times: Any, alpha_z: float,
                         alpha_pooled: float = 0.01) -> EnsembleWidthStudy:
    """``ensemble_report`` of every width's every variant at the trained times (index 1 on) and
    the first ``n_test`` points against ``references[variant]``, and the pooled variance ratio
    of ``readout`` (extra readout-trained members at the widest width) against
    ``references["readout-trained"]``.

    Args:
        runs: {width: {variant: (E, R + 1, M') outputs at t = 0 and R trained times}};
        references: {variant: ``JointGaussian`` with mean (R, n_test)}; readout: (E', R + 1,
            n_test); times: (R + 1,) times (t = 0 first); alpha_z: level of the max |z| bound.

    Returns:
        ``EnsembleWidthStudy``.

    Raises:
        ValueError: empty ``runs``, a variant without reference, or as ``ensemble_report``.
    """
    if len(runs) == 0 or any(k not in references for fs in runs.values() for k in fs):
        raise ValueError(f"runs must be non-empty and every variant needs a reference, got "
                         f"{[list(fs) for fs in runs.values()]} and {list(references)}")
    samples = {(n, k): f[:, 1:, :n_test] for n, fs in runs.items() for k, f in fs.items()}
    reports = {(n, k): ensemble_report(f, references[k].mean, references[k].cov, alpha_z=alpha_z)
               for (n, k), f in samples.items()}
    pooled = pooled_variance_ratio(readout[:, 1:], references["readout-trained"].cov, alpha=alpha_pooled)
    trained_times = [float(t) for t in list(times)[1:]]
    return EnsembleWidthStudy(reports, samples, references, pooled, list(runs), len(next(iter(samples.values()))),
                      len(readout), trained_times)


def _norm_ppf(q: float) -> float:
    import scipy.stats

    return float(scipy.stats.norm.ppf(q))


def _max_abs_z(f: Any, mean: Any, se: Any) -> float:
    from .stats import max_abs_z

    return max_abs_z(f, mean, se)


@dataclass
class LimitBands:
    """Limiting Gaussians at a time t for several kernels (``limit_bands``).

    Attributes:
        bands: {name: ((G,) μ_t, (G,) σ_t)} float64 tensors, in the order of the kernels.
        cov: (G, G) covariance Σ_t of the first kernel's Gaussian.
        change: max_x |μ_t(x) − μ_∞(x)| of the first kernel (how converged t is).
    """

    bands: dict
    cov: Any
    change: float


def limit_bands(kernel_fns: dict, x_train: Any, y_train: Any, x_test: Any, t: float) -> LimitBands:
    """The NTK-GP of each kernel function at time t and at t = ∞ (``dynamics.gp_prediction`` on
    ``dynamics.kernel_blocks``; gradient flow, Jacot et al. 2018 §5 / Lee et al. 2019 eq. 16).

    Args:
        kernel_fns: {name: kernel function (x1, x2) → (NNGP, NTK)}, the reference first;
        x_train: (N, n0); y_train: (N,); x_test: (G, n0); t: finite time > 0.

    Returns:
        ``LimitBands``.

    Raises:
        ValueError: no kernel, t not finite and positive, or as ``gp_prediction``.
    """
    from .dynamics import gp_prediction, kernel_blocks

    if len(kernel_fns) == 0 or not (math.isfinite(float(t)) and float(t) > 0):
        raise ValueError(f"kernel_fns must be non-empty and t finite and > 0, got {len(kernel_fns)} "
                         f"kernels, t={t!r}")
    limits = {k: gp_prediction(kernel_blocks(fn, x_train, x_test), y_train, [float(t), math.inf])
              for k, fn in kernel_fns.items()}
    bands = {k: (g.mean[0], g.covariance[0].diagonal().clamp_min(0).sqrt()) for k, g in limits.items()}
    first = next(iter(limits.values()))
    return LimitBands(bands, first.covariance[0], float((first.mean[0] - first.mean[1]).abs().max()))


@dataclass
class GapRatioCheck:
    """Networks at the last time: nearer the NTK-GP at t = ∞ than the NNGP posterior?

    Attributes:
        gaps: [gap to the NTK-GP at t = ∞, gap to the NNGP posterior] (``gaps_to``).
        null: (n_rep,) ratios for ensembles of exact draws of the NTK-GP at the last time.
        alpha: level; bound: the 1 − α quantile of ``null``; time, width: for the printout.
    """

    gaps: list
    null: np.ndarray
    alpha: float
    bound: float
    time: float
    width: int

    @property
    def ratio(self) -> float:
        """gap to the NTK-GP at t = ∞ / gap to the NNGP posterior."""
        return self.gaps[0] / self.gaps[1]

    def test(self) -> dict[str, Any]:
        """``measured``, ``bound`` and the bound as resolution, for ``ClaimSet.less_than``."""
        return dict(measured=self.ratio, bound=self.bound, resolution=self.bound,
                    resolution_kind="bound")

    def metrics(self) -> dict[str, Any]:
        """The results-file entries (notebook 06's ``lee_end_gaps``, ``not_bayesian_ratio_bound``)."""
        return {"lee_end_gaps": dict(zip(["NTK-GP, t = inf", "NNGP posterior"], self.gaps)),
                "not_bayesian_ratio_bound": self.bound}

    def __str__(self) -> str:
        return (f"networks at t = {self.time:g}, n = {self.width}: gap to the NTK-GP at t = inf "
                f"{self.gaps[0]:.4f}, to the NNGP posterior {self.gaps[1]:.4f} (ratio {self.ratio:.3f}); "
                f"exact NTK-GP draws: median ratio {np.median(self.null):.3f}, "
                f"{100 * (1 - self.alpha):g} % quantile {self.bound:.3f}")


def gap_ratio_check(samples: Any, last: Any, blocks: Any, y_train: Any, *, alpha: float, time: float,
                    width: int, mean_factor: float = 1.0, n_rep: int = 1000, seed: int = 0) -> GapRatioCheck:
    """Gradient descent is not Bayesian inference (Lee et al. 2019, §2.3.1 and Fig. 2).

    With M = ``samples.shape[1]`` test points, the ends are the NTK-GP at t = ∞ and the NNGP
    posterior (``dynamics.gp_prediction(blocks, y, [∞], readout_only=False / True)`` on the
    first M points, means × ``mean_factor``); the ratio of the ensemble's ``gaps_to`` them is
    compared with its 1 − α quantile over ``gap_ratio_null`` ensembles of exact draws of
    ``last``, the (planted) NTK-GP at the last time.

    Args:
        samples: (E, M) outputs at the last time; last: ``dynamics.JointGaussian`` with mean
            (1, M); blocks: ``KernelBlocks`` whose first M test points are those of ``samples``;
        y_train: (N,); alpha: level in (0, 1); time, width: for the printout.

    Returns:
        ``GapRatioCheck``.

    Raises:
        ValueError: alpha outside (0, 1), or as ``gaps_to`` and ``gap_ratio_null``.
    """
    from .dynamics import gp_prediction

    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    m = np.asarray(samples).shape[1]
    ends = [gp_prediction(blocks, y_train, [math.inf], readout_only=ro) for ro in (False, True)]
    ends = [(g.mean[0, :m] * mean_factor, g.covariance[0].diagonal()[:m]) for g in ends]
    gaps = gaps_to(samples, ends)
    null = gap_ratio_null(last.mean, last.cov, len(samples), ends, n_rep=n_rep, seed=seed)
    return GapRatioCheck(gaps, null, float(alpha), float(np.quantile(null, 1 - alpha)), float(time), int(width))
