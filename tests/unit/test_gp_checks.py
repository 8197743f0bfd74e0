"""Ensemble-vs-Gaussian checks, calibrated by Monte Carlo on exact Gaussian draws."""

import math

import numpy as np
import pytest

from ntkutils import gp_checks


@pytest.fixture
def gaussian():
    g = np.linspace(0, 1, 12)
    cov = np.exp(-((g[:, None] - g[None, :]) ** 2) / 0.1) + 1e-9 * np.eye(12)
    return np.sin(4 * g), cov


def _draws(mean, cov, e, seed):
    chol = np.linalg.cholesky(cov)
    return mean + np.random.default_rng(seed).standard_normal((e, mean.size)) @ chol.T


def test_gap_floor_is_the_expected_gap_of_exact_draws(gaussian):
    mean, cov = gaussian
    gaps = [gp_checks.compare_ensemble_to_gaussian(_draws(mean, cov, 20, s), mean, np.diag(cov)).gap for s in range(2000)]
    se = np.std(gaps) / math.sqrt(len(gaps))
    assert abs(np.mean(gaps) - gp_checks.gap_noise_floor(20)) < 4 * se
    # c4(E) by simulation of the standard deviation of E normals.
    s = np.random.default_rng(1).standard_normal((200000, 5)).std(1, ddof=1)
    c4 = 1 - (gp_checks.gap_noise_floor(5) - 1 / 5) / 2
    assert abs(s.mean() - c4) < 4 * s.std() / math.sqrt(s.size)


def test_bands_hold_at_their_level_and_catch_a_bias(gaussian):
    mean, cov = gaussian
    sd = np.sqrt(np.diag(cov))
    ok = [gp_checks.compare_ensemble_to_gaussian(_draws(mean, cov, 50, s), mean, np.diag(cov)) for s in range(200)]
    rate = np.mean([c.mean_within_band and c.variance_within_band for c in ok])
    assert rate >= 0.9                      # family-wise level 0.05 per check, Bonferroni is conservative
    biased = [gp_checks.compare_ensemble_to_gaussian(_draws(mean + sd, cov, 50, s), mean, np.diag(cov)) for s in range(20)]
    assert not any(c.mean_within_band for c in biased)
    wide = [gp_checks.compare_ensemble_to_gaussian(_draws(mean, 4 * cov, 50, s), mean, np.diag(cov)) for s in range(20)]
    assert not any(c.variance_within_band for c in wide)
    assert min(c.gap for c in biased) > 5 * ok[0].gap_floor


def test_band_fraction_interval_contains_the_nominal_fraction(gaussian):
    mean, cov = gaussian
    lo, hi = gp_checks.band_fraction_interval(mean, cov, 10, n_rep=3000, seed=0)
    assert lo < 0.8 < hi and hi - lo < 0.5
    sd = np.sqrt(np.diag(cov))
    fr = [gp_checks.band_fraction(_draws(mean, cov, 10, s), mean - 1.2815515655446004 * sd, mean + 1.2815515655446004 * sd)
          for s in range(300)]
    assert np.mean(fr) == pytest.approx(0.8, abs=0.02)
    assert lo <= np.quantile(fr, 0.1) and np.quantile(fr, 0.9) <= hi


def test_bad_inputs(gaussian):
    mean, cov = gaussian
    with pytest.raises(ValueError, match="samples must be"):
        gp_checks.compare_ensemble_to_gaussian(np.zeros((1, 12)), mean, np.diag(cov))
    with pytest.raises(ValueError, match="alpha"):
        gp_checks.compare_ensemble_to_gaussian(np.zeros((3, 12)), mean, np.diag(cov), alpha=1.5)
    with pytest.raises(ValueError, match="min_variance"):
        gp_checks.compare_ensemble_to_gaussian(np.zeros((3, 12)), mean, np.zeros(12))
    with pytest.raises(ValueError, match="curves"):
        gp_checks.band_fraction(np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="n_members"):
        gp_checks.gap_noise_floor(1)
    assert math.isfinite(gp_checks.gap_noise_floor(2))
