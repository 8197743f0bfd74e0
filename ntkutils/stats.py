"""Statistics used to check paper claims: log-log slopes with bootstrap intervals, relative
Frobenius errors, the unbiased MMD² with an RBF kernel and its permutation test, a KS test
against a centred normal, excess kurtosis, and a generic bootstrap interval.

A leaf module: it imports nothing else from ``ntkutils``. Everything is computed in float64
NumPy; torch tensors are accepted wherever arrays are (they are detached and moved to the CPU,
except in ``relative_frobenius_error`` which stays on the tensor's device). Every invalid input
raises ``ValueError`` naming the parameter and the value.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SlopeFit",
    "BootstrapResult",
    "loglog_slope",
    "relative_frobenius_error",
    "mmd2_unbiased",
    "mmd_permutation_test",
    "ks_normal",
    "excess_kurtosis",
    "bootstrap_ci",
    "bootstrap_loglog_slope",
    "CovarianceCheck",
    "covariance_check",
    "sample_gaussian",
    "decay_rate",
]


# --------------------------------------------------------------------------- input checks
# The checks live in ``_validation`` (the package's one validation module); the short local
# names keep the call sites below readable.
from ._validation import all_finite as _check_finite  # noqa: E402
from ._validation import all_positive as _check_positive  # noqa: E402
from ._validation import confidence_level as _check_ci  # noqa: E402
from ._validation import float64_array as _as_float64  # noqa: E402
from ._validation import int_in_range as _check_int  # noqa: E402
from ._validation import positive_float as _check_positive_scalar  # noqa: E402


def _is_tensor(value: Any) -> bool:
    # torch is not imported here; a tensor can only exist if it was.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


# --------------------------------------------------------------------------- log-log slopes
@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit of ``log y = intercept + slope · log x`` (natural logarithms).

    Attributes:
        slope: Fitted exponent.
        intercept: Fitted log prefactor (natural log).
        ci_low: Lower end of the bootstrap percentile interval of the slope.
        ci_high: Upper end of that interval.
        stderr: Standard deviation of the bootstrap slopes. ``ci_low``, ``ci_high`` and
            ``stderr`` are NaN when the data carry no information about the uncertainty (two
            points and a single repeat).
        n_points: Number of distinct x values fitted.
    """

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    stderr: float
    n_points: int

    def predict(self, x: Any) -> np.ndarray:
        """Fitted power law ``exp(intercept) · x**slope``; ``x`` any shape, float64 result."""
        return np.exp(self.intercept) * np.asarray(x, dtype=np.float64) ** self.slope

    def __str__(self) -> str:
        return f"slope {self.slope:.3g} [{self.ci_low:.3g}, {self.ci_high:.3g}] (n={self.n_points})"


def _ols_slopes(lx: np.ndarray, ly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched simple regression of ``ly[..., i]`` on ``lx[i]``: returns (slopes, intercepts)."""
    xc = lx - lx.mean()
    sxx = float(xc @ xc)
    slope = (ly @ xc) / sxx
    intercept = ly.mean(axis=-1) - slope * lx.mean()
    return slope, intercept


def loglog_slope(x: Any, y: Any, *, n_boot: int = 2000, seed: int = 0, ci: float = 0.95) -> SlopeFit:
    """Fit a power law ``y ≈ C · x^slope`` by least squares on ``(log x, log y)``.

    Bootstrap:

    * y of shape (P, R): the repeats are resampled with replacement *within* each x (the design
      with several seeds per width; the widths themselves are fixed), and each resample fits
      the log of the resampled means. With R = 1 the interval collapses to the point estimate.
    * y of shape (P,): a fixed-design residual bootstrap (Davison & Hinkley 1997, Alg. 6.3):
      leverage-adjusted, centred residuals ``e_i / sqrt(1 - h_ii)`` are resampled and added to
      the fitted line. With P = 2 the fit is exact and ``ci_low``, ``ci_high``, ``stderr`` are
      NaN. With few points the percentile interval is a little narrow (normal rather than
      Student-t quantiles).

    Args:
        x: Array-like, shape (P,). Positive, finite abscissae (e.g. widths ``n``); at least two
            distinct values.
        y: Array-like, shape (P,) or (P, R). Positive, finite ordinates. With shape (P, R) row
            ``i`` holds R repeats (e.g. seeds) measured at ``x[i]``; the point estimate fits
            ``log(mean_r y[i, r])``.
        n_boot: Number of bootstrap resamples (>= 1).
        seed: Seed of the NumPy generator used for resampling (>= 0).
        ci: Coverage of the percentile interval, in (0, 1).

    Returns:
        A ``SlopeFit`` (slope, intercept in natural-log units, ci_low, ci_high, stderr,
        n_points).

    Raises:
        ValueError: On bad shapes, too few points, or non-positive / non-finite values.
    """
    x_arr = _as_float64("x", x)
    y_arr = _as_float64("y", y)
    n_boot = _check_int("n_boot", n_boot, 1)
    seed = _check_int("seed", seed, 0)
    ci = _check_ci(ci)
    if x_arr.ndim != 1:
        raise ValueError(f"x must be 1-D of shape (P,), got shape {x_arr.shape}")
    if y_arr.ndim not in (1, 2):
        raise ValueError(f"y must have shape (P,) or (P, R), got shape {y_arr.shape}")
    if y_arr.shape[0] != x_arr.shape[0]:
        raise ValueError(
            f"x and y must have the same number of points, got x shape {x_arr.shape} "
            f"and y shape {y_arr.shape}"
        )
    if x_arr.shape[0] < 2:
        raise ValueError(f"need at least 2 points for a slope, got x shape {x_arr.shape}")
    if y_arr.ndim == 2 and y_arr.shape[1] < 1:
        raise ValueError(f"y must have at least one repeat per point, got shape {y_arr.shape}")
    _check_positive("x", x_arr)
    _check_positive("y", y_arr)
    if np.ptp(x_arr) == 0:
        raise ValueError(f"x must contain at least two distinct values, got {x_arr.tolist()!r}")

    lx = np.log(x_arr)
    p = x_arr.shape[0]
    rng = np.random.default_rng(seed)
    alpha = (1.0 - ci) / 2.0

    if y_arr.ndim == 2:
        ly = np.log(y_arr.mean(axis=1))
        slope, intercept = _ols_slopes(lx, ly)
        r = y_arr.shape[1]
        boot = np.empty(n_boot)
        chunk = max(1, int(4_000_000 // (p * r)))
        rows = np.arange(p)[None, :, None]
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            idx = rng.integers(0, r, size=(b, p, r))
            means = y_arr[rows, idx].mean(axis=2)  # (b, P)
            boot[start : start + b] = _ols_slopes(lx, np.log(means))[0]
    else:
        ly = np.log(y_arr)
        slope, intercept = _ols_slopes(lx, ly)
        if p == 2:
            return SlopeFit(float(slope), float(intercept), math.nan, math.nan, math.nan, p)
        fitted = intercept + slope * lx
        xc = lx - lx.mean()
        leverage = 1.0 / p + xc**2 / float(xc @ xc)
        resid = (ly - fitted) / np.sqrt(1.0 - leverage)
        resid = resid - resid.mean()
        idx = rng.integers(0, p, size=(n_boot, p))
        boot = _ols_slopes(lx, fitted[None, :] + resid[idx])[0]

    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    stderr = float(boot.std(ddof=1)) if n_boot > 1 else math.nan
    return SlopeFit(float(slope), float(intercept), float(lo), float(hi), stderr, p)


# --------------------------------------------------------------------------- errors
def relative_frobenius_error(a: Any, b: Any) -> float:
    """``‖a − b‖_F / ‖b‖_F`` with ``b`` the reference, as a Python float.

    If both are tensors the computation stays on their device in float64; otherwise both are
    converted to float64 NumPy arrays. NaN/Inf in the inputs propagate to the result (so a
    diverged run gives NaN, which a claim then marks FAIL).

    Args:
        a: Torch tensor or array-like, any number of dimensions (the norm is the 2-norm of the
            flattened difference).
        b: The reference, same type family and the same shape as ``a``.

    Returns:
        The relative error as a Python float.

    Raises:
        ValueError: On a shape mismatch (no broadcasting) or a zero reference.
    """
    if _is_tensor(a) and _is_tensor(b):
        import torch

        if a.shape != b.shape:
            raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
        a64 = a.detach().to(torch.float64)
        b64 = b.detach().to(device=a64.device, dtype=torch.float64)
        ref = float(torch.linalg.vector_norm(b64))
        diff = float(torch.linalg.vector_norm(a64 - b64))
    else:
        a_arr = _as_float64("a", a)
        b_arr = _as_float64("b", b)
        if a_arr.shape != b_arr.shape:
            raise ValueError(f"a and b must have the same shape, got {a_arr.shape} and {b_arr.shape}")
        ref = float(np.linalg.norm(b_arr.ravel()))
        diff = float(np.linalg.norm((a_arr - b_arr).ravel()))
    if ref == 0.0:
        raise ValueError("b (the reference) must have a non-zero Frobenius norm, got ‖b‖_F = 0")
    return diff / ref


# --------------------------------------------------------------------------- MMD
def _samples(name: str, value: Any) -> np.ndarray:
    arr = _as_float64(name, value)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) (or (n,) for d = 1), got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 samples, got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature, got shape {arr.shape}")
    _check_finite(name, arr)
    return arr


def _pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = _samples("x", x), _samples("y", y)
    if xa.shape[1] != ya.shape[1]:
        raise ValueError(f"x and y must have the same dimension d, got shapes {xa.shape} and {ya.shape}")
    # A common shift leaves every distance unchanged; centring on the pooled mean keeps the
    # norms small so that ‖a‖² + ‖b‖² − 2a·b loses little to cancellation.
    centre = np.concatenate([xa, ya]).mean(axis=0)
    return xa - centre, ya - centre


def _rbf(a: np.ndarray, b: np.ndarray, lengthscale: float) -> np.ndarray:
    """RBF kernel matrix exp(−‖a_i − b_j‖² / (2ℓ²)), shape (len(a), len(b)), float64.

    Squared distances use ‖a‖² + ‖b‖² − 2a·b on (pre-centred) inputs, clamped at 0, in place.
    """
    out = a @ b.T
    out *= -2.0
    out += np.einsum("ij,ij->i", a, a)[:, None]
    out += np.einsum("ij,ij->i", b, b)[None, :]
    np.maximum(out, 0.0, out=out)
    out *= -0.5 / lengthscale**2
    np.exp(out, out=out)
    return out


def mmd2_unbiased(x: Any, y: Any, *, lengthscale: float) -> float:
    """Unbiased estimate of the squared MMD between the laws of ``x`` and ``y``.

    Computed in float64 with kernel ``k(a, b) = exp(−‖a − b‖² / (2 ℓ²))`` (unit variance, as
    GPflow's RBF used by Matthews et al. 2018):

    MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j)
             − 2/(nm) Σ_{i,j} k(x_i, y_j)

    (Gretton et al. 2012, "A Kernel Two-Sample Test", JMLR 13:723, Lemma 6): the within-sample
    sums omit the diagonal, so the estimate is unbiased and can be negative when the two laws
    are equal.

    Args:
        x: Shape (n, d) (1-D inputs are read as d = 1), n >= 2, any real dtype or torch tensor.
        y: Shape (m, d) (1-D inputs are read as d = 1), m >= 2, any real dtype or torch tensor.
        lengthscale: ℓ > 0.

    Returns:
        MMD²_u as a Python float.
    """
    ell = _check_positive_scalar("lengthscale", lengthscale)
    xa, ya = _pair(x, y)
    n, m = xa.shape[0], ya.shape[0]
    kxx = _rbf(xa, xa, ell)
    sxx = kxx.sum() - np.trace(kxx)
    del kxx
    kyy = _rbf(ya, ya, ell)
    syy = kyy.sum() - np.trace(kyy)
    del kyy
    sxy = _rbf(xa, ya, ell).sum()
    return float(sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (n * m))


def _mmd2_from_masks(k0: np.ndarray, row_sums: np.ndarray, total: float, masks: np.ndarray,
                     n: int, m: int) -> np.ndarray:
    """MMD²_u for several splits of a pooled sample at once.

    ``k0``: pooled kernel (N, N) with zero diagonal; ``masks``: (B, N) float 0/1, 1 = "x".
    With a = mask: S_xx = aᵀK0a, S_xy = aᵀr − S_xx, S_yy = T − 2aᵀr + S_xx (r = K0·1, T = 1ᵀK0·1).
    """
    sxx = np.einsum("bn,bn->b", masks @ k0, masks)
    ar = masks @ row_sums
    sxy = ar - sxx
    syy = total - 2.0 * ar + sxx
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (n * m)


def mmd_permutation_test(x: Any, y: Any, *, lengthscale: float, n_permutations: int = 200,
                         seed: int = 0) -> tuple[float, float]:
    """Permutation two-sample test with statistic ``mmd2_unbiased`` (same kernel and shapes).

    The pooled (n+m)×(n+m) kernel matrix is built once; each permutation relabels which n
    pooled samples are "x" and its MMD²_u is a pair of matrix-vector products (batched as a
    matrix product), so n = m = 2000, d = 10, 200 permutations takes about a second or two.
    Memory: one float64 (n+m)² matrix.

    Args:
        x, y, lengthscale: As ``mmd2_unbiased``.
        n_permutations: Number of permutations (>= 1).
        seed: Seed of the NumPy generator (>= 0).

    Returns:
        ``(mmd2, p_value)`` with ``p_value = (1 + #{perm : MMD²_perm ≥ MMD²_obs}) /
        (1 + n_permutations)`` (the +1 correction makes the test exact at every level; Phipson &
        Smyth 2010). ``mmd2`` equals ``mmd2_unbiased(x, y, lengthscale=...)`` up to rounding.
    """
    ell = _check_positive_scalar("lengthscale", lengthscale)
    n_permutations = _check_int("n_permutations", n_permutations, 1)
    seed = _check_int("seed", seed, 0)
    xa, ya = _pair(x, y)
    n, m = xa.shape[0], ya.shape[0]
    pooled = np.concatenate([xa, ya])
    n_all = n + m
    k0 = _rbf(pooled, pooled, ell)
    np.fill_diagonal(k0, 0.0)
    row_sums = k0.sum(axis=1)
    total = float(row_sums.sum())

    observed_mask = np.zeros((1, n_all))
    observed_mask[0, :n] = 1.0
    observed = float(_mmd2_from_masks(k0, row_sums, total, observed_mask, n, m)[0])

    rng = np.random.default_rng(seed)
    base = np.arange(n_all)
    chunk = 64
    n_ge = 0
    for start in range(0, n_permutations, chunk):
        b = min(chunk, n_permutations - start)
        perms = rng.permuted(np.broadcast_to(base, (b, n_all)), axis=1)
        masks = np.zeros((b, n_all))
        np.put_along_axis(masks, perms[:, :n], 1.0, axis=1)
        stats_ = _mmd2_from_masks(k0, row_sums, total, masks, n, m)
        n_ge += int(np.count_nonzero(stats_ >= observed))
    p_value = (1.0 + n_ge) / (1.0 + n_permutations)
    return observed, p_value


# --------------------------------------------------------------------------- distribution tests
def ks_normal(samples: Any, variance: float) -> tuple[float, float]:
    """One-sample Kolmogorov–Smirnov test of ``samples`` against N(0, variance).

    Uses ``scipy.stats.kstest(samples, "norm", args=(0, sqrt(variance)))``.

    Args:
        samples: 1-D, shape (S,), S >= 1, finite (pass i.i.d. draws, e.g. one output over
            seeds; flattening correlated outputs would invalidate the test).
        variance: > 0 (the predicted NNGP variance Σ(x, x), not a standard deviation).

    Returns:
        ``(statistic, p_value)`` as floats.

    Raises:
        ValueError: If ``samples`` is not 1-D and non-empty, not finite, or ``variance`` ≤ 0.
    """
    s = _as_float64("samples", samples)
    if s.ndim != 1 or s.shape[0] < 1:
        raise ValueError(f"samples must be 1-D with at least one value, got shape {s.shape}")
    _check_finite("samples", s)
    var = _check_positive_scalar("variance", variance)
    import scipy.stats  # imported here: scipy.stats is slow to import and only needed here

    res = scipy.stats.kstest(s, "norm", args=(0.0, math.sqrt(var)))
    return float(res.statistic), float(res.pvalue)


def excess_kurtosis(samples: Any, axis: int = 0) -> float | np.ndarray:
    """Fisher excess kurtosis ``m4 / m2² − 3`` along ``axis`` (0 for a Gaussian).

    Uses the plain (biased, "method of moments") central moments
    ``m_k = mean((x − mean x)^k)``, i.e. ``scipy.stats.kurtosis(..., fisher=True, bias=True)``;
    no small-sample correction.

    Args:
        samples: Any shape with at least 2 values along ``axis``, finite.
        axis: Axis along which to compute the moments.

    Returns:
        A float for 1-D input, else a float64 array with ``axis`` removed. A constant slice
        (m2 = 0) gives NaN.

    Raises:
        ValueError: On a scalar, an out-of-range ``axis``, fewer than 2 values along it, or
            non-finite values.
    """
    s = _as_float64("samples", samples)
    if s.ndim == 0:
        raise ValueError("samples must have at least one dimension, got a scalar")
    if not -s.ndim <= axis < s.ndim:
        raise ValueError(f"axis must be in [{-s.ndim}, {s.ndim - 1}] for shape {s.shape}, got {axis!r}")
    if s.shape[axis] < 2:
        raise ValueError(f"samples must have at least 2 values along axis {axis}, got shape {s.shape}")
    _check_finite("samples", s)
    dev = s - s.mean(axis=axis, keepdims=True)
    m2 = np.mean(dev**2, axis=axis)
    m4 = np.mean(dev**4, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(m2 > 0, m4 / np.where(m2 > 0, m2, 1.0) ** 2 - 3.0, np.nan)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- generic bootstrap
@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate, percentile interval, and the bootstrap standard deviation."""

    estimate: float
    ci_low: float
    ci_high: float
    stderr: float
    n_boot: int


def bootstrap_ci(samples: Any, statistic: Callable[[np.ndarray], Any], n_boot: int = 2000,
                 seed: int = 0, ci: float = 0.95) -> BootstrapResult:
    """Nonparametric percentile bootstrap of ``statistic(samples)``.

    Args:
        samples: Array of shape (S, ...) whose rows (axis 0) are i.i.d. units, S >= 2,
            converted to float64.
        statistic: Maps an array of the same shape to a scalar; it is called once on
            ``samples`` and ``n_boot`` times on row-resamples drawn with replacement by
            ``numpy.random.default_rng(seed)``.
        n_boot: Number of resamples (>= 1).
        seed: Generator seed (>= 0).
        ci: Interval coverage, in (0, 1).

    Returns:
        ``BootstrapResult(estimate, ci_low, ci_high, stderr, n_boot)`` with the ``(1 ± ci)/2``
        quantiles of the bootstrap statistics (Efron & Tibshirani 1993, ch. 13). Non-finite
        bootstrap statistics make the interval NaN.

    Raises:
        ValueError: With fewer than 2 rows or a non-callable ``statistic``.
    """
    s = _as_float64("samples", samples)
    if s.ndim < 1 or s.shape[0] < 2:
        raise ValueError(f"samples must have at least 2 rows (axis 0), got shape {s.shape}")
    if not callable(statistic):
        raise ValueError(f"statistic must be callable, got {statistic!r}")
    n_boot = _check_int("n_boot", n_boot, 1)
    seed = _check_int("seed", seed, 0)
    ci = _check_ci(ci)
    estimate = float(statistic(s))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.shape[0], size=(n_boot, s.shape[0]))
    boot = np.array([float(statistic(s[i])) for i in idx])
    if not np.all(np.isfinite(boot)):
        return BootstrapResult(estimate, math.nan, math.nan, math.nan, n_boot)
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    stderr = float(boot.std(ddof=1)) if n_boot > 1 else math.nan
    return BootstrapResult(estimate, float(lo), float(hi), stderr, n_boot)


# --------------------------------------------------------------------------- statistics of samples vs x
def bootstrap_loglog_slope(x: Any, samples: list[Any], statistic: Callable[[np.ndarray], float], *,
                           n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> SlopeFit:
    """Log-log slope of ``statistic(samples[i])`` against ``x[i]``, with a bootstrap interval.

    The bootstrap resamples the i.i.d. samples at every x (not the fitted points): each
    replicate recomputes all P statistics from resampled draws and refits the line.

    Args:
        x: (P,) positive.
        samples: P arrays whose axis 0 indexes i.i.d. draws (e.g. outputs of independent
            initialisations at width x[i]).
        statistic: Must be positive on them (e.g. the excess kurtosis of a heavy-tailed law).
        n_boot: Number of bootstrap replicates.
        seed: Generator seed.
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``SlopeFit``.
    """
    x_arr = _as_float64("x", x)
    if x_arr.ndim != 1 or len(samples) != x_arr.shape[0] or x_arr.shape[0] < 2:
        raise ValueError(f"x must be 1-D with one entry per samples array (>= 2), got x of shape "
                         f"{x_arr.shape} and {len(samples)} sample arrays")
    _check_positive("x", x_arr)
    n_boot = _check_int("n_boot", n_boot, 1)
    ci = _check_ci(ci)
    arrays = [_as_float64(f"samples[{i}]", s) for i, s in enumerate(samples)]
    values = np.array([float(statistic(a)) for a in arrays])
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"statistic must be positive and finite at every x, got {values.tolist()}")
    lx = np.log(x_arr)
    slope, intercept = _ols_slopes(lx, np.log(values))
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    boot = np.empty((n_boot, len(arrays)))
    for j, a in enumerate(arrays):
        for b in range(n_boot):
            boot[b, j] = float(statistic(a[rng.integers(0, a.shape[0], size=a.shape[0])]))
    ok = np.all(boot > 0, axis=1)
    slopes, _ = _ols_slopes(lx, np.log(np.where(boot > 0, boot, 1.0)))
    slopes = slopes[ok]
    alpha = (1.0 - ci) / 2.0
    lo, hi = (np.quantile(slopes, [alpha, 1.0 - alpha]) if slopes.size > 1 else (math.nan, math.nan))
    return SlopeFit(float(slope), float(intercept), float(lo), float(hi),
                    float(slopes.std(ddof=1)) if slopes.size > 1 else math.nan, len(arrays))


@dataclass(frozen=True)
class CovarianceCheck:
    """Monte Carlo second moment Ŝ = mean_s f_s f_sᵀ of S zero-mean draws against a reference Σ.

    Attributes:
        relative_error: ‖Ŝ − Σ‖_F / ‖Σ‖_F.
        noise_floor: Its expected size from sampling alone if the draws were N(0, Σ):
            √(Σ_ij (Σ_ii Σ_jj + Σ_ij²) / S) / ‖Σ‖_F  (Wishart second moments).
        max_abs_z: max_ij |Ŝ_ij − Σ_ij| / se_ij, with se_ij the sample standard error of the
            mean of f_i f_j (no Gaussian assumption).
        n_samples: S.
    """

    relative_error: float
    noise_floor: float
    max_abs_z: float
    n_samples: int


def covariance_check(samples: Any, reference: Any) -> CovarianceCheck:
    """Compare draws of a centred random vector with a reference covariance.

    Args:
        samples: Draws, (S, N), S >= 2, finite.
        reference: The covariance Σ, (N, N).

    Returns:
        A ``CovarianceCheck`` (see there).

    Raises:
        ValueError: On mismatched shapes, S < 2 or non-finite samples.
    """
    f = _as_float64("samples", samples)
    sigma = _as_float64("reference", reference)
    if f.ndim != 2 or sigma.shape != (f.shape[1], f.shape[1]) or f.shape[0] < 2:
        raise ValueError(f"samples must be (S >= 2, N) and reference (N, N), got {f.shape} and {sigma.shape}")
    _check_finite("samples", f)
    s = f.shape[0]
    products = f[:, :, None] * f[:, None, :]
    est = products.mean(0)
    se = products.std(0, ddof=1) / math.sqrt(s)
    norm = np.linalg.norm(sigma)
    d = np.diag(sigma)
    floor = math.sqrt(float((np.outer(d, d) + sigma**2).sum()) / s) / norm
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(est - sigma) / np.where(se > 0, se, 1.0), 0.0)
    return CovarianceCheck(float(np.linalg.norm(est - sigma) / norm), floor, float(z.max()), s)


def sample_gaussian(cov: Any, n_samples: int, *, seed: int = 0, jitter: float = 0.0) -> np.ndarray:
    """Draws of N(0, cov + jitter·I) via a Cholesky factor.

    Args:
        cov: (N, N) covariance.
        n_samples: Number of draws (>= 1).
        seed: Generator seed (>= 0).
        jitter: ≥ 0 added to the diagonal (> 0 for a singular ``cov``).

    Returns:
        An (n_samples, N) float64 array.
    """
    c = _as_float64("cov", cov)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {c.shape}")
    jitter = float(jitter)
    if not (math.isfinite(jitter) and jitter >= 0):
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter!r}")
    chol = np.linalg.cholesky(0.5 * (c + c.T) + jitter * np.eye(c.shape[0]))
    z = np.random.default_rng(_check_int("seed", seed, 0)).standard_normal((_check_int("n_samples", n_samples, 1), c.shape[0]))
    return z @ chol.T


def power_law_with_correction(x: Any, y: Any, stderr: Any, *, ci: float = 0.95) -> SlopeFit:
    """Weighted fit of ``y ≈ a · x^p · (1 + c/x)``.

    The exponent ``p`` of the leading power with the next-order (relative ``1/x``) correction,
    e.g. excess kurtosis κ(n) = a/n + b/n² (p = −1, c = b/a).

    Args:
        x: (P,) with P ≥ 4 (three parameters and at least one degree of freedom).
        y: (P,), > 0.
        stderr: (P,), > 0.
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``SlopeFit`` whose ``slope`` is p, ``intercept`` log a, and ``ci_low``/``ci_high``
        the normal interval p ± z·se(p) from the weighted least-squares covariance
        (``scipy.optimize.curve_fit`` with ``absolute_sigma``), ``stderr`` se(p).
    """
    from scipy.optimize import curve_fit
    from scipy.stats import norm

    x_a, y_a, s_a = (_as_float64(name, v) for name, v in (("x", x), ("y", y), ("stderr", stderr)))
    if not (x_a.ndim == y_a.ndim == s_a.ndim == 1 and x_a.shape == y_a.shape == s_a.shape) or x_a.size < 4:
        raise ValueError(f"x, y, stderr must be 1-D of one length >= 4, got {x_a.shape}, {y_a.shape}, {s_a.shape}")
    for name, arr in (("x", x_a), ("y", y_a), ("stderr", s_a)):
        _check_positive(name, arr)
    ci = _check_ci(ci)
    model = lambda n, log_a, p, c: np.exp(log_a) * n ** p * (1.0 + c / n)
    start = loglog_slope(x_a, y_a, n_boot=1)
    params, cov = curve_fit(model, x_a, y_a, p0=(start.intercept, start.slope, 0.0), sigma=s_a,
                            absolute_sigma=True, maxfev=20000)
    se = float(math.sqrt(cov[1, 1])) if np.isfinite(cov[1, 1]) else math.nan
    z = float(norm.isf((1.0 - ci) / 2.0))
    return SlopeFit(float(params[1]), float(params[0]), float(params[1] - z * se), float(params[1] + z * se),
                    se, int(x_a.size))


def decay_rate(t: Any, values: Any, *, floor: float = 0.05) -> float:
    """Exponential decay rate r of |values| ≈ C e^{−r t}.

    Least squares of log|values| on t, using the points while |values| is above ``floor`` ×
    its initial size.

    Args:
        t: 1-D, increasing.
        values: 1-D, the same length as ``t``.
        floor: Relative threshold on |values|.

    Returns:
        r as a float (NaN with fewer than 3 points above the floor).
    """
    t_a, v_a = _as_float64("t", t), np.abs(_as_float64("values", values))
    if t_a.ndim != 1 or t_a.shape != v_a.shape:
        raise ValueError(f"t and values must be 1-D of equal length, got shapes {t_a.shape} and {v_a.shape}")
    keep = v_a > floor * v_a[0]
    if keep.sum() < 3:
        return math.nan
    return float(-np.polyfit(t_a[keep], np.log(v_a[keep]), 1)[0])


# ------------------------------------------------------------------- tests of means, t slopes
def projection_ratio(a: Any, b: Any) -> float:
    """``⟨a, b⟩_F / ‖b‖²_F``: the least-squares scale ``c`` of ``a ≈ c · b`` (1 when ``a = b``).

    Used as a per-network statistic of an empirical kernel ``a`` against a predicted kernel
    ``b``: a relative error ``δ`` of the prediction divides it by ``1 + δ``.

    Args:
        a: Array or tensor (flattened).
        b: Array or tensor of the same shape (flattened); must be non-zero.

    Returns:
        c as a float.

    Raises:
        ValueError: On a shape mismatch or a zero ``b``.
    """
    a_arr, b_arr = _as_float64("a", a), _as_float64("b", b)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"a and b must have the same shape, got {a_arr.shape} and {b_arr.shape}")
    norm2 = float(b_arr.ravel() @ b_arr.ravel())
    if norm2 == 0.0:
        raise ValueError("b must have a non-zero Frobenius norm, got ‖b‖_F = 0")
    return float(a_arr.ravel() @ b_arr.ravel()) / norm2


@dataclass(frozen=True)
class MeanTest:
    """A (weighted) mean with its standard error and a two-sided Student-t interval.

    Attributes:
        mean: The (weighted) mean.
        stderr: Its standard error.
        t: ``(mean − expected) / stderr`` with ``dof = n − 1``.
        halfwidth: ``t_{(1+ci)/2, dof} · stderr``; the interval is ``mean ± halfwidth``.
        n: Number of values.
        expected: The tested value.
        ci: Interval coverage.
    """

    mean: float
    stderr: float
    t: float
    halfwidth: float
    n: int
    expected: float
    ci: float

    @property
    def ci_low(self) -> float:
        return self.mean - self.halfwidth

    @property
    def ci_high(self) -> float:
        return self.mean + self.halfwidth

    @property
    def holds(self) -> bool:
        """True iff ``expected`` lies in the interval (the test does not reject it)."""
        return abs(self.mean - self.expected) <= self.halfwidth

    def __str__(self) -> str:
        return (f"mean {self.mean:.4g} ± {self.stderr:.2g} (se, n={self.n}); "
                f"{100 * self.ci:g} % interval "
                f"[{self.ci_low:.4g}, {self.ci_high:.4g}]; t = {self.t:+.2f}")


def mean_test(values: Any, *, weights: Any = None, expected: float = 0.0,
              ci: float = 0.95) -> MeanTest:
    """One-sample t test of the mean of ``values`` (shape (S,), S >= 2) against ``expected``.

    The weighted mean ``Σ w v / Σ w`` has standard error ``√(ĉ / Σ w)`` with
    ``ĉ = Σ w (v − mean)² / (S − 1)``; without weights this is the ordinary t test
    (``scipy.stats.ttest_1samp``).

    Args:
        values: Shape (S,), S >= 2, finite.
        weights: Optional positive (S,) inverse-variance weights, the model being
            ``Var(values[i]) = c / weights[i]`` with one unknown ``c`` (e.g. ``weights = n``
            for a statistic whose variance falls as 1/width).
        expected: The value tested against (finite).
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``MeanTest``.

    Raises:
        ValueError: On bad shapes, non-finite values, or non-positive weights.
    """
    v = _as_float64("values", values)
    if v.ndim != 1 or v.shape[0] < 2:
        raise ValueError(f"values must be 1-D with at least 2 entries, got shape {v.shape}")
    _check_finite("values", v)
    w = np.ones_like(v) if weights is None else _as_float64("weights", weights)
    if w.shape != v.shape:
        raise ValueError(f"weights must have the shape of values {v.shape}, got {w.shape}")
    _check_positive("weights", w)
    ci = _check_ci(ci)
    expected = float(expected)
    if not math.isfinite(expected):
        raise ValueError(f"expected must be finite, got {expected!r}")
    import scipy.stats  # slow to import; only needed here and in loglog_slope_t

    s = v.shape[0]
    mean = float(w @ v / w.sum())
    stderr = math.sqrt(float(w @ (v - mean) ** 2) / (s - 1) / float(w.sum()))
    half = float(scipy.stats.t.ppf(0.5 + ci / 2.0, s - 1)) * stderr
    t = (mean - expected) / stderr if stderr > 0 else math.copysign(math.inf, mean - expected)
    return MeanTest(mean, stderr, float(t), half, s, expected, ci)


def _grid_with_repeats(x_name: str, x: Any, y_name: str, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (P,) positive with >= 3 distinct values and ``y`` (P, R) finite with R >= 2, as float64."""
    x_arr, y_arr = _as_float64(x_name, x), _as_float64(y_name, y)
    if x_arr.ndim != 1 or y_arr.ndim != 2 or y_arr.shape[0] != x_arr.shape[0]:
        raise ValueError(f"{x_name} must be (P,) and {y_name} (P, R), got shapes {x_arr.shape} and {y_arr.shape}")
    if np.unique(x_arr).size < 3 or y_arr.shape[1] < 2:
        raise ValueError(f"need >= 3 distinct {x_name} and >= 2 repeats, got {x_name} {x_arr.tolist()} "
                         f"and {y_name} of shape {y_arr.shape}")
    _check_positive(x_name, x_arr)
    _check_finite(y_name, y_arr)
    return x_arr, y_arr


def _welch_interval(terms: np.ndarray, dofs: Any, ci: float) -> tuple[float, float, float]:
    """A linear combination of independent means with variance contributions ``terms`` (each
    estimated with ``dofs`` degrees of freedom, scalar or per term): its standard error, the
    Welch–Satterthwaite degrees of freedom and the Student-t half-width at level ``ci``."""
    import scipy.stats

    stderr = math.sqrt(float(terms.sum()))
    dof = float(terms.sum() ** 2 / (terms**2 / dofs).sum()) if stderr > 0 else math.inf
    return stderr, dof, float(scipy.stats.t.ppf(0.5 + ci / 2.0, dof)) * stderr


def loglog_slope_t(x: Any, y: Any, *, ci: float = 0.95) -> SlopeFit:
    """Log-log slope of the per-x means of repeats, with a Student-t (Welch) interval.

    The point estimate is the least-squares slope of ``log mean_r y[i]`` on ``log x[i]`` (as
    ``loglog_slope``). Its variance, by the delta method, is ``Σ c_i² s_i² / (R m_i²)`` with
    ``c_i`` the regression weights, ``m_i`` and ``s_i`` the mean and standard deviation of row
    i; the interval uses the t quantile with the Welch–Satterthwaite degrees of freedom. Unlike
    the percentile bootstrap over R repeats (narrow by ``√((R−1)/R)`` and normal quantiles), it
    keeps its coverage with few repeats.

    Args:
        x: (P,) positive, P >= 3 distinct values.
        y: (P, R), R >= 2 independent repeats per x (e.g. seeds) whose means must be positive
            (single repeats may be of any sign).
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``SlopeFit`` whose ``stderr`` is the delta-method standard error.
    """
    x_arr, y_arr = _grid_with_repeats("x", x, "y", y)
    ci = _check_ci(ci)
    m, r = y_arr.mean(axis=1), y_arr.shape[1]
    _check_positive("mean of y over repeats", m)
    lx = np.log(x_arr)
    slope, intercept = _ols_slopes(lx, np.log(m))
    c = (lx - lx.mean()) / float((lx - lx.mean()) @ (lx - lx.mean()))
    stderr, _, half = _welch_interval(c**2 * y_arr.var(axis=1, ddof=1) / (r * m**2), r - 1, ci)
    return SlopeFit(float(slope), float(intercept), float(slope) - half, float(slope) + half,
                    stderr, x_arr.shape[0])


__all__ += ["projection_ratio", "MeanTest", "mean_test", "loglog_slope_t"]


# --------------------------------------------------------------------------- 1/n extrapolation
@dataclass(frozen=True)
class WidthLimit:
    """Fit of per-width means to ``m(n) = limit + coefficient / n`` (leading finite-width order).

    Attributes:
        limit: The n → ∞ limit.
        coefficient: The coefficient of 1/n.
        ci_low: Lower end of the Student-t interval of ``limit``.
        ci_high: Upper end of that interval.
        stderr: Standard error of ``limit``.
        dof: Welch–Satterthwaite degrees of freedom of the interval.
        n_points: Number of widths.
    """

    limit: float
    coefficient: float
    ci_low: float
    ci_high: float
    stderr: float
    dof: float
    n_points: int

    @property
    def halfwidth(self) -> float:
        return (self.ci_high - self.ci_low) / 2

    def predict(self, n: Any) -> np.ndarray:
        """``limit + coefficient / n`` at widths ``n`` (any shape, float64)."""
        return self.limit + self.coefficient / np.asarray(n, dtype=np.float64)

    def __str__(self) -> str:
        return (f"limit {self.limit:.4g} [{self.ci_low:.4g}, {self.ci_high:.4g}], "
                f"coefficient {self.coefficient:.3g}/n ({self.n_points} widths)")


def inverse_width_limit(widths: Any, values: Any, *, ci: float = 0.95) -> WidthLimit:
    """Extrapolate a finite-width statistic to n → ∞ assuming ``E[value](n) = limit + b/n``.

    The per-width means ``m_i`` (standard errors ``s_i/√R``) are fitted by weighted least
    squares in ``1/n`` with weights ``1/s_i²`` (so the wide, less noisy widths count more); the
    limit is a linear combination ``Σ c_i m_i`` of the means, with variance ``Σ c_i² s_i²/R``
    and Welch–Satterthwaite degrees of freedom, as in ``loglog_slope_t``. This is the leading
    order of a statistic that is a smooth function of a kernel whose mean and covariance have
    1/n corrections; terms O(1/n²) are not modelled, so keep the widths large enough that b/n
    is small.

    Args:
        widths: (P,) positive, P >= 3 distinct.
        values: (P, R), R >= 2 independent repeats per width (e.g. networks with independent
            seeds).
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``WidthLimit``.

    Raises:
        ValueError: On bad shapes or a width whose repeats have zero variance.
    """
    n_arr, v = _grid_with_repeats("widths", widths, "values", values)
    ci = _check_ci(ci)
    r = v.shape[1]
    m, var = v.mean(axis=1), v.var(axis=1, ddof=1) / r
    if (var <= 0).any():
        raise ValueError(f"values must vary between repeats at every width, got variances {var.tolist()}")
    design = np.stack([np.ones_like(n_arr), 1.0 / n_arr], axis=1)
    w = 1.0 / var
    coef_map = np.linalg.solve(design.T @ (w[:, None] * design), (design * w[:, None]).T)  # (2, P)
    limit, b = coef_map @ m
    stderr, dof, half = _welch_interval(coef_map[0] ** 2 * var, r - 1, ci)
    return WidthLimit(float(limit), float(b), float(limit) - half, float(limit) + half, stderr, dof,
                      int(n_arr.shape[0]))


__all__ += ["WidthLimit", "inverse_width_limit"]


@dataclass(frozen=True)
class LogRatio:
    """``ln(mean a / mean b)`` with a Welch t interval (delta method).

    Attributes:
        estimate: ``ln(mean a / mean b)``.
        ci_low: Lower end of the interval.
        ci_high: Upper end of the interval.
        stderr: Delta-method standard error.
        dof: Welch–Satterthwaite degrees of freedom.
        halfwidth: Half-width of the interval (property).
    """

    estimate: float
    ci_low: float
    ci_high: float
    stderr: float
    dof: float

    @property
    def halfwidth(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def log_mean_ratio(a: Any, b: Any, *, ci: float = 0.95) -> LogRatio:
    """Log of the ratio of the means of two independent positive samples.

    With the delta-method standard error ``√(s_a²/(A m_a²) + s_b²/(B m_b²))`` and a Student-t
    interval with Welch–Satterthwaite degrees of freedom (as ``loglog_slope_t``).

    Args:
        a: (A,), A >= 2, finite, positive mean.
        b: (B,), B >= 2, finite, positive mean.
        ci: Interval coverage, in (0, 1).

    Returns:
        A ``LogRatio``.

    Raises:
        ValueError: On bad shapes, non-finite values or a non-positive mean.
    """
    xa, xb = _as_float64("a", a), _as_float64("b", b)
    for name, v in (("a", xa), ("b", xb)):
        if v.ndim != 1 or v.shape[0] < 2:
            raise ValueError(f"{name} must be 1-D with at least 2 entries, got shape {v.shape}")
        _check_finite(name, v)
        _check_positive(f"mean of {name}", np.array([v.mean()]))
    ci = _check_ci(ci)
    u = np.array([v.var(ddof=1) / (v.shape[0] * v.mean() ** 2) for v in (xa, xb)])
    stderr, dof, half = _welch_interval(u, np.array([xa.shape[0] - 1, xb.shape[0] - 1], dtype=np.float64), ci)
    est = math.log(xa.mean() / xb.mean())
    return LogRatio(est, est - half, est + half, stderr, dof)


__all__ += ["LogRatio", "log_mean_ratio"]


# --------------------------------------------------------------------------- network vs linearisation
def relative_gap(f: Any, f_lin: Any) -> np.ndarray:
    """Gap between two trajectories relative to the distance the second one travelled.

    ``‖f_t − f^lin_t‖_F / ‖f^lin_t − f^lin_0‖_F`` at every recorded time t (Lee et al. 2019,
    Fig. 3; the first entry, t = 0, has a zero denominator, clamped to 1e-300).

    Args:
        f, f_lin: (R, ...) of one shape, R recorded times (e.g. (R, M, k) test outputs of a
            network and of its linearisation), arrays or tensors; computed in float64.

    Returns:
        (R,) float64 array.

    Raises:
        ValueError: shapes differ or have no time axis.
    """
    import torch

    a = torch.as_tensor(f).detach().to(torch.float64).cpu()
    b = torch.as_tensor(f_lin).detach().to(torch.float64).cpu()
    if a.shape != b.shape or a.ndim == 0:
        raise ValueError(f"f and f_lin must have one shape (R, ...), got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    moved = (b - b[:1]).flatten(1).norm(dim=1).clamp_min(1e-300)
    return ((a - b).flatten(1).norm(dim=1) / moved).numpy()


def classification_accuracy(outputs: Any, targets: Any) -> float:
    """Fraction of rows whose largest output is at the target class.

    Args:
        outputs: (M, k) scores; targets: (M, k) one-hot (or any scores: their argmax is the
            class) or (M,) integer labels.

    Returns:
        The accuracy in [0, 1] (float).

    Raises:
        ValueError: shapes that do not match.
    """
    out = _as_float64("outputs", outputs)
    tgt = np.asarray(targets.detach().cpu() if _is_tensor(targets) else targets)
    labels = tgt.argmax(-1) if tgt.ndim == 2 else tgt
    if out.ndim != 2 or labels.shape != out.shape[:1] or tgt.ndim == 2 and tgt.shape != out.shape:
        raise ValueError(f"outputs must be (M, k) and targets (M, k) or (M,), got {out.shape} and "
                         f"{tgt.shape}")
    return float(np.mean(out.argmax(-1) == labels))


def interval_half_width(fit: Any) -> float:
    """Half the width of a fit's interval, ``(ci_high − ci_low) / 2``: a slope claim's resolution.

    Args:
        fit: A ``SlopeFit``, or any object with ``ci_low`` and ``ci_high``.

    Returns:
        The half-width (float).

    Raises:
        ValueError: If the interval ends are not finite or ``ci_high < ci_low``.
    """
    low, high = float(fit.ci_low), float(fit.ci_high)
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ValueError(f"the interval must be finite with ci_low <= ci_high, got [{low}, {high}]")
    return (high - low) / 2


__all__ += ["relative_gap", "classification_accuracy", "interval_half_width"]


# --------------------------------------------------------------------------- z-tests over many cells
def bonferroni_quantile(alpha: float, n_tests: int) -> float:
    """Two-sided standard-normal quantile at family-wise level ``alpha`` over ``n_tests`` tests.

    The threshold ``z`` with ``P(|Z| > z) = alpha / n_tests`` for ``Z ~ N(0, 1)``, i.e.
    ``Φ⁻¹(1 − alpha / (2 n_tests))`` (Bonferroni): the largest of ``n_tests`` independent or
    dependent ``|z|``-statistics exceeds it with probability at most ``alpha`` under the null.

    Args:
        alpha: family-wise false-rejection probability, in (0, 1).
        n_tests: number of tests, >= 1.

    Returns:
        The quantile as a float.

    Raises:
        ValueError: ``alpha`` outside (0, 1) or ``n_tests`` < 1.
    """
    a = float(alpha) if isinstance(alpha, (int, float, np.floating)) else math.nan
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    m = _check_int("n_tests", n_tests, 1)
    import scipy.stats  # imported here: scipy.stats is slow to import

    return float(scipy.stats.norm.isf(a / (2 * m)))


def max_abs_z(measured: Any, predicted: Any, stderr: Any) -> float:
    """Largest standardised deviation ``max_k |measured_k − predicted_k| / stderr_k``.

    The statistic of a cell-by-cell z-test (compare with ``bonferroni_quantile``); re-evaluated
    with ``predicted`` scaled by ``1 ± δ`` it gives a claim's resolution.

    Args:
        measured: (K,) estimates, finite.
        predicted: (K,) predictions, finite.
        stderr: (K,) standard errors of ``measured``, finite and > 0.

    Returns:
        The maximum as a float.

    Raises:
        ValueError: shapes differ, K = 0, or a value is not finite / a standard error not > 0.
    """
    m, p, s = (_as_float64(n, v) for n, v in (("measured", measured), ("predicted", predicted),
                                              ("stderr", stderr)))
    if not (m.ndim == 1 and m.shape == p.shape == s.shape and m.shape[0] >= 1):
        raise ValueError(f"measured, predicted, stderr must be 1-D of one length >= 1, got shapes "
                         f"{m.shape}, {p.shape}, {s.shape}")
    _check_finite("measured", m)
    _check_finite("predicted", p)
    _check_positive("stderr", s)
    return float(np.max(np.abs(m - p) / s))


# --------------------------------------------------------------------------- jittered MMD repeats
def add_jitter(samples: Any, variance: float, *, seed: int) -> np.ndarray:
    """``samples + √variance · ε`` with ε i.i.d. N(0, 1) from ``numpy.random.default_rng(seed)``.

    Matthews et al. (2018) add this jitter (variance 10⁻³) to network outputs before the MMD,
    matching the jitter of the GP samples' covariance.

    Args:
        samples: array of any shape, finite; converted to float64.
        variance: noise variance, finite and >= 0.
        seed: non-negative integer.

    Returns:
        float64 array of the shape of ``samples``.

    Raises:
        ValueError: non-finite samples, negative or non-finite variance, bad seed.
    """
    a = _as_float64("samples", samples)
    _check_finite("samples", a)
    v = float(variance) if isinstance(variance, (int, float, np.floating)) else math.nan
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"variance must be a finite number >= 0, got {variance!r}")
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    return a + math.sqrt(v) * rng.standard_normal(a.shape)


def mmd2_blocks(x: Any, y: Any, *, n_blocks: int, lengthscale: float, jitter: float = 0.0,
                seeds: Any = None) -> np.ndarray:
    """Independent repeats of the unbiased MMD²: block r of ``x`` against block r of ``y``.

    Rows ``r·S … (r+1)·S − 1`` of ``x`` (S = rows / ``n_blocks``) form block r; block r of ``x``
    gets ``add_jitter(·, jitter, seed=seeds[r])`` (no jitter when ``jitter`` is 0) and is
    compared with block r of ``y`` by ``mmd2_unbiased`` (RBF kernel of ``lengthscale``).

    Args:
        x: (R·S, N) draws of the first law (e.g. network outputs on N inputs).
        y: (R·S', N) draws of the second law (e.g. GP samples).
        n_blocks: R >= 1, dividing both row counts.
        lengthscale: RBF lengthscale, > 0.
        jitter: variance of the noise added to ``x``, >= 0.
        seeds: R non-negative integers (required when ``jitter`` > 0).

    Returns:
        (R,) float64 array of MMD² estimates.

    Raises:
        ValueError: bad shapes, R not dividing the row counts, missing or wrong number of seeds.
    """
    a, b = _as_float64("x", x), _as_float64("y", y)
    r_blocks = _check_int("n_blocks", n_blocks, 1)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] % r_blocks or b.shape[0] % r_blocks:
        raise ValueError(f"x and y must be 2-D with row counts divisible by n_blocks={r_blocks}, "
                         f"got shapes {a.shape} and {b.shape}")
    if jitter and (seeds is None or len(seeds) != r_blocks):
        raise ValueError(f"seeds must give one seed per block ({r_blocks}) when jitter > 0, got {seeds!r}")
    xs, ys = np.split(a, r_blocks), np.split(b, r_blocks)
    if jitter:
        xs = [add_jitter(xb, jitter, seed=s) for xb, s in zip(xs, seeds)]
    return np.array([mmd2_unbiased(xb, yb, lengthscale=lengthscale) for xb, yb in zip(xs, ys)])


# --------------------------------------------------------------------------- moments of one output
@dataclass(frozen=True)
class MomentEstimates:
    """Sample second moment and excess kurtosis of one output, with standard errors.

    Attributes:
        second: Mean of f².
        second_se: Its standard error.
        kurtosis: Sample excess kurtosis (``excess_kurtosis``).
        kurtosis_se: Its standard error.
    """

    second: float
    second_se: float
    kurtosis: float
    kurtosis_se: float


def moment_estimates(samples: Any, *, f2_variance: float = math.nan, kurtosis_se: float = math.nan,
                     n_boot: int = 200, seed: int = 0) -> MomentEstimates:
    """Mean of f² and excess kurtosis of i.i.d. draws f, each with a standard error.

    Standard errors come from the exact law where one is known, else from the sample: the mean
    of f² has ``√(Var f² / S)`` with ``Var f² = E f⁴ − (E f²)²`` given as ``f2_variance`` (else
    the sample standard deviation of f² over √S); the excess kurtosis takes ``kurtosis_se`` as
    given (e.g. ``kernels.finite_width_law``'s delta-method error), else the standard deviation
    of ``bootstrap_ci`` with ``n_boot`` resamples and ``seed``.

    Args:
        samples: (S,) draws, S >= 2, finite.
        f2_variance: exact Var f², or NaN for the sample's.
        kurtosis_se: exact standard error of the sample excess kurtosis, or NaN for the bootstrap.
        n_boot: bootstrap resamples (used only when ``kurtosis_se`` is NaN).
        seed: bootstrap seed.

    Returns:
        ``MomentEstimates(second, second_se, kurtosis, kurtosis_se)``.

    Raises:
        ValueError: samples not 1-D with >= 2 finite values; ``f2_variance`` or ``kurtosis_se``
            negative.
    """
    f = _as_float64("samples", samples)
    if f.ndim != 1 or f.shape[0] < 2:
        raise ValueError(f"samples must be 1-D with at least 2 values, got shape {f.shape}")
    _check_finite("samples", f)
    for name, value in (("f2_variance", f2_variance), ("kurtosis_se", kurtosis_se)):
        if not math.isnan(float(value)) and not float(value) >= 0:
            raise ValueError(f"{name} must be >= 0 or NaN, got {value!r}")
    f2 = f ** 2
    if math.isnan(float(f2_variance)):
        second_se = f2.std(ddof=1) / math.sqrt(f2.size)
    else:
        second_se = math.sqrt(float(f2_variance) / f2.size)
    if math.isnan(float(kurtosis_se)):
        kurtosis_se = bootstrap_ci(f, excess_kurtosis, n_boot=n_boot, seed=seed).stderr
    return MomentEstimates(float(f2.mean()), float(second_se), float(excess_kurtosis(f)),
                           float(kurtosis_se))


__all__ += ["bonferroni_quantile", "max_abs_z", "add_jitter", "mmd2_blocks", "MomentEstimates",
            "moment_estimates"]


# ------------------------------------------- claim statistics of notebook 04 (eigendirections)
def max_ratio_deviation(measured: Any, predicted: Any) -> float:
    """max_i |measured_i / predicted_i − 1|: the worst relative miss of a prediction.

    Args:
        measured, predicted: 1-D of one length (predicted non-zero), e.g. the networks' rate
            scales s_net and those of GD with their own initial kernels s_Θ̂0.
    Returns:
        The maximum (float; NaN if any ratio is NaN).
    Raises:
        ValueError: not 1-D of one non-zero length, or a zero prediction.
    """
    m, p = _as_float64("measured", measured), _as_float64("predicted", predicted)
    if m.ndim != 1 or m.shape != p.shape or m.size == 0:
        raise ValueError(f"measured and predicted must be 1-D of one non-zero length, "
                         f"got shapes {m.shape} and {p.shape}")
    if (p == 0).any():
        raise ValueError(f"predicted must be non-zero, got {p.tolist()}")
    return float(np.abs(m / p - 1).max())


def mean_abs_log_ratio(ratios: Any) -> float:
    """Mean |ln ratio| over all entries, NaNs ignored: how far ratios are from 1 on a log scale.

    A negative ratio (a component that grew) has no logarithm and is ignored like a NaN.

    Args:
        ratios: Fitted/predicted ratios (e.g. fitted decay rate / r_i), any shape.

    Returns:
        The mean (float).

    Raises:
        ValueError: For an empty input.
    """
    r = _as_float64("ratios", ratios)
    if r.size == 0:
        raise ValueError("ratios must not be empty")
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmean(np.abs(np.log(r))))


def mean_max_deviation(curves: Any, reference: Any) -> float:
    """Mean over curves of max_t |curve(t) − reference(t)| (sup-norm distance to a reference).

    Args:
        curves: (R, T) R curves on a common grid of T times; reference: (T,).
    Raises:
        ValueError: shapes do not match.
    """
    c, ref = _as_float64("curves", curves), _as_float64("reference", reference)
    if c.ndim != 2 or ref.ndim != 1 or c.shape[1] != ref.shape[0] or c.size == 0:
        raise ValueError(f"curves must be (R, T) and reference (T,), got shapes {c.shape} and {ref.shape}")
    return float(np.mean([float(np.abs(row - ref).max()) for row in c]))


__all__ += ["max_ratio_deviation", "mean_abs_log_ratio", "mean_max_deviation"]


# ------------------------------------------------------------------- 1/n bias of a pooled mean
@dataclass(frozen=True)
class InverseWidthBias:
    """``values ≈ limit + b / n``, fitted per unit (network) with weights ``n`` (``inverse_width_bias``).

    Attributes:
        limit: the intercept, the value as n → ∞.
        b: the coefficient of 1/n: a network of width n is biased by ``b / n`` on average.
        b_stderr: the standard error of ``b`` (residual variance on N − 2 degrees of freedom).
        n: the number N of units fitted.
    """

    limit: float
    b: float
    b_stderr: float
    n: int

    def pooled_bias(self, widths: Any) -> tuple[float, float]:
        """The bias of the n-weighted mean ``Σ n_i v_i / Σ n_i`` of M units at ``widths`` (M,),
        ``Σ n_i (b / n_i) / Σ n_i = b · M / Σ n_i``, and its standard error
        ``b_stderr · M / Σ n_i``. Raises ``ValueError`` for empty or non-positive widths."""
        n_arr = _as_float64("widths", widths)
        if n_arr.ndim != 1 or n_arr.shape[0] < 1:
            raise ValueError(f"widths must be 1-D and non-empty, got shape {n_arr.shape}")
        _check_positive("widths", n_arr)
        factor = n_arr.shape[0] / float(n_arr.sum())
        return self.b * factor, self.b_stderr * factor

    def __str__(self) -> str:
        return f"b = {self.b:+.2f} ± {self.b_stderr:.2f}"


def inverse_width_bias(widths: Any, values: Any) -> InverseWidthBias:
    """Weighted least squares of ``values_i = limit + b / n_i + ε_i`` with ``Var ε_i = c / n_i``.

    The model of a per-network statistic of an empirical kernel (e.g. ``projection_ratio``):
    its mean is biased by O(1/n) and its fluctuations have variance c/n (Hanin & Nica 2019;
    Dyer & Gur-Ari 2020). The fit minimises ``Σ n_i (v_i − limit − b/n_i)²``; the covariance of
    ``(limit, b)`` is ``s² (Dᵀ W D)⁻¹`` with ``D = [1, 1/n]``, ``W = diag(n)`` and ``s²`` the
    weighted residual variance on N − 2 degrees of freedom.

    Args:
        widths: (N,) positive widths n_i, float or int; at least 2 distinct values, N >= 3.
        values: (N,) finite values v_i, one per network.

    Returns:
        ``InverseWidthBias(limit, b, b_stderr, n=N)``.

    Raises:
        ValueError: shapes differ or are not 1-D, N < 3, fewer than 2 distinct widths, a width
            is not positive or a value is not finite.
    """
    n_arr, v = _as_float64("widths", widths), _as_float64("values", values)
    if n_arr.ndim != 1 or n_arr.shape != v.shape or n_arr.shape[0] < 3:
        raise ValueError(f"widths and values must be 1-D of one length >= 3, got shapes "
                         f"{n_arr.shape} and {v.shape}")
    _check_positive("widths", n_arr)
    _check_finite("values", v)
    if np.unique(n_arr).size < 2:
        raise ValueError(f"need at least 2 distinct widths, got {np.unique(n_arr).tolist()}")
    design = np.stack([np.ones_like(n_arr), 1.0 / n_arr], axis=1)
    gram = design.T @ (n_arr[:, None] * design)
    coef = np.linalg.solve(gram, design.T @ (n_arr * v))
    resid = v - design @ coef
    s2 = float(n_arr @ resid**2) / (n_arr.shape[0] - 2)
    cov = s2 * np.linalg.inv(gram)
    return InverseWidthBias(float(coef[0]), float(coef[1]), math.sqrt(float(cov[1, 1])),
                            int(n_arr.shape[0]))


__all__ += ["InverseWidthBias", "inverse_width_bias"]


@dataclass(frozen=True)
class MaxZTest:
    """A cell-by-cell z-test: K cells, each a measurement, its prediction and a standard error.

    ``statistic`` (property) is ``max_abs_z(measured, predicted, stderr)``; ``threshold``
    (property) the two-sided Bonferroni quantile at family-wise level ``alpha`` over the K
    cells; ``at_scale(s)`` the statistic with every prediction multiplied by ``s`` (a claim's
    resolution re-evaluates it at ``s = 1 ± δ``).

    Attributes:
        measured: (K,) float64 measurements.
        predicted: (K,) float64 predictions.
        stderr: (K,) float64 standard errors.
        alpha: Family-wise level.
    """

    measured: np.ndarray
    predicted: np.ndarray
    stderr: np.ndarray
    alpha: float

    @property
    def statistic(self) -> float:
        return self.at_scale(1.0)

    @property
    def threshold(self) -> float:
        return bonferroni_quantile(self.alpha, self.measured.shape[0])

    def at_scale(self, s: float) -> float:
        return max_abs_z(self.measured, s * self.predicted, self.stderr)


def max_z_test(rows: Any, *, alpha: float) -> MaxZTest:
    """Collect ``(measured, predicted, stderr)`` rows, one per cell, into a ``MaxZTest``.

    Args:
        rows: iterable of K triples of floats (K may be 0; the statistic then raises).
        alpha: family-wise false-rejection probability, in (0, 1).

    Returns:
        ``MaxZTest`` with (K,) float64 arrays.

    Raises:
        ValueError: a row that is not a triple, or ``alpha`` outside (0, 1).
    """
    table = [tuple(r) for r in rows]
    if any(len(r) != 3 for r in table):
        raise ValueError(f"rows must be (measured, predicted, stderr) triples, got {table!r}")
    a = float(alpha) if isinstance(alpha, (int, float, np.floating)) else math.nan
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    cols = np.array(table, dtype=np.float64).reshape(len(table), 3).T
    return MaxZTest(cols[0], cols[1], cols[2], a)


__all__ += ["MaxZTest", "max_z_test"]


# ------------------------------------------- a width-weighted mean test with its 1/n bias
@dataclass(frozen=True)
class PooledWidthMean:
    """A per-network statistic pooled over widths (``pooled_width_mean``).

    Attributes:
        widths, values: (U,) float64, every unit fitted for the bias (pooled ones first).
        min_width: units of the test have width >= ``min_width``.
        test: ``MeanTest`` of the n-weighted mean of the pooled units with n >= ``min_width``.
        bias: ``InverseWidthBias`` fitted on every unit (values ≈ limit + b/n).
        pooled_bias, pooled_bias_stderr: the bias b·M/Σn of the tested mean and its error.
    """

    widths: np.ndarray
    values: np.ndarray
    min_width: float
    test: MeanTest
    bias: InverseWidthBias
    pooled_bias: float
    pooled_bias_stderr: float

    def holds_at(self, expected: float) -> bool:
        """Whether ``expected`` (e.g. the prediction scaled by 1 + δ) lies in the interval."""
        return abs(self.test.mean - expected) <= self.test.halfwidth

    def __str__(self) -> str:
        return (f"{self.test}\n{self.bias}: bias of the pooled mean {self.pooled_bias:+.4f} ± "
                f"{self.pooled_bias_stderr:.4f}; a third of its standard error: "
                f"{self.test.stderr / 3:.4f}")


def pooled_width_mean(pooled: Any, extra: Any = (), *, min_width: float, expected: float = 1.0,
                      ci: float = 0.95) -> PooledWidthMean:
    """Test the n-weighted mean of a per-network statistic v (Var v = c/n) and bound its bias.

    The test is ``mean_test`` of the pooled units with n >= ``min_width``, weights n:
    v̄ = Σ n_i v_i / Σ n_i against ``expected``. Its bias E v̄ − v∞ = b·M/Σ n_i (M units) comes
    from ``inverse_width_bias`` (v ≈ v∞ + b/n, weights n) over all pooled and ``extra`` units.

    Args:
        pooled: (M, 2) pairs (width n_i, value v_i), the units that may enter the test.
        extra: (E, 2) pairs used only for the bias fit (e.g. many cheap narrow networks).
        min_width: the narrowest width tested; expected: the predicted mean; ci: the interval.

    Returns:
        ``PooledWidthMean``; ``widths``/``values`` are ``pooled`` followed by ``extra``.

    Raises:
        ValueError: pairs not of shape (·, 2), fewer than 2 tested units, or any input that
            ``mean_test`` / ``inverse_width_bias`` reject.
    """
    units = _as_float64("pooled", pooled)
    more = _as_float64("extra", extra)
    more = more.reshape(0, 2) if more.size == 0 else more
    if units.ndim != 2 or units.shape[1] != 2 or more.ndim != 2 or more.shape[1] != 2:
        raise ValueError(f"pooled and extra must be (width, value) pairs, got shapes "
                         f"{units.shape} and {more.shape}")
    tested = units[:, 0] >= float(min_width)
    test = mean_test(units[tested, 1], weights=units[tested, 0], expected=expected, ci=ci)
    widths, values = np.concatenate([units, more]).T
    bias = inverse_width_bias(widths, values)
    pooled_bias, pooled_bias_stderr = bias.pooled_bias(units[tested, 0])
    return PooledWidthMean(widths, values, float(min_width), test, bias, pooled_bias,
                           pooled_bias_stderr)


__all__ += ["PooledWidthMean", "pooled_width_mean"]


def ks_two_sample(a: Any, b: Any) -> float:
    """p-value of the two-sample Kolmogorov–Smirnov test that ``a`` and ``b`` share one law.

    Args:
        a, b: 1-D samples (tensors or arrays), at least two values each.

    Returns:
        The two-sided asymptotic p-value (``scipy.stats.ks_2samp``), a float.
    """
    import scipy.stats  # imported here, as in ks_normal

    x, y = _samples("a", a).ravel(), _samples("b", b).ravel()
    return float(scipy.stats.ks_2samp(x, y).pvalue)


__all__ += ["ks_two_sample"]
