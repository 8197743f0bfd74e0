"""Helpers behind notebook 01 (GP at initialisation), each against an independent computation:
the Bonferroni quantile, the max |z| statistic, jittered MMD² repeats, moment estimates with
exact or sample standard errors, and the exact finite-width law of one output."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import erf
from scipy.stats import norm

import ntkutils as nu


# --------------------------------------------------------------------------- bonferroni_quantile
@pytest.mark.parametrize("alpha, m", [(0.05, 1), (0.01, 12), (0.005, 165)])
def test_bonferroni_quantile_has_the_stated_two_sided_tail(alpha, m):
    z = nu.bonferroni_quantile(alpha, m)
    assert 2 * norm.sf(z) == pytest.approx(alpha / m, rel=1e-10)


def test_bonferroni_quantile_of_one_test_at_5_percent_is_1_96():
    assert nu.bonferroni_quantile(0.05, 1) == pytest.approx(1.959963984540054, abs=1e-12)


@pytest.mark.parametrize("alpha, m", [(0.0, 1), (1.0, 1), (-0.1, 3), (0.05, 0), (0.05, 2.5), ("a", 1)])
def test_bonferroni_quantile_rejects_bad_input(alpha, m):
    with pytest.raises(ValueError):
        nu.bonferroni_quantile(alpha, m)


# --------------------------------------------------------------------------- max_abs_z
def test_max_abs_z_is_the_largest_standardised_deviation():
    rng = np.random.default_rng(0)
    m, p, s = rng.normal(size=7), rng.normal(size=7), rng.uniform(0.1, 2.0, size=7)
    brute = max(abs(a - b) / c for a, b, c in zip(m.tolist(), p.tolist(), s.tolist()))
    assert nu.max_abs_z(m, p, s) == brute
    assert nu.max_abs_z([1.0], [1.0], [0.5]) == 0.0


@pytest.mark.parametrize("m, p, s", [([1.0, 2.0], [1.0], [1.0, 1.0]), ([], [], []),
                                     ([1.0], [1.0], [0.0]), ([np.nan], [1.0], [1.0])])
def test_max_abs_z_rejects_bad_input(m, p, s):
    with pytest.raises(ValueError):
        nu.max_abs_z(m, p, s)


# --------------------------------------------------------------------------- add_jitter, mmd2_blocks
def test_add_jitter_adds_seeded_gaussian_noise_of_the_given_variance():
    a = np.arange(12.0).reshape(6, 2)
    expected = a + math.sqrt(1e-3) * np.random.default_rng(5).standard_normal((6, 2))
    np.testing.assert_array_equal(nu.add_jitter(a, 1e-3, seed=5), expected)
    np.testing.assert_array_equal(nu.add_jitter(a, 0.0, seed=5), a)
    big = nu.add_jitter(np.zeros(200_000), 0.25, seed=1)
    assert big.var() == pytest.approx(0.25, rel=0.02)


@pytest.mark.parametrize("variance, seed", [(-1.0, 0), (math.inf, 0), (1.0, -1), (1.0, 1.5)])
def test_add_jitter_rejects_bad_input(variance, seed):
    with pytest.raises(ValueError):
        nu.add_jitter(np.zeros(3), variance, seed=seed)


def test_mmd2_blocks_equals_a_loop_over_row_blocks():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 3)) * 1.3
    seeds = [11, 12, 13]
    got = nu.mmd2_blocks(x, y, n_blocks=3, lengthscale=0.7, jitter=1e-3, seeds=seeds)
    loop = [nu.mmd2_unbiased(x[r * 10:(r + 1) * 10]
                             + math.sqrt(1e-3) * np.random.default_rng(seeds[r]).standard_normal((10, 3)),
                             y[r * 10:(r + 1) * 10], lengthscale=0.7) for r in range(3)]
    np.testing.assert_array_equal(got, np.array(loop))
    plain = nu.mmd2_blocks(x, y, n_blocks=2, lengthscale=0.7)
    assert plain[1] == nu.mmd2_unbiased(x[15:], y[15:], lengthscale=0.7)


def test_mmd2_blocks_rejects_bad_input():
    x = np.zeros((10, 2))
    with pytest.raises(ValueError):
        nu.mmd2_blocks(x, x, n_blocks=3, lengthscale=1.0)
    with pytest.raises(ValueError):
        nu.mmd2_blocks(x, x, n_blocks=2, lengthscale=1.0, jitter=1e-3)
    with pytest.raises(ValueError):
        nu.mmd2_blocks(x[:, 0], x[:, 0], n_blocks=2, lengthscale=1.0)


# --------------------------------------------------------------------------- moment_estimates
def test_moment_estimates_against_gaussian_closed_forms():
    sigma2, s = 2.0, 40_000
    f = math.sqrt(sigma2) * np.random.default_rng(3).standard_normal(s)
    exact = nu.moment_estimates(f, f2_variance=2 * sigma2 ** 2, kurtosis_se=math.sqrt(24 / s))
    assert exact.second == float((f ** 2).mean())
    assert exact.second_se == math.sqrt(2 * sigma2 ** 2 / s)      # Var f² = 2σ⁴ for N(0, σ²)
    assert exact.kurtosis_se == math.sqrt(24 / s)
    assert abs(exact.second - sigma2) < 4 * exact.second_se
    assert abs(exact.kurtosis) < 4 * math.sqrt(24 / s)
    sample = nu.moment_estimates(f[:4000], n_boot=300, seed=1)  # sample sd and bootstrap instead
    assert sample.second_se == pytest.approx(math.sqrt(2 * sigma2 ** 2 / 4000), rel=0.1)
    assert sample.kurtosis_se == pytest.approx(math.sqrt(24 / 4000), rel=0.25)
    assert sample.kurtosis_se == nu.bootstrap_ci(f[:4000], nu.excess_kurtosis, n_boot=300, seed=1).stderr


@pytest.mark.parametrize("samples, kwargs", [(np.zeros((3, 2)), {}), (np.zeros(1), {}),
                                             (np.ones(5), {"f2_variance": -1.0}),
                                             (np.ones(5), {"kurtosis_se": -0.1}),
                                             (np.array([1.0, np.inf]), {})])
def test_moment_estimates_rejects_bad_input(samples, kwargs):
    with pytest.raises(ValueError):
        nu.moment_estimates(samples, **kwargs)


# --------------------------------------------------------------------------- finite_width_law
def test_relu_law_without_bias_is_the_1_plus_5_over_n_law():
    # σ_w² = 2, σ_b = 0: E f² = q1 and E f⁴ = 3 q1² (1 + 5/n)^(L−1) exactly
    x = torch.tensor([[0.3, -1.2, 0.7]], dtype=torch.float64)
    q1 = 2 * float((x ** 2).sum()) / 3
    for depth, width in [(2, 4), (3, 8), (4, 3)]:
        law = nu.finite_width_law(x, width=width, depth=depth, n_samples=100, sigma_w=math.sqrt(2),
                                  sigma_b=0.0)
        ratio = (1 + 5 / width) ** (depth - 1)
        assert law.excess_kurtosis == pytest.approx(3 * ratio - 3, rel=1e-12)
        assert law.f2_variance == pytest.approx(3 * q1 ** 2 * ratio - q1 ** 2, rel=1e-12)
        assert law.kurtosis_se > 0


def test_relu_law_with_one_hidden_layer_matches_the_quadrature_formula():
    x = torch.tensor([[0.5, -0.4, 1.1, 0.2]], dtype=torch.float64)
    law = nu.finite_width_law(x, width=6, depth=2, n_samples=10, sigma_w=1.3, sigma_b=0.4)
    quad = float(nu.one_hidden_layer_excess_kurtosis(x, width=6, activation="relu", sigma_w=1.3,
                                                     sigma_b=0.4))
    assert law.excess_kurtosis == pytest.approx(quad, rel=1e-8)


def test_relu_kurtosis_se_matches_the_spread_of_simulated_kurtoses():
    # one hidden layer of width 16, σ_w² = 2, no bias: f = √(2/16) Σ_j v_j relu(h_j), h_j ~ N(0, q1)
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    law = nu.finite_width_law(x, width=16, depth=2, n_samples=2000, sigma_w=math.sqrt(2), sigma_b=0.0)
    rng = np.random.default_rng(7)
    q1 = 2 * 1.0 / 2
    h = math.sqrt(q1) * rng.standard_normal((400, 2000, 16))
    f = math.sqrt(2 / 16) * (rng.standard_normal((400, 2000, 16)) * np.maximum(h, 0)).sum(-1)
    spread = nu.excess_kurtosis(f, axis=1).std(ddof=1)
    assert law.kurtosis_se == pytest.approx(spread, rel=0.2)


def test_erf_law_is_exact_for_one_hidden_layer_only():
    x = torch.tensor([[0.8, -0.6]], dtype=torch.float64)
    sw, sb, n = 1.5, 0.3, 2
    law = nu.finite_width_law(x, width=n, depth=2, n_samples=10, activation="erf", sigma_w=sw, sigma_b=sb)
    assert math.isnan(law.f2_variance) and math.isnan(law.kurtosis_se)
    # Monte Carlo of f = σ_b b + σ_w/√n Σ_j v_j erf(h_j), h_j ~ N(0, q1)
    rng = np.random.default_rng(4)
    q1 = sw ** 2 * float((x ** 2).sum()) / 2 + sb ** 2
    h = math.sqrt(q1) * rng.standard_normal((2_000_000, n))
    f = sb * rng.standard_normal(2_000_000) + sw / math.sqrt(n) * (rng.standard_normal((2_000_000, n))
                                                                   * erf(h)).sum(1)
    assert law.excess_kurtosis == pytest.approx(nu.excess_kurtosis(f), abs=0.03)
    deeper = nu.finite_width_law(x, width=n, depth=3, n_samples=10, activation="erf", sigma_w=sw, sigma_b=sb)
    assert math.isnan(deeper.excess_kurtosis)


@pytest.mark.parametrize("kwargs", [dict(x=np.zeros((2, 3))), dict(activation="nope"), dict(depth=0),
                                    dict(n_samples=0), dict(width=0), dict(x=np.zeros(3))])
def test_finite_width_law_rejects_bad_input(kwargs):
    args = dict(x=np.ones((1, 3)), width=4, depth=2, n_samples=10) | kwargs
    with pytest.raises(ValueError):
        nu.finite_width_law(args.pop("x"), **args)


# --------------------------------------------------------------------------- max_z_test
def test_max_z_test_collects_rows_and_rescales_the_prediction():
    rows = [(1.0, 2.0, 0.5), (3.0, 3.3, 0.1), (0.2, 0.0, 1.0)]
    t = nu.max_z_test(rows, alpha=0.01)
    assert t.statistic == max(abs(m - p) / s for m, p, s in rows)
    assert t.at_scale(1.1) == max(abs(m - 1.1 * p) / s for m, p, s in rows)
    assert t.threshold == nu.bonferroni_quantile(0.01, 3)


@pytest.mark.parametrize("rows, alpha", [([(1.0, 2.0)], 0.01), ([(1.0, 2.0, 0.5)], 0.0),
                                         ([(1.0, 2.0, 0.5)], 1.5)])
def test_max_z_test_rejects_bad_input(rows, alpha):
    with pytest.raises(ValueError):
        nu.max_z_test(rows, alpha=alpha)


# --------------------------------------------------------------------------- matthews_mmd_cells
def test_matthews_mmd_cells_reads_their_table_for_their_network_only():
    ref = nu.matthews_mmd_reference()
    their = dict(activation="relu", sigma_w=math.sqrt(1.6), sigma_b=math.sqrt(0.2))
    cells = nu.matthews_mmd_cells([1, 2, 4, 5], [1, 3, 11, 500], n_repeats=4, **their)
    # L = 1 and L = 5 (0 and 4 hidden layers) and width 11 are not in their experiment
    assert list(cells) == [(2, 1), (2, 3), (2, 500), (4, 1), (4, 3), (4, 500)]
    mu, se = cells[4, 3]
    assert mu == ref.mean[3][2]
    assert se == pytest.approx(ref.sd[3][2] * math.sqrt(1 / 4 + 1 / 100), rel=1e-15)
    assert nu.matthews_mmd_cells([2], [1], n_repeats=4, **(their | {"activation": "erf"})) == {}
    assert nu.matthews_mmd_cells([2], [1], n_repeats=4, **(their | {"sigma_b": 0.0})) == {}
    with pytest.raises(ValueError):
        nu.matthews_mmd_cells([2], [1], n_repeats=0, **their)


# --------------------------------------------------------------------------- ClaimSet.max_z / slope_or_not_assessed
def test_claimset_max_z_is_less_than_at_the_rounded_bonferroni_quantile():
    rows = [(1.0, 1.02, 0.01), (2.0, 2.01, 0.02)]
    test = nu.max_z_test(rows, alpha=0.01)
    c = nu.ClaimSet("x", "default")
    claim = c.max_z("m = p", "paper", test)
    ref = nu.ClaimSet("x", "default").less_than("m = p (max |z|, 2 cells)", "paper", 2.0,
                                                round(nu.bonferroni_quantile(0.01, 2), 2), 2,
                                                alpha=0.01, prediction=test.at_scale)
    assert claim.name == "m = p (max |z|, 2 cells)" and claim.status == "PASS"
    assert claim.measured == pytest.approx(2.0) and claim.expected == ref.expected
    assert claim.resolution == ref.resolution and claim.alpha == 0.01
    # brute force: the smallest relative error of both predictions that flips the claim
    thr = round(nu.bonferroni_quantile(0.01, 2), 2)
    flips = [d for d in np.linspace(0, 0.1, 10001)
             if max(abs(m - (1 + d) * p) / s for m, p, s in rows) >= thr
             or max(abs(m - (1 - d) * p) / s for m, p, s in rows) >= thr]
    assert flips[0] <= claim.resolution <= 1.011 * flips[0]   # bisection to 1 %, on the large side
    failing = c.max_z("far", "paper", nu.max_z_test([(1.0, 2.0, 0.01)], alpha=0.01))
    assert failing.status == "FAIL"


def test_claimset_max_z_without_cells_is_not_assessed_or_absent():
    c = nu.ClaimSet("x", "default")
    empty = nu.max_z_test([], alpha=0.01)
    assert c.max_z("none", "paper", empty, reason="no cell").status == "NOT ASSESSED"
    assert c.max_z("nothing", "paper", None) is None and len(c) == 1
    with pytest.raises(ValueError):
        c.max_z("none", "paper", empty, reason="again")   # the name exists already
    with pytest.raises(ValueError):
        c.max_z("blank", "paper", empty, reason=" ")


def test_claimset_slope_or_not_assessed():
    c = nu.ClaimSet("x", "default")
    fit = nu.SlopeFit(slope=-1.02, intercept=0.0, ci_low=-1.1, ci_high=-0.95, stderr=0.04, n_points=4)
    assert c.slope_or_not_assessed("a", "p", fit, -1.0, alpha=0.01, reason="r").status == "PASS"
    assert c.slope_or_not_assessed("b", "p", None, -1.0, alpha=0.01, reason="r").status == "NOT ASSESSED"
    with pytest.raises(ValueError):
        c.slope_or_not_assessed("c", "p", None, -1.0, alpha=0.01, reason="")


# --------------------------------------------------------------------------- cells_by_depth
def test_cells_by_depth_prints_one_line_per_depth():
    texts = {(2, 1): "a", (2, 5): "b", (3, 1): "c"}
    assert nu.cells_by_depth(texts, "x ") == "L=2: x n=1: a, n=5: b\nL=3: x n=1: c"
    assert nu.cells_by_depth({}) == ""
    with pytest.raises(ValueError):
        nu.cells_by_depth({2: "a"})


# --------------------------------------------------------------------------- sample_prior, mmd_against_gp
NET = dict(activation="relu", sigma_w=1.3, sigma_b=0.4)


def _prior(seed=3):
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(3, 2)))
    sigma = {L: nu.analytic_kernels(x, depth=L, **NET).nngp for L in (2, 3)}
    return x, sigma, nu.sample_prior(x, sigma, [1, 4], n_samples=60, seed=seed, **NET)


def test_sample_prior_equals_the_samplers_called_one_by_one():
    x, sigma, (draws, gp) = _prior()
    assert list(draws) == [(2, 1), (2, 4), (3, 1), (3, 4)] and list(gp) == [2, 3]
    direct = nu.sample_outputs_at_init(x, n_samples=60, width=4, depth=3, seed=3 + 3004, **NET)
    np.testing.assert_array_equal(draws[3, 4], direct.numpy())
    np.testing.assert_array_equal(gp[2], nu.sample_gaussian(sigma[2], 60, seed=3 + 14, jitter=1e-3))
    with pytest.raises(ValueError):
        nu.sample_prior(x, sigma, [1], n_samples=0, **NET)


def test_sample_prior_matches_the_nngp_at_large_width():
    x, sigma, _ = _prior()
    draws, _ = nu.sample_prior(x, {3: sigma[3]}, [512], n_samples=4000, seed=1, **NET)
    emp = draws[3, 512].T @ draws[3, 512] / 4000
    assert nu.relative_frobenius_error(emp, sigma[3].numpy()) < 0.08


def test_mmd_against_gp_equals_a_loop_with_the_stated_seeds():
    _, _, (draws, gp) = _prior()
    mmd, perm_p = nu.mmd_against_gp(draws, gp, n_repeats=2, n_permutations=20, seed=3)
    seeds = [3 + 4 + 97 * r for r in range(2)]
    np.testing.assert_array_equal(mmd[3, 4], nu.mmd2_blocks(draws[3, 4], gp[3], n_blocks=2,
                                                            lengthscale=0.5, jitter=1e-3, seeds=seeds))
    x0 = nu.add_jitter(draws[2, 4][:30], 1e-3, seed=3 + 4)
    assert perm_p[2] == nu.mmd_permutation_test(x0, gp[2][:30], lengthscale=0.5, n_permutations=20,
                                                seed=3)[1]
    with pytest.raises(ValueError):
        nu.mmd_against_gp(draws, gp, n_repeats=0, n_permutations=20)


# --------------------------------------------------------------------------- moment_study, prior_metrics
def test_moment_study_second_moment_is_exact_for_relu_and_the_claims_use_the_right_cells():
    x1 = torch.ones(1, 2, dtype=torch.float64)
    pred = {L: float(nu.analytic_kernels(x1, depth=L, **NET).nngp[0, 0]) for L in (1, 2, 3)}
    ms = nu.moment_study(x1, pred, [3, 6], n_samples=20000, seed=0, **NET)
    assert ms.depths == [2, 3] and list(ms.moments) == [(2, 3), (2, 6), (3, 3), (3, 6)]
    direct = nu.sample_outputs_at_init(x1, n_samples=20000, width=6, depth=3, seed=10**6 + 3006,
                                       **NET)[:, 0].numpy()
    assert ms.moments[3, 6].second == pytest.approx(float(np.mean(direct**2)), rel=1e-12)
    t = ms.second_test(alpha=0.01)   # relu: every cell; E f² = Σ(x₁,x₁) exactly, so |z| is small
    assert t.measured.shape == (4,) and t.statistic < t.threshold
    brute = max(abs(ms.moments[k].second - pred[k[0]]) / ms.moments[k].second_se for k in ms.moments)
    assert t.statistic == pytest.approx(brute, rel=1e-12)
    k = ms.kurtosis_test(alpha=0.01)
    assert k.alpha == pytest.approx(0.01) and k.measured.shape == (4,) and ms.exponent_fits(0.01) == {}
    assert ms.kurtosis_texts()[2, 3].endswith(f"(exact {ms.laws[2, 3].excess_kurtosis:.3f})")
    m = nu.prior_metrics(ks={}, covariance={}, mmd={}, perm_p={}, upper=0.1, study=ms)
    assert m["exact kurtosis by (L, n)"][3, 6] == ms.laws[3, 6].excess_kurtosis
    with pytest.raises(ValueError):
        nu.prior_metrics(ks={}, covariance={}, mmd={}, perm_p={}, upper=0.1, study={})
    with pytest.raises(ValueError):
        nu.moment_study(x1, pred, [3], n_samples=1, **NET)


def test_moment_study_for_erf_tests_one_hidden_layer_only_and_fits_the_rest():
    x1 = torch.ones(1, 2, dtype=torch.float64)
    net = NET | dict(activation="erf")
    pred = {L: float(nu.analytic_kernels(x1, depth=L, **net).nngp[0, 0]) for L in (2, 3)}
    ms = nu.moment_study(x1, pred, [2, 4, 8, 16], n_samples=3000, seed=0, **net)
    assert ms.second_test(0.01).measured.shape == (4,)        # the L = 2 cells
    k = ms.kurtosis_test(alpha=0.01)
    assert k.measured.shape == (4,) and k.alpha == pytest.approx(0.005)
    assert list(ms.exponent_fits(0.01)) == [3]
