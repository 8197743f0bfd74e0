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

* ``gd_gaussian``: the reference those are compared with for networks trained by gradient
  descent with step η (e^{−Θt/N} → (I − ηΘ/N)^k), jointly over times (``JointGaussian``).
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


# ---------------------------------------------------------------- issue 12: discrete-GD reference,
# pooled variance ratio with a correlation-aware χ² interval, PIT distance from uniformity.

@dataclass(frozen=True)
class JointGaussian:
    """Predicted outputs at R step counts and M test points, jointly over times.

    mean (R, M); cov (R·M, R·M), rows ordered (time, point) as ``mean.reshape(-1)``.
    """

    mean: np.ndarray
    cov: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        """(R, M) marginal variances."""
        return np.clip(np.diag(self.cov), 0.0, None).reshape(self.mean.shape)

    def select(self, times: Any, points: Any) -> "JointGaussian":
        """The prediction restricted to time indices ``times`` and point indices ``points``
        (e.g. ``slice(1, None)``, ``slice(0, 32)``): mean (R', M'), cov (R'·M', R'·M')."""
        idx = np.arange(self.mean.size).reshape(self.mean.shape)[times][:, points]
        flat = idx.reshape(-1)
        return JointGaussian(self.mean[times][:, points], self.cov[np.ix_(flat, flat)])

    def scaled(self, mean_factor: float) -> "JointGaussian":
        """The same prediction with its mean multiplied by ``mean_factor`` (a planted error)."""
        return JointGaussian(self.mean * mean_factor, self.cov)


def gd_gaussian(blocks: Any, y_train: Any, steps: Any, *, eta: float, readout_only: bool = False,
                normalization: str = "mean") -> JointGaussian:
    """NTK-GP (or readout-trained NNGP) of an infinitely wide net trained by **gradient descent**
    with step η, not gradient flow: the closed forms of Lee et al. 2019 (eqs. 14–15, S22–S23)
    with e^{−Θt/N} replaced by (I − ηΘ/N)^k after k steps.

    With the training kernel Θ (K for ``readout_only``) and P_k = Θ(x,X) Θ^{-1}(I − (I − ηΘ/N)^k),
    f_k(x) = f_0(x) + P_k (Y − f_0(X)) for f_0 ~ GP(0, K), so
        μ_k = P_k Y,  Cov(f_k(x), f_j(x')) = K(x,x') − P_k K(X,x') − K(x,X) P_jᵀ + P_k K(X,X) P_jᵀ.
    For Θ = K this is S23's K − K(x,X)K^{-1}(I − D_k²)K(X,x') at k = j. As η → 0 at fixed t = kη
    it tends to the gradient-flow ``dynamics.gp_prediction``.

    Args:
        blocks: ``dynamics.KernelBlocks`` (NNGP, NTK) pairs; y_train (N,); steps (R,) integers ≥ 0;
        normalization: "mean" (½·mean loss, rates λ/N) or "sum".
    """
    import torch

    (k_tr, th_tr), (k_te_tr, th_te_tr), (k_te, _) = blocks.train, blocks.test_train, blocks.test
    kern, kern_te_tr = (k_tr, k_te_tr) if readout_only else (th_tr, th_te_tr)
    kern, kern_te_tr, k_tr, k_te_tr, k_te = (_as_float64(n, v) for n, v in (
        ("kernel", kern), ("kernel_test_train", kern_te_tr), ("nngp_train", k_tr),
        ("nngp_test_train", k_te_tr), ("nngp_test", k_te)))
    y = _as_float64("y_train", torch.as_tensor(y_train))
    k_steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    if (k_steps < 0).any():
        raise ValueError(f"steps must be non-negative integers, got {k_steps.tolist()}")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be a positive finite number, got {eta!r}")
    if normalization not in ("mean", "sum"):
        raise ValueError(f"normalization must be 'mean' or 'sum', got {normalization!r}")
    n = kern.shape[0]
    lam, vec = np.linalg.eigh(0.5 * (kern + kern.T))
    step = eta * lam / (n if normalization == "mean" else 1.0)
    if (step >= 2).any() or (lam <= 0).any():
        raise ValueError(f"eta={eta!r} is unstable or the kernel is not positive definite (η·λ/N in "
                         f"[{step.min():.3g}, {step.max():.3g}], must lie in (0, 2))")
    gain = (1.0 - (1.0 - step)[None, :] ** k_steps[:, None]) / lam[None, :]           # (R, N)
    p = np.einsum("mi,ri,ni->rmn", kern_te_tr @ vec, gain, vec)                       # (R, M, N)
    r, m = p.shape[:2]
    pf = p.reshape(r * m, n)
    cross = np.tile(pf @ k_te_tr.T, (1, r))                                           # P_k K(X,x')
    cov = np.tile(k_te, (r, r)) - cross - cross.T + pf @ k_tr @ pf.T
    return JointGaussian(p @ y, 0.5 * (cov + cov.T))


@dataclass(frozen=True)
class PooledVariance:
    """Pooled variance ratio R = mean over cells of s²/σ² and its null distribution.

    Under exact Gaussian draws (E members, cell correlations ρ), E[R] = 1 and
    Var R = 2/(E−1) · mean(ρ²); R is approximated by χ²_ν/ν with ν = (E−1)/mean(ρ²)
    (Satterthwaite). ``interval``: the central 1 − α range of R under the null.
    ``se_jackknife``: the delete-one-member jackknife standard error of R, which also holds when
    the members are not Gaussian (heavy tails inflate the variance of s²).
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

    def __str__(self) -> str:
        return (f"pooled s²/σ² {self.ratio:.3f}, null {100 * (1 - self.alpha):g} % interval "
                f"[{self.interval[0]:.3f}, {self.interval[1]:.3f}] (ν = {self.dof:.0f}; se: Gaussian {self.se_gaussian:.3f}, "
                f"jackknife {self.se_jackknife:.3f}; E={self.n_members}, K={self.n_cells})")


def pooled_variance_ratio(samples: Any, cov: Any, *, alpha: float = 0.05, min_variance: float = 1e-12) -> PooledVariance:
    """Pool the variance ratios s²/σ² of all cells into one statistic with a χ² interval.

    Args:
        samples: (E, *cells) ensemble outputs (e.g. (E, R, M)); cov: (K, K) predicted joint
            covariance of the flattened cells (e.g. ``JointGaussian.cov``), whose correlations set
            the effective degrees of freedom; alpha: two-sided level of the interval.
        min_variance: cells with smaller predicted variance are left out.
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
    """Probability-integral transforms u = Φ((f − μ)/σ) of curves (S, G) under N(μ, σ²) per point:
    uniform on [0, 1] when the curves are draws of the Gaussian."""
    import scipy.stats

    c, mu, s = _as_float64("curves", curves), _as_float64("mean", mean), _as_float64("sd", sd)
    if c.ndim != 2 or mu.shape != (c.shape[1],) or s.shape != mu.shape or (s <= 0).any():
        raise ValueError(f"curves must be (S, G) and mean, sd (G,) with sd > 0, got {c.shape}, {mu.shape}, {s.shape}")
    return scipy.stats.norm.cdf((c - mu) / s)


def pit_distance(u: Any) -> float:
    """Wasserstein-1 distance between the empirical distribution of PIT values and U(0, 1):
    ∫|F̂(u) − u| du = mean |u_(i) − (i − ½)/n| up to O(1/n) (0 for perfect calibration, ≤ ½)."""
    v = np.sort(_as_float64("u", u).reshape(-1))
    n = v.size
    if n == 0 or (v < 0).any() or (v > 1).any():
        raise ValueError("u must be a non-empty array of values in [0, 1]")
    return float(np.mean(np.abs(v - (np.arange(n) + 0.5) / n)))


def pit_distance_null(mean: Any, cov: Any, n_curves: int, *, n_rep: int = 2000, seed: int = 0) -> np.ndarray:
    """``pit_distance`` of ``n_curves`` exact draws of N(mean, cov) against their own marginals,
    ``n_rep`` times (the curve's correlation along its points counts): (n_rep,) float64."""
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
    gives r = 1/(1 + δ). ``se``: its standard error under the prediction (E exact Gaussian draws
    with the predicted joint covariance): √(wᵀ C w / E), w = W μ / ⟨μ, μ⟩_W.
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
    """``MeanProjection`` of ensemble draws (E, *cells) on the predicted mean (*cells) with the
    predicted joint covariance (K, K) of the flattened cells (cells with variance ≤ min_variance
    are left out)."""
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
    """``gap`` of ``compare_ensemble_to_gaussian`` (mean over cells of [(m̂ − μ)² + (ŝ − σ)²]/σ²)
    and its delete-one-member jackknife standard error, for samples (E > 2, *cells) and the
    predicted mean, variance (*cells). The jackknife holds for non-Gaussian members too."""
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
