"""The exact finite-width laws of notebook 07 and the reduced sampler, against independent
computations: full-weight networks (``sample_outputs_at_init``, ``MLP`` + ``empirical_ntk``),
closed forms, the analytic NTK, and the sampling spread of the estimators."""

import math

import numpy as np
import pytest
import torch

import ntkutils as nu
from ntkutils.expansion import ExpansionCell, ExpansionGrid

X = nu.sphere_uniform(1, 5, seed=3) * math.sqrt(5)        # one input, |x|^2 = n0
HE = math.sqrt(2.0)


def _full_weight_ntk(width, depth, n_nets, seed=0, **arch):
    """Θ̂(x, x) and f(x) of n_nets full-weight MLPs (independent of the reduced sampler)."""
    thetas, fs = [], []
    for s in range(n_nets):
        net = nu.MLP(X.shape[1], width, depth, seed=10_000 * seed + s, dtype=torch.float64, **arch)
        thetas.append(float(nu.empirical_ntk(net, X)[0, 0]))
        with torch.no_grad():
            fs.append(float(net(X)[0, 0]))
    return np.array(thetas), np.array(fs)


def _z(sample, expected):
    return (sample.mean() - expected) / (sample.std(ddof=1) / math.sqrt(sample.shape[0]))


# ----------------------------------------------------------------------------- the sampler
@pytest.mark.parametrize("arch", [dict(activation="relu", sigma_w=HE, sigma_b=None),
                                  dict(activation="tanh", sigma_w=1.5, sigma_b=0.3)], ids=["relu", "tanh-bias"])
def test_reduced_sampler_has_the_law_of_full_weight_networks(arch):
    theta_full, f_full = _full_weight_ntk(4, 3, 1500, **arch)
    reduced = nu.sample_output_and_ntk(X, n_samples=20000, width=4, depth=3, seed=1, **arch)
    assert nu.ks_two_sample(theta_full, reduced.ntk) > 1e-3
    assert nu.ks_two_sample(f_full, reduced.f) > 1e-3
    # the output's conditional variance G: f = sqrt(G) Z, so E f^2 = E G and f/sqrt(G) ~ N(0, 1)
    assert abs(_z(reduced.f ** 2 - reduced.variance, 0.0)) < 4
    alive = reduced.variance > 0                  # a relu net with a dead layer has f = G = 0
    assert nu.ks_normal(reduced.f[alive] / np.sqrt(reduced.variance[alive]), 1.0)[1] > 1e-3


def test_reduced_sampler_outputs_match_the_batched_full_weight_sampler():
    full = nu.sample_outputs_at_init(X, n_samples=20000, width=6, depth=4, sigma_w=HE, sigma_b=None, seed=2)
    reduced = nu.sample_output_and_ntk(X, n_samples=20000, width=6, depth=4, sigma_w=HE, seed=3)
    assert nu.ks_two_sample(full[:, 0], reduced.f) > 1e-3


def test_reduced_sampler_is_deterministic_and_checks_its_input():
    a = nu.sample_output_and_ntk(X, n_samples=50, width=8, depth=3, seed=7, chunk=16)
    b = nu.sample_output_and_ntk(X, n_samples=50, width=8, depth=3, seed=7, chunk=16)
    assert np.array_equal(a.ntk, b.ntk) and np.array_equal(a.f, b.f)
    with pytest.raises(ValueError, match="one input"):
        nu.sample_output_and_ntk(torch.ones(2, 5, dtype=torch.float64), n_samples=5, width=4, depth=2)
    with pytest.raises(ValueError, match="n_samples"):
        nu.sample_output_and_ntk(X, n_samples=0, width=4, depth=2)
    with pytest.raises(ValueError, match="activation"):
        nu.sample_output_and_ntk(X, n_samples=5, width=4, depth=2, activation="softplus")


# ----------------------------------------------------------------------------- exact laws
@pytest.mark.parametrize("width", [1, 3, 16])
def test_one_hidden_layer_moments_are_the_scaled_chi_square_of_2K_degrees(width):
    g = 2.0 * float((X * X).sum()) / X.shape[1]
    m = nu.one_hidden_layer_ntk_moments(X, width=width, sigma_w=HE)
    assert m[0] == pytest.approx(2 * g, rel=1e-12)                     # = Θ_∞(x, x)
    assert m[1] / m[0] ** 2 - 1 == pytest.approx(3 / width, rel=1e-12)
    assert np.allclose(nu.relu_ntk_moments(X, width=width, depth=2, sigma_w=HE, max_order=4), m, rtol=1e-12)


@pytest.mark.parametrize("width, depth, sigma_w", [(1, 3, HE), (2, 4, 1.0), (7, 6, 1.3), (64, 9, HE)])
def test_exact_ntk_mean_is_the_infinite_width_ntk(width, depth, sigma_w):
    limit = float(nu.analytic_kernels(X, X, depth=depth, activation="relu", sigma_w=sigma_w, sigma_b=None).ntk[0, 0])
    assert nu.relu_ntk_moments(X, width=width, depth=depth, sigma_w=sigma_w, max_order=1)[0] == pytest.approx(limit, rel=1e-12)


def test_exact_ntk_moments_match_full_weight_networks():
    theta, _ = _full_weight_ntk(3, 4, 3000, seed=1, activation="relu", sigma_w=HE, sigma_b=None)
    m = nu.relu_ntk_moments(X, width=3, depth=4, sigma_w=HE, max_order=4)
    assert abs(_z(theta, m[0])) < 4
    assert abs((theta ** 2).mean() - m[1]) / math.sqrt((m[3] - m[1] ** 2) / theta.shape[0]) < 4


def test_exact_ntk_moments_match_the_reduced_sampler_to_the_fourth_order():
    d = nu.sample_output_and_ntk(X, n_samples=400_000, width=8, depth=6, sigma_w=HE, seed=5).ntk
    m = nu.relu_ntk_moments(X, width=8, depth=6, sigma_w=HE, max_order=4)
    for k in (1, 2):
        assert abs(_z(d ** k, m[k - 1])) < 4, k
    # higher orders where the sample moments are not dominated by the tail (β = 1/16)
    d = nu.sample_output_and_ntk(X, n_samples=400_000, width=32, depth=3, sigma_w=HE, seed=6).ntk
    m = nu.relu_ntk_moments(X, width=32, depth=3, sigma_w=HE, max_order=4)
    assert np.allclose([(d ** k).mean() for k in (3, 4)], m[2:], rtol=0.01)


def test_output_law_is_one_plus_five_over_n_to_the_hidden_layers():
    for n, depth in [(4, 2), (16, 5), (100, 9)]:
        m2, m4 = (float(v[0]) for v in nu.relu_output_moments(X, width=n, depth=depth, sigma_w=HE, sigma_b=None))
        assert m4 / (3 * m2 ** 2) == pytest.approx((1 + 5 / n) ** (depth - 1), rel=1e-12)


def test_ratio_standard_error_matches_the_sampling_spread():
    rng = np.random.default_rng(0)          # U ~ Exp(1): E U^k = k!, T = E U²/(E U)² = 2
    estimates = [(u ** 2).mean() / u.mean() ** 2 for u in rng.exponential(size=(400, 2000))]
    se = nu.ratio_standard_error([1, 2, 6, 24], 2000)
    assert np.std(estimates) == pytest.approx(se, rel=0.15)


# ----------------------------------------------------------------------------- the grid's tests
def _cell(depth, width, ntk_ratio, ntk_exact, variance_ratio=None, se=1e-3):
    beta = (depth - 1) / width
    law = (1 + 5 / width) ** (depth - 1)
    return ExpansionCell(depth, width, 1000, beta, law, law if variance_ratio is None else variance_ratio,
                         ntk_ratio, 1.0, 1.0, True, law, se, ntk_exact, se, se, 0.0, 0.0)


def test_a_linear_growth_in_beta_fails_the_growth_claim():
    cells = tuple(_cell(9, n, 1 + 4 * 8 / n, 1 + 4 * 8 / n) for n in (64, 128, 256))
    growth = ExpansionGrid(cells, 0.25, {}).growth_test(alpha=0.005)
    assert growth.rho == pytest.approx(1.0) and not growth.rho > growth.bound
    faster = tuple(_cell(9, n, math.exp(4 * 8 / n), math.exp(4 * 8 / n)) for n in (64, 128, 256))
    growth = ExpansionGrid(faster, 0.25, {}).growth_test(alpha=0.005)
    assert growth.rho > growth.bound


def test_collapse_fit_recovers_the_law_and_rejects_a_wrong_constant():
    cells = tuple(_cell(d, n, 1.0, 1.0) for d in (2, 5, 9) for n in (16, 64, 256))
    fit = ExpansionGrid(cells, 0.25, {}).limit_coefficient(alpha=0.005)
    assert fit.kappa == pytest.approx(fit.exact_kappa, abs=1e-9) and abs(fit.kappa - 5) <= fit.tol
    wrong = tuple(_cell(d, n, 1.0, 1.0, variance_ratio=(1 + 4 / n) ** (d - 1)) for d in (2, 5, 9) for n in (16, 64, 256))
    fit = ExpansionGrid(wrong, 0.25, {}).limit_coefficient(alpha=0.005)
    assert abs(fit.kappa - 5) > fit.tol


def test_planted_constant_four_fails_the_output_law_on_real_draws():
    grid = nu.expansion_grid(X, [8, 32], [3, 5], n_samples=4000, seed=0)
    assert grid.output_law_test(alpha=0.005).statistic < grid.output_law_test(alpha=0.005).threshold
    planted = grid.output_law_test(alpha=0.005, constant=4.0)
    assert planted.statistic > planted.threshold


def test_studies_reject_bad_input():
    with pytest.raises(ValueError, match="depths"):
        nu.expansion_grid(X, [8], [1], n_samples=10)
    with pytest.raises(ValueError, match="fit_from"):
        nu.lambda_min_study(4, 3, [8, 16], n_nets=2, depth=2)
    with pytest.raises(ValueError, match="n_nets"):
        nu.training_change_study(4, 3, 8, [2, 3], n_nets=1, steps=1)
