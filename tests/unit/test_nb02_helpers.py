"""Helpers that notebook 02 uses: the 1/n bias fit of a per-network statistic (stats) and the
Figure 1 / pooled-mean panels (plotting), each against an independent computation."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ntkutils as nu  # noqa: E402


def _ratios(rng, widths, limit=1.0, b=2.0, c=4.0):
    """One statistic per network: mean limit + b/n, variance c/n (the model of the fit)."""
    return limit + b / widths + rng.standard_normal(widths.shape) * np.sqrt(c / widths)


def test_inverse_width_bias_equals_numpy_weighted_polyfit():
    rng = np.random.default_rng(0)
    widths = np.repeat([64.0, 128.0, 256.0, 512.0, 1024.0], 40)
    r = _ratios(rng, widths)
    fit = nu.inverse_width_bias(widths, r)
    (b, limit), cov = np.polyfit(1 / widths, r, 1, w=np.sqrt(widths), cov=True)
    # numpy scales the covariance by the weighted residual variance on N - 2 degrees of freedom
    assert fit.b == pytest.approx(b, rel=1e-10) and fit.limit == pytest.approx(limit, rel=1e-12)
    assert fit.b_stderr == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    assert fit.n == widths.size and str(fit) == f"b = {fit.b:+.2f} ± {fit.b_stderr:.2f}"


def test_inverse_width_bias_is_unbiased_with_calibrated_standard_error_monte_carlo():
    rng = np.random.default_rng(1)
    widths = np.repeat([32.0, 64.0, 128.0, 512.0], 50)
    fits = [nu.inverse_width_bias(widths, _ratios(rng, widths, b=3.0)) for _ in range(2000)]
    b = np.array([f.b for f in fits])
    se = np.array([f.b_stderr for f in fits])
    # 2000 replicates: the mean of b to ~2 % of its sd, the sd of b to ~3 %
    assert abs(b.mean() - 3.0) < 4 * b.std() / np.sqrt(b.size)
    assert se.mean() == pytest.approx(b.std(), rel=0.06)
    assert np.mean(np.abs(b - 3.0) <= 1.96 * se) == pytest.approx(0.95, abs=0.015)


def test_pooled_bias_is_the_bias_of_the_width_weighted_mean():
    fit = nu.InverseWidthBias(limit=1.0, b=2.5, b_stderr=0.5, n=10)
    widths = np.array([500.0, 500.0, 1000.0, 4096.0])
    expected_values = 1.0 + 2.5 / widths                        # E v_i exactly
    weighted_mean = (widths * expected_values).sum() / widths.sum()
    bias, se = fit.pooled_bias(widths)
    assert bias == pytest.approx(weighted_mean - 1.0, rel=1e-12)
    assert se == pytest.approx(0.5 * 4 / widths.sum(), rel=1e-12)


@pytest.mark.parametrize("widths, values", [
    ([64, 128], [1.0, 1.1]),                      # too few networks
    ([64, 64, 64], [1.0, 1.1, 0.9]),              # one distinct width
    ([64, 0, 128], [1.0, 1.1, 0.9]),              # non-positive width
    ([64, 128, 256], [1.0, np.nan, 0.9]),         # non-finite value
    ([64, 128, 256], [1.0, 1.1]),                 # shapes differ
])
def test_inverse_width_bias_rejects_bad_input(widths, values):
    with pytest.raises(ValueError):
        nu.inverse_width_bias(widths, values)


def test_pooled_bias_rejects_bad_widths():
    fit = nu.InverseWidthBias(1.0, 1.0, 0.1, 5)
    for widths in ([], [100, -1]):
        with pytest.raises(ValueError):
            fit.pooled_bias(widths)


def test_curve_bundles_one_colour_and_legend_entry_per_group_legend_outside():
    x = np.linspace(-np.pi, np.pi, 9)
    bundles = {"n = 500, t = 0": np.ones((3, 9)), "n = 500, t = 200": 2 * np.ones((3, 9))}
    fig, ax = plt.subplots()
    nu.curve_bundles(ax, x, bundles, reference=np.zeros(9), reference_label="limit",
                     xlabel="γ", ylabel="Θ")
    assert len(ax.lines) == 7                                   # 2 × 3 curves + reference
    colours = [line.get_color() for line in ax.lines[:6]]
    assert colours[:3] == ["C0"] * 3 and colours[3:] == ["C1"] * 3
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [*bundles, "limit"]
    fig.canvas.draw()
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1     # outside the data
    assert ax.get_xlim() == (-np.pi, np.pi)
    with pytest.raises(ValueError):
        nu.curve_bundles(ax, x, {"bad": np.ones((3, 8))})
    with pytest.raises(ValueError):
        nu.curve_bundles(ax, x, bundles, reference=np.zeros(8))
    plt.close(fig)


def test_mean_test_panel_draws_points_interval_and_expected_value():
    widths = np.array([64.0, 128.0, 256.0, 512.0])
    values = np.array([1.02, 0.98, 1.01, 0.99])
    test = nu.mean_test(values, weights=widths, expected=1.0, ci=0.99)
    fig, ax = plt.subplots()
    nu.mean_test_panel(ax, widths, values, test, label="one network", interval_label="99 %",
                       expected_label="1", ylabel="r")
    points, line = ax.lines
    np.testing.assert_array_equal(points.get_ydata(), values)
    assert line.get_ydata()[0] == 1.0 and ax.get_xscale() == "log"
    band = ax.patches[0]
    assert band.get_y() == pytest.approx(test.ci_low)
    assert band.get_y() + band.get_height() == pytest.approx(test.ci_high)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one network", "99 %", "1"]
    with pytest.raises(ValueError):
        nu.mean_test_panel(ax, widths, values[:3], test)
    plt.close(fig)


def test_pooled_width_mean_equals_direct_weighted_mean_and_bias_fit():
    rng = np.random.default_rng(2)
    pooled_w = np.repeat([64.0, 500.0, 1000.0], 6)
    extra_w = np.repeat([64.0, 128.0], 10)
    pooled = np.stack([pooled_w, _ratios(rng, pooled_w)], 1)
    extra = np.stack([extra_w, _ratios(rng, extra_w)], 1)
    result = nu.pooled_width_mean(pooled, extra, min_width=500, expected=1.0, ci=0.99)
    wide = pooled[pooled[:, 0] >= 500]
    w, v = wide[:, 0], wide[:, 1]
    mean = (w * v).sum() / w.sum()                                   # by hand
    stderr = np.sqrt((w * (v - mean) ** 2).sum() / (len(v) - 1) / w.sum())
    assert result.test.mean == pytest.approx(mean, rel=1e-12)
    assert result.test.stderr == pytest.approx(stderr, rel=1e-12) and result.test.n == 12
    (b, _), _ = np.polyfit(1 / np.r_[pooled_w, extra_w], np.r_[pooled[:, 1], extra[:, 1]], 1,
                           w=np.sqrt(np.r_[pooled_w, extra_w]), cov=True)
    assert result.bias.b == pytest.approx(b, rel=1e-10) and result.bias.n == 38
    assert result.pooled_bias == pytest.approx(result.bias.b * 12 / w.sum(), rel=1e-12)
    np.testing.assert_array_equal(result.widths, np.r_[pooled_w, extra_w])
    assert result.holds_at(result.test.mean) and not result.holds_at(result.test.ci_high + 1e-9)
    assert str(result).splitlines()[0] == str(result.test)


@pytest.mark.parametrize("pooled, extra, min_width", [
    ([[64, 1.0], [128, 1.1], [256, 0.9]], [], 1000),      # fewer than 2 tested units
    ([1.0, 1.1, 0.9], [], 1),                              # not (width, value) pairs
    ([[64, 1.0], [128, 1.1], [256, 0.9]], [[64, 1, 2]], 1),  # extra not pairs
])
def test_pooled_width_mean_rejects_bad_input(pooled, extra, min_width):
    with pytest.raises(ValueError):
        nu.pooled_width_mean(pooled, extra, min_width=min_width)


def test_train_ntk_change_matches_train_network_and_a_direct_kernel():
    import torch
    x = nu.gaussian_inputs(6, 2, seed=1)
    y = x[:, 0] * x[:, 1]
    grid = nu.circle_grid(7)[1]
    net = nu.MLP(2, 32, depth=3, seed=3, dtype=torch.float64)
    run = nu.train_ntk_change(net, x, y, grid, steps=5, eta=0.5)
    rec = nu.train_network(net, x, y, steps=5, eta=0.5, record_every=None)
    torch.testing.assert_close(run.initial, nu.empirical_ntk(net, grid), rtol=1e-12, atol=1e-12)
    assert run.loss == float(rec.loss[-1]) and run.t == 2.5 and list(run.ntk) == [0.0, 2.5]
    # the final kernel is the NTK of the trained parameters, computed here by torch.func
    trained = nu.MLP(2, 32, depth=3, seed=3, dtype=torch.float64)
    with torch.no_grad():
        for name, p in trained.named_parameters():
            p.copy_(rec.params[name])
    ref = nu.empirical_ntk(trained, grid, implementation="jacobian")
    torch.testing.assert_close(run.final, ref, rtol=1e-10, atol=1e-12)
    assert run.change == pytest.approx(float((run.final - run.initial).norm() / run.initial.norm()),
                                       rel=1e-12)
    infl = float((run.final - run.initial)[3].sum() / ref.shape[0]) / float(ref[3].mean())
    assert run.relative_inflation(3, ref) == pytest.approx(infl, rel=1e-10)
    with pytest.raises(ValueError):
        nu.train_ntk_change(net, x, y, grid, steps=0, eta=0.5)
    with pytest.raises(ValueError):
        nu.train_ntk_change(net, x, y, grid, steps=5, eta=-1.0)


# ------------------------------------------- ntkutils.width_convergence (the sections of nb 02)
import torch  # noqa: E402

ARCH = dict(depth=3, activation="relu", sigma_w=1.0, sigma_b=0.1, parameterization="ntk")


def _experiment(**kw):
    return nu.WidthConvergence(**(ARCH | dict(eta=1.0, steps=3, n_train=6, seed=7) | kw))


def _net(n, s, **kw):
    return nu.MLP(2, n, seed=s, dtype=torch.float64, **(ARCH | kw))


def _sid(seed, study, i, s):
    return 10**6 * seed + 10**5 * study + 10**3 * i + s


def test_width_convergence_inputs_seeds_and_limit_match_direct_construction():
    exp = _experiment(planted_error=0.05)
    gamma, grid = nu.circle_grid(65)
    assert torch.equal(exp.gamma, gamma) and torch.equal(exp.grid, grid)
    assert torch.equal(exp.x0, torch.tensor([[1.0, 0.0]], dtype=grid.dtype))
    x = nu.gaussian_inputs(6, 2, seed=8)
    assert torch.equal(exp.x_train, x) and torch.equal(exp.y_train, x[:, 0] * x[:, 1])
    assert exp.seed_of(3, 2, 4) == _sid(7, 3, 2, 4) == 7_302_004
    seeds = exp.per_width(2, [16, 32], 3, lambda n, s: (n, s))
    assert seeds == {n: [(n, _sid(7, 2, i, s)) for s in range(3)] for i, n in enumerate([16, 32])}
    limit = nu.analytic_kernels(grid, grid, **ARCH).ntk
    assert torch.allclose(exp.limit_on_grid(32), 1.05 * limit, rtol=1e-14, atol=0)
    x0, standard = grid[:1], ARCH | dict(parameterization="standard")
    sp = nu.analytic_kernels(x0, x0, width=64, **standard).ntk
    assert torch.allclose(exp.theta_inf(x0, x0, 64, "standard"), 1.05 * sp, rtol=1e-14)


def test_width_convergence_sections_equal_the_direct_calls_they_replace():
    exp = _experiment()
    grid, row = exp.grid, 32
    limit = nu.analytic_kernels(grid, grid, **ARCH).ntk
    # §1: trained networks (study 0), same seeds, same kernels and losses
    fig1 = exp.figure_1([16, 32], 2)
    run = nu.train_ntk_change(_net(32, _sid(7, 0, 1, 1)), exp.x_train, exp.y_train, grid,
                              steps=3, eta=1.0)
    assert torch.equal(fig1.runs[32][1].final, run.final) and fig1.runs[32][1].loss == run.loss
    assert str(fig1).startswith("final training loss, mean over inits: n=16: ")
    assert list(fig1.curves) == ["n = 16, t = 0", "n = 16, t = 3", "n = 32, t = 0", "n = 32, t = 3"]
    assert fig1.metrics() == {}
    # §2: kernels at init (study 1), distances and their slope
    init = exp.init_convergence([16, 32, 64], 2)
    k = nu.empirical_ntk(_net(64, _sid(7, 1, 2, 0)), grid)
    assert torch.equal(init.kernels[64][0], k)
    assert init.errors[2, 0] == nu.relative_frobenius_error(k, limit)
    fit = nu.loglog_slope_t([16, 32, 64], init.errors, ci=0.99)
    assert (init.fit.slope, init.fit.ci_high) == (fit.slope, fit.ci_high) and str(init) == str(fit)
    diagonal = [float(k[row, row]) for k in init.kernels[64]]
    assert init.diagonal_means[2] == pytest.approx(np.mean(diagonal), rel=1e-15)
    # §3: trained networks (study 2), change and inflation
    train = exp.training_stability([16, 32, 64], 2)
    run = nu.train_ntk_change(_net(16, _sid(7, 2, 0, 1)), exp.x_train, exp.y_train, grid,
                              steps=3, eta=1.0)
    assert train.change[0, 1] == run.change
    assert train.inflation[0, 1] == run.relative_inflation(row, limit)
    assert str(train).splitlines()[0] == str(nu.loglog_slope_t([16, 32, 64], train.change, ci=0.99))
    # §4: the pooled mean of r and the bias fit with extra networks (study 5)
    pooled = exp.pooled_mean(fig1, init, [16], 3)
    units = [(n, nu.projection_ratio(k, limit)) for n, ks in fig1.initial.items() for k in ks]
    units += [(n, nu.projection_ratio(k, limit)) for n, ks in init.kernels.items() for k in ks]
    extra = [(16, nu.projection_ratio(nu.empirical_ntk(_net(16, _sid(7, 5, 0, s)), grid), limit))
             for s in range(3)]
    direct = nu.pooled_width_mean(units, extra, min_width=16, expected=1.0, ci=0.99)
    assert pooled.wide == 16 and str(pooled) == str(direct) and pooled.test.n == direct.test.n
    assert pooled.holds_at(1.0) == direct.holds_at(1.0)
    # §5: standard-parameterisation diagonal (study 3)
    sp = exp.standard_parameterisation([16, 32, 64], 2, init)
    d = float(nu.empirical_ntk(_net(32, _sid(7, 3, 1, 1), parameterization="standard"), exp.x0))
    assert sp.diagonal[1, 1] == d
    assert str(sp) == f"{sp.fit}; slope of Θ_SP(n): {sp.predicted_slope}"
    # §6: layerwise vs torch.func on one network (study 4)
    cons = exp.consistency(16)
    assert torch.equal(cons.fast, nu.empirical_ntk(_net(16, _sid(7, 4, 0, 0)), grid))
    assert cons.difference < 1e-10 and cons.with_reference_scaled(1.0) == cons.difference
    keys = set()
    for section in (fig1, init, train, pooled, sp, cons):
        keys |= set(section.metrics())
    assert len(keys) == 14


def test_standard_parameterisation_predicted_slope_is_the_least_squares_slope_of_n_a_plus_b():
    exp = _experiment()
    init = exp.init_convergence([16, 32, 64, 128], 2)
    sp = exp.standard_parameterisation([16, 32, 64, 128], 2, init)
    x0 = exp.x0
    standard = ARCH | dict(parameterization="standard")
    a_plus_b = [float(nu.analytic_kernels(x0, x0, width=n, **standard).ntk)
                for n in (16, 32, 64, 128)]
    # Θ_SP(n) = nA + B: two widths give A and B; the others must lie on that line
    a = (a_plus_b[1] - a_plus_b[0]) / 16
    assert a_plus_b[3] == pytest.approx(a_plus_b[0] + 112 * a, rel=1e-10)
    assert sp.predicted_slope == round(float(np.polyfit(np.log([16, 32, 64, 128]),
                                                        np.log(a_plus_b), 1)[0]), 3)


def test_interval_upper_end_gives_the_claims_measured_value_and_half_width():
    fit = nu.loglog_slope_t([16, 32, 64], [[1.0, 1.1], [0.7, 0.72], [0.5, 0.48]], ci=0.99)
    claim = nu.interval_upper_end(fit)
    assert claim["measured"] == fit.ci_high and claim["resolution_kind"] == "interval"
    assert claim["resolution"] == pytest.approx((fit.ci_high - fit.ci_low) / 2, rel=1e-12)
    none = nu.interval_upper_end(None)
    assert np.isnan(none["measured"]) and none["resolution"] is None


@pytest.mark.parametrize("kw", [dict(parameterization="mup"), dict(eta=0.0), dict(steps=0),
                                dict(n_train=0), dict(planted_error=-1.0)])
def test_width_convergence_rejects_bad_input(kw):
    with pytest.raises(ValueError):
        _experiment(**kw)


@pytest.mark.parametrize("widths, repeats", [([], 2), ([16, 0], 2), ([16], 0)])
def test_width_convergence_sections_reject_bad_widths_and_repeats(widths, repeats):
    with pytest.raises(ValueError):
        _experiment().init_convergence(widths, repeats)


def test_width_convergence_figures_pass_the_layout_check():
    exp = _experiment()
    fig1 = exp.figure_1([16, 32], 2)
    init = exp.init_convergence([16, 32, 64], 2)
    with matplotlib.rc_context():
        nu.use_house_style()                 # as the notebook context does
        figures = [nu.figure_kernel_bundles(fig1), nu.figure_init_convergence(init),
                   nu.figure_training_stability(exp.training_stability([16, 32, 64], 2)),
                   nu.figure_pooled_mean(exp.pooled_mean(fig1, init, [16], 3)),
                   nu.figure_standard_parameterisation(
                       exp.standard_parameterisation([16, 32, 64], 2, init))]
        for fig in figures:
            assert nu.layout_problems(nu.layout_report(fig)) == []
            plt.close(fig)
