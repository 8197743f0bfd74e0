"""Batched ensemble training: every member against its own ``train_network`` run, readout-only
training against the closed form with the readout kernel, divergence and input checks."""

import math

import pytest
import torch

import ntkutils as nu
from ntkutils.empirical import readout_kernel
from ntkutils.ensembles import train_ensemble


@pytest.fixture
def problem():
    x = nu.data.sphere_uniform(12, 3, seed=0)
    xt = nu.data.sphere_uniform(5, 3, seed=1)
    y = torch.cos(2 * x[:, 0]) - x[:, 1]
    return x, xt, y


@pytest.mark.parametrize("sigma_b, parameterization", [(0.1, "ntk"), (None, "ntk"), (0.2, "standard")])
def test_members_follow_their_own_gradient_descent(problem, sigma_b, parameterization):
    x, xt, y = problem
    nets = [nu.MLP(3, 48, 3, "tanh", 1.3, sigma_b, parameterization, seed=s, dtype=torch.float64) for s in range(3)]
    eta = 0.5 if parameterization == "ntk" else 0.5 / 48
    rec = train_ensemble(nets, x, y, steps=30, eta=eta, x_test=xt, record_steps=[7])
    assert rec.f_train.shape == (3, 3, 12) and rec.f_test.shape == (3, 3, 5) and rec.loss.shape == (3, 3)
    for e, net in enumerate(nets):
        alone = nu.train_network(net, x, y, steps=30, eta=eta, x_test=xt, record_steps=[7])
        torch.testing.assert_close(rec.f_train[:, e], alone.f_train, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(rec.f_test[:, e], alone.f_test, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(rec.loss[:, e], alone.loss, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(rec.t, torch.tensor([0.0, 7.0, 30.0], dtype=torch.float64) * eta)


def test_chunks_give_the_same_ensemble(problem):
    x, xt, y = problem
    nets = [nu.MLP(3, 16, 2, "relu", seed=s, dtype=torch.float64) for s in range(5)]
    whole = train_ensemble(nets, x, y, steps=10, eta=1.0, x_test=xt)
    chunked = train_ensemble(nets, x, y, steps=10, eta=1.0, x_test=xt, chunk_size=2)
    torch.testing.assert_close(whole.f_test, chunked.f_test, rtol=1e-12, atol=1e-14)


def test_readout_only_training_is_the_closed_form_with_the_readout_kernel(problem):
    """Training only the last layer is exactly linear in the trained parameters: its outputs are
    the gradient-descent closed form with the empirical NNGP (readout) kernel."""
    x, xt, y = problem
    nets = [nu.MLP(3, 40, 3, "tanh", 1.5, 0.1, seed=s, dtype=torch.float64) for s in range(2)]
    rec = train_ensemble(nets, x, y, steps=50, eta=1.5, x_test=xt, record_steps=[5, 20], readout_only=True)
    for e, net in enumerate(nets):
        with torch.no_grad():
            f0, g0 = net(x)[:, 0], net(xt)[:, 0]
        pred = nu.gradient_descent_predict(readout_kernel(net, x), y, f0, rec.steps, eta=1.5,
                                           ntk_test_train=readout_kernel(net, xt, x), f0_test=g0)
        torch.testing.assert_close(rec.f_train[:, e], pred.train, rtol=1e-9, atol=1e-10)
        torch.testing.assert_close(rec.f_test[:, e], pred.test, rtol=1e-9, atol=1e-10)


def test_vector_outputs(problem):
    x, _, y = problem
    nets = [nu.MLP(3, 16, 2, "erf", n_out=2, seed=s, dtype=torch.float64) for s in range(2)]
    y2 = torch.stack([y, -y], 1)
    rec = train_ensemble(nets, x, y2, steps=5, eta=0.5)
    alone = nu.train_network(nets[1], x, y2, steps=5, eta=0.5, record_steps=[])
    assert rec.f_train.shape == (2, 2, 12, 2)
    torch.testing.assert_close(rec.f_train[:, 1], alone.f_train, rtol=1e-10, atol=1e-12)


def test_learning_rate_above_the_bound_names_the_member(problem):
    x, _, y = problem
    nets = [nu.MLP(3, 16, 2, "relu", seed=s, dtype=torch.float64) for s in range(2)]
    bound = min(nu.max_learning_rate(nu.empirical_ntk(n, x)) for n in nets)
    with pytest.raises(ValueError, match=r"member \d: eta="):
        train_ensemble(nets, x, y, steps=2, eta=1.01 * bound)


def test_divergence_names_the_step(problem):
    x, _, y = problem
    nets = [nu.MLP(3, 16, 2, "relu", seed=s, dtype=torch.float64) for s in range(2)]
    bound = nu.max_learning_rate(nu.empirical_ntk(nets[0], x))
    with pytest.raises(FloatingPointError, match=r"member \d has loss .* at step \d+"):
        train_ensemble(nets, x, y * 1e3, steps=2000, eta=3 * bound, check_stability=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(nets=[]), "nets"),
    (dict(steps=-1), "steps"),
    (dict(eta=0.0), "eta"),
    (dict(record_steps=[99]), "record_steps"),
    (dict(normalization="median"), "normalization"),
    (dict(y_train=torch.zeros(3)), "y_train"),
    (dict(chunk_size=0), "chunk_size"),
])
def test_bad_arguments(problem, kwargs, match):
    x, _, y = problem
    args = dict(nets=[nu.MLP(3, 8, 2, seed=0, dtype=torch.float64)], x_train=x, y_train=y, steps=3, eta=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        train_ensemble(**args)


def test_mixed_architectures_are_refused(problem):
    x, _, y = problem
    nets = [nu.MLP(3, 8, 2, seed=0, dtype=torch.float64), nu.MLP(3, 9, 2, seed=1, dtype=torch.float64)]
    with pytest.raises(ValueError, match="one architecture"):
        train_ensemble(nets, x, y, steps=1, eta=0.1)


@pytest.mark.parametrize("readout_only", [False, True])
def test_linearized_ensemble_against_training_the_linearisation(problem, readout_only):
    x, xt, y = problem
    nets = [nu.MLP(3, 32, 3, "tanh", 1.3, None, seed=s, dtype=torch.float64) for s in range(2)]
    out = nu.linearized_ensemble(nets, x, y, xt, [0, 6, 25], eta=0.7, readout_only=readout_only)
    assert out.shape == (3, 2, 5)
    for e, net in enumerate(nets):
        if readout_only:
            ref = train_ensemble([net], x, y, steps=25, eta=0.7, x_test=xt, record_steps=[6], readout_only=True).f_test[:, 0]
        else:
            ref = nu.train_network(net, x, y, steps=25, eta=0.7, x_test=xt, linearized=True, record_steps=[6]).f_test
        torch.testing.assert_close(out[:, e], ref, rtol=1e-9, atol=1e-10)


def test_ensemble_variants_shapes_and_members(problem):
    x, xt, y = problem
    nets = [nu.MLP(3, 32, 3, "tanh", 1.2, None, seed=s, dtype=torch.float64) for s in range(3)]
    out = nu.ensemble_variants(nets, x, y, xt, [0, 4, 12], eta=0.6)
    assert set(out) == {"network", "linearised", "readout-trained"}
    assert all(v.shape == (3, 3, 5) for v in out.values())
    torch.testing.assert_close(out["network"][:, 0], out["linearised"][:, 0])          # same init
    alone = nu.train_network(nets[2], x, y, steps=12, eta=0.6, x_test=xt, record_steps=[4])
    torch.testing.assert_close(out["network"][2], alone.f_test, rtol=1e-10, atol=1e-12)


def test_gp_prediction_from_kernel_functions(problem):
    x, xt, y = problem
    arch = dict(depth=3, activation="erf", sigma_w=1.3, sigma_b=0.2)
    k, kt, ktt = nu.analytic_kernels(x, **arch), nu.analytic_kernels(xt, x, **arch), nu.analytic_kernels(xt, **arch)
    times = [0.0, 3.0, math.inf]
    direct = nu.ntk_gp_predict(k.nngp, k.ntk, y, times, nngp_test_train=kt.nngp, ntk_test_train=kt.ntk, nngp_test=ktt.nngp)
    blocks = nu.kernel_blocks(nu.analytic_kernel_fn(**arch), x, xt)
    via = nu.gp_prediction(blocks, y, times)
    torch.testing.assert_close(via.mean, direct.mean)
    torch.testing.assert_close(via.covariance, direct.covariance)
    readout = nu.gp_prediction(blocks, y, times, readout_only=True)
    torch.testing.assert_close(readout.mean[-1], kt.nngp @ torch.linalg.solve(k.nngp, y))  # the GP posterior mean
    # A very wide network's own kernels give nearly the same prediction (Jacot et al.'s stand-in).
    wide = nu.MLP(3, 4096, **arch, seed=0, dtype=torch.float64)
    approx = nu.gp_prediction(nu.kernel_blocks(nu.network_kernel_fn(wide), x, xt), y, [math.inf])
    assert float((approx.mean[0] - direct.mean[-1]).abs().max()) < 0.05 * float(direct.mean[-1].abs().max())
