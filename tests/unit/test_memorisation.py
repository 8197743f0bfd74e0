"""Notebook 09's helpers and the two-layer relu net of ``two_layer_relu`` against independent
computations: H∞ against Monte Carlo and the layer recursion of ``analytic_kernels``; H(W) and
the GD step against ``torch.func``; Arora et al.'s predicted loss and kernel GD against explicit
iteration; the complexity, the Laplacian kernel, the ridge fits and Spearman's ρ against NumPy
and SciPy; the corruption's counts; bad input."""

import math

import numpy as np
import pytest
import torch
from scipy import stats as sps

import ntkutils as nu
from ntkutils.memorisation import _ridge_fit


def _sphere(n, d, seed):
    return nu.sphere_uniform(n, d, seed=seed)


def test_relu_gram_against_monte_carlo_and_exact_diagonal():
    x = _sphere(5, 4, 0)
    g = torch.Generator().manual_seed(1)
    w = torch.randn(400_000, 4, generator=g, dtype=torch.float64)
    s = (x @ w.T >= 0).double()                                  # (5, M)
    terms = (x @ x.T)[:, :, None] * s[:, None, :] * s[None, :, :]
    mc, se = terms.mean(2), terms.std(2) / math.sqrt(w.shape[0])
    h = nu.relu_gram(x)
    assert torch.all((h - mc).abs() < 5 * se + 1e-12)
    assert torch.equal(torch.diagonal(h), torch.full((5,), 0.5, dtype=torch.float64))


def test_relu_gram_is_the_first_layer_part_of_the_one_hidden_layer_ntk():
    # Θ = Σ¹ + Σ⁰·Σ̇¹ for one hidden layer without bias, Σ⁰ = xᵀx'/n0: H∞ = n0·(Θ − Σ¹)
    x, z = _sphere(6, 5, 2), _sphere(3, 5, 3)
    k = nu.analytic_kernels(x, z, depth=2, activation="relu", sigma_w=1.0, sigma_b=None)  # depth counts layers
    np.testing.assert_allclose(nu.relu_gram(x, z), 5 * (k.ntk - k.nngp), rtol=1e-12, atol=1e-14)


def test_relu_gram_rejects_points_off_the_sphere():
    with pytest.raises(ValueError, match="unit sphere"):
        nu.relu_gram(2 * _sphere(3, 4, 0))


def test_network_gram_and_gd_step_against_torch_func():
    x = _sphere(7, 3, 4)
    y = torch.linspace(-1, 1, 7, dtype=torch.float64)
    nets = nu.relu_nets(2, 16, 3, seed=5)

    def out(w, a):
        return (a * torch.relu(x @ w.T)).sum(1) / math.sqrt(16)

    for b in range(2):
        jac = torch.func.jacrev(out)(nets.w[b], nets.a[b]).reshape(7, -1)   # (N, m·d)
        np.testing.assert_allclose(nu.relu_net_gram(nets, x)[b], jac @ jac.T, rtol=1e-12, atol=1e-14)
    res = nu.train_relu_nets(nets, x, y, steps=1, eta=0.3, record_every=1)
    for b in range(2):
        grad = torch.func.grad(lambda w: 0.5 * ((out(w, nets.a[b]) - y) ** 2).sum())(nets.w[b])
        np.testing.assert_allclose(res.nets.w[b], nets.w[b] - 0.3 * grad, rtol=1e-12, atol=1e-14)
        assert res.loss[b, 0].item() == pytest.approx(0.5 * float(((out(nets.w[b], nets.a[b]) - y) ** 2).sum()))
    assert torch.equal(res.max_weight_change[:, 0], torch.zeros(2, dtype=torch.float64))
    assert res.max_weight_change[:, 1].tolist() == pytest.approx(
        torch.linalg.vector_norm(res.nets.w - nets.w, dim=2).amax(1).tolist())


def test_symmetric_networks_start_at_zero_and_match_the_kernel_when_wide():
    x = _sphere(6, 5, 6)
    y = torch.tensor([1.0, -1, 1, 1, -1, -1], dtype=torch.float64)
    nets = nu.relu_nets(1, 20000, 5, seed=7, symmetric=True)
    assert nu.relu_net_output(nets, x).abs().max().item() < 1e-12          # zero up to rounding
    h = nu.relu_gram(x)
    eta = 1.0 / torch.linalg.eigvalsh(h)[-1].item()
    res = nu.train_relu_nets(nets, x, y, steps=60, eta=eta, record_every=20)
    pred = nu.predicted_loss(h, y, eta, torch.arange(61))[0]
    assert float((res.loss[0].sqrt() - pred.sqrt()).abs().max() / res.loss[0, 0].sqrt()) < 0.03


def test_training_rejects_a_step_above_the_stability_bound_and_nonfinite_labels():
    x = _sphere(5, 3, 8)
    nets = nu.relu_nets(1, 64, 3, seed=9)
    bound = 2 / torch.linalg.eigvalsh(nu.relu_net_gram(nets, x))[0, -1].item()
    with pytest.raises(ValueError, match="eta=.*stability bound"):
        nu.train_relu_nets(nets, x, torch.ones(5), steps=3, eta=1.01 * bound)
    with pytest.raises(FloatingPointError, match="step 0"):
        nu.train_relu_nets(nets, x, torch.tensor([1.0, math.inf, 0, 0, 0]), steps=3, eta=0.5 * bound)
    with pytest.raises(ValueError, match="unit sphere"):
        nu.train_relu_nets(nets, 3 * x, torch.ones(5), steps=3, eta=0.1)
    with pytest.raises(ValueError, match="width must be even"):
        nu.relu_nets(1, 7, 3, seed=0, symmetric=True)


def test_predicted_loss_and_kernel_gd_against_explicit_iteration():
    x, xt = _sphere(8, 4, 10), _sphere(5, 4, 11)
    h, ht = nu.relu_gram(x), nu.relu_gram(xt, x)
    y = torch.tensor([[1.0, -1, 1, -1, 1, 1, -1, -1], [0.5, 0, 0, 1, -2, 0, 1, 0]], dtype=torch.float64)
    eta, k = 0.7 / torch.linalg.eigvalsh(h)[-1].item(), 37
    u, f = torch.zeros_like(y), torch.zeros(2, 5, dtype=torch.float64)
    losses = []
    for _ in range(k):
        losses.append(0.5 * ((u - y) ** 2).sum(1))
        r = u - y
        u, f = u - eta * r @ h, f - eta * r @ ht.T
    losses.append(0.5 * ((u - y) ** 2).sum(1))
    np.testing.assert_allclose(nu.predicted_loss(h, y, eta, torch.arange(k + 1)), torch.stack(losses, 1), rtol=1e-10)
    tr, te = nu.kernel_gd(h, ht, y, eta, k)
    np.testing.assert_allclose(tr, u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(te, f, rtol=1e-9, atol=1e-12)


def test_complexity_laplace_kernel_and_ridge_against_numpy():
    x, z = _sphere(9, 3, 12), _sphere(4, 3, 13)
    h = nu.relu_gram(x).numpy()
    y = np.sign(np.arange(9) - 4.5)[None, :]
    assert nu.complexity(torch.tensor(h), torch.tensor(y)).item() == pytest.approx(
        math.sqrt(2 * y[0] @ np.linalg.solve(h, y[0]) / 9), rel=1e-10)
    lap = np.exp(-np.linalg.norm(z.numpy()[:, None] - x.numpy()[None], axis=2) / 0.7)
    np.testing.assert_allclose(nu.laplace_kernel(z, x, bandwidth=0.7), lap, rtol=1e-10)
    assert torch.equal(torch.diagonal(nu.laplace_kernel(x, bandwidth=0.7)), torch.ones(9, dtype=torch.float64))
    ridge = np.linalg.solve(h + 0.1 * np.trace(h) / 9 * np.eye(9), y[0])
    np.testing.assert_allclose(_ridge_fit(torch.tensor(h), torch.tensor(y), 0.1)[0], ridge, rtol=1e-9)
    with pytest.raises(ValueError, match="bandwidth"):
        nu.laplace_kernel(x, bandwidth=0.0)


def test_corrupt_labels_replaces_exactly_round_p_n_labels():
    y = torch.ones(101, dtype=torch.float64)
    assert torch.equal(nu.corrupt_labels(y, 0.0, seed=1), y)
    flipped = [(nu.corrupt_labels(y, 1.0, seed=s) != y).double().mean().item() for s in range(200)]
    assert np.mean(flipped) == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(101 * 200))
    # only the round(pN) chosen labels can change
    z = torch.arange(101, dtype=torch.float64) + 5                     # labels no coin can produce
    assert int((nu.corrupt_labels(z, 0.3, seed=2) != z).sum()) == round(0.3 * 101)
    with pytest.raises(ValueError, match="fraction"):
        nu.corrupt_labels(y, 1.5, seed=0)


def test_spearman_interval_against_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    r = nu.spearman_interval(x, y, ci=0.95, seed=1)
    assert r.rho == pytest.approx(sps.spearmanr(x, y).statistic)
    assert r.ci_low < r.rho < r.ci_high
    # bootstrap half-width near the asymptotic sqrt((1 - rho^2)^2 / n) scale (within a factor 2)
    half = (r.ci_high - r.ci_low) / 2
    assert 0.5 < half / (1.96 * (1 - r.rho ** 2) / math.sqrt(40)) < 2.0
    assert nu.spearman_interval([1, 2, 3, 4], [2, 4, 6, 9], ci=0.9).rho == 1.0
    assert math.isnan(nu.spearman_interval([1, 2, 3], [5, 5, 5], ci=0.9).rho)
    with pytest.raises(ValueError, match="at least 3 pairs"):
        nu.spearman_interval([1, 2], [1, 2], ci=0.9)


def test_binary_digits_is_centred_on_the_sphere_and_balanced():
    t = nu.binary_digits(300, seed=0)
    assert t.x_train.shape == (300, 64) and t.x_test.shape == (1497, 64)
    assert torch.allclose(torch.linalg.vector_norm(t.x_test, dim=1), torch.ones(1497, dtype=torch.float64))
    assert set(t.y_train.tolist()) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="n_train"):
        nu.binary_digits(1, seed=0)


def test_interpolation_study_interpolates_and_rejects_bad_grids():
    t = nu.binary_digits(120, seed=1)
    s = nu.interpolation_study(t, [0.0, 0.3], n_label_seeds=2, bandwidth=1.0, ridges=[1e-3, 1.0], seed=2)
    assert s.train_error.max() == 0.0
    assert s.interpolant_error.shape == (2, 2, 2) and set(np.unique(s.ridge)) <= {1e-3, 1.0}
    with pytest.raises(ValueError, match="increase from 0"):
        nu.interpolation_study(t, [0.1, 0.3], n_label_seeds=1, bandwidth=1.0, ridges=[1.0], seed=0)
    with pytest.raises(ValueError, match="ridges"):
        nu.interpolation_study(t, [0.0, 0.3], n_label_seeds=1, bandwidth=1.0, ridges=[0.0], seed=0)


def test_memorisation_study_on_a_small_task_and_its_bad_input():
    t = nu.binary_digits(40, seed=3)
    s = nu.memorisation_study(t, [0.0, 1.0], n_label_seeds=2, width=64, steps=40, seed=4, threshold=0.2)
    assert s.labels.shape == (4, 40) and torch.equal(s.labels[0], t.y_train)
    assert s.eta == pytest.approx(1 / torch.linalg.eigvalsh(nu.relu_gram(t.x_train))[-1].item())
    _, kernel_steps = s.fit_steps()
    for r in range(4):                                   # first k with Φ_pred(k) ≤ 0.2 Φ(0), by direct search
        phi = [float(nu.predicted_loss(s.gram, s.labels[r], s.eta, torch.tensor([k]))[0, 0]) for k in range(41)]
        assert kernel_steps[r] == next((k for k, v in enumerate(phi) if v <= 0.2 * phi[0]), 41)
    assert s.complexity == pytest.approx(nu.complexity(s.gram, s.labels).numpy())
    with pytest.raises(ValueError, match="threshold"):
        nu.memorisation_study(t, [0.0, 1.0], n_label_seeds=1, width=8, steps=2, seed=0, threshold=1.0)
    with pytest.raises(ValueError, match="fractions"):
        nu.memorisation_study(t, [0.5, 0.2], n_label_seeds=1, width=8, steps=2, seed=0)
