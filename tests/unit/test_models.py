"""Networks: the forward pass written out by hand, seeding, parameterisations, bad input."""

import math

import pytest
import torch

import ntkutils as nu


def test_forward_is_the_ntk_parameterisation_formula():
    net = nu.MLP(3, 5, 3, "tanh", sigma_w=1.3, sigma_b=0.2, dtype=torch.float64, seed=4)
    x = torch.randn(4, 3, dtype=torch.float64)
    w, b = list(net.weights), list(net.biases)
    h = 1.3 / math.sqrt(3) * x @ w[0].T + 0.2 * b[0]
    h = 1.3 / math.sqrt(5) * torch.tanh(h) @ w[1].T + 0.2 * b[1]
    h = 1.3 / math.sqrt(5) * torch.tanh(h) @ w[2].T + 0.2 * b[2]
    torch.testing.assert_close(net(x), h, rtol=1e-14, atol=1e-14)
    assert net(x[0]).shape == (1,)  # a single input


def test_parameterisations_give_the_same_function_at_init():
    x = torch.randn(6, 2, dtype=torch.float64)
    kw = dict(n0=2, width=[7, 9], depth=3, activation="relu", sigma_w=1.4, sigma_b=0.3, seed=2,
              dtype=torch.float64)
    ntk, std = nu.MLP(parameterization="ntk", **kw), nu.MLP(parameterization="standard", **kw)
    torch.testing.assert_close(ntk(x), std(x), rtol=1e-13, atol=1e-13)
    assert float(std.weights[1].detach().std()) == pytest.approx(1.4 / math.sqrt(7), rel=0.3)


def test_seed_reproducible_across_dtypes():
    a = nu.MLP(3, 16, 2, seed=7)
    b = nu.MLP(3, 16, 2, seed=7)
    c = nu.MLP(3, 16, 2, seed=8)
    d = nu.MLP(3, 16, 2, seed=7, dtype=torch.float64)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.weights[0], c.weights[0])
    torch.testing.assert_close(a.weights[0].double(), d.weights[0], rtol=1e-7, atol=1e-7)


def test_no_bias_and_vector_output():
    net = nu.MLP(2, 8, 2, sigma_b=None, n_out=3)
    assert net.biases is None and net.bias_multiplier == 0.0
    assert net(torch.zeros(4, 2)).abs().max() == 0  # no bias: f(0) = 0 exactly
    assert net(torch.ones(4, 2)).shape == (4, 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(width=-3), "width"), (dict(width=0), "width"), (dict(depth=0), "depth"),
    (dict(activation="softplus"), "activation"), (dict(parameterization="mean-field"), "parameterization"),
    (dict(sigma_w=0.0), "sigma_w"), (dict(sigma_b=-1.0), "sigma_b"), (dict(n_out=0), "n_out"),
    (dict(width=[4]), "width"), (dict(seed=-1), "seed"), (dict(sigma_w=float("nan")), "sigma_w"),
])
def test_bad_arguments(kwargs, match):
    args = dict(n0=2, width=4, depth=3) | kwargs
    with pytest.raises(ValueError, match=match):
        nu.MLP(**args)


@pytest.mark.parametrize("sigma_b", [0.2, None])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stacked_forward_is_each_network(sigma_b, dtype):
    """``models.forward`` with E stacked networks gives every member its own ``MLP`` output (up to
    rounding: a batched matrix product need not round like E separate ones)."""
    from ntkutils.models import forward
    nets = [nu.MLP(3, [9, 7], 3, "erf", 1.2, sigma_b, seed=s, dtype=dtype) for s in range(3)]
    x = torch.randn(5, 3, dtype=dtype)
    weights = [torch.stack([n.weights[l].detach() for n in nets]) for l in range(3)]
    biases = None if sigma_b is None else [torch.stack([n.biases[l].detach() for n in nets]) for l in range(3)]
    with torch.no_grad():
        out = forward(weights, x, activation="erf", weight_multipliers=nets[0].weight_multipliers,
                      biases=biases, bias_multiplier=nets[0].bias_multiplier)
        layers = forward(weights, x, activation="erf", weight_multipliers=nets[0].weight_multipliers,
                         biases=biases, bias_multiplier=nets[0].bias_multiplier, layerwise=True)
        for e, net in enumerate(nets):
            torch.testing.assert_close(out[e], net(x))
            for h, g in zip(layers.preactivations, net.layerwise(x).preactivations):
                torch.testing.assert_close(h[e], g)


def test_fused_forward_agrees_up_to_rounding():
    from ntkutils.models import forward
    net = nu.MLP(3, 11, 3, "relu", sigma_b=0.3, seed=1, dtype=torch.float64)
    x = torch.randn(6, 3, dtype=torch.float64)
    args = dict(activation=net.activation, weight_multipliers=net.weight_multipliers,
                biases=list(net.biases), bias_multiplier=net.bias_multiplier)
    w = [p.detach() for p in net.weights]
    with torch.no_grad():
        torch.testing.assert_close(forward(w, x, fused=True, **args), net(x), rtol=1e-13, atol=1e-13)
        stacked = [p[None].expand(2, *p.shape) for p in w]
        sb = [b.detach()[None].expand(2, -1) for b in net.biases]
        torch.testing.assert_close(forward(stacked, x, fused=True, **(args | dict(biases=sb)))[1], net(x),
                                   rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="one entry per weight layer"):
        forward(w, x, **(args | dict(weight_multipliers=[1.0])))


def test_hidden_widths():
    from ntkutils.models import hidden_widths
    assert hidden_widths(5, 3) == [5, 5] and hidden_widths([4, 6], 3) == [4, 6] and hidden_widths(5, 1) == []
    with pytest.raises(ValueError, match="width"):
        hidden_widths([4], 3)
