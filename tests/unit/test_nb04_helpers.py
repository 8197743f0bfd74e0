"""Helpers of notebook 04 (eigendirections.py and its claim statistics in stats.py) against
independent computations: explicit gradient-descent iteration, direct matrix algebra, kernel
regression solved directly, loops over the definitions."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

import ntkutils as nu

matplotlib.use("Agg")
ARCH = dict(depth=3, activation="relu", sigma_w=1.0, sigma_b=0.1)


@pytest.fixture(scope="module")
def ex() -> nu.EigendirectionExperiment:
    x = nu.sphere_uniform(14, 3, seed=0)
    eta = nu.EigendirectionExperiment(x, t_max=1.0, n_components=4, **ARCH).eta
    return nu.EigendirectionExperiment(x, t_max=30 * eta, n_components=4, **ARCH)


@pytest.fixture(scope="module")
def run(ex: nu.EigendirectionExperiment) -> nu.SnapshotRun:
    return ex.train(32, [0.0, 0.05, 0.05, 0.05, 0.05], seed=3)


# ------------------------------------------------------------------ claim statistics (stats)
def test_max_ratio_deviation_is_the_worst_relative_miss() -> None:
    m, p = np.array([1.02, 0.96, 1.05, 1.08]), np.array([1.0, 1.0, 1.0, 1.0])
    assert nu.max_ratio_deviation(m, p) == pytest.approx(max(abs(a / b - 1) for a, b in zip(m, p)))
    assert nu.max_ratio_deviation([2.0, 3.0], [4.0, 3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-zero"):
        nu.max_ratio_deviation([1.0], [0.0])
    with pytest.raises(ValueError, match="1-D"):
        nu.max_ratio_deviation([1.0, 2.0], [1.0])


def test_mean_abs_log_ratio_ignores_nan_and_negative_ratios() -> None:
    r = np.array([[2.0, 0.5, np.nan], [1.0, -1.0, math.e]])
    assert nu.mean_abs_log_ratio(r) == pytest.approx((math.log(2) * 2 + 0 + 1) / 4)
    with pytest.raises(ValueError, match="empty"):
        nu.mean_abs_log_ratio([])


def test_mean_max_deviation_is_the_mean_sup_distance() -> None:
    rng = np.random.default_rng(0)
    curves, ref = rng.normal(size=(3, 7)), rng.normal(size=7)
    expected = np.mean([max(abs(c[j] - ref[j]) for j in range(7)) for c in curves])
    assert nu.mean_max_deviation(curves, ref) == pytest.approx(expected)
    with pytest.raises(ValueError, match="curves must be"):
        nu.mean_max_deviation(curves, ref[:5])


# ------------------------------------------------------------------ the experiment
def test_setting_rates_components_and_schedule(ex: nu.EigendirectionExperiment) -> None:
    n = ex.n_points
    lam_sum = torch.linalg.eigvalsh(ex.theta).flip(0) / n             # Gram eigenvalues / N
    assert torch.allclose(ex.lam, lam_sum, rtol=1e-10)
    assert torch.allclose((ex.f_pc ** 2).mean(0), torch.ones(n, dtype=torch.float64))
    expected = [-math.log(1 - ex.eta * float(ex.lam[i])) / ex.eta for i in ex.components]
    assert np.allclose(ex.rates, expected, rtol=1e-12)
    assert ex.snapshots[0] == 0 and ex.snapshots[-1] == ex.steps == math.ceil(30.0)
    assert set(ex.snapshots) <= set(ex.record_steps) and ex.record_steps[1] == 1
    planted = nu.EigendirectionExperiment(ex.x, t_max=1.0, n_components=4, planted_error=0.1, **ARCH)
    assert np.allclose(planted.rates, 1.1 * ex.rates, rtol=1e-12)


def test_own_kernel_residual_is_explicit_gradient_descent(ex, run) -> None:
    k0, n = run.ntk[0], ex.n_points
    residual = -(ex.f_pc[:, :5] @ torch.tensor([0.0, 0.05, 0.05, 0.05, 0.05], dtype=torch.float64))
    recorded = dict(zip(ex.record_steps, run.own))
    for k in range(ex.steps + 1):
        if k in recorded:
            assert np.allclose(recorded[k], (residual @ ex.vec).numpy(), atol=1e-12)
        residual = residual - ex.eta * k0 @ residual / n                # GD on ½·mean
    # the network starts where GD with its own kernel starts (float32 outputs)
    assert np.allclose(run.net[0], run.own[0], atol=1e-5)
    assert np.allclose(run.t, np.array(ex.record_steps) * ex.eta)


def test_snapshot_run_norms_rates_and_quotients(ex, run) -> None:
    n = ex.n_points
    total = (run.net ** 2).sum(1) / n                                   # ‖f_t − f*‖²_{p_in}
    assert np.allclose(run.g ** 2 + run.h ** 2, total, rtol=1e-10)
    last = run.ntk[ex.steps]
    assert run.kernel_change == pytest.approx(float(torch.linalg.norm(last - run.ntk[0]) / torch.linalg.norm(run.ntk[0])))
    rho = run.rayleigh_quotients()
    direct = [float(ex.vec[:, i] @ run.ntk[0] @ ex.vec[:, i]) / n / float(ex.lam[i]) for i in (1, 2, 3, 4)]
    assert rho.shape == (len(ex.snapshots), 4) and np.allclose(rho[0], direct)
    top = [ex.eta * float(np.linalg.eigvalsh(k.numpy()).max()) / n for k in run.ntk.values()]
    assert np.allclose(run.eta_lambda_max(), top)
    rates = run.component_rates("own")
    assert rates.shape == (4,) and np.all(np.isfinite(rates))
    with pytest.raises(ValueError, match="key"):
        run.rate_scale("neither")


def test_initial_rate_scale_divides_by_a_planted_rate_error(ex) -> None:
    s = ex.initial_rate_scale(64, 0.05, seed=1)
    planted = nu.EigendirectionExperiment(ex.x, t_max=30 * ex.eta, n_components=4, planted_error=0.25, **ARCH)
    assert 0.3 < s < 3
    assert planted.initial_rate_scale(64, 0.05, seed=1) == pytest.approx(s / 1.25, rel=1e-6)
    with pytest.raises(ValueError, match="amplitude"):
        ex.initial_rate_scale(64, 0.0, seed=1)


def test_kernel_change_agrees_with_the_snapshot_run_and_growth_reuses_runs(ex) -> None:
    a = 0.05
    runs = ex.train_many([16, 32], 2, [0.0] + [a] * 4, seed=lambda n, s: 100 * n + s)
    assert ex.kernel_change(16, a, seed=1600) == pytest.approx(runs[16, 0].kernel_change, rel=1e-3)
    growth = ex.kernel_growth([8, 16, 32], a, 2, seed=lambda n, b, s: 100 * n + s, reuse=runs)
    assert growth.by_width.shape == (3, 2) and growth.by_amplitude.shape == (3, 2)
    assert growth.by_width[2].tolist() == [runs[32, s].kernel_change for s in range(2)]
    assert np.array_equal(growth.by_amplitude[1], growth.by_width[1])    # (n_mid, a) measured once
    assert growth.a_lo ** 2 / growth.n_lo == pytest.approx(a ** 2 / growth.n_hi)
    assert len(growth.points()) == 3 + 3 + 1
    with pytest.raises(ValueError, match="2 widths"):
        ex.kernel_growth([8], a, 2, seed=lambda n, b, s: s)


def test_early_stopping_interpolates_at_infinity(ex) -> None:
    x_held = nu.sphere_uniform(9, 3, seed=5)
    train_cls, held_cls = torch.arange(ex.n_points) % 2 == 0, torch.arange(9) % 3 == 0
    result = ex.early_stopping(train_cls, x_held, held_cls, n_val=3, noise=0.0, seeds=[0, 1])
    y = torch.where(train_cls, 1.0, -1.0).double()
    k_test = nu.analytic_kernels(x_held[3:], ex.x, **ARCH).ntk
    interpolant = k_test @ torch.linalg.solve(ex.theta, y)                # t = ∞
    y_test = torch.where(held_cls[3:], 1.0, -1.0).double()
    assert np.allclose(result.curves["test"][-1], ((interpolant - y_test) ** 2).numpy(), atol=1e-6)
    assert result.gain.shape == (6,) and result.stops.shape == (2,) and math.isinf(result.times[-1])
    assert 0 < result.clean_share <= 1
    with pytest.raises(ValueError, match="noise"):
        ex.early_stopping(train_cls, x_held, held_cls, n_val=3, noise=1.0, seeds=[0])


def test_bad_settings_raise(ex) -> None:
    with pytest.raises(ValueError, match="t_max"):
        nu.EigendirectionExperiment(ex.x, t_max=0.0, **ARCH)
    with pytest.raises(ValueError, match="n_components"):
        nu.EigendirectionExperiment(ex.x, t_max=1.0, n_components=14, **ARCH)
    with pytest.raises(ValueError, match="eta"):
        nu.EigendirectionExperiment(ex.x, t_max=1.0, eta=3.0 / float(ex.lam[1]), **ARCH)


def test_panels_draw_without_layout_problems(ex, run) -> None:
    from matplotlib.figure import Figure

    nu.use_house_style()
    runs = {(32, 0): run, (32, 1): run}
    fig = Figure(figsize=(10, 3.6))
    nu.plot_figure3(fig.subplots(1, 2), runs, ex.limit_curve(run.t, 0.05))
    fig2 = Figure(figsize=(13, 4.4))
    nu.plot_rates(fig2.subplots(1, 3), ex, {32: run.component_rates()}, run.rayleigh_quotients(),
                  {(32, 0): run.eta_lambda_max()})
    fig3 = Figure(figsize=(4.8, 4.0))
    nu.plot_principal_components(fig3.subplots(), ex, torch.arange(ex.n_points) % 10)
    for f in (fig, fig2, fig3):
        assert nu.layout_problems(nu.layout_report(f)) == []


# ------------------------------------------------------------------ section summaries (issue 13)
@pytest.fixture(scope="module")
def studies(ex: nu.EigendirectionExperiment):
    fig3 = ex.figure3([16, 32], 2, 0.05, seed=lambda n, s: 10 * n + s)
    rates = ex.rate_study([16, 32], 2, 0.05, seed=lambda n, s: 20 * n + s)
    return fig3, rates


def test_random_split_is_a_seeded_permutation() -> None:
    data = nu.LabelledData(torch.arange(20.0).reshape(10, 2), torch.arange(10), "toy")
    first, rest = nu.random_split(data, 4, seed=7)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first.labels, order[:4]) and torch.equal(rest.labels, order[4:])
    assert torch.equal(first.x[:, 0], 2.0 * order[:4]) and rest.name == "toy"
    with pytest.raises(ValueError, match="at most"):
        nu.random_split(data, 11, seed=0)
    with pytest.raises(ValueError, match="n must be"):
        nu.random_split(data, 0, seed=0)


def test_spectrum_matches_a_direct_eigendecomposition(ex) -> None:
    sp = ex.spectrum(64, seed=5)
    net = nu.MLP(ex.x.shape[1], 64, seed=5, dtype=torch.float64, **ex.arch)
    direct = np.linalg.eigvalsh(nu.empirical_ntk(net, ex.x).numpy())[::-1] / ex.n_points
    np.testing.assert_allclose(np.asarray(sp.empirical), direct, rtol=1e-8, atol=1e-12)
    assert "empirical n=64" in str(sp) and "lambda_empirical_n64_top10" in sp.metrics()
    with pytest.raises(ValueError, match="width"):
        ex.spectrum(0, seed=0)


def test_figure3_study_statistics_by_their_definitions(ex, studies) -> None:
    fig3, _ = studies
    assert (fig3.small, fig3.big, fig3.trials) == (16, 32, 2)
    runs = fig3.runs
    g = [nu.decay_rate(runs[32, s].t, runs[32, s].g) for s in range(2)]
    own = [nu.decay_rate(runs[32, s].t, runs[32, s].g_own) for s in range(2)]
    assert fig3.own_kernel_deviation() == pytest.approx(max(abs(a / b - 1) for a, b in zip(g, own)))
    assert fig3.own_kernel_deviation(2.0) == pytest.approx(max(abs(a / (2 * b) - 1) for a, b in zip(g, own)))
    ratios = np.array(g) / ex.rates[0]
    assert fig3.r2_tolerance() == pytest.approx(round(0.3 * math.sqrt(1000 / 32) + np.ptp(ratios) / 2, 3))
    limit = 0.05 * np.exp(-ex.rates[0] * runs[16, 0].t)
    dev = {n: np.mean([np.abs(runs[n, s].g - limit).max() for s in range(2)]) for n in (16, 32)}
    assert fig3.g_deviation_ratio() == pytest.approx(dev[32] / dev[16])
    assert fig3.g_approaches_limit() == (dev[32] < dev[16])
    h = {n: np.mean([runs[n, s].h.max() for s in range(2)]) for n in (16, 32)}
    assert fig3.h_ratio == pytest.approx(h[32] / h[16])
    assert fig3.max_kernel_change() == max(runs[32, s].kernel_change for s in range(2))
    assert len(str(fig3).splitlines()) == 2 and "h_max by width" in fig3.metrics()


def test_rate_study_statistics_by_their_definitions(ex, studies) -> None:
    from scipy.stats import kendalltau

    _, rates = studies
    fitted = {k: r.component_rates() for k, r in rates.runs.items()}
    mean32 = (fitted[32, 0] + fitted[32, 1]) / 2
    np.testing.assert_allclose(rates.rate_fit[32], mean32, rtol=1e-12)
    assert rates.kendall_tau() == pytest.approx(kendalltau(mean32, ex.rates).statistic)
    logs = {n: np.nanmean(np.abs(np.log([fitted[n, s] / ex.rates for s in range(2)]))) for n in (16, 32)}
    assert rates.log_error_ratio() == pytest.approx(logs[32] / logs[16])
    assert rates.approaches_limit() == (logs[32] < logs[16])
    s_net = [rates.runs[32, s].rate_scale("net") for s in range(2)]
    s_own = [rates.runs[32, s].rate_scale("own") for s in range(2)]
    assert rates.own_kernel_deviation() == pytest.approx(max(abs(a / b - 1) for a, b in zip(s_net, s_own)))
    assert rates.rho_widest.shape == (len(ex.snapshots), min(5, len(ex.components)))
    assert len(str(rates).splitlines()) == 4 and "kendall_tau" in rates.metrics()


def test_initial_kernel_limit_fits_the_inverse_width_law(ex) -> None:
    lim = ex.initial_kernel_limit([16, 24, 32], 2, 0.05, seed=lambda n, i: n + i, ci=0.9)
    direct = [[ex.initial_rate_scale(n, 0.05, n + i) for i in range(2)] for n in (16, 24, 32)]
    np.testing.assert_allclose(lim.s0, direct, rtol=1e-12)
    assert lim.fit.limit == pytest.approx(nu.inverse_width_limit([16, 24, 32], lim.s0, ci=0.9).limit)
    assert str(lim).splitlines()[0].startswith("n=16: s_0 mean")
    with pytest.raises(ValueError, match="amplitude"):
        ex.initial_kernel_limit([16], 1, -1.0, seed=lambda n, i: 0)


def test_kernel_growth_fits_and_early_stopping_interval(ex, studies) -> None:
    _, rates = studies
    growth = ex.kernel_growth([16, 24, 32], 0.05, 2, seed=lambda n, a, s: n + s, reuse=rates.runs,
                              slope_ci=0.9, ratio_ci=0.8)
    assert growth.slope_n.slope == pytest.approx(nu.loglog_slope_t([16, 24, 32], growth.by_width, ci=0.9).slope)
    ratio = np.log(growth.by_width[-1].mean() / growth.same.mean())
    assert growth.same_ratio.estimate == pytest.approx(ratio)
    assert "(80 %)" in str(growth) and "growth" in growth.metrics()
    x = nu.sphere_uniform(40, 3, seed=1)
    stop = ex.early_stopping(torch.arange(14) % 2 == 0, x, torch.arange(40) % 2 == 0, n_val=10,
                             noise=0.2, seeds=[1, 2], ci=0.9, bootstrap_seed=3)
    boot = nu.bootstrap_ci(stop.gain, np.mean, n_boot=2000, seed=3, ci=0.9)
    assert stop.gain_ci.ci_low == boot.ci_low and stop.gain_ci.estimate == pytest.approx(stop.gain.mean())
    assert "(90 %)" in str(stop) and "early_stopping" in stop.metrics()


def test_whole_figures_have_no_layout_problems(ex, studies) -> None:
    import matplotlib.pyplot as plt

    nu.use_house_style()
    fig3, rates = studies
    figs = [nu.figure_3(fig3), nu.figure_rates(rates),
            nu.figure_principal_components(ex, torch.arange(ex.n_points) % 10)]
    for f in figs:
        assert nu.layout_problems(nu.layout_report(f)) == []
        plt.close(f)


# ------------------------------------------------------------------ claim plumbing, knobs, streams (issue 13, pass 3)
def test_from_knobs_equals_the_constructor_and_needs_every_knob(ex) -> None:
    from types import SimpleNamespace

    knobs = SimpleNamespace(**ARCH, eta=ex.eta, t_max=ex.steps * ex.eta, planted_error=0.1)
    built = nu.EigendirectionExperiment.from_knobs(ex.x, knobs)
    direct = nu.EigendirectionExperiment(ex.x, **ARCH, eta=ex.eta, t_max=ex.steps * ex.eta,
                                         planted_error=0.1)
    np.testing.assert_array_equal(built.rates, direct.rates)
    assert built.steps == direct.steps and built.seed_for is None
    with pytest.raises(ValueError, match="knobs lacks"):
        nu.EigendirectionExperiment.from_knobs(ex.x, SimpleNamespace(**ARCH))


def test_streams_give_the_seeds_the_notebook_wrote_out(ex) -> None:
    plain = ex
    seed_for = lambda *keys: nu.stream_seed(7, *keys)               # noqa: E731 (= nb.seed_for)
    ex = nu.EigendirectionExperiment(plain.x, t_max=10 * plain.eta, eta=0.5 * plain.eta,
                                     n_components=4, seed_for=seed_for, **ARCH)
    a = 0.05
    by_stream = ex.figure3([16, 32], 2, a, stream=1)
    by_seed = ex.figure3([16, 32], 2, a, seed=lambda n, s: nu.stream_seed(7, 1, s, n))
    for k in by_seed.runs:
        np.testing.assert_array_equal(by_stream.runs[k].net, by_seed.runs[k].net)
    lim = ex.initial_kernel_limit([16, 24, 32], 2, a, stream=3)
    lim_seed = ex.initial_kernel_limit([16, 24, 32], 2, a, seed=lambda n, i: nu.stream_seed(7, 3, i, n))
    np.testing.assert_array_equal(lim.s0, lim_seed.s0)
    assert ex.spectrum(16, stream=0).empirical.tolist() == ex.spectrum(
        16, seed=nu.stream_seed(7, 0, 0, 16)).empirical.tolist()
    g1 = ex.kernel_growth([16, 24, 32], a, 2, stream=4)
    g2 = ex.kernel_growth([16, 24, 32], a, 2, seed=lambda n, amp, s: nu.stream_seed(7, 4, s, n, round(amp * 1e6)))
    np.testing.assert_array_equal(g1.by_amplitude, g2.by_amplitude)
    np.testing.assert_array_equal(g1.same, g2.same)
    xh = nu.sphere_uniform(30, 3, seed=3)
    labels, held = torch.arange(14) % 2 == 0, torch.arange(30) % 2 == 0
    s1 = ex.early_stopping(labels, xh, held, noise=0.2, stream=5, draws=3)
    s2 = ex.early_stopping(labels, xh, held, noise=0.2, n_val=min(30 // 3, 400),
                           seeds=[nu.stream_seed(7, 5, d) % 2**62 for d in range(3)])
    np.testing.assert_array_equal(s1.gain, s2.gain)
    with pytest.raises(ValueError, match="exactly one"):
        ex.figure3([16], 1, a)
    with pytest.raises(ValueError, match="exactly one"):
        ex.figure3([16], 1, a, seed=lambda n, s: 0, stream=1)
    with pytest.raises(ValueError, match="seed_for"):
        plain.rate_study([16], 1, a, stream=2)
    with pytest.raises(ValueError, match="draws"):
        ex.early_stopping(labels, xh, held, noise=0.2, stream=5)


def test_claim_argument_helpers_match_the_statistics(ex, studies) -> None:
    fig3, rates = studies
    for study in (fig3, rates):
        args = study.own_kernel_args()
        assert args["measured"] == study.own_kernel_deviation() and args["digits"] == 3
        assert args["prediction"](1.0) == study.own_kernel_deviation(1.0)
    r = rates.approach_args()
    assert (r["passed"], r["measured"], r["digits"]) == (
        rates.log_error(32) < rates.log_error(16), rates.log_error(32) / rates.log_error(16), 2)
    f = fig3.approach_args()
    assert (f["passed"], f["measured"]) == (fig3.g_approaches_limit(), fig3.g_deviation_ratio())
    b = nu.bound_args(0.03, 0.05)
    assert b == dict(measured=0.03, bound=0.05, resolution=pytest.approx(0.02),
                     resolution_kind="bound")
    with pytest.raises(ValueError, match="measured"):
        nu.bound_args(float("nan"), 0.05)
    # the helpers give the same claims as the explicit calls
    explicit, helped = nu.ClaimSet("t", "smoke"), nu.ClaimSet("t", "smoke")
    explicit.less_than("x", "p", 0.03, 0.05, digits=3, resolution=0.05 - 0.03, resolution_kind="bound")
    helped.less_than("x", "p", digits=3, **nu.bound_args(0.03, 0.05))
    explicit.less_than("y", "p", fig3.own_kernel_deviation(), 0.05, digits=3,
                       prediction=fig3.own_kernel_deviation)
    helped.less_than("y", "p", bound=0.05, **fig3.own_kernel_args())
    assert explicit.table() == helped.table()


def test_limit_growth_and_stopping_claim_arguments(ex, studies) -> None:
    _, rates = studies
    lim = ex.initial_kernel_limit([16, 24, 32], 3, 0.05, seed=lambda n, i: 3 * n + i, ci=0.9)
    w = lim.within_args(1.0)
    fit = lim.fit
    assert (w["measured"], w["expected"], w["tol"], w["interval"]) == (
        fit.limit, 1.0, fit.halfwidth, (fit.ci_low, fit.ci_high))
    assert w["tol"] == pytest.approx((fit.ci_high - fit.ci_low) / 2)
    with pytest.raises(ValueError, match="expected"):
        lim.within_args(float("inf"))
    growth = ex.kernel_growth([16, 24, 32], 0.05, 2, seed=lambda n, a, s: n + s, reuse=rates)
    same = ex.kernel_growth([16, 24, 32], 0.05, 2, seed=lambda n, a, s: n + s, reuse=rates.runs)
    np.testing.assert_array_equal(growth.by_width, same.by_width)
    g = growth.same_ratio_args()
    assert g["measured"] == pytest.approx(np.log(growth.by_width[-1].mean() / growth.same.mean()))
    assert (g["expected"], g["tol"]) == (0.0, growth.same_ratio.halfwidth)
    growth.same_ratio = None
    with pytest.raises(ValueError, match="same_ratio"):
        growth.same_ratio_args()
    x = nu.sphere_uniform(40, 3, seed=1)
    stop = ex.early_stopping(torch.arange(14) % 2 == 0, x, torch.arange(40) % 2 == 0, n_val=10,
                             noise=0.2, seeds=[1, 2], ci=0.9, bootstrap_seed=3)
    s = stop.gain_args()
    assert s["measured"] == stop.gain_ci.ci_low and s["resolution_kind"] == "interval"
    assert s["resolution"] == pytest.approx((stop.gain_ci.ci_high - stop.gain_ci.ci_low) / 2)
    stop.gain_ci = None
    with pytest.raises(ValueError, match="gain_ci"):
        stop.gain_args()


def test_collect_metrics_and_print_and_save(ex, studies, capsys) -> None:
    fig3, rates = studies
    merged = nu.collect_metrics(rates, fig3)
    assert list(merged) == list({**rates.metrics(), **fig3.metrics()})
    with pytest.raises(ValueError, match="metrics"):
        nu.collect_metrics(rates, object())
    saved = []

    class FakeNotebook:
        def savefig(self, fig, panel):
            saved.append((fig, panel))

    nu.print_and_save(FakeNotebook(), fig3, "FIG", "figure3")
    assert capsys.readouterr().out == str(fig3) + "\n" and saved == [("FIG", "figure3")]
    with pytest.raises(ValueError, match="savefig"):
        nu.print_and_save(object(), fig3, None, "x")
