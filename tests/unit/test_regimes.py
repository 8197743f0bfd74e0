"""Notebook 08's helpers against independent computations: the implicit-bias solver against a
numerical integral, brute force and SciPy's SLSQP; GD on diagonal networks against the solver;
the closed-form NTK of the two-layer students against ``torch.func``; the scaled training's
lazy limit against kernel gradient descent; the fixed-effects width exponent on synthetic data."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

import ntkutils as nu
from ntkutils.regimes import width_exponent


@pytest.mark.parametrize("z", [-7.0, -0.3, 1e-4, 0.5, 3.0, 40.0])
def test_q_is_the_integral_of_arcsinh(z):
    direct = integrate.quad(lambda u: math.asinh(u / 2), 0.0, z, epsabs=1e-13, epsrel=1e-13)[0]
    assert nu.q_alpha(np.array([z]), 1.0) == pytest.approx(direct, rel=1e-10, abs=1e-15)
    # Q_alpha(beta) = alpha^2 q(beta/alpha^2)
    assert nu.q_alpha(np.array([z]), 0.3) == pytest.approx(0.09 * nu.q_alpha(np.array([z / 0.09]), 1.0), rel=1e-12)


def test_implicit_bias_solution_against_brute_force_in_three_dimensions():
    x = np.array([[1.0, -0.5, 2.0]])
    y = np.array([1.3])
    null = np.linalg.svd(x)[2][1:]                       # basis of {beta: x beta = 0}
    base = np.linalg.lstsq(x, y, rcond=None)[0]
    for alpha in (0.2, 1.0, 3.0):
        def q(c):
            return float(nu.q_alpha(base + c @ null, alpha))
        grid = np.linspace(-3, 3, 121)
        c0 = min(((a, b) for a in grid for b in grid), key=lambda c: q(np.array(c)))
        best = optimize.minimize(q, np.array(c0), method="Nelder-Mead", options={"xatol": 1e-11, "fatol": 1e-14}).x
        expected = base + best @ null
        got = nu.implicit_bias_solution(x, y, alpha)
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_implicit_bias_solution_against_slsqp_and_its_limits():
    prob = nu.sparse_regression(12, 5, 2, noise=0.1, seed=3)
    for alpha in (0.05, 0.5, 2.0):
        got = nu.implicit_bias_solution(prob.x, prob.y, alpha)
        res = optimize.minimize(lambda b: float(nu.q_alpha(b, alpha)), np.linalg.lstsq(prob.x, prob.y, rcond=None)[0],
                                method="SLSQP", constraints={"type": "eq", "fun": lambda b: prob.x @ b - prob.y},
                                options={"ftol": 1e-14, "maxiter": 1000})
        assert np.linalg.norm(got - res.x) / np.linalg.norm(got) < 1e-4
        np.testing.assert_allclose(prob.x @ got, prob.y, atol=1e-10)
    l2, l1 = nu.min_l2_interpolant(prob.x, prob.y), nu.min_l1_interpolant(prob.x, prob.y)
    assert np.linalg.norm(nu.implicit_bias_solution(prob.x, prob.y, 30.0) - l2) / np.linalg.norm(l2) < 1e-6
    small = nu.implicit_bias_solution(prob.x, prob.y, 1e-5)
    assert np.abs(small).sum() / np.abs(l1).sum() - 1 < 0.01


def test_min_l1_interpolant_with_one_equation_is_the_largest_coordinate():
    x = np.array([[0.3, -2.0, 1.1, 0.4]])
    y = np.array([0.7])
    expected = np.zeros(4)
    expected[1] = 0.7 / -2.0
    np.testing.assert_allclose(nu.min_l1_interpolant(x, y), expected, atol=1e-10)


def test_gradient_descent_on_diagonal_networks_ends_at_the_implicit_bias():
    prob = nu.sparse_regression(30, 10, 2, noise=0.1, seed=1)
    alphas = [0.05, 0.5, 5.0]
    path = nu.diagonal_net_gd(prob.x, prob.y, alphas, rtol=1e-6)
    assert path.converged.all()
    assert path.alpha_drift.max() < 0.1
    for j, a in enumerate(alphas):
        q = nu.implicit_bias_solution(prob.x, prob.y, a)
        assert np.linalg.norm(path.beta[0, j] - q) / np.linalg.norm(q) < 5e-3
    # a planted error: Q at 2 alpha is ten times further from what GD reaches from alpha = 0.5
    errs = [np.linalg.norm(path.beta[0, 1] - q) / np.linalg.norm(q)
            for q in (nu.implicit_bias_solution(prob.x, prob.y, a) for a in (0.5, 1.0))]
    assert errs[1] > 10 * errs[0]


def test_diagonal_and_scaled_bad_inputs_raise():
    prob = nu.sparse_regression(10, 4, 1, noise=0.0, seed=0)
    with pytest.raises(ValueError, match="alphas"):
        nu.diagonal_net_gd(prob.x, prob.y, [-1.0])
    with pytest.raises(ValueError, match="eta"):
        nu.diagonal_net_gd(prob.x, prob.y, [1.0], eta=3.0)
    with pytest.raises(ValueError, match="alpha"):
        nu.implicit_bias_solution(prob.x, prob.y, 0.0)
    with pytest.raises(ValueError, match="k must be at most"):
        nu.sparse_regression(3, 2, 5, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="activation"):
        nu.two_layer_nets(1, 3, 4, activation="swish-ish")
    with pytest.raises(ValueError, match="width must be even"):
        nu.two_layer_nets(1, 3, 5, symmetric=True)
    nets = nu.two_layer_nets(2, 3, 8, seed=0)
    x = torch.randn(6, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="stability bound"):
        nu.train_output_scaled(nets, [1.0, 1.0], x, torch.zeros(6, dtype=torch.float64), steps=1, eta=1e6)
    with pytest.raises(ValueError, match="scales"):
        nu.train_output_scaled(nets, [1.0, -1.0], x, torch.zeros(6, dtype=torch.float64), steps=1, eta=0.1)


def test_studies_need_increasing_grids():
    task = nu.teacher_task(4, 10, 10, seed=0)
    with pytest.raises(ValueError, match="scales must be at least two positive"):
        nu.lazy_scale_study(task, [10.0, 1.0], width=4, n_seeds=1, steps=1, eta=0.1, seed=0)
    with pytest.raises(ValueError, match="alphas must be"):
        nu.implicit_bias_study([0.1], d=5, n=3, k=1, noise=0.0, n_problems=1, seed=0)
    with pytest.raises(ValueError, match="x must be"):
        nu.crossover_study(task, [4], [1.0, -1.0], n_seeds=1, steps=1, eta=0.1, seed=0)


def test_woodworth_epsilon_solves_the_theorem_condition():
    eps = nu.woodworth_l2_epsilon(10.0, 0.7)
    assert 10.0 ** 2 == pytest.approx(2 * (1 + eps) * (1 + 2 / eps) * 0.7, rel=1e-12)
    assert nu.woodworth_l2_epsilon(0.5, 0.7) == math.inf


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_two_layer_ntk_against_torch_func(activation):
    nets = nu.two_layer_nets(3, 4, 6, sigma_w=1.3, sigma_b=0.7, activation=activation, seed=2)
    x1, x2 = torch.randn(5, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)

    def single(w, c, a, x):
        one = nu.TwoLayerNets(w[None], c[None], a[None], nets.sigma_w, nets.sigma_b, activation)
        return nu.two_layer_forward(one, x)[0]

    for b in range(3):
        args = (nets.w[b], nets.c[b], nets.a[b])
        j1 = torch.func.jacrev(single, argnums=(0, 1, 2))(*args, x1)
        j2 = torch.func.jacrev(single, argnums=(0, 1, 2))(*args, x2)
        expected = sum(u.reshape(u.shape[0], -1) @ v.reshape(v.shape[0], -1).T for u, v in zip(j1, j2))
        torch.testing.assert_close(nu.two_layer_ntk(nets, x1, x2)[b], expected, atol=1e-12, rtol=1e-12)


def test_symmetrised_networks_start_at_zero():
    nets = nu.two_layer_nets(2, 5, 10, sigma_b=1.0, symmetric=True, seed=1)
    assert nu.two_layer_forward(nets, torch.randn(7, 5, dtype=torch.float64)).abs().max() < 1e-13


def test_large_scale_training_follows_the_lazy_limit():
    task = nu.teacher_task(5, 20, 30, seed=0)
    nets = nu.two_layer_nets(1, 5, 200, sigma_b=1.0, symmetric=True, seed=0)
    steps, eta = 100, 0.5
    k0 = nu.two_layer_ntk(nets, task.x_train)[0]
    lazy = nu.gradient_descent_predict(k0, task.y_train, torch.zeros(20, dtype=torch.float64), steps, eta=eta,
                                       ntk_test_train=nu.two_layer_ntk(nets, task.x_test, task.x_train)[0],
                                       f0_test=torch.zeros(30, dtype=torch.float64)).test[-1]
    gaps = []
    for tau in (10.0, 1000.0):
        run = nu.train_output_scaled(nets, [tau], task.x_train, task.y_train, steps=steps, eta=eta,
                                     x_test=task.x_test, y_test=task.y_test, center=False)
        gaps.append(float((run.test_output[0] - lazy).norm() / lazy.norm()))
    assert gaps[1] < 0.01 and gaps[1] < gaps[0] / 5


def test_width_exponent_recovers_a_planted_exponent():
    rng = np.random.default_rng(0)
    widths = np.array([100, 300, 1000])
    base = np.exp(rng.normal(size=7))
    for b in (0.0, -0.5):
        values = base[None, :, None] * widths[:, None, None] ** b * np.exp(0.05 * rng.normal(size=(3, 7, 4)))
        fit = width_exponent(widths, values, ci=0.99)
        assert fit.ci_low <= b <= fit.ci_high
        assert fit.ci_high - fit.ci_low < 0.1
