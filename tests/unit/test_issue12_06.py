"""Issue 12 (notebook 06): discrete-GD NTK-GP reference, pooled variance ratio, mean projection,
PIT distance and disjoint member seeds, each against an independent computation."""

import math

import numpy as np
import pytest
import torch

import ntkutils as nu
from ntkutils import gp_checks


@pytest.fixture(scope="module")
def blocks():
    x = nu.data.circle([-2.2, -0.7, 0.6, 2.0, 2.9])
    _, xq = nu.data.circle_grid(7)
    fn = nu.analytic_kernel_fn(depth=3, activation="relu", sigma_w=1.0, sigma_b=0.1)
    return nu.kernel_blocks(fn, x, xq), torch.tensor([0.3, -0.2, 0.4, -0.3, 0.1], dtype=torch.float64)


@pytest.mark.parametrize("readout", [False, True])
def test_gd_gaussian_tends_to_gradient_flow_as_eta_shrinks(blocks, readout):
    b, y = blocks
    t = 3.0
    flow = nu.gp_prediction(b, y, [0.0, t], readout_only=readout)
    eta = 1e-4
    gd = nu.gd_gaussian(b, y, [0, round(t / eta)], eta=eta, readout_only=readout)
    assert np.allclose(gd.mean, flow.mean.numpy(), atol=1e-4)
    m = flow.mean.shape[1]
    for r in range(2):
        block = gd.cov[r * m:(r + 1) * m, r * m:(r + 1) * m]
        assert np.allclose(block, flow.covariance[r].numpy(), atol=1e-4)


def test_gd_gaussian_is_the_law_of_explicit_gd_on_prior_draws(blocks):
    # f_k = f_0 + P_k (Y - f_0(X)), computed by iterating k explicit GD steps on kernel regression.
    b, y = blocks
    (k_tr, th_tr), (k_te_tr, th_te_tr), (k_te, _) = b.train, b.test_train, b.test
    n, m, eta, steps = len(y), k_te.shape[0], 0.7, [0, 3, 11]
    joint = torch.cat([torch.cat([k_tr, k_te_tr.T], 1), torch.cat([k_te_tr, k_te], 1)])
    draws = torch.as_tensor(nu.stats.sample_gaussian(joint, 40000, seed=3, jitter=1e-10))
    f_tr, f_te = draws[:, :n].clone(), draws[:, n:].clone()
    out = []
    for k in range(max(steps) + 1):
        if k in steps:
            out.append(f_te.clone())
        resid = f_tr - y
        f_te = f_te - eta / n * resid @ th_te_tr.T
        f_tr = f_tr - eta / n * resid @ th_tr.T
    samples = torch.stack(out, 1).numpy()                                   # (S, R, M)
    g = nu.gd_gaussian(b, y, steps, eta=eta)
    sd = np.sqrt(g.variance.max())
    assert np.abs(samples.mean(0) - g.mean).max() < 5 * sd / math.sqrt(40000)
    emp = np.cov(samples.reshape(len(samples), -1), rowvar=False)
    assert np.abs(emp - g.cov).max() < 0.03 * g.cov.diagonal().max()


def test_gd_gaussian_rejects_an_unstable_step(blocks):
    b, y = blocks
    with pytest.raises(ValueError, match="unstable"):
        nu.gd_gaussian(b, y, [1], eta=1e6)


def test_select_restricts_times_and_points(blocks):
    b, y = blocks
    g = nu.gd_gaussian(b, y, [0, 2, 5], eta=0.5)
    s = g.select(slice(1, None), slice(0, 3))
    m = g.mean.shape[1]
    assert s.mean.shape == (2, 3) and s.cov.shape == (6, 6)
    assert np.allclose(s.cov[3:, 3:], g.cov[2 * m:2 * m + 3, 2 * m:2 * m + 3])
    assert np.allclose(g.scaled(1.5).mean, 1.5 * g.mean)


def _gaussian(k=12, rho=0.3):
    cov = (1 - rho) * np.eye(k) + rho * np.ones((k, k))
    return np.linspace(0.5, 2.0, k), cov * np.linspace(0.5, 1.5, k)[:, None] * np.linspace(0.5, 1.5, k)[None, :]


def test_pooled_variance_interval_holds_its_level_and_detects_ten_percent():
    mean, cov = _gaussian()
    rng = np.random.default_rng(0)
    chol = np.linalg.cholesky(cov)
    draw = lambda e, scale=1.0: mean + math.sqrt(scale) * rng.standard_normal((e, mean.size)) @ chol.T
    ok = [gp_checks.pooled_variance_ratio(draw(200), cov, alpha=0.1).holds() for _ in range(1000)]
    assert 0.86 <= np.mean(ok) <= 0.94                      # level 10 %, correlation accounted for
    caught = [not gp_checks.pooled_variance_ratio(draw(2000, 1.1), cov, alpha=0.01).holds() for _ in range(50)]
    assert np.mean(caught) > 0.9
    c = gp_checks.pooled_variance_ratio(draw(200), cov)
    assert c.holds(c.ratio) and not c.holds(10 * c.ratio)
    # jackknife = Gaussian standard error for Gaussian members; larger for heavy-tailed ones
    assert abs(c.se_jackknife / c.se_gaussian - 1) < 0.25
    x = draw(400)
    brute = [gp_checks.pooled_variance_ratio(np.delete(x, i, 0), cov).ratio for i in range(len(x))]
    jk = math.sqrt((len(x) - 1) / len(x) * np.sum((np.array(brute) - np.mean(brute)) ** 2))
    assert gp_checks.pooled_variance_ratio(x, cov).se_jackknife == pytest.approx(jk, rel=1e-6)
    heavy = mean + (rng.standard_t(3, (400, mean.size)) / math.sqrt(3)) @ chol.T
    h = gp_checks.pooled_variance_ratio(heavy, cov)
    assert h.se_jackknife > 1.5 * h.se_gaussian


def test_mean_projection_is_one_with_the_right_se_and_sees_a_planted_error():
    mean, cov = _gaussian()
    rng = np.random.default_rng(1)
    chol = np.linalg.cholesky(cov)
    r = np.array([gp_checks.mean_projection(mean + rng.standard_normal((50, mean.size)) @ chol.T, mean, cov).ratio for _ in range(2000)])
    se = gp_checks.mean_projection(np.stack([mean, mean]), mean, cov).se * math.sqrt(2 / 50)
    assert abs(r.mean() - 1) < 4 * se / math.sqrt(len(r))
    assert abs(r.std() / se - 1) < 0.08
    exact = gp_checks.mean_projection(np.stack([mean, mean]), 1.05 * mean, cov).ratio
    assert exact == pytest.approx(1 / 1.05)


def test_pit_distance_of_exact_draws_and_of_too_narrow_ones():
    mean, cov = _gaussian(40, 0.5)
    null = gp_checks.pit_distance_null(mean, cov, 20, n_rep=400, seed=0)
    assert 0 < np.median(null) < 0.1
    sd = np.sqrt(np.diag(cov))
    wide = mean + 2 * np.random.default_rng(2).standard_normal((20, 40)) * sd
    assert gp_checks.pit_distance(gp_checks.pit_values(wide, mean, sd)) > np.quantile(null, 0.99)
    assert gp_checks.pit_distance(np.array([0.25, 0.75])) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        gp_checks.pit_distance(np.array([1.5]))


def test_member_seeds_are_disjoint_across_data_seeds_and_groups():
    a = {s for seed in (3, 4) for g in (0, 1, 2) for s in nu.ensembles.member_seeds(seed, g, 500)}
    assert len(a) == 2 * 3 * 500
    with pytest.raises(ValueError):
        nu.ensembles.member_seeds(0, 0, 20000)
    with pytest.raises(ValueError):
        nu.ensembles.member_seeds(0, 100, 1)


def test_gap_jackknife_matches_the_gap_and_a_brute_force_jackknife():
    mean, cov = _gaussian()
    x = mean + np.random.default_rng(5).standard_normal((60, mean.size)) @ np.linalg.cholesky(cov).T
    var = np.diag(cov)
    g, se = gp_checks.gap_jackknife(x, mean, var)
    assert g == pytest.approx(gp_checks.compare_ensemble_to_gaussian(x, mean, var).gap)
    loo = np.array([gp_checks.compare_ensemble_to_gaussian(np.delete(x, i, 0), mean, var).gap for i in range(len(x))])
    assert se == pytest.approx(math.sqrt((len(x) - 1) / len(x) * ((loo - loo.mean()) ** 2).sum()), rel=1e-6)
    with pytest.raises(ValueError):
        gp_checks.gap_jackknife(x[:2], mean, var)
