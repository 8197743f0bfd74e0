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
def _is_tensor(value: Any) -> bool:
    # torch is not imported here (keeps this leaf light); a tensor can only exist if it was.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _as_float64(name: str, value: Any) -> np.ndarray:
    """Array-like or torch tensor -> float64 ndarray (a copy only where needed)."""
    if _is_tensor(value):
        import torch

        value = value.detach().cpu().to(torch.float64).numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real numeric array, got {type(value).__name__}") from None
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} must contain only finite values, got {bad!r}")


def _check_positive(name: str, arr: np.ndarray) -> None:
    _check_finite(name, arr)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0]
        raise ValueError(f"{name} must contain only positive values (log-log fit), got {bad!r}")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_ci(ci: Any) -> float:
    try:
        out = float(ci)
    except (TypeError, ValueError):
        raise ValueError(f"ci must be a number in (0, 1), got {ci!r}") from None
    if not (0.0 < out < 1.0):
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    return out


def _check_positive_scalar(name: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive real number, got {value!r}") from None
    if not math.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return out


# --------------------------------------------------------------------------- log-log slopes
@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit of ``log y = intercept + slope · log x`` (natural logarithms).

    ``ci_low``/``ci_high`` are the bootstrap percentile interval of the slope and ``stderr``
    the standard deviation of the bootstrap slopes; all three are NaN when the data carry no
    information about the uncertainty (two points and a single repeat). ``n_points`` is the
    number of distinct x values fitted.
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

    Parameters
    ----------
    x : array-like, shape (P,)
        Positive, finite abscissae (e.g. widths ``n``); at least two distinct values.
    y : array-like, shape (P,) or (P, R)
        Positive, finite ordinates. With shape (P, R) row ``i`` holds R repeats (e.g. seeds)
        measured at ``x[i]``; the point estimate fits ``log(mean_r y[i, r])``.
    n_boot : int
        Number of bootstrap resamples (>= 1).
    seed : int
        Seed of the NumPy generator used for resampling (>= 0).
    ci : float in (0, 1)
        Coverage of the percentile interval.

    Bootstrap
    ---------
    * y of shape (P, R): the repeats are resampled with replacement *within* each x (the design
      with several seeds per width; the widths themselves are fixed), and each resample fits
      the log of the resampled means. With R = 1 the interval collapses to the point estimate.
    * y of shape (P,): a fixed-design residual bootstrap (Davison & Hinkley 1997, Alg. 6.3):
      leverage-adjusted, centred residuals ``e_i / sqrt(1 - h_ii)`` are resampled and added to
      the fitted line. With P = 2 the fit is exact and ``ci_low``, ``ci_high``, ``stderr`` are
      NaN. With few points the percentile interval is a little narrow (normal rather than
      Student-t quantiles).

    Returns a ``SlopeFit`` (slope, intercept in natural-log units, ci_low, ci_high, stderr,
    n_points).
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

    ``a`` and ``b``: torch tensors or array-likes of the same shape (any number of dimensions;
    the norm is the 2-norm of the flattened difference). If both are tensors the computation
    stays on their device in float64; otherwise both are converted to float64 NumPy arrays.
    NaN/Inf in the inputs propagate to the result (so a diverged run gives NaN, which a claim
    then marks FAIL). Raises ``ValueError`` on a shape mismatch (no broadcasting) or a zero
    reference.
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

    ``x``: shape (n, d), ``y``: shape (m, d) (1-D inputs are read as d = 1), n, m >= 2, any
    real dtype or torch tensor; computed in float64. Kernel
    ``k(a, b) = exp(−‖a − b‖² / (2 ℓ²))`` with ``ℓ = lengthscale`` (unit variance, as GPflow's
    RBF used by Matthews et al. 2018).

    MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j)
             − 2/(nm) Σ_{i,j} k(x_i, y_j)

    (Gretton et al. 2012, "A Kernel Two-Sample Test", JMLR 13:723, Lemma 6): the within-sample
    sums omit the diagonal, so the estimate is unbiased and can be negative when the two laws
    are equal. Returns a Python float.
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

    Returns ``(mmd2, p_value)`` with ``p_value = (1 + #{perm : MMD²_perm ≥ MMD²_obs}) /
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

    ``samples``: 1-D, shape (S,), S >= 1, finite (pass i.i.d. draws, e.g. one output over
    seeds; flattening correlated outputs would invalidate the test). ``variance`` > 0 (the
    predicted NNGP variance Σ(x, x), not a standard deviation). Uses
    ``scipy.stats.kstest(samples, "norm", args=(0, sqrt(variance)))``; returns
    ``(statistic, p_value)`` as floats.
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
    no small-sample correction. ``samples``: any shape with at least 2 values along ``axis``,
    finite. Returns a float for 1-D input, else a float64 array with ``axis`` removed. A
    constant slice (m2 = 0) gives NaN.
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

    ``samples``: array of shape (S, ...) whose rows (axis 0) are i.i.d. units, S >= 2, converted
    to float64. ``statistic``: maps an array of the same shape to a scalar; it is called once
    on ``samples`` and ``n_boot`` times on row-resamples drawn with replacement by
    ``numpy.random.default_rng(seed)``. Returns ``BootstrapResult(estimate, ci_low, ci_high,
    stderr, n_boot)`` with the ``(1 ± ci)/2`` quantiles of the bootstrap statistics (Efron &
    Tibshirani 1993, ch. 13). Non-finite bootstrap statistics make the interval NaN.
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
    """Log-log slope of ``statistic(samples[i])`` against ``x[i]``, with a bootstrap interval that
    resamples the i.i.d. samples at every x (not the fitted points).

    ``x``: (P,) positive; ``samples``: P arrays whose axis 0 indexes i.i.d. draws (e.g. outputs
    of independent initialisations at width x[i]); ``statistic`` must be positive on them (e.g.
    the excess kurtosis of a heavy-tailed law). Each bootstrap replicate recomputes all P
    statistics from resampled draws and refits the line.
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

    relative_error: ‖Ŝ − Σ‖_F / ‖Σ‖_F.
    noise_floor: its expected size from sampling alone if the draws were N(0, Σ):
        √(Σ_ij (Σ_ii Σ_jj + Σ_ij²) / S) / ‖Σ‖_F  (Wishart second moments).
    max_abs_z: max_ij |Ŝ_ij − Σ_ij| / se_ij, with se_ij the sample standard error of the mean
        of f_i f_j (no Gaussian assumption).
    """

    relative_error: float
    noise_floor: float
    max_abs_z: float
    n_samples: int


def covariance_check(samples: Any, reference: Any) -> CovarianceCheck:
    """Compare draws ``samples`` (S, N) of a centred random vector with the covariance
    ``reference`` (N, N); see ``CovarianceCheck``."""
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
    """``n_samples`` draws of N(0, cov + jitter·I) as an (n_samples, N) float64 array, via a
    Cholesky factor (``jitter`` > 0 for a singular ``cov``)."""
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
    """Weighted fit of ``y ≈ a · x^p · (1 + c/x)``: the exponent ``p`` of the leading power
    with the next-order (relative ``1/x``) correction, e.g. excess kurtosis κ(n) = a/n + b/n²
    (p = −1, c = b/a). ``x``, ``y``, ``stderr``: (P,) with P ≥ 4 (three parameters and at
    least one degree of freedom), ``y`` and ``stderr`` > 0. Returns a ``SlopeFit`` whose
    ``slope`` is p, ``intercept`` log a, and ``ci_low``/``ci_high`` the normal interval
    p ± z·se(p) from the weighted least-squares covariance (``scipy.optimize.curve_fit`` with
    ``absolute_sigma``), ``stderr`` se(p).
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
    """Exponential decay rate r of |values| ≈ C e^{−r t}: least squares of log|values| on t,
    using the points while |values| is above ``floor`` × its initial size (≥ 3 points needed,
    else NaN). ``t``, ``values``: 1-D of the same length, t increasing."""
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

    ``a``, ``b``: arrays or tensors of the same shape (flattened); ``b`` must be non-zero. Used as
    a per-network statistic of an empirical kernel ``a`` against a predicted kernel ``b``: a
    relative error ``δ`` of the prediction divides it by ``1 + δ``.
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

    ``t = (mean − expected) / stderr`` with ``dof = n − 1``; the interval is
    ``mean ± halfwidth`` with ``halfwidth = t_{(1+ci)/2, dof} · stderr``.
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

    ``weights``: optional positive (S,) inverse-variance weights, the model being
    ``Var(values[i]) = c / weights[i]`` with one unknown ``c`` (e.g. ``weights = n`` for a
    statistic whose variance falls as 1/width). The weighted mean ``Σ w v / Σ w`` has standard
    error ``√(ĉ / Σ w)`` with ``ĉ = Σ w (v − mean)² / (S − 1)``; without weights this is the
    ordinary t test (``scipy.stats.ttest_1samp``).
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

    ``x``: (P,) positive, P >= 3 distinct values; ``y``: (P, R), R >= 2 independent repeats per
    x (e.g. seeds) whose means must be positive (single repeats may be of any sign). The point
    estimate is the least-squares slope of ``log mean_r y[i]`` on ``log x[i]`` (as
    ``loglog_slope``). Its variance, by the delta method, is ``Σ c_i² s_i² / (R m_i²)`` with
    ``c_i`` the regression weights, ``m_i`` and ``s_i`` the mean and standard deviation of row
    i; the interval uses the t quantile with the Welch–Satterthwaite degrees of freedom. Unlike
    the percentile bootstrap over R repeats (narrow by ``√((R−1)/R)`` and normal quantiles), it
    keeps its coverage with few repeats. ``stderr``: the delta-method standard error.
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

    ``ci_low``/``ci_high``: Student-t interval of ``limit`` (Welch–Satterthwaite degrees of
    freedom ``dof``); ``stderr`` its standard error; ``n_points`` the number of widths.
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

    ``widths``: (P,) positive, P >= 3 distinct; ``values``: (P, R), R >= 2 independent repeats
    per width (e.g. networks with independent seeds). The per-width means ``m_i`` (standard
    errors ``s_i/√R``) are fitted by weighted least squares in ``1/n`` with weights ``1/s_i²``
    (so the wide, less noisy widths count more); the limit is a linear combination ``Σ c_i m_i``
    of the means, with variance ``Σ c_i² s_i²/R`` and Welch–Satterthwaite degrees of freedom,
    as in ``loglog_slope_t``. This is the leading order of a statistic that is a smooth function
    of a kernel whose mean and covariance have 1/n corrections; terms O(1/n²) are not modelled,
    so keep the widths large enough that b/n is small.
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
    """``ln(mean a / mean b)`` with a Welch t interval (delta method); ``halfwidth`` of the interval."""

    estimate: float
    ci_low: float
    ci_high: float
    stderr: float
    dof: float

    @property
    def halfwidth(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def log_mean_ratio(a: Any, b: Any, *, ci: float = 0.95) -> LogRatio:
    """Log of the ratio of the means of two independent positive samples ``a`` (A,) and ``b`` (B,),
    A, B >= 2, with the delta-method standard error ``√(s_a²/(A m_a²) + s_b²/(B m_b²))`` and a
    Student-t interval with Welch–Satterthwaite degrees of freedom (as ``loglog_slope_t``)."""
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
