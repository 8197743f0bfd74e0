"""Helpers behind notebook 05 (a network against its linearisation), each against an
independent computation: the closed-form linearised GD against the linearised model trained
step by step, the gap and accuracy against plain loops, the grid statistics against direct
fits, the stability bound against the eigenvalues of the analytic NTK, the split against a
hand-made one; bad inputs raise ValueError."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import ntkutils as nu  # noqa: E402


def _data(n=12, m=5, n0=3, k=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n0, generator=g, dtype=torch.float64)
    xt = torch.randn(m, n0, generator=g, dtype=torch.float64)
    y = torch.randn(n, k, generator=g, dtype=torch.float64)
    return x, y, xt


def _net(width=16, k=2, dtype=torch.float64, **kw):
    return nu.MLP(3, width, n_out=k, depth=3, activation="erf", sigma_w=1.4, sigma_b=0.3,
                  seed=1, dtype=dtype, **kw)


# ----------------------------------------------------------------- closed forms (dynamics)
def test_linearized_gd_predict_matches_linearised_model_trained_step_by_step():
    x, y, xt = _data()
    net = _net()
    eta, steps = 0.5, [0, 1, 7, 30]
    pred = nu.linearized_gd_predict(net, x, y, steps, eta=eta, x_test=xt)
    rec = nu.train_full_batch(net, x, y, steps=30, eta=eta, x_test=xt, linearized=True,
                              record_steps=steps)
    torch.testing.assert_close(pred.train, rec.f_train.double(), rtol=0, atol=1e-10)
    torch.testing.assert_close(pred.test, rec.f_test.double(), rtol=0, atol=1e-10)
    with torch.no_grad():
        torch.testing.assert_close(pred.test[0], net(xt))  # k = 0: the initial outputs


def test_linearized_gd_predict_reuses_a_given_ntk_and_checks_the_step():
    x, y, xt = _data()
    net = _net()
    given = nu.linearized_gd_predict(net, x, y, 5, eta=0.3, x_test=xt,
                                     ntk_train=nu.empirical_ntk(net, x))
    torch.testing.assert_close(given.test, nu.linearized_gd_predict(net, x, y, 5, eta=0.3, x_test=xt).test)
    bound = nu.max_learning_rate(nu.flatten_output_kernel(nu.empirical_ntk(net, x)))
    with pytest.raises(ValueError):
        nu.linearized_gd_predict(net, x, y, 5, eta=1.01 * bound)
    with pytest.raises(ValueError):
        nu.linearized_gd_predict(net, x, y, 5, eta=0.3, x_test=xt[:, :2])  # wrong n0


def test_analytic_stability_bound_is_2n_over_the_largest_eigenvalue():
    x, _, _ = _data(n=20)
    arch = dict(depth=3, activation="erf", sigma_w=1.4, sigma_b=0.3)
    lam = torch.linalg.eigvalsh(nu.analytic_kernels(x, **arch).ntk).max()
    assert nu.analytic_stability_bound(x, **arch) == pytest.approx(2 * 20 / float(lam), rel=1e-12)
    assert nu.analytic_stability_bound(x, normalization="sum", **arch) == pytest.approx(2 / float(lam))
    with pytest.raises(ValueError):
        nu.analytic_stability_bound(x, **(arch | {"activation": "no such activation"}))


# ----------------------------------------------------------------- statistics
def test_relative_gap_matches_a_loop_over_times():
    g = torch.Generator().manual_seed(3)
    f, lin = torch.randn(6, 4, 3, generator=g), torch.randn(6, 4, 3, generator=g, dtype=torch.float64)
    got = nu.relative_gap(f, lin)
    for t in range(1, 6):
        expect = (np.linalg.norm(f[t].double() - lin[t]) / np.linalg.norm(lin[t] - lin[0]))
        assert got[t] == pytest.approx(float(expect), rel=1e-12)
    assert got.shape == (6,) and got.dtype == np.float64
    np.testing.assert_allclose(nu.relative_gap(lin.numpy(), lin.numpy()), 0.0)
    with pytest.raises(ValueError):
        nu.relative_gap(f, lin[:, :3])


def test_classification_accuracy_counts_argmax_hits():
    out = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    onehot = np.array([[0, 1], [0, 1], [0, 1], [1, 0]]) - 0.1
    assert nu.classification_accuracy(out, onehot) == 0.75
    assert nu.classification_accuracy(torch.tensor(out), np.array([1, 1, 1, 0])) == 0.75
    with pytest.raises(ValueError):
        nu.classification_accuracy(out, onehot[:3])


def test_interval_half_width():
    fit = nu.loglog_slope_t([1, 2, 4, 8], [[1.0, 1.1], [0.5, 0.6], [0.26, 0.24], [0.12, 0.13]])
    assert nu.interval_half_width(fit) == pytest.approx((fit.ci_high - fit.ci_low) / 2)
    with pytest.raises(ValueError):
        nu.interval_half_width(nu.SlopeFit(-1.0, 0.0, float("nan"), 1.0, 0.0, 2))


# ----------------------------------------------------------------- network vs linearisation
def test_scale_change_scales_the_change_only():
    f = torch.arange(12.0).reshape(4, 3)
    out = nu.scale_change(f, 1.5)
    torch.testing.assert_close(out[0], f[0])
    torch.testing.assert_close(out - out[:1], 1.5 * (f - f[:1]))
    with pytest.raises(ValueError):
        nu.scale_change(f, float("inf"))


def test_train_with_linearization_closed_form_agrees_with_step_by_step_and_plants_errors():
    x, y, xt = _data()
    net = _net(width=32, dtype=torch.float32)
    kw = dict(steps=40, eta=0.5, n_records=8)
    rec, lin = nu.train_with_linearization(net, x, y, xt, **kw)
    stepped = nu.train_full_batch(net, x.float(), y.float(), x_test=xt.float(), linearized=True,
                                  steps=40, eta=0.5, record_steps=rec.steps.tolist())
    assert lin.dtype == torch.float64 and lin.shape == rec.f_test.shape
    torch.testing.assert_close(lin, stepped.f_test.double(), rtol=0, atol=1e-4)
    assert set(rec.ntk) == {0, 40} and rec.steps.tolist()[:2] == [0, 1]
    _, planted = nu.train_with_linearization(net, x, y, xt, planted_error=0.1, **kw)
    torch.testing.assert_close(planted - planted[:1], 1.1 * (lin - lin[:1]))
    _, momentum = nu.train_with_linearization(net, x, y, xt, momentum=0.5, **kw)  # step by step
    assert momentum.shape == lin.shape
    with pytest.raises(ValueError):
        nu.train_with_linearization(net, x, y, xt, n_records=0, steps=4, eta=0.5)


def _grid(widths=(16, 32, 64), n_seeds=2, parameterization="ntk"):
    x, y, xt = _data()
    net = dict(depth=3, activation="erf", sigma_w=1.4, sigma_b=0.3, parameterization=parameterization)
    return nu.linearization_runs(list(widths), n_seeds, x, y, xt, steps=20, eta=0.5, net=net,
                                 n_records=6), xt, y


def test_linearization_runs_seeds_and_learning_rates():
    runs, _, _ = _grid(parameterization="standard")
    assert list(runs) == [(n, s) for n in (16, 32, 64) for s in range(2)]
    rec, _ = runs[32, 1]
    assert rec.t[-1].item() == pytest.approx(20 * 0.5 / 32)  # standard: η / n
    x, y, xt = _data()
    alone = nu.MLP(3, 32, n_out=2, depth=3, activation="erf", sigma_w=1.4, sigma_b=0.3,
                   parameterization="standard", seed=100 + 32, dtype=torch.float32)
    again, _ = nu.train_with_linearization(alone, x, y, xt, steps=20, eta=0.5 / 32, seed=1,
                                           n_records=6)
    torch.testing.assert_close(again.f_test, rec.f_test)
    with pytest.raises(ValueError):
        nu.linearization_runs([16], 0, x, y, xt, steps=2, eta=0.5, net={})


def test_width_study_matches_direct_computations():
    runs, _, y = _grid()
    targets = torch.nn.functional.one_hot(torch.arange(5) % 2, 2).double()
    study = nu.width_study(runs, targets)
    gap_t = np.array([[nu.relative_gap(runs[n, s][0].f_test, runs[n, s][1])[-1] for s in range(2)]
                      for n in (16, 32, 64)])
    np.testing.assert_array_equal(study.gap[..., -1], gap_t)
    direct = nu.loglog_slope_t([16, 32, 64], gap_t, ci=0.99)
    assert study.fits["output gap"].slope == direct.slope
    assert list(study.fits) == ["output gap", "NTK change", "W1 (input)", "W2 (hidden)", "W3 (output)"]
    w2 = [[float(runs[n, s][0].layer_change["weights.1"][-1]) for s in range(2)] for n in (16, 32, 64)]
    np.testing.assert_array_equal(study.layer_change["W2 (hidden)"], w2)
    rec, lin = runs[64, 0]
    assert study.ntk_change[2, 0] == nu.relative_frobenius_error(rec.ntk[20], rec.ntk[0])
    assert len(study.drift) == len(study.t) - 1
    assert study.accuracy == nu.mean_accuracies([runs[64, 0], runs[64, 1]], targets)
    assert nu.scaled_accuracy_gap([runs[64, 0], runs[64, 1]], targets, 1.0) == pytest.approx(
        abs(study.accuracy[0] - study.accuracy[1]))
    assert nu.scaled_gap([runs[64, 0], runs[64, 1]], 1.0) == pytest.approx(gap_t[2].mean())
    text = study.report()
    assert "gap exponent during training" in text and "at n=64, t=T" in text
    assert "fell" in study.loss_report()
    metrics = study.metrics("relu ")
    assert set(metrics) >= {"relu slopes", "relu gap by width (seeds)", "relu test_accuracy"}
    with pytest.raises(ValueError):
        nu.per_width({(16, 0): runs[16, 0], (32, 1): runs[32, 1]}, lambda rec, lin: 0.0)


# ----------------------------------------------------------------- data
def test_one_hot_split_matches_a_hand_made_split():
    data = nu.LabelledData(torch.arange(40.0).reshape(20, 2), torch.arange(20) % 4, "toy")
    x, y, xt, yt = nu.one_hot_split(data, n_train=6, n_test=5, seed=7, offset=0.25)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(x, data.x[order[:6]])
    torch.testing.assert_close(xt, data.x[order[6:11]])
    expect = torch.full((5, 4), -0.25, dtype=torch.float64)
    expect[torch.arange(5), data.labels[order[6:11]]] = 0.75
    torch.testing.assert_close(yt, expect)
    assert y.shape == (6, 4) and y.dtype == torch.float64
    with pytest.raises(ValueError):
        nu.one_hot_split(data, n_train=15, n_test=6, seed=0)
    with pytest.raises(ValueError):
        nu.one_hot_split(data, n_train=5, n_test=5, seed=-1)


# ----------------------------------------------------------------- figures
def test_panels_draw_readable_figures():
    runs, _, _ = _grid()
    targets = torch.nn.functional.one_hot(torch.arange(5) % 2, 2).double()
    study = nu.width_study(runs, targets)
    with nu.house_style():
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.8))
        for n, style in ((16, "--"), (64, "-")):
            nu.linearization_panels(axes, *runs[n, 0], targets, label=f"n={n}", style=style)
        labels = [t.get_text() for t in axes[2].get_legend().get_texts()]
        assert labels.count("linearised") == 1 and "input 1, n=64" in labels
        assert nu.layout_problems(nu.layout_report(fig)) == []
        fig2, axes2 = plt.subplots(1, 2, figsize=(13, 4.4))
        nu.loglog_fits_panel(axes2[0], study.widths, study.changes, study.fits, ylabel="change")
        line = nu.exponent_panel(axes2[1], study.t[1:], study.drift, guides=(-0.5, -1.0))
        np.testing.assert_array_equal(line.get_ydata(), [f.slope for f in study.drift])
        assert axes2[1].get_xscale() == "log" and axes2[0].get_yscale() == "log"
        assert nu.layout_problems(nu.layout_report(fig2)) == []
        json.dumps(nu.layout_report(fig2))
    with pytest.raises(ValueError):
        nu.exponent_panel(axes2[1], study.t, study.drift)
    with pytest.raises(ValueError):
        nu.loglog_fits_panel(axes2[0], study.widths, study.changes, {})
    with pytest.raises(ValueError):
        nu.linearization_panels(axes[:2], *runs[16, 0], targets, label="x")
    plt.close("all")
