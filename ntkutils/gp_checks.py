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

All inputs are converted to float64 NumPy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .stats import _as_float64, _check_finite, _check_int


@dataclass(frozen=True)
class EnsembleComparison:
    """Ensemble statistics against a predicted Gaussian; see the module docstring.

    Attributes:
        max_abs_z: largest |m̂ − μ| / (σ/√E) over the cells; z_bound: its Bonferroni bound.
        var_ratio_min, var_ratio_max: extreme s²/σ² over the cells; var_ratio_bounds: (lo, hi).
        gap: mean squared W2 distance in units of σ²; gap_floor: its expectation under the null.
        n_members: E; n_cells: K (times × points compared).
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
    """E[(m̂−μ)² + (ŝ−σ)²]/σ² for E Gaussian draws: 1/E + 2(1 − c₄(E)), c₄ = E[ŝ]/σ."""
    e = _check_int("n_members", n_members, 2)
    c4 = math.sqrt(2.0 / (e - 1)) * math.exp(math.lgamma(e / 2) - math.lgamma((e - 1) / 2))
    return 1.0 / e + 2.0 * (1.0 - c4)


def compare_ensemble_to_gaussian(samples: Any, mean: Any, variance: Any, *, alpha: float = 0.05,
                                 min_variance: float = 1e-12) -> EnsembleComparison:
    """Compare ensemble draws with a predicted Gaussian, cell by cell.

    Args:
        samples: (E, *cells) ensemble outputs, e.g. (E, T, M) for T times and M test points.
        mean, variance: (*cells) predicted mean and variance.
        alpha: family-wise level of the bands (Bonferroni over the K cells).
        min_variance: cells whose predicted variance is below this are left out (e.g. training
            points at t = ∞, where the limit is deterministic).
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
    """Fraction of the points of ``curves`` (S, G) with lower ≤ value ≤ upper ((G,) each)."""
    c = _as_float64("curves", curves)
    lo, hi = _as_float64("lower", lower), _as_float64("upper", upper)
    if c.ndim != 2 or lo.shape != (c.shape[1],) or hi.shape != lo.shape:
        raise ValueError(f"curves must be (S, G) and lower, upper (G,), got {c.shape}, {lo.shape}, {hi.shape}")
    return float(((c >= lo) & (c <= hi)).mean())


def band_fraction_interval(mean: Any, cov: Any, n_curves: int, *, quantiles: tuple[float, float] = (0.1, 0.9),
                           coverage: float = 0.95, n_rep: int = 2000, seed: int = 0,
                           jitter: float = 0.0) -> tuple[float, float]:
    """Central ``coverage`` interval of ``band_fraction`` for ``n_curves`` exact draws of
    N(mean, cov) against its own ``quantiles`` band, by simulation (``n_rep`` repetitions).

    The expected fraction is q_hi − q_lo; the spread depends on how correlated the curve is.
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
