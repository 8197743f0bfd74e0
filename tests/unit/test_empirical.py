"""Empirical NTK: the fast layerwise path against the torch.func Jacobian contraction, and the
latter against per-example autograd gradients."""

import numpy as np
import pytest
import torch
from torch import nn

import ntkutils as nu


def _rel(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("sigma_b", [0.2, 0.0, None])
@pytest.mark.parametrize("activation,depth", [("relu", 1), ("relu", 2), ("relu", 4), ("erf", 3),
                                              ("tanh", 3), ("gelu", 2), ("cube", 3), ("identity", 2)])
def test_layerwise_equals_jacobian_contraction(parameterization, sigma_b, activation, depth):
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(6, 3, generator=g, dtype=torch.float64)
    x2 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    net = nu.MLP(3, [9, 7, 8][: depth - 1] or 5, depth, activation, 1.3, sigma_b, parameterization,
                 seed=1, dtype=torch.float64)
    for a, b in [(x1, x2), (x1, None)]:
        fast = nu.empirical_ntk(net, a, b)
        ref = nu.empirical_ntk(net, a, b, implementation="jacobian", batch_size=4)
        assert fast.shape == ref.shape == (6, 6 if b is None else 4)
        assert _rel(fast, ref) < 1e-10


@pytest.mark.parametrize("batch_size", [None, 1, 4])
def test_vector_outputs_and_batching(batch_size):
    net = nu.MLP(2, 11, 3, "tanh", n_out=3, dtype=torch.float64, seed=5)
    x1, x2 = torch.randn(5, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    fast = nu.empirical_ntk(net, x1, x2, batch_size=batch_size)
    ref = nu.empirical_ntk(net, x1, x2, implementation="jacobian", batch_size=2)
    assert fast.shape == (5, 3, 3, 3)
    assert _rel(fast, ref) < 1e-10
    sym = nu.empirical_ntk(net, x1, batch_size=batch_size)
    torch.testing.assert_close(sym, sym.permute(1, 0, 3, 2))


def test_jacobian_path_against_per_example_autograd():
    """Any nn.Module: Θ̂(x, x') = Σ_p ∂f(x)/∂p · ∂f(x')/∂p from a loop of autograd.grad calls."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 10), nn.Tanh(), nn.Linear(10, 1)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    grads = []
    for i in range(5):
        g = torch.autograd.grad(model(x[i:i + 1]).sum(), list(model.parameters()))
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    jac = torch.stack(grads)
    theta = nu.empirical_ntk(model, x, batch_size=2)
    torch.testing.assert_close(theta, jac @ jac.T, rtol=1e-12, atol=1e-12)


def test_float32_agrees_with_float64():
    net32 = nu.MLP(2, 64, 3, seed=3)
    net64 = nu.MLP(2, 64, 3, seed=3, dtype=torch.float64)
    x = torch.randn(5, 2)
    assert _rel(nu.empirical_ntk(net32, x).double(), nu.empirical_ntk(net64, x)) < 1e-5


def test_bad_inputs():
    net = nu.MLP(3, 8, 2)
    with pytest.raises(ValueError, match="x1"):
        nu.empirical_ntk(net, torch.ones(4, 2))
    with pytest.raises(ValueError, match="x2"):
        nu.empirical_ntk(net, torch.ones(4, 3), torch.ones(2, 5))
    with pytest.raises(ValueError, match="implementation"):
        nu.empirical_ntk(net, torch.ones(4, 3), implementation="fast")
    with pytest.raises(ValueError, match="layerwise"):
        nu.empirical_ntk(nn.Linear(3, 1), torch.ones(4, 3), implementation="layerwise")
    with pytest.raises(ValueError, match="NaN"):
        nu.empirical_ntk(net, torch.tensor([[1.0, float("inf"), 0.0]]))
    with pytest.raises(ValueError, match="batch_size"):
        nu.empirical_ntk(net, torch.ones(4, 3), batch_size=0)


def _matthews_network_outputs(x, width, depth, n_samples, seed):
    """Matthews et al.'s prior written out as in their code: weights N(0, 0.8/fan_in), biases
    N(0, 0.2), activation √2·relu, `depth` weight layers."""
    gen = torch.Generator().manual_seed(seed)
    dims = [x.shape[1]] + [width] * (depth - 1) + [1]
    out = []
    for _ in range(n_samples):
        h = x
        for i in range(depth):
            w = torch.randn(dims[i + 1], dims[i], generator=gen, dtype=torch.float64) * (0.8 / dims[i]) ** 0.5
            h = h @ w.T + torch.randn(dims[i + 1], generator=gen, dtype=torch.float64) * 0.2 ** 0.5
            if i < depth - 1:
                h = 2 ** 0.5 * torch.relu(h)
        out.append(h[:, 0])
    return torch.stack(out).numpy()


def test_batched_prior_sampler_has_the_law_of_independent_networks():
    """sample_outputs_at_init (relu, σ_w² = 1.6, σ_b² = 0.2, inputs x/√2) against Matthews et
    al.'s construction on x: a permutation MMD test must not reject, and the second moments
    must match; a wrong σ_w must be rejected."""
    x = torch.as_tensor(np.random.RandomState(3).randn(6, 4))
    mine = nu.sample_outputs_at_init(x / 2 ** 0.5, n_samples=1500, width=4, depth=3, activation="relu",
                                     sigma_w=1.6 ** 0.5, sigma_b=0.2 ** 0.5, seed=1).numpy()
    theirs = _matthews_network_outputs(x, 4, 3, 1500, seed=2)
    _, p_same = nu.mmd_permutation_test(mine, theirs, lengthscale=0.5, n_permutations=100, seed=0)
    assert p_same > 0.01
    wrong = nu.sample_outputs_at_init(x / 2 ** 0.5, n_samples=1500, width=4, depth=3, activation="relu",
                                      sigma_w=1.0, sigma_b=0.2 ** 0.5, seed=1).numpy()
    _, p_wrong = nu.mmd_permutation_test(wrong, theirs, lengthscale=0.5, n_permutations=100, seed=0)
    assert p_wrong < 0.01


def test_batched_prior_sampler_matches_nngp_and_is_deterministic():
    x = nu.data.sphere_uniform(5, 3, seed=0)
    f = nu.sample_outputs_at_init(x, n_samples=4000, width=64, depth=3, activation="erf", sigma_w=1.3,
                                  sigma_b=0.2, seed=5)
    check = nu.stats.covariance_check(f.numpy(), nu.analytic_kernels(x, depth=3, activation="erf",
                                                                      sigma_w=1.3, sigma_b=0.2).nngp.numpy())
    assert check.max_abs_z < 4.5 and check.relative_error < 3 * check.noise_floor
    again = nu.sample_outputs_at_init(x, n_samples=4000, width=64, depth=3, activation="erf", sigma_w=1.3,
                                      sigma_b=0.2, seed=5)
    assert torch.equal(f, again)
    with pytest.raises(ValueError, match="n_samples"):
        nu.sample_outputs_at_init(x, n_samples=0, width=4, depth=2)


@pytest.fixture
def problem():
    x = nu.data.sphere_uniform(12, 3, seed=0)
    xt = nu.data.sphere_uniform(5, 3, seed=1)
    y = torch.cos(2 * x[:, 0]) - x[:, 1]
    return x, xt, y


def test_readout_kernel_is_the_last_layer_jacobian(problem):
    x, xt, _ = problem
    net = nu.MLP(3, 20, 3, "erf", 1.1, 0.3, seed=2, dtype=torch.float64)
    names = ["weights.2", "biases.2"]
    params = {k: v.detach() for k, v in net.named_parameters()}

    def f(p_last, inp):
        return torch.func.functional_call(net, params | dict(zip(names, p_last)), (inp,))[:, 0]

    last = tuple(params[k] for k in names)
    j1, j2 = (torch.func.jacrev(f)(last, inp) for inp in (x, xt))
    expected = sum(a.reshape(len(x), -1) @ b.reshape(len(xt), -1).T for a, b in zip(j1, j2))
    torch.testing.assert_close(nu.readout_kernel(net, x, xt), expected, rtol=1e-12, atol=1e-12)


def test_network_kernels_shapes_and_symmetry(problem):
    x, xt, _ = problem
    net = nu.MLP(3, 32, 3, "relu", seed=0, dtype=torch.float64)
    k, theta = nu.network_kernels(net, x)
    assert k.shape == theta.shape == (12, 12) and k.dtype == theta.dtype == torch.float64
    torch.testing.assert_close(k, k.T)
    kt, tt = nu.network_kernels(net, xt, x)
    assert kt.shape == tt.shape == (5, 12)


def test_readout_kernel_needs_a_scalar_output(problem):
    x, _, _ = problem
    with pytest.raises(ValueError, match="n_out"):
        nu.readout_kernel(nu.MLP(3, 8, 2, n_out=2, dtype=torch.float64), x)


def test_network_kernel_fn_moves_results_to_the_cpu_in_float64(problem):
    x, xt, _ = problem
    net = nu.MLP(3, 16, 2, "erf", seed=1)                      # float32 network
    nngp, ntk = nu.network_kernel_fn(net)(xt, x)
    assert nngp.dtype == ntk.dtype == torch.float64 and nngp.shape == ntk.shape == (5, 12)
    torch.testing.assert_close(ntk, nu.empirical_ntk(net, xt, x).double())
