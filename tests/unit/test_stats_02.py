"""ntkutils.stats: projection_ratio, mean_test and loglog_slope_t against scipy, closed forms
and their coverage on simulated data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from ntkutils.stats import MeanTest, loglog_slope, loglog_slope_t, mean_test, projection_ratio


def test_projection_ratio_closed_form():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((5, 5))
    assert projection_ratio(1.3 * b, b) == pytest.approx(1.3, rel=1e-14)
    a = rng.standard_normal((5, 5))
    c = projection_ratio(a, b)
    assert np.sum((a - c * b) * b) == pytest.approx(0.0, abs=1e-12)  # residual orthogonal to b
    assert projection_ratio(torch.tensor(2 * b), torch.tensor(b)) == pytest.approx(2.0)


@pytest.mark.parametrize("a, b", [(np.ones(3), np.ones(4)), (np.ones(3), np.zeros(3))])
def test_projection_ratio_bad_inputs(a, b):
    with pytest.raises(ValueError):
        projection_ratio(a, b)


def test_mean_test_matches_scipy_ttest():
    v = np.random.default_rng(1).normal(1.1, 0.3, size=12)
    res = mean_test(v, expected=1.0, ci=0.99)
    ref = scipy.stats.ttest_1samp(v, 1.0)
    assert isinstance(res, MeanTest)
    assert res.t == pytest.approx(ref.statistic, rel=1e-12)
    lo, hi = ref.confidence_interval(0.99)
    assert (res.ci_low, res.ci_high) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))
    assert res.holds == (ref.pvalue > 0.01)


def test_mean_test_weighted_closed_form():
    v, w = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 1.0])
    res = mean_test(v, weights=w)
    assert res.mean == pytest.approx(9.0 / 4.0)
    c = float(w @ (v - 2.25) ** 2) / 2
    assert res.stderr == pytest.approx(math.sqrt(c / 4.0))
    assert res.halfwidth == pytest.approx(scipy.stats.t.ppf(0.975, 2) * res.stderr)


def test_mean_test_weighted_coverage():
    # Var(v_i) = 1 / n_i: the weighted interval covers the true mean at its nominal rate.
    rng = np.random.default_rng(2)
    n = np.repeat([500.0, 1000.0, 2000.0, 4000.0], 6)
    cover = [mean_test(1 + rng.standard_normal(n.size) / np.sqrt(n), weights=n, expected=1.0,
                       ci=0.9).holds for _ in range(2000)]
    assert np.mean(cover) == pytest.approx(0.9, abs=0.02)


@pytest.mark.parametrize("kwargs", [dict(values=[1.0]), dict(values=[1.0, np.nan]),
                                    dict(values=[1.0, 2.0], weights=[1.0, -1.0]),
                                    dict(values=[1.0, 2.0], weights=[1.0]),
                                    dict(values=[1.0, 2.0], ci=1.0)])
def test_mean_test_bad_inputs(kwargs):
    with pytest.raises(ValueError):
        mean_test(**kwargs)


def test_loglog_slope_t_point_estimate_matches_loglog_slope():
    x = np.array([64.0, 128, 256, 512])
    y = np.random.default_rng(3).lognormal(0, 0.1, size=(4, 5)) * x[:, None] ** -0.5
    fit, ref = loglog_slope_t(x, y), loglog_slope(x, y, n_boot=10)
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-12)
    assert fit.ci_low < fit.slope < fit.ci_high


def test_loglog_slope_t_coverage_with_five_repeats():
    # y = x^-1/2 (1 + 0.2 ε): the 95 % interval from 5 repeats covers -1/2 about 95 % of the time
    # (the within-x percentile bootstrap covers visibly less).
    rng = np.random.default_rng(4)
    x = np.array([64.0, 128, 256, 512, 1024, 2048, 4096])
    cover_t, cover_boot = [], []
    for k in range(600):
        y = x[:, None] ** -0.5 * (1 + 0.2 * rng.standard_normal((7, 5)))
        fit = loglog_slope_t(x, y, ci=0.95)
        cover_t.append(fit.ci_low <= -0.5 <= fit.ci_high)
        if k < 200:
            boot = loglog_slope(x, y, n_boot=400, seed=k)
            cover_boot.append(boot.ci_low <= -0.5 <= boot.ci_high)
    assert np.mean(cover_t) == pytest.approx(0.95, abs=0.025)
    assert np.mean(cover_boot) < np.mean(cover_t)


@pytest.mark.parametrize("x, y", [([1.0, 2.0], [[1.0, 2.0], [1.0, 2.0]]),
                                  ([1.0, 2.0, 4.0], [[1.0], [1.0], [1.0]]),
                                  ([1.0, 2.0, 4.0], [[1.0, 1.0], [-1.0, -2.0], [1.0, 1.0]]),
                                  ([1.0, 2.0, 4.0], [1.0, 2.0, 3.0])])
def test_loglog_slope_t_bad_inputs(x, y):
    with pytest.raises(ValueError):
        loglog_slope_t(x, y)
