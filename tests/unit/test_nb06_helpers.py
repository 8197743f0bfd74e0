"""Notebook 06's helpers (issue 13), each against an independent computation."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

import ntkutils as nu


def _gaussian(m=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, m))
    return rng.standard_normal(m), a @ a.T / m + 0.5 * np.eye(m)


def test_curve_pit_distance_is_the_w1_distance_of_scaled_pit_values():
    rng = np.random.default_rng(1)
    mean, sd = rng.standard_normal(7), rng.uniform(0.5, 2.0, 7)
    curves = mean + sd * rng.standard_normal((30, 7)) * 1.3
    for s in (1.0, 1.69, 0.25):
        u = np.sort(scipy.stats.norm.cdf((curves - mean) / (sd * math.sqrt(s))).ravel())
        brute = np.mean(np.abs(u - (np.arange(u.size) + 0.5) / u.size))
        assert nu.curve_pit_distance(curves, mean, sd, variance_scale=s) == pytest.approx(brute, rel=1e-12)
    # the right variance scale (1.3² = 1.69) calibrates better than the nominal one
    assert nu.curve_pit_distance(curves, mean, sd, variance_scale=1.69) < nu.curve_pit_distance(curves, mean, sd)
    with pytest.raises(ValueError):
        nu.curve_pit_distance(curves, mean, sd, variance_scale=math.inf)
    with pytest.raises(ValueError):
        nu.curve_pit_distance(curves, mean[:3], sd)


def test_ensemble_report_matches_the_separate_statistics():
    mean, cov = _gaussian(6)
    mu, c = mean.reshape(2, 3), cov
    f = (mean + np.random.default_rng(2).standard_normal((40, 6)) @ np.linalg.cholesky(cov).T).reshape(40, 2, 3)
    rep = nu.ensemble_report(f, mu, c, alpha_z=0.01)
    var = np.diag(c).reshape(2, 3)
    for r in range(2):
        z = np.abs(f[:, r].mean(0) - mu[r]) / np.sqrt(var[r] / 40)
        assert rep.per_time[r].max_abs_z == pytest.approx(z.max(), rel=1e-12)
        assert rep.per_time[r].z_bound == pytest.approx(scipy.stats.norm.ppf(1 - 0.01 / 6))
    w = (mean / np.diag(c)) / np.sum(mean ** 2 / np.diag(c))
    assert rep.projection.ratio == pytest.approx(f.reshape(40, -1).mean(0) @ w, rel=1e-12)
    assert rep.pooled.ratio == pytest.approx(np.mean(f.reshape(40, -1).var(0, ddof=1) / np.diag(c)), rel=1e-12)
    assert rep.gap == pytest.approx(nu.gap_jackknife(f, mu, var))
    assert "max |z| at t>0" in str(rep) and "r = " in str(rep)
    lo, hi = rep.pooled.error_bars
    # the error bar [R − lo, R + hi] is the set of variance scales s for which the claim holds
    assert rep.pooled.holds((rep.pooled.ratio - lo) * (1 + 1e-9))
    assert rep.pooled.holds((rep.pooled.ratio + hi) * (1 - 1e-9))
    assert not rep.pooled.holds((rep.pooled.ratio + hi) * (1 + 1e-6))
    with pytest.raises(ValueError):
        nu.ensemble_report(f[:, :, :2], mu, c)


def test_gaps_and_gap_ratio_null_against_a_direct_computation():
    mean, cov = _gaussian(5, seed=3)
    refs = [(mean, np.diag(cov)), (mean + 0.5, 2 * np.diag(cov))]
    f = mean + np.random.default_rng(4).standard_normal((30, 5)) @ np.linalg.cholesky(cov).T

    def gap(x, m, v):
        return np.mean(((x.mean(0) - m) ** 2 + (x.std(0, ddof=1) - np.sqrt(v)) ** 2) / v)

    assert nu.gaps_to(f, refs) == pytest.approx([gap(f, *r) for r in refs], rel=1e-12)
    null = nu.gap_ratio_null(mean, cov, 30, refs, n_rep=200, seed=5)
    draws = nu.sample_gaussian(cov, 200 * 30, seed=5, jitter=1e-12).reshape(200, 30, 5) + mean
    brute = np.array([gap(d, *refs[0]) / gap(d, *refs[1]) for d in draws])
    assert null.shape == (200,) and np.allclose(null, brute, rtol=1e-12)
    assert np.median(null) < 1  # exact draws of the first reference are nearer to it
    with pytest.raises(ValueError):
        nu.gap_ratio_null(mean, cov, 30, refs[:1])
    with pytest.raises(ValueError):
        nu.gaps_to(f, [])


def test_gd_gaussian_lives_in_dynamics_and_equals_iterated_gd_mean():
    x = nu.circle([-2.2, -0.7, 0.6, 2.0])
    _, xq = nu.circle_grid(5)
    blocks = nu.kernel_blocks(nu.analytic_kernel_fn(depth=3, activation="relu", sigma_w=1.0, sigma_b=0.1), x, xq)
    y = torch.tensor([0.3, -0.2, 0.4, -0.3], dtype=torch.float64)
    g = nu.dynamics.gd_gaussian(blocks, y, [0, 4], eta=0.5)
    assert isinstance(g, nu.JointGaussian)
    th, th_q = blocks.train[1].numpy(), blocks.test_train[1].numpy()
    f, fq = np.zeros(4), np.zeros(5)          # the mean: GD on the kernel model from f_0 = 0
    for _ in range(4):
        r = f - y.numpy()
        f, fq = f - 0.5 / 4 * th @ r, fq - 0.5 / 4 * th_q @ r
    assert np.allclose(g.mean[1], fq, atol=1e-12) and np.allclose(g.mean[0], 0)
    with pytest.raises(ValueError):
        nu.gd_gaussian(blocks, y, [1], eta=0.5, normalization="median")


# ---------------------------------------------------------------- second pass: set-up, studies, panels
_ARCH = dict(depth=2, activation="tanh", sigma_w=1.0, sigma_b=0.1)


def test_ensemble_members_use_member_seeds_in_order():
    nets = nu.ensemble_members(3, 8, 4, seed=2, group=5, **_ARCH)
    assert [n.seed for n in nets] == nu.member_seeds(2, 5, 4)
    same = nu.MLP(3, 8, seed=nu.member_seeds(2, 5, 4)[1], **_ARCH)
    assert all(torch.equal(a, b) for a, b in zip(nets[1].parameters(), same.parameters()))
    with pytest.raises(ValueError):
        nu.ensemble_members(3, 8, 4, seed=0, group=100, **_ARCH)


def test_trained_curves_equal_train_ensemble_per_width():
    x, y, xt = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64), torch.randn(7, 3)
    out = nu.trained_curves({6: 3, 9: 2}, x, y, xt, steps=4, eta=0.5, seed=1, first_group=2, **_ARCH)
    for j, (n, e) in enumerate({6: 3, 9: 2}.items()):
        nets = [nu.MLP(3, n, seed=s, **_ARCH) for s in nu.member_seeds(1, 2 + j, e)]
        ref = nu.train_ensemble(nets, x.float(), y.float(), x_test=xt.float(), steps=4, eta=0.5)
        assert out[n].dtype == torch.float64 and torch.equal(out[n], ref.f_test[-1].double())
    with pytest.raises(ValueError):
        nu.trained_curves({}, x, y, xt, steps=4, eta=0.5, seed=1, first_group=2, **_ARCH)


def test_width_ensembles_equal_ensemble_variants():
    x, y, xt = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64), torch.randn(5, 3)
    out = nu.width_ensembles([6], 3, x, y, xt, [0, 2], eta=0.5, seed=0, first_group=10, **_ARCH)
    nets = [nu.MLP(3, 6, seed=s, **_ARCH) for s in nu.member_seeds(0, 10, 3)]
    ref = nu.ensemble_variants(nets, x, y, xt, [0, 2], eta=0.5)
    assert set(out[6]) == set(ref) and all(torch.equal(out[6][k], ref[k]) for k in ref)
    with pytest.raises(ValueError):
        nu.width_ensembles([], 3, x, y, xt, [0, 2], eta=0.5, seed=0, first_group=10, **_ARCH)


def test_curve_calibration_against_brute_force():
    mean, cov = _gaussian(6, seed=3)
    sd = np.sqrt(np.diag(cov))
    rng = np.random.default_rng(4)
    curves = {5: mean + sd * rng.standard_normal((12, 6)), 7: mean + sd * rng.standard_normal((4, 6))}
    cal = nu.curve_calibration(curves, {"a": (mean, sd), "b": (mean + 0.1, 2 * sd)}, cov, n_shown=3,
                               z=1.0, alpha=0.1, seed=0)
    f = curves[5][:3]
    assert cal.inside[5, "b"] == pytest.approx(np.mean((f >= mean + 0.1 - 2 * sd) & (f <= mean + 0.1 + 2 * sd)))
    assert cal.counts == {5: 12, 7: 4}
    test = cal.pit_test(7)
    assert test["measured"] == nu.curve_pit_distance(curves[7], mean, sd) == test["prediction"](1.0)
    null = nu.pit_distance_null(mean, cov, 4, seed=0)
    assert test["bound"] == pytest.approx(np.quantile(null, 0.9))
    assert set(cal.metrics()) == {"inside_10_90", "pit_curves", "exact_draw_interval_95", "pit_distance",
                                  "pit_null_median_and_quantile"}
    assert "PIT distance W" in str(cal)
    with pytest.raises(ValueError):
        nu.curve_calibration(curves, {"a": (mean, sd)}, cov, n_shown=5, z=1.0, alpha=0.1)


def test_ensemble_width_study_against_ensemble_report():
    from ntkutils.dynamics import JointGaussian

    rng = np.random.default_rng(5)
    m = 3
    mu, cov = _gaussian(2 * m, seed=6)
    ref = JointGaussian(mu.reshape(2, m), cov)
    variants = ("network", "readout-trained")
    runs = {n: {k: torch.as_tensor(rng.standard_normal((20, 3, m + 2))) for k in variants} for n in (4, 8)}
    readout = torch.as_tensor(rng.standard_normal((30, 3, m)))
    study = nu.ensemble_width_study(runs, {k: ref for k in variants}, readout, n_test=m,
                                    times=torch.tensor([0.0, 1.0, 2.0]), alpha_z=0.01)
    direct = nu.ensemble_report(runs[8]["network"][:, 1:, :m], ref.mean, ref.cov, alpha_z=0.01)
    assert study.reports[8, "network"].gap == direct.gap
    z = study.z_test("network", 1)
    assert z["measured"] == direct.per_time[1].max_abs_z
    f = runs[8]["network"][:, 2, :m].mean(0).numpy()
    brute = np.max(np.abs(f - 1.5 * ref.mean[1]) / np.sqrt(np.diag(cov)[m:] / 20))
    assert z["prediction"](1.5) == pytest.approx(brute, rel=1e-12)
    (g0, s0), (g1, s1) = study.reports[4, "network"].gap, study.reports[8, "network"].gap
    trend = study.trend_test("network", 0.05)
    assert trend["measured"] == pytest.approx(g0 - g1)
    assert trend["bound"] == pytest.approx(scipy.stats.norm.ppf(0.95) * math.sqrt(s0 ** 2 + s1 ** 2))
    assert study.readout.ratio == nu.pooled_variance_ratio(readout[:, 1:], cov, alpha=0.01).ratio
    assert "lee_gap_and_jackknife_se" in study.metrics() and "gap to the NNGP" in study.gaps_text(
        {"network": "NTK-GP", "readout-trained": "NNGP"})
    with pytest.raises(ValueError):
        nu.ensemble_width_study(runs, {"network": ref}, readout, n_test=m, times=[0, 1, 2], alpha_z=0.01)


def test_nb06_panels_reject_wrong_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError):
        nu.circle_curve_panels(axes, np.zeros(4), {5: np.zeros((2, 4))}, {}, z=1.0, n_shown=1,
                               points=([0], [0]), t=1.0)
    with pytest.raises(ValueError):
        nu.ensemble_band_panels(axes, np.zeros(4), {}, np.zeros((2, 2, 4)), first=0, times=[0, 1],
                                steps=[0, 1], points=([0], [0]))
    with pytest.raises(ValueError):
        nu.gap_panels(axes, None, {}, noise_floor=0.1)
    plt.close(fig)


# ---------------------------------------------------------------- third pass: task, shift, readout, ends
def _circle_blocks(depth=3):
    x = nu.circle([-2.2, -0.7, 0.6, 2.0])
    _, xq = nu.circle_grid(6)
    fn = nu.analytic_kernel_fn(depth=depth, activation="relu", sigma_w=1.0, sigma_b=0.1)
    return fn, x, xq, torch.tensor([0.3, -0.2, 0.4, -0.3], dtype=torch.float64)


def test_digits_line_task_against_sklearn_directly():
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = np.isin(d.target, [3, 8])
    raw = d.data[keep].astype(np.float64)
    raw = raw - raw.mean(0)
    xs = 8.0 * raw / np.linalg.norm(raw, axis=1, keepdims=True)       # ‖x‖² = n0 = 64
    ys = np.where(d.target[keep] == 3, 1.0, -1.0)
    order = torch.randperm(len(xs), generator=torch.Generator().manual_seed(2)).numpy()
    line = torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], dtype=torch.float64)
    task = nu.digits_line_task([3, 8], 20, 7, seed=2, line=line)
    assert np.allclose(task.x_train.numpy(), xs[order[:20]], atol=1e-12)
    assert np.array_equal(task.y_train.numpy(), ys[order[:20]])
    assert task.x_test.shape == (12, 64) and task.n_test == 7
    assert np.allclose(task.x_test[:7].numpy(), xs[order[20:27]], atol=1e-12)
    a = order[0]
    b = next(i for i in order[:20] if ys[i] != ys[a])
    assert np.allclose(task.x_test[8].numpy(), xs[b]) and np.allclose(task.x_test[10].numpy(), xs[a])
    assert np.allclose(task.x_test[9].numpy(), 0.5 * (xs[a] + xs[b]), atol=1e-12)
    assert task.line_targets == (ys[b], ys[a]) and ys[a] != ys[b]
    for bad in (dict(classes=[3, 8, 1]), dict(n_test=10 ** 4), dict(n_train=0)):
        kwargs = dict(classes=[3, 8], n_train=20, n_test=7) | bad
        with pytest.raises(ValueError):
            nu.digits_line_task(seed=2, line=line, **kwargs)


def test_flow_vs_gd_shift_against_expm_and_iterated_gd():
    import scipy.linalg

    fn, x, xq, y = _circle_blocks()
    blocks = nu.kernel_blocks(fn, x, xq)
    th, th_q = blocks.train[1].numpy(), blocks.test_train[1].numpy()
    eta, k, e = 0.8, 6, 25
    flow = th_q @ np.linalg.solve(th, (np.eye(4) - scipy.linalg.expm(-th * k * eta / 4)) @ y.numpy())
    f, fq = np.zeros(4), np.zeros(6)               # GD on the kernel model from f_0 = 0
    for _ in range(k):
        r = f - y.numpy()
        f, fq = f - eta / 4 * th @ r, fq - eta / 4 * th_q @ r
    sd = np.sqrt(nu.gd_gaussian(blocks, y, [0, k], eta=eta).variance[1] / e)
    brute = np.max(np.abs(flow - fq)[:4] / sd[:4])
    shift = nu.flow_vs_gd_shift(blocks, y, [0, k, 50], eta=eta, n_members=e, n_points=4)
    assert shift == pytest.approx(brute, rel=1e-8)
    # the shift vanishes as η → 0 at fixed t = kη
    small = nu.flow_vs_gd_shift(blocks, y, [0, k * 100], eta=eta / 100, n_members=e)
    assert small < shift / 20
    with pytest.raises(ValueError):
        nu.flow_vs_gd_shift(blocks, y, [0, k], eta=eta, n_members=0)
    with pytest.raises(ValueError):
        nu.flow_vs_gd_shift(blocks, y, [k], eta=eta, n_members=e)


def test_readout_trained_members_equal_readout_gd_steps():
    x = nu.circle([-2.2, -0.7, 0.6, 2.0])
    _, xq = nu.circle_grid(5)
    y = torch.tensor([0.3, -0.2, 0.4, -0.3], dtype=torch.float64)
    f = nu.readout_trained_members(32, 3, x, y, xq, [0, 3, 10], eta=0.5, seed=1, group=4, **_ARCH)
    nets = nu.ensemble_members(2, 32, 3, seed=1, group=4, **_ARCH)
    rec = nu.train_ensemble(nets, x.float(), y.float(), x_test=xq.float(), steps=10, eta=0.5,
                            record_steps=[0, 3, 10], readout_only=True)
    assert f.shape == (3, 3, 5) and f.dtype == torch.float64
    assert torch.allclose(f, rec.f_test.transpose(0, 1).double(), atol=1e-4)
    with pytest.raises(ValueError):
        nu.readout_trained_members(32, 0, x, y, xq, [0, 3], eta=0.5, seed=1, group=4, **_ARCH)


def test_limit_bands_against_the_closed_form():
    import scipy.linalg

    fn, x, xq, y = _circle_blocks()
    k_tr, th_tr = (a.numpy() for a in fn(x, None))
    k_q, th_q = (a.numpy() for a in fn(xq, x))
    k_qq = fn(xq, None)[0].numpy()
    t = 7.0
    p = th_q @ np.linalg.solve(th_tr, np.eye(4) - scipy.linalg.expm(-th_tr * t / 4))
    cov = k_qq + p @ k_tr @ p.T - p @ k_q.T - k_q @ p.T            # Lee et al. eq. 16
    limits = nu.limit_bands({"a": fn, "b": fn}, x, y, xq, t)
    assert list(limits.bands) == ["a", "b"]
    mu, sd = limits.bands["a"]
    assert np.allclose(mu.numpy(), p @ y.numpy(), atol=1e-10)
    assert np.allclose(sd.numpy(), np.sqrt(np.clip(np.diag(cov), 0, None)), atol=1e-8)
    assert np.allclose(limits.cov.numpy(), cov, atol=1e-10)
    inf_mean = th_q @ np.linalg.solve(th_tr, y.numpy())
    assert limits.change == pytest.approx(np.max(np.abs(p @ y.numpy() - inf_mean)), rel=1e-6)
    for bad in (({}, t), ({"a": fn}, math.inf), ({"a": fn}, 0.0)):
        with pytest.raises(ValueError):
            nu.limit_bands(bad[0], x, y, xq, bad[1])


def test_gap_ratio_check_against_a_direct_computation():
    fn, x, xq, y = _circle_blocks()
    blocks = nu.kernel_blocks(fn, x, xq)
    last = nu.gd_gaussian(blocks, y, [40], eta=0.5).select([0], slice(0, 4))
    rng = np.random.default_rng(7)
    f = last.mean[0] + rng.standard_normal((20, 4)) @ np.linalg.cholesky(last.cov + 1e-9 * np.eye(4)).T
    th, th_q = blocks.train[1].numpy(), blocks.test_train[1].numpy()
    k, k_q, k_qq = blocks.train[0].numpy(), blocks.test_train[0].numpy(), blocks.test[0].numpy()
    a = th_q @ np.linalg.inv(th)                                     # NTK-GP at t = ∞
    ntk_var = np.diag(k_qq + a @ k @ a.T - a @ k_q.T - k_q @ a.T)[:4]
    post_var = np.diag(k_qq - k_q @ np.linalg.solve(k, k_q.T))[:4]  # NNGP posterior
    ends = [(1.1 * (a @ y.numpy())[:4], ntk_var), (1.1 * (k_q @ np.linalg.solve(k, y.numpy()))[:4], post_var)]

    def gap(m, v):
        return np.mean(((f.mean(0) - m) ** 2 + (f.std(0, ddof=1) - np.sqrt(v)) ** 2) / v)

    check = nu.gap_ratio_check(f, last, blocks, y, alpha=0.01, time=20.0, width=64, mean_factor=1.1,
                               n_rep=100, seed=3)
    assert check.gaps == pytest.approx([gap(*e) for e in ends], rel=1e-6)
    null = nu.gap_ratio_null(last.mean, last.cov, 20, ends, n_rep=100, seed=3)
    assert np.allclose(check.null, null, rtol=1e-6)
    assert check.bound == pytest.approx(np.quantile(null, 0.99), rel=1e-6)
    assert check.test()["measured"] == check.ratio == check.gaps[0] / check.gaps[1]
    assert "t = 20, n = 64" in str(check) and "99 % quantile" in str(check)
    assert set(check.metrics()) == {"lee_end_gaps", "not_bayesian_ratio_bound"}
    with pytest.raises(ValueError):
        nu.gap_ratio_check(f, last, blocks, y, alpha=1.0, time=20.0, width=64)


# ---------------------------------------------------------------- fourth pass: one call per section
def test_circle_study_equals_the_direct_calls_and_its_figure_is_readable():
    import matplotlib.pyplot as plt

    arch = dict(depth=3, activation="relu", sigma_w=1.0, sigma_b=0.1)
    angles, targets = [-2.2, -0.7, 0.6, 2.0], [0.3, -0.2, 0.4, -0.3]
    study = nu.circle_study(angles, targets, [8, 16], n_shown=2, pit_inits=3, steps=5, kernel_width=16,
                            alpha=0.1, seed=1, n_grid=12, **arch)
    # the notebook's former cells, call for call
    x, y = nu.circle(angles), torch.tensor(targets, dtype=torch.float64)
    gamma, grid = nu.circle_grid(12)
    big = nu.MLP(2, 16, seed=nu.member_seeds(1, 0, 1)[0], **arch)
    fns = {"analytic": nu.analytic_kernel_fn(**arch), "width-16 net": nu.network_kernel_fn(big)}
    limits = nu.limit_bands(fns, x, y, grid, 5.0)
    curves = nu.trained_curves({8: 3, 16: 2}, x, y, grid, steps=5, eta=1.0, seed=1, first_group=1, **arch)
    cal = nu.curve_calibration(curves, limits.bands, limits.cov, n_shown=2, z=1.2815515655446004,
                               alpha=0.1, seed=1)
    assert torch.equal(study.gamma, gamma) and study.limits.change == limits.change
    assert all(torch.equal(study.curves[n], curves[n]) for n in (8, 16))
    assert str(study.calibration) == str(cal) and study.calibration.pit == cal.pit
    with nu.house_style():                   # as the notebook context does
        fig = nu.figure_circle_curves(study)
        assert len(fig.axes) == 2 and nu.layout_problems(nu.layout_report(fig)) == []
    plt.close(fig)
    with pytest.raises(ValueError):
        nu.circle_study(angles, targets[:3], [8], n_shown=1, pit_inits=1, steps=1, kernel_width=8,
                        alpha=0.1, seed=0, **arch)
    with pytest.raises(ValueError):
        nu.circle_study(angles, targets, [], n_shown=1, pit_inits=1, steps=1, kernel_width=8,
                        alpha=0.1, seed=0, **arch)


def test_ensemble_gp_study_equals_the_direct_calls_and_its_figures_are_readable():
    import matplotlib.pyplot as plt

    arch = dict(depth=2, activation="tanh", sigma_w=1.2, sigma_b=None)
    kw = dict(eta=0.5, alpha_z=0.01, seed=2, n_test=4, mean_factor=1.05)
    lee = nu.ensemble_gp_study([3, 8], 16, [8, 16], 3, 4, [2, 5], **kw, **arch)
    # the notebook's former cells, call for call
    task = nu.digits_line_task([3, 8], 16, 4, seed=2, line=torch.linspace(-2, 3, 51, dtype=torch.float64))
    x, y, xq, m = task.x_train, task.y_train, task.x_test, task.n_test
    blocks = nu.kernel_blocks(nu.analytic_kernel_fn(**arch), x, xq)
    ref = {k: nu.gd_gaussian(blocks, y, [0, 2, 5], eta=0.5, readout_only=k == "readout-trained").scaled(1.05)
           for k in ("network", "linearised", "readout-trained")}
    runs = nu.width_ensembles([8, 16], 3, x, y, xq, [0, 2, 5], eta=0.5, seed=2, first_group=10, **arch)
    readout = nu.readout_trained_members(16, 4, x, y, xq[:m], [0, 2, 5], eta=0.5, seed=2, group=20, **arch)
    trained = {k: g.select(slice(1, None), slice(0, m)) for k, g in ref.items()}
    study = nu.ensemble_width_study(runs, trained, readout, n_test=m, times=torch.tensor([0.0, 1.0, 2.5]),
                                    alpha_z=0.01)
    assert torch.equal(lee.task.x_test, xq) and torch.equal(lee.readout, readout)
    assert all(torch.equal(lee.runs[n][k], runs[n][k]) for n in runs for k in runs[n])
    assert str(lee.study) == str(study) and np.array_equal(lee.study.gaps()["network"], study.gaps()["network"])
    assert lee.bound == nu.max_learning_rate(blocks.train[1])
    assert lee.shift == nu.flow_vs_gd_shift(blocks, y, [0, 2, 5], eta=0.5, n_members=3, n_points=m)
    assert lee.times.tolist() == [0.0, 1.0, 2.5] and str(lee).startswith("data: ")
    direct = nu.gap_ratio_check(runs[16]["network"][:, -1, :m], ref["network"].select([2], slice(0, m)),
                                blocks, y, alpha=0.1, time=2.5, width=16, mean_factor=1.05, seed=3)
    assert str(lee.bayes_check(alpha=0.1, seed=3)) == str(direct)
    assert lee.noise_floor == nu.gap_noise_floor(3)
    with nu.house_style():                   # as the notebook context does
        for fig in (nu.figure_ensemble_bands(lee), nu.figure_gaps(lee)):
            assert nu.layout_problems(nu.layout_report(fig)) == []
            plt.close(fig)
    with pytest.raises(ValueError):
        nu.ensemble_gp_study([3, 8], 16, [], 3, 4, [2, 5], **kw, **arch)
    with pytest.raises(ValueError):
        nu.ensemble_gp_study([3, 8], 16, [8], 3, 4, [], **kw, **arch)
