"""ntkutils.stats against independent computations (closed forms, naive loops, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

import ntkutils as nu

from ntkutils.stats import (
    BootstrapResult,
    SlopeFit,
    bootstrap_ci,
    excess_kurtosis,
    ks_normal,
    loglog_slope,
    mmd2_unbiased,
    mmd_permutation_test,
    relative_frobenius_error,
)


# --------------------------------------------------------------------------- loglog_slope
@pytest.mark.parametrize("slope,const", [(-0.5, 3.0), (-1.0, 0.2), (2.0, 1.0)])
def test_exact_power_law_recovered(slope: float, const: float) -> None:
    x = np.array([64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0])
    fit = loglog_slope(x, const * x**slope, n_boot=50)
    assert isinstance(fit, SlopeFit)
    assert fit.slope == pytest.approx(slope, abs=1e-12)
    assert fit.intercept == pytest.approx(math.log(const), abs=1e-10)
    assert fit.n_points == 6
    # No noise: the residual bootstrap has nothing to resample.
    assert fit.ci_low == pytest.approx(slope, abs=1e-10)
    assert fit.ci_high == pytest.approx(slope, abs=1e-10)
    np.testing.assert_allclose(fit.predict(x), const * x**slope, rtol=1e-10)


def test_slope_matches_scipy_linregress_on_logs() -> None:
    rng = np.random.default_rng(1)
    x = np.geomspace(10, 1000, 7)
    y = 2.0 * x**-0.7 * np.exp(0.2 * rng.normal(size=7))
    fit = loglog_slope(x, y, n_boot=200)
    ref = scipy.stats.linregress(np.log(x), np.log(y))
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-12)
    # bootstrap s.e. of the slope is comparable to the OLS standard error
    assert 0.5 * ref.stderr < fit.stderr < 1.5 * ref.stderr
    assert fit.ci_low < fit.slope < fit.ci_high


def test_repeats_point_estimate_is_log_of_mean() -> None:
    rng = np.random.default_rng(2)
    x = np.array([32.0, 64.0, 128.0, 256.0])
    y = x[:, None] ** -0.5 * rng.uniform(0.5, 1.5, size=(4, 6))
    fit = loglog_slope(x, y, n_boot=100)
    ref = scipy.stats.linregress(np.log(x), np.log(y.mean(axis=1)))
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.ci_low <= fit.slope <= fit.ci_high


def test_bootstrap_interval_covers_truth_1d() -> None:
    """Residual bootstrap, 12 points with multiplicative noise: the 90% interval covers the
    true slope in roughly 90% of simulated data sets (a little less: normal quantiles)."""
    rng = np.random.default_rng(3)
    x = np.geomspace(16, 4096, 12)
    hits = 0
    n_sim = 150
    for s in range(n_sim):
        y = 5.0 * x**-0.5 * np.exp(0.15 * rng.normal(size=x.size))
        fit = loglog_slope(x, y, n_boot=400, seed=s, ci=0.9)
        hits += fit.ci_low <= -0.5 <= fit.ci_high
    coverage = hits / n_sim
    assert 0.78 <= coverage <= 0.98, coverage


def test_bootstrap_interval_covers_truth_repeats() -> None:
    """Seeds-per-width design: y[i, r] = x_i^-1 · (1 + 0.3 ε), E y = x^-1 exactly."""
    rng = np.random.default_rng(4)
    x = np.array([64.0, 128.0, 256.0, 512.0, 1024.0])
    hits = 0
    widths = []
    n_sim = 150
    for s in range(n_sim):
        y = x[:, None] ** -1.0 * (1.0 + 0.3 * rng.uniform(-1.7, 1.7, size=(5, 12)) / 1.7)
        fit = loglog_slope(x, y, n_boot=400, seed=s, ci=0.9)
        hits += fit.ci_low <= -1.0 <= fit.ci_high
        widths.append(fit.ci_high - fit.ci_low)
    coverage = hits / n_sim
    assert 0.78 <= coverage <= 0.98, coverage
    # more noise -> wider interval (the interval does reflect the spread over repeats)
    y_noisy = x[:, None] ** -1.0 * np.exp(0.8 * rng.normal(size=(5, 12)))
    noisy = loglog_slope(x, y_noisy, n_boot=400)
    assert noisy.ci_high - noisy.ci_low > np.median(widths)


def test_single_repeat_and_two_points() -> None:
    x = np.array([10.0, 100.0])
    fit = loglog_slope(x, np.array([1.0, 0.1]))
    assert fit.slope == pytest.approx(-1.0)
    assert math.isnan(fit.ci_low) and math.isnan(fit.ci_high) and math.isnan(fit.stderr)
    fit2 = loglog_slope(x, np.array([[1.0, 2.0, 3.0], [0.1, 0.2, 0.3]]), n_boot=100)
    assert fit2.slope == pytest.approx(-1.0)
    assert fit2.ci_low < fit2.ci_high


def test_slope_is_seeded_and_accepts_tensors() -> None:
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    y = np.array([1.0, 0.8, 0.45, 0.36, 0.24])
    a = loglog_slope(x, y, n_boot=300, seed=7)
    assert loglog_slope(x, y, n_boot=300, seed=7) == a
    assert loglog_slope(x, y, n_boot=300, seed=8).ci_low != a.ci_low
    b = loglog_slope(torch.tensor(x), torch.tensor(y, dtype=torch.float32), n_boot=300, seed=7)
    for field in ("slope", "intercept", "ci_low", "ci_high", "stderr"):
        assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-6)


@pytest.mark.parametrize(
    "x,y,match",
    [
        ([1.0, 2.0, 3.0], [1.0, 0.0, 2.0], "y"),
        ([1.0, -2.0, 3.0], [1.0, 1.0, 2.0], "x"),
        ([1.0, 2.0, 3.0], [1.0, float("nan"), 2.0], "y"),
        ([1.0, float("inf"), 3.0], [1.0, 1.0, 2.0], "x"),
        ([1.0], [1.0], "at least 2"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "same number"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "distinct"),
        ([[1.0, 2.0]], [1.0, 2.0], "x must be 1-D"),
    ],
)
def test_slope_rejects_bad_input(x, y, match) -> None:
    with pytest.raises(ValueError, match=match):
        loglog_slope(np.array(x), np.array(y), n_boot=10)


@pytest.mark.parametrize("kw,match", [({"n_boot": 0}, "n_boot"), ({"ci": 1.0}, "ci"), ({"seed": -1}, "seed")])
def test_slope_rejects_bad_options(kw, match) -> None:
    with pytest.raises(ValueError, match=match):
        loglog_slope([1.0, 2.0, 4.0], [1.0, 2.0, 3.0], **kw)


def test_nonpositive_value_is_named() -> None:
    with pytest.raises(ValueError, match=r"y.*-3\.0"):
        loglog_slope([1.0, 2.0, 4.0], [1.0, -3.0, 3.0])


# --------------------------------------------------------------------------- relative error
def test_relative_frobenius_error_numpy_and_torch() -> None:
    rng = np.random.default_rng(5)
    b = rng.normal(size=(5, 7))
    a = b + 0.01 * rng.normal(size=(5, 7))
    expected = math.sqrt(((a - b) ** 2).sum()) / math.sqrt((b**2).sum())
    assert relative_frobenius_error(a, b) == pytest.approx(expected, rel=1e-12)
    got_t = relative_frobenius_error(torch.tensor(a), torch.tensor(b))
    assert isinstance(got_t, float)
    assert got_t == pytest.approx(expected, rel=1e-12)
    assert relative_frobenius_error(torch.tensor(a), b) == pytest.approx(expected, rel=1e-12)
    # b is the reference: not symmetric
    assert relative_frobenius_error(b, a) != pytest.approx(expected, rel=1e-6)
    assert relative_frobenius_error(b, b) == 0.0


def test_relative_frobenius_error_float32_is_promoted() -> None:
    b = torch.full((3, 3), 1.0e4, dtype=torch.float32)
    a = b + 1.0  # float32 spacing at 1e4 is ~1e-3, so +1 is exact
    assert relative_frobenius_error(a, b) == pytest.approx(1e-4, rel=1e-6)


def test_relative_frobenius_error_rejects() -> None:
    with pytest.raises(ValueError, match="shape"):
        relative_frobenius_error(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        relative_frobenius_error(torch.ones(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match="reference"):
        relative_frobenius_error(np.ones(3), np.zeros(3))


def test_relative_frobenius_error_propagates_nan() -> None:
    a = np.array([1.0, np.nan])
    assert math.isnan(relative_frobenius_error(a, np.ones(2)))


# --------------------------------------------------------------------------- MMD
def _naive_mmd2(x: np.ndarray, y: np.ndarray, ell: float) -> float:
    def k(a, b):
        return math.exp(-sum((ai - bi) ** 2 for ai, bi in zip(a, b)) / (2 * ell**2))

    n, m = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)


@pytest.mark.parametrize("n,m,d,ell", [(7, 5, 3, 0.8), (4, 9, 1, 2.0), (6, 6, 10, 0.5)])
def test_mmd2_matches_naive_double_loop(n, m, d, ell) -> None:
    rng = np.random.default_rng(n * 100 + m)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) + 0.3
    assert mmd2_unbiased(x, y, lengthscale=ell) == pytest.approx(_naive_mmd2(x, y, ell), rel=1e-10, abs=1e-14)


def test_mmd2_stable_for_large_offsets() -> None:
    """Data far from the origin: the centred distance formula keeps full accuracy."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(5, 3)) + 0.5
    ref = _naive_mmd2(x, y, 1.0)
    assert mmd2_unbiased(x + 1e6, y + 1e6, lengthscale=1.0) == pytest.approx(ref, rel=1e-8, abs=1e-12)


def test_mmd2_accepts_1d_and_tensors() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=8), rng.normal(size=6)
    ref = _naive_mmd2(x[:, None], y[:, None], 1.5)
    assert mmd2_unbiased(x, y, lengthscale=1.5) == pytest.approx(ref, rel=1e-10)
    assert mmd2_unbiased(torch.tensor(x), torch.tensor(y), lengthscale=1.5) == pytest.approx(ref, rel=1e-10)


def test_mmd2_unbiased_near_zero_for_same_law() -> None:
    """Unbiased: averaging over seeds, the mean is within ~3 standard errors of 0 (a biased
    V-statistic would be clearly positive), and individual estimates can be negative."""
    vals = []
    for s in range(30):
        rng = np.random.default_rng(100 + s)
        vals.append(mmd2_unbiased(rng.normal(size=(60, 3)), rng.normal(size=(50, 3)), lengthscale=1.0))
    vals = np.array(vals)
    se = vals.std(ddof=1) / math.sqrt(len(vals))
    assert abs(vals.mean()) < 3.5 * se
    assert (vals < 0).any()


def test_mmd2_positive_for_shifted_gaussians_and_population_value() -> None:
    """Shifted 1-D Gaussians N(0,1) vs N(μ,1) with an RBF kernel of lengthscale ℓ have
    MMD² = 2 sqrt(ℓ²/(ℓ²+2)) (1 − exp(−μ²/(2(ℓ²+2))))  (Gaussian integrals)."""
    ell, mu = 1.0, 1.0
    truth = 2 * math.sqrt(ell**2 / (ell**2 + 2)) * (1 - math.exp(-(mu**2) / (2 * (ell**2 + 2))))
    rng = np.random.default_rng(8)
    est = mmd2_unbiased(rng.normal(size=(800, 1)), rng.normal(size=(800, 1)) + mu, lengthscale=ell)
    assert est > 0
    assert est == pytest.approx(truth, rel=0.15)


def test_mmd2_rejects_bad_input() -> None:
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="lengthscale"):
        mmd2_unbiased(x, x, lengthscale=0.0)
    with pytest.raises(ValueError, match="lengthscale"):
        mmd2_unbiased(x, x, lengthscale=float("nan"))
    with pytest.raises(ValueError, match="dimension"):
        mmd2_unbiased(x, np.zeros((5, 3)), lengthscale=1.0)
    with pytest.raises(ValueError, match="at least 2"):
        mmd2_unbiased(np.zeros((1, 2)), x, lengthscale=1.0)
    with pytest.raises(ValueError, match="finite"):
        mmd2_unbiased(np.full((3, 2), np.nan), x, lengthscale=1.0)
    with pytest.raises(ValueError, match="shape"):
        mmd2_unbiased(np.zeros((3, 2, 2)), x, lengthscale=1.0)


def test_permutation_statistic_equals_mmd2_and_matches_loop() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(9, 2)) + 0.2
    mmd2, p = mmd_permutation_test(x, y, lengthscale=1.0, n_permutations=99, seed=3)
    assert mmd2 == pytest.approx(mmd2_unbiased(x, y, lengthscale=1.0), rel=1e-12, abs=1e-15)
    # Independent p-value: same permutations (same generator calls), statistic via the loop.
    pooled = np.concatenate([x, y])
    rng_p = np.random.default_rng(3)
    perms = rng_p.permuted(np.broadcast_to(np.arange(21), (99, 21)), axis=1)
    perm_stats = [_naive_mmd2(pooled[np.sort(p_[:12])], pooled[np.sort(p_[12:])], 1.0) for p_ in perms]
    expected_p = (1 + sum(s >= mmd2 - 1e-12 for s in perm_stats)) / 100
    assert p == pytest.approx(expected_p)


def test_permutation_p_small_for_different_laws() -> None:
    rng = np.random.default_rng(10)
    x = rng.normal(size=(80, 3))
    y = rng.normal(size=(80, 3)) + np.array([0.8, 0.0, 0.0])
    mmd2, p = mmd_permutation_test(x, y, lengthscale=1.5, n_permutations=199)
    assert mmd2 > 0
    assert p == pytest.approx(1 / 200)  # smallest attainable p-value


def test_permutation_p_uniform_for_same_law() -> None:
    ps = []
    for s in range(60):
        rng = np.random.default_rng(1000 + s)
        ps.append(mmd_permutation_test(rng.normal(size=(20, 2)), rng.normal(size=(25, 2)),
                                       lengthscale=1.0, n_permutations=99, seed=s)[1])
    ps = np.array(ps)
    assert ps.min() >= 1 / 100 and ps.max() <= 1.0
    assert 0.35 < ps.mean() < 0.65
    assert np.mean(ps <= 0.05) <= 0.2
    assert scipy.stats.kstest(ps, "uniform").pvalue > 1e-3


def test_permutation_rejects_bad_options() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="n_permutations"):
        mmd_permutation_test(x, x, lengthscale=1.0, n_permutations=0)
    with pytest.raises(ValueError, match="seed"):
        mmd_permutation_test(x, x, lengthscale=1.0, seed=1.5)


# --------------------------------------------------------------------------- KS, kurtosis
def test_ks_normal_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    s = rng.normal(scale=2.0, size=300)
    stat, p = ks_normal(s, variance=4.0)
    ref = scipy.stats.kstest(s / 2.0, "norm")  # independent route: standardise by hand
    assert stat == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)
    assert p > 1e-3
    # wrong variance is detected
    assert ks_normal(s, variance=1.0)[1] < 1e-6


def test_ks_normal_rejects() -> None:
    with pytest.raises(ValueError, match="variance"):
        ks_normal(np.ones(5), variance=-1.0)
    with pytest.raises(ValueError, match="1-D"):
        ks_normal(np.ones((5, 2)), variance=1.0)
    with pytest.raises(ValueError, match="finite"):
        ks_normal(np.array([0.0, np.inf]), variance=1.0)


def test_excess_kurtosis_values() -> None:
    rng = np.random.default_rng(12)
    # exact value on a known sample: {−1, +1} has m4/m2² = 1, excess −2
    assert excess_kurtosis(np.array([-1.0, 1.0, -1.0, 1.0])) == pytest.approx(-2.0)
    # Laplace has excess kurtosis 3, Gaussian 0, uniform −1.2
    assert excess_kurtosis(rng.laplace(size=200_000)) == pytest.approx(3.0, abs=0.25)
    assert excess_kurtosis(rng.normal(size=200_000)) == pytest.approx(0.0, abs=0.05)
    assert excess_kurtosis(rng.uniform(size=200_000)) == pytest.approx(-1.2, abs=0.02)
    # axis handling and agreement with scipy's biased Fisher kurtosis
    a = rng.normal(size=(50, 4))
    np.testing.assert_allclose(excess_kurtosis(a, axis=0), scipy.stats.kurtosis(a, axis=0), rtol=1e-10)
    np.testing.assert_allclose(excess_kurtosis(a.T, axis=1), scipy.stats.kurtosis(a, axis=0), rtol=1e-10)
    assert math.isnan(excess_kurtosis(np.ones(5)))


def test_excess_kurtosis_rejects() -> None:
    with pytest.raises(ValueError, match="axis"):
        excess_kurtosis(np.ones(5), axis=1)
    with pytest.raises(ValueError, match="at least 2"):
        excess_kurtosis(np.ones(1))


# --------------------------------------------------------------------------- bootstrap_ci
def test_bootstrap_ci_of_mean_matches_normal_theory() -> None:
    rng = np.random.default_rng(13)
    s = rng.normal(loc=1.0, scale=2.0, size=400)
    res = bootstrap_ci(s, np.mean, n_boot=1000, seed=0, ci=0.95)
    assert isinstance(res, BootstrapResult)
    assert res.estimate == pytest.approx(s.mean())
    se = s.std(ddof=1) / math.sqrt(s.size)
    assert res.stderr == pytest.approx(se, rel=0.15)
    assert res.ci_low == pytest.approx(s.mean() - 1.96 * se, abs=0.4 * se)
    assert res.ci_high == pytest.approx(s.mean() + 1.96 * se, abs=0.4 * se)
    again = bootstrap_ci(s, np.mean, n_boot=1000, seed=0, ci=0.95)
    assert again == res


def test_bootstrap_ci_resamples_rows() -> None:
    s = np.column_stack([np.arange(10.0), np.arange(10.0)])
    # each resample keeps rows intact, so the two columns stay equal
    res = bootstrap_ci(s, lambda a: float(np.abs(a[:, 0] - a[:, 1]).max()), n_boot=50)
    assert res.ci_low == res.ci_high == 0.0


def test_bootstrap_ci_rejects() -> None:
    with pytest.raises(ValueError, match="samples"):
        bootstrap_ci(np.ones(1), np.mean)
    with pytest.raises(ValueError, match="statistic"):
        bootstrap_ci(np.ones(5), "mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ci"):
        bootstrap_ci(np.ones(5), np.mean, ci=0.0)


def test_power_law_with_correction_recovers_the_leading_exponent_and_covers_it() -> None:
    n = np.array([4.0, 8.0, 16.0, 32.0, 64.0])
    exact = 3.0 / n + 5.0 / n ** 2
    fit = nu.stats.power_law_with_correction(n, exact, 0.01 * exact)
    assert fit.slope == pytest.approx(-1.0, abs=1e-6)
    # a plain log-log fit of the same curve is tilted by the 1/n² term
    assert nu.loglog_slope(n, exact, n_boot=1).slope < -1.1
    rng = np.random.default_rng(0)
    inside = 0
    for _ in range(200):
        noisy = exact * (1 + 0.02 * rng.standard_normal(n.size))
        f = nu.stats.power_law_with_correction(n, noisy, 0.02 * exact, ci=0.9)
        inside += f.ci_low <= -1.0 <= f.ci_high
    assert 0.8 <= inside / 200 <= 0.97  # nominal 90 % (linearised covariance)
    with pytest.raises(ValueError, match="length >= 4"):
        nu.stats.power_law_with_correction(n[:3], exact[:3], exact[:3])
