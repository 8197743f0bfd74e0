"""Notebook helpers: the exact one-hidden-layer kurtosis, bootstrap
slopes of sample statistics, covariance checks, Gaussian sampling, Q–Q plots."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import ntkutils as nu
from ntkutils import stats


def test_one_hidden_layer_kurtosis_formula():
    """Relu without bias: κ = 15/n exactly (E relu⁴ = 3q²/2, E relu² = q/2); and a large Monte
    Carlo sample agrees for erf with bias."""
    x = torch.tensor([[0.3, -1.2]], dtype=torch.float64)
    assert float(nu.kernels.one_hidden_layer_excess_kurtosis(x, width=5, sigma_b=None)) == pytest.approx(3.0, rel=1e-12)
    exact = float(nu.kernels.one_hidden_layer_excess_kurtosis(x, width=3, activation="erf", sigma_w=1.5, sigma_b=0.3))
    f = nu.sample_outputs_at_init(x, n_samples=400_000, width=3, depth=2, activation="erf", sigma_w=1.5,
                                  sigma_b=0.3, seed=0)[:, 0].numpy()
    assert nu.excess_kurtosis(f) == pytest.approx(exact, abs=0.03)


def test_bootstrap_loglog_slope_recovers_a_power_law():
    rng = np.random.default_rng(0)
    widths = [2, 4, 8, 16]
    # a statistic with a known law: the variance of N(0, 1/n) draws, ∝ n^{-1}
    samples = [rng.standard_normal(4000) / math.sqrt(n) for n in widths]
    fit = stats.bootstrap_loglog_slope(widths, samples, np.var, n_boot=200, seed=1)
    assert fit.ci_low < -1.0 < fit.ci_high and abs(fit.slope + 1) < 0.05
    with pytest.raises(ValueError, match="positive"):
        stats.bootstrap_loglog_slope(widths, samples, lambda a: -1.0)


def test_covariance_check_and_gaussian_sampling():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    draws = stats.sample_gaussian(cov, 20000, seed=0)
    good = stats.covariance_check(draws, cov)
    assert good.max_abs_z < 4 and good.relative_error < 3 * good.noise_floor
    bad = stats.covariance_check(draws, 1.1 * cov)
    assert bad.max_abs_z > 5
    with pytest.raises(ValueError, match="square"):
        stats.sample_gaussian(np.ones((2, 3)), 5)
    singular = stats.sample_gaussian(np.ones((2, 2)), 10, jitter=1e-6)
    assert singular.shape == (10, 2)


def test_qq_plot_draws_every_sample():
    fig = Figure()
    ax = fig.add_subplot()
    nu.qq_plot(ax, {"a": np.random.default_rng(0).standard_normal(500), "b": np.linspace(-1, 1, 50)})
    assert len(ax.lines) == 3


def test_decay_rate_of_an_exponential():
    t = np.linspace(0, 10, 50)
    assert stats.decay_rate(t, -3.0 * np.exp(-0.7 * t)) == pytest.approx(0.7, rel=1e-10)
    assert math.isnan(stats.decay_rate(t[:2], np.exp(-t[:2])))
    with pytest.raises(ValueError, match="equal length"):
        stats.decay_rate(t, t[:3])
