"""Notebook 10's helpers against independent computations: the studies' records against plain
autograd gradient descent with explicit loops over units; the rate factor and the exponent range
against brute force and a linear program (SciPy); the close pair against its closed-form 2×2 block;
the claims flip under the planted predictions; the figures have no layout problems."""

import math

import numpy as np
import pytest
import torch
from scipy import optimize

import ntkutils as nu
from ntkutils.global_convergence import rate_factors


def _gd_by_autograd(w0, a, x, y, steps, eta):
    """Plain GD on ½Σ(f − y)² with torch.autograd, one network; the weight trajectory."""
    w = w0.clone().requires_grad_(True)
    path = [w0.clone()]
    for _ in range(steps):
        u = (a * torch.relu(w @ x.T).T).sum(1) / math.sqrt(len(a))
        loss = 0.5 * ((u - y) ** 2).sum()
        (g,) = torch.autograd.grad(loss, w)
        w = (w - eta * g).detach().requires_grad_(True)
        path.append(w.detach().clone())
    return path


def _gram_by_loops(w, x):
    n, m = x.shape[0], w.shape[0]
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            h[i, j] = float(x[i] @ x[j]) * sum(float(w[r] @ x[i]) >= 0 and float(w[r] @ x[j]) >= 0 for r in range(m)) / m
    return h


def test_convergence_study_records_match_autograd_gd_and_explicit_grams():
    x = nu.sphere_uniform(6, 3, seed=4)
    y = nu.random_labels(6, seed=5)
    study = nu.convergence_study(x, y, [4, 8, 16], n_seeds=2, steps=5, seed=7, record_every=1, fit_from=4)
    h_inf = nu.relu_gram(x).numpy()
    eta = 1.0 / np.linalg.eigvalsh(h_inf)[-1]
    assert study.eta == pytest.approx(eta, rel=1e-12)
    for i, m in enumerate(study.widths):
        nets = nu.relu_nets(2, int(m), 3, seed=7 + int(m))
        for b in range(2):
            path = _gd_by_autograd(nets.w[b], nets.a[b], x, y, 5, eta)
            moves = torch.stack([(p - path[0]).norm(dim=1) for p in path])            # (K+1, m)
            assert study.rms_weight_change[i, b] == pytest.approx(float((moves[-1] ** 2).mean().sqrt()), rel=1e-9)
            assert study.max_weight_change[i, b, -1] == pytest.approx(float(moves[-1].max()), rel=1e-9)
            signs = torch.stack([(p @ x.T) >= 0 for p in path])                       # (K+1, m, N)
            ever = (signs != signs[0]).any(0).double().mean()
            assert study.flipped[i, b, -1] == pytest.approx(float(ever), abs=1e-12)
            h0 = _gram_by_loops(path[0], x)
            assert study.gram_error[i, b] == pytest.approx(np.linalg.norm(h0 - h_inf, 2), rel=1e-9)
            lam = [np.linalg.eigvalsh(_gram_by_loops(p, x))[0] for p in path]
            np.testing.assert_allclose(study.lambda_min[i, b], lam, atol=1e-12)
            u = [(nets.a[b] * torch.relu(p @ x.T).T).sum(1) / math.sqrt(m) for p in path]
            np.testing.assert_allclose(study.loss[i, b], [0.5 * float(((v - y) ** 2).sum()) for v in u], rtol=1e-10)


def test_rate_factor_is_the_largest_c_of_the_bound_by_brute_force():
    rng = np.random.default_rng(0)
    loss = np.cumprod(np.concatenate([[3.0], rng.uniform(0.6, 0.99, 40)]))[None, :]
    eta_lambda0 = 0.07
    c = float(rate_factors(loss, eta_lambda0)[0])
    k = np.arange(41)

    def holds(cc):
        return np.all(loss[0] <= (1 - cc * eta_lambda0) ** k * loss[0, 0] * (1 + 1e-12))

    assert holds(c) and not holds(c * 1.001)
    grid = np.linspace(0, 1 / eta_lambda0, 200001)
    best = grid[[holds(g) for g in grid]].max()
    assert c == pytest.approx(best, abs=2 / 200000 / eta_lambda0)


def _gamma_by_linear_program(lam, low, high):
    # variables (log C, gamma); constraints log low_j < log C - gamma log lam_j <= log high_j
    l = np.log(lam)
    a_ub, b_ub = [], []
    for lj, lo, hi in zip(l, np.log(low), np.log(high)):
        if np.isfinite(hi):
            a_ub.append([1.0, -lj]), b_ub.append(hi)
        a_ub.append([-1.0, lj]), b_ub.append(-lo - 1e-9)
    out = []
    for sign in (1.0, -1.0):
        res = optimize.linprog([0.0, sign], A_ub=a_ub, b_ub=b_ub, bounds=[(None, None), (0, 12)])
        out.append(sign * res.fun)
    return out


@pytest.mark.parametrize("gamma", [1.3, 2.0, 4.0])
def test_exponent_range_against_a_linear_program(gamma):
    lam = np.array([0.2, 0.12, 0.07, 0.04])
    widths = 2.0 ** np.arange(3, 30)
    true = 5.0 * lam ** -gamma
    high = widths[np.searchsorted(widths, true)]                 # m*: the first grid width above the threshold
    low = high / 2
    lo, hi = nu.exponent_range(lam, low, high)
    assert lo <= gamma <= hi
    lp_lo, lp_hi = _gamma_by_linear_program(lam, low, high)
    assert lo == pytest.approx(lp_lo, abs=2e-3) and hi == pytest.approx(lp_hi, abs=2e-3)
    # a one-sided bracket (low, ∞) (m* beyond the grid) constrains less
    lo2, hi2 = nu.exponent_range(lam, low, np.r_[high[:-1], np.inf])
    assert lo2 <= lo and hi2 >= hi
    assert all(math.isnan(v) for v in nu.exponent_range([0.1, 0.05], [100, 10], [200, 20]))  # m* falling with λ₀


def test_close_pair_has_its_angle_opposite_labels_and_the_closed_form_block():
    theta = 0.05
    x, y = nu.close_pair_data(12, 10, theta, seed=3)
    torch.testing.assert_close(x.norm(dim=1), torch.ones(12, dtype=torch.float64))
    assert math.acos(float(x[0] @ x[-1])) == pytest.approx(theta, rel=1e-9)
    assert y[0] == -y[-1] and set(y.tolist()) <= {-1.0, 1.0}
    h = math.cos(theta) * (math.pi - theta) / (2 * math.pi)
    rayleigh = 0.5 - h                                            # (e_1 − e_N)/√2 in the 2×2 block
    lam0 = float(torch.linalg.eigvalsh(nu.relu_gram(x))[0])
    assert 0.9 * rayleigh < lam0 <= rayleigh + 1e-15
    assert rayleigh == pytest.approx(theta / (2 * math.pi) + theta ** 2 / 4, rel=2e-3)   # 1/2 − h to O(θ³)


def test_pair_separation_study_stops_after_two_consecutive_passing_widths():
    study = nu.pair_separation_study([0.9, 0.5], n_points=5, dim=4, widths=[8, 16, 32, 64, 128, 256, 512],
                                     n_seeds=2, seed=1, horizon=3.0, records=5)
    for a in range(2):
        tried = np.isfinite(study.lambda_ratio[a])
        if np.isfinite(study.m_star[a]):
            j = int(np.searchsorted(study.widths, study.m_star[a]))
            assert tried[: j + 2].all() and not tried[j + 2:].any()
            passes = (study.lambda_ratio[a] >= 0.5) & (study.rate[a] >= 0.5)
            assert passes[j] and passes[j + 1] and (j == 0 or not passes[j - 1])
            assert not np.any(passes[:j - 1] & passes[1:j])     # no earlier run of two
        else:
            assert tried.all()
    assert np.all(study.lambda0[1] < study.lambda0[0])
    np.testing.assert_allclose(study.bound(), 5 ** 6 / (study.lambda0 ** 4 * 0.1 ** 3))
    np.testing.assert_array_equal(study.steps, np.ceil(3.0 / (study.eta * study.lambda0)).astype(int))


def test_claims_fail_under_planted_predictions_and_figures_are_readable():
    x = nu.sphere_uniform(20, 5, seed=2)
    y = nu.random_labels(20, seed=3)
    widths = nu.convergence_study(x, y, [64, 128, 256, 512], n_seeds=3, steps=60, seed=4, fit_from=64)
    pairs = nu.pair_separation_study([0.9, 0.6], n_points=5, dim=4, widths=[8, 16, 32, 64, 128, 256, 512, 1024],
                                     n_seeds=2, seed=1, horizon=3.0, records=5)
    kw = dict(widths=widths, separation=pairs, alpha=dict(flips=0.01, weights=0.01, gram=0.01),
              tolerances=dict(slope=0.05, lambda_exponent=0.5), large_width=256)
    honest, planted = nu.ClaimSet("t", "default"), nu.ClaimSet("t", "default")
    nu.global_convergence_claims(honest, **kw)
    rate = float(widths.rate_factors()[2:].min())
    nu.global_convergence_claims(planted, **kw, rate_factor=rate * 1.01, lambda_fraction=1.0, width_exponent=-5.0,
                                 bound_scale=1e-12)
    assert len(honest) == len(planted) == 7
    assert honest.claims[0].resolution == pytest.approx(rate) and honest.claims[0].passed == (rate > 0.5)
    ratio = float(widths.lambda_ratio()[2:].min())
    assert honest.claims[1].passed == (ratio > 0.5)
    if ratio > 0.5:                            # the relative error of the fraction 1/2 that flips the claim
        assert honest.claims[1].resolution == pytest.approx(ratio / 0.5 - 1, rel=0.02)
    failed = [c.name for c in planted.failed]
    for fragment in ("loss <=", "lambda_min(H(k)) >= 1 lambda0", "flipped", "weight movement", "|H(0) - H_inf|",
                     "theorem's width suffices"):
        assert any(fragment in n for n in failed), (fragment, failed)
    with nu.house_style():                     # as in the notebooks (nu.Notebook sets it)
        for fig in (nu.figure_convergence(widths), nu.figure_width_needed(pairs)):
            assert nu.layout_problems(nu.layout_report(fig)) == []
