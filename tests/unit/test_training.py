"""Training: the linearised model against the closed form with the empirical NTK, a network
step against a hand-written one, divergence detection, determinism."""

import math

import pytest
import torch

import ntkutils as nu


@pytest.fixture
def setup():
    x = nu.data.sphere_uniform(10, 3, seed=0)
    xt = nu.data.sphere_uniform(4, 3, seed=1)
    y = torch.sin(3 * x[:, 0])
    net = nu.MLP(3, 128, 3, "relu", 1.0, 0.1, seed=2, dtype=torch.float64)
    return net, x, xt, y


def test_linearised_training_is_the_closed_form(setup):
    net, x, xt, y = setup
    rec = nu.train_network(net, x, y, steps=60, eta=1.0, x_test=xt, linearized=True, record_every=20)
    theta, theta_t = nu.empirical_ntk(net, x), nu.empirical_ntk(net, xt, x)
    with torch.no_grad():
        f0, g0 = net(x)[:, 0], net(xt)[:, 0]
    pred = nu.gradient_descent_predict(theta, y, f0, rec.steps, eta=1.0, ntk_test_train=theta_t, f0_test=g0)
    torch.testing.assert_close(rec.f_train, pred.train, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(rec.f_test, pred.test, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(rec.t, rec.steps.double())


def test_one_network_step_by_hand(setup):
    net, x, _, y = setup
    rec = nu.train_network(net, x, y, steps=1, eta=0.5, record_every=1)
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    names = [n for n, _ in net.named_parameters()]
    out = torch.func.functional_call(net, dict(zip(names, params)), (x,))[:, 0]
    loss = 0.5 * ((out - y) ** 2).mean()
    grads = torch.autograd.grad(loss, params)
    for name, p, g in zip(names, params, grads):
        torch.testing.assert_close(rec.params[name], p.detach() - 0.5 * g)
    assert float(rec.loss[0]) == pytest.approx(float(loss.detach()))
    assert float(rec.param_change[0]) == 0.0 and float(rec.param_change[1]) > 0


def test_network_and_linearisation_agree_when_wide():
    """Lee et al. 2019: a wide network trains like its linearisation (sanity check, not the
    scaling study of notebook 05)."""
    x = nu.data.sphere_uniform(8, 2, seed=3)
    y = x[:, 0] * x[:, 1]
    net = nu.MLP(2, 2048, 3, "erf", 1.0, 0.1, seed=0, dtype=torch.float64)
    nn_rec = nu.train_network(net, x, y, steps=50, eta=1.0, record_every=50, ntk_steps=[0, 50])
    lin = nu.train_network(net, x, y, steps=50, eta=1.0, record_every=50, linearized=True)
    gap = float((nn_rec.f_train[-1] - lin.f_train[-1]).norm() / (lin.f_train[-1] - lin.f_train[0]).norm())
    assert gap < 0.02
    change = nu.stats.relative_frobenius_error(nn_rec.ntk[50], nn_rec.ntk[0])
    assert 0 < change < 0.02


def test_net_is_not_modified_and_runs_are_deterministic(setup):
    net, x, xt, y = setup
    before = [p.detach().clone() for p in net.parameters()]
    a = nu.train_network(net, x, y, steps=5, eta=1.0, x_test=xt)
    b = nu.train_network(net, x, y, steps=5, eta=1.0, x_test=xt)
    assert all(torch.equal(p, q) for p, q in zip(before, net.parameters()))
    assert torch.equal(a.f_test, b.f_test) and torch.equal(a.loss, b.loss)


def test_learning_rate_above_bound_raises(setup):
    net, x, _, y = setup
    bound = nu.max_learning_rate(nu.empirical_ntk(net, x))
    with pytest.raises(ValueError, match="stability bound"):
        nu.train_network(net, x, y, steps=3, eta=1.05 * bound)


def test_divergence_names_the_step(setup):
    _, x, _, y = setup
    net = nu.MLP(3, 16, 2, "identity", seed=0, dtype=torch.float64)  # GD on it blows up geometrically
    eta = 20 * nu.max_learning_rate(nu.empirical_ntk(net, x))
    with pytest.raises(FloatingPointError, match=r"step \d+"):
        nu.train_network(net, x, y, steps=5000, eta=eta, check_stability=False, record_every=1000)


def test_vector_outputs(setup):
    _, x, _, _ = setup
    net = nu.MLP(3, 64, 2, n_out=2, seed=1, dtype=torch.float64)
    y = torch.stack([x[:, 0], x[:, 1]], 1)
    rec = nu.train_network(net, x, y, steps=10, eta=1.0, linearized=True, record_every=10)
    assert rec.f_train.shape == (2, 10, 2)
    assert float(rec.loss[-1]) < float(rec.loss[0])


@pytest.mark.parametrize("kwargs, error", [
    (dict(steps=-1), "steps"), (dict(eta=0.0), "eta"), (dict(eta=math.nan), "eta"),
    (dict(normalization="l2"), "normalization"), (dict(record_steps=[99]), "record_steps"),
    (dict(linearized=True, ntk_steps=[0]), "ntk_steps"),
])
def test_bad_arguments(setup, kwargs, error):
    net, x, _, y = setup
    args = dict(steps=5, eta=0.5) | kwargs
    with pytest.raises(ValueError, match=error):
        nu.train_network(net, x, y, **args)


def test_bad_data(setup):
    net, x, _, y = setup
    with pytest.raises(ValueError, match="y_train"):
        nu.train_network(net, x, y[:4], steps=1, eta=0.1)
    with pytest.raises(ValueError, match="x_train"):
        nu.train_network(net, x[:, :2], y, steps=1, eta=0.1)


def test_momentum_linearised_training_follows_the_heavy_ball_recursion(setup):
    """Linear model, heavy ball in function space: f_{k+1} = f_k + μ(f_k − f_{k−1}) − η(Θ/N)(f_k − y)."""
    net, x, _, y = setup
    mu, eta = 0.6, 0.8
    rec = nu.train_network(net, x, y, steps=25, eta=eta, momentum=mu, linearized=True, record_every=1)
    theta = nu.empirical_ntk(net, x)
    with torch.no_grad():
        f = net(x)[:, 0]
    prev = f.clone()
    for k in range(25):
        torch.testing.assert_close(rec.f_train[k], f, rtol=1e-9, atol=1e-9)
        f, prev = f + mu * (f - prev) - eta / len(x) * theta @ (f - y), f
    torch.testing.assert_close(rec.f_train[25], f, rtol=1e-9, atol=1e-9)


def test_minibatch_sgd(setup):
    net, x, _, y = setup
    full = nu.train_network(net, x, y, steps=10, eta=0.5, record_every=10)
    same = nu.train_network(net, x, y, steps=10, eta=0.5, record_every=10, batch_size=len(x))
    torch.testing.assert_close(full.f_train, same.f_train, rtol=1e-10, atol=1e-12)
    a = nu.train_network(net, x, y, steps=30, eta=0.5, record_every=30, batch_size=4, seed=3)
    b = nu.train_network(net, x, y, steps=30, eta=0.5, record_every=30, batch_size=4, seed=3)
    c = nu.train_network(net, x, y, steps=30, eta=0.5, record_every=30, batch_size=4, seed=4)
    assert torch.equal(a.f_train, b.f_train) and not torch.equal(a.f_train, c.f_train)
    assert float(a.loss[-1]) < float(a.loss[0])
    lin = nu.train_network(net, x, y, steps=30, eta=0.5, record_every=30, batch_size=4, seed=3, linearized=True)
    assert float((lin.f_train[-1] - a.f_train[-1]).norm() / (a.f_train[-1] - a.f_train[0]).norm()) < 0.1


@pytest.mark.parametrize("kwargs, error", [(dict(momentum=1.0), "momentum"), (dict(batch_size=0), "batch_size"),
                                           (dict(batch_size=999), "batch_size")])
def test_bad_sgd_arguments(setup, kwargs, error):
    net, x, _, y = setup
    with pytest.raises(ValueError, match=error):
        nu.train_network(net, x, y, steps=2, eta=0.1, **kwargs)


def test_momentum_widens_the_stability_bound(setup):
    net, x, _, y = setup
    bound = nu.max_learning_rate(nu.empirical_ntk(net, x))
    nu.train_network(net, x, y, steps=1, eta=1.5 * bound, momentum=0.9)  # allowed: 2(1+μ)/λ_max
    with pytest.raises(ValueError, match="stability bound"):
        nu.train_network(net, x, y, steps=1, eta=1.5 * bound, momentum=0.2)


def test_linearised_vector_output_training_is_the_closed_form():
    """k = 3 outputs: the (N, N, k, k) empirical NTK drives the flattened closed form, with the
    rates λ/N of the ½·mean-over-inputs loss (not λ/(N·k))."""
    x = nu.data.sphere_uniform(9, 3, seed=4)
    xt = nu.data.sphere_uniform(5, 3, seed=5)
    y = torch.stack([torch.sin(2 * x[:, 0]), x[:, 1], -x[:, 2] ** 2], 1)
    net = nu.MLP(3, 64, 3, "erf", 1.2, 0.1, n_out=3, seed=6, dtype=torch.float64)
    rec = nu.train_network(net, x, y, steps=40, eta=0.8, x_test=xt, linearized=True, record_every=10)
    theta, theta_t = nu.empirical_ntk(net, x), nu.empirical_ntk(net, xt, x)
    assert theta.shape == (9, 9, 3, 3) and theta_t.shape == (5, 9, 3, 3)
    with torch.no_grad():
        f0, g0 = net(x), net(xt)
    pred = nu.gradient_descent_predict(theta, y, f0, rec.steps, eta=0.8, ntk_test_train=theta_t, f0_test=g0)
    assert pred.train.shape == (5, 9, 3) and pred.test.shape == (5, 5, 3)
    torch.testing.assert_close(rec.f_train, pred.train, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(rec.f_test, pred.test, rtol=1e-10, atol=1e-10)
    # Gradient flow at t = steps·η agrees with GD to first order in η for the slow modes.
    flow = nu.gradient_flow_predict(theta, y, f0, math.inf, ntk_test_train=theta_t, f0_test=g0)
    torch.testing.assert_close(flow.train[0], y, rtol=0, atol=1e-8)


def test_train_full_batch_is_the_deprecated_alias_of_train_network(setup):
    net, x, xt, y = setup
    a = nu.train_network(net, x, y, steps=3, eta=0.5, x_test=xt, momentum=0.2)
    b = nu.train_full_batch(net, x, y, steps=3, eta=0.5, x_test=xt, momentum=0.2)
    assert torch.equal(a.f_test, b.f_test) and torch.equal(a.loss, b.loss)
    assert "Deprecated" in nu.train_full_batch.__doc__


def test_record_schedule():
    from ntkutils.training import record_schedule
    assert record_schedule(10) == [0, 10]
    assert record_schedule(10, record_every=4) == [0, 4, 8, 10]
    assert record_schedule(10, [3, 3, 7], record_every=4) == [0, 3, 7, 10]
    assert record_schedule(0, []) == [0]
    for bad in ([11], [-1], [2.5]):
        with pytest.raises(ValueError, match="record_steps"):
            record_schedule(10, bad)
    with pytest.raises(ValueError, match="record_every"):
        record_schedule(10, record_every=0)


def test_prepare_targets():
    from ntkutils.training import prepare_targets
    y = prepare_targets([1.0, 2.0, 3.0], 3, 1, dtype=torch.float32, device="cpu")
    assert y.shape == (3, 1) and y.dtype == torch.float32
    assert prepare_targets(torch.zeros(3, 2), 3, 2, dtype=torch.float64, device=None).shape == (3, 2)
    with pytest.raises(ValueError, match=r"y_train must have shape \(3,\) or \(3, 2\)"):
        prepare_targets(torch.zeros(3), 3, 2, dtype=torch.float64, device=None)
    with pytest.raises(ValueError, match="NaN"):
        prepare_targets([1.0, math.nan], 2, 1, dtype=torch.float64, device=None)


def test_width_scaled_learning_rate_divides_by_the_width_in_standard_parameterisation():
    """η/n in standard parameterisation, whose NTK grows as n·A + B (so η·Θ_SP(n)/n tends to a
    width-independent η·A), η in NTK parameterisation; bad inputs name the parameter."""
    import ntkutils as nu

    x = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)
    scaled = []
    for n in (1000, 4000):
        k = nu.analytic_kernels(x, depth=3, parameterization="standard", width=n).ntk
        scaled.append(nu.width_scaled_learning_rate(0.5, n, "standard") * k)
    assert torch.allclose(scaled[0], scaled[1], rtol=0.01)        # η Θ_SP(n) / n ≈ η A
    assert nu.width_scaled_learning_rate(0.5, 1000, "ntk") == 0.5
    assert nu.width_scaled_learning_rate(0.5, 1000, "standard") == 0.5 / 1000
    with pytest.raises(ValueError, match="width"):
        nu.width_scaled_learning_rate(0.5, -3, "standard")
    with pytest.raises(ValueError, match="parameterization"):
        nu.width_scaled_learning_rate(0.5, 10, "mup")
    with pytest.raises(ValueError, match="eta"):
        nu.width_scaled_learning_rate(-0.5, 10, "ntk")
