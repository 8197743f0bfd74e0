"""Closed-form dynamics against explicit integration, matrix exponentials and direct Gaussian
algebra written out here."""

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm

import ntkutils as nu
from ntkutils import dynamics as dy


@pytest.fixture
def problem():
    g = np.random.default_rng(0)
    x = nu.data.sphere_uniform(12, 3, seed=1)
    xt = nu.data.sphere_uniform(5, 3, seed=2)
    k = nu.analytic_kernels(torch.cat([x, xt]), depth=3, sigma_b=0.1)
    n = 12
    return dict(K=k.ntk[:n, :n], Kt=k.ntk[n:, :n], Kxx=k.ntk[n:, n:], S=k.nngp[:n, :n],
                St=k.nngp[n:, :n], Sxx=k.nngp[n:, n:], y=torch.as_tensor(g.standard_normal(n)),
                f0=torch.as_tensor(0.3 * g.standard_normal(n)), g0=torch.as_tensor(0.3 * g.standard_normal(5)))


def test_flow_against_explicit_euler(problem):
    """Many small explicit steps of ḟ = −(1/N)Θ(f − y) on train and test points."""
    p = problem
    t, steps = 3.0, 30000
    dt = t / steps
    f, g = p["f0"].clone(), p["g0"].clone()
    for _ in range(steps):
        r = f - p["y"]
        f, g = f - dt / 12 * p["K"] @ r, g - dt / 12 * p["Kt"] @ r
    pred = nu.gradient_flow_predict(p["K"], p["y"], p["f0"], t, ntk_test_train=p["Kt"], f0_test=p["g0"])
    # explicit Euler is first-order accurate: error O(dt · t · λ_max²/N²)
    assert float((pred.train[0] - f).abs().max()) < 2e-4
    assert float((pred.test[0] - g).abs().max()) < 2e-4


def test_flow_against_matrix_exponential(problem):
    p = problem
    K = p["K"].numpy()
    for t in [0.0, 0.7, 25.0]:
        e = expm(-K * t / 12)
        train = p["y"].numpy() + e @ (p["f0"] - p["y"]).numpy()
        test = p["g0"].numpy() + p["Kt"].numpy() @ np.linalg.solve(K, (np.eye(12) - e) @ (p["y"] - p["f0"]).numpy())
        pred = nu.gradient_flow_predict(K, p["y"], p["f0"], t, ntk_test_train=p["Kt"], f0_test=p["g0"])
        np.testing.assert_allclose(pred.train[0].numpy(), train, atol=1e-10)
        np.testing.assert_allclose(pred.test[0].numpy(), test, atol=1e-8)


def test_flow_end_point_is_kernel_regression(problem):
    p = problem
    pred = nu.gradient_flow_predict(p["K"], p["y"], p["f0"], math.inf, ntk_test_train=p["Kt"], f0_test=p["g0"])
    torch.testing.assert_close(pred.train[0], p["y"])
    expected = p["g0"] + p["Kt"] @ torch.linalg.solve(p["K"], p["y"] - p["f0"])
    torch.testing.assert_close(pred.test[0], expected, rtol=1e-8, atol=1e-8)


def test_sum_normalisation_is_time_rescaled(problem):
    p = problem
    mean = nu.gradient_flow_predict(p["K"], p["y"], p["f0"], 12 * 0.5, normalization="mean")
    summ = nu.gradient_flow_predict(p["K"], p["y"], p["f0"], 0.5, normalization="sum")
    torch.testing.assert_close(mean.train, summ.train)


def test_gradient_descent_closed_form_against_iteration(problem):
    p = problem
    eta = 0.9 * nu.max_learning_rate(p["K"])
    f, g = p["f0"].clone(), p["g0"].clone()
    record = {}
    for k in range(41):
        record[k] = (f.clone(), g.clone())
        r = f - p["y"]
        f, g = f - eta / 12 * p["K"] @ r, g - eta / 12 * p["Kt"] @ r
    pred = nu.gradient_descent_predict(p["K"], p["y"], p["f0"], [0, 1, 7, 40], eta=eta,
                                       ntk_test_train=p["Kt"], f0_test=p["g0"])
    for i, k in enumerate([0, 1, 7, 40]):
        torch.testing.assert_close(pred.train[i], record[k][0], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(pred.test[i], record[k][1], rtol=1e-10, atol=1e-10)


def test_learning_rate_bound(problem):
    K = problem["K"]
    lam_max = float(torch.linalg.eigvalsh(K)[-1])
    assert nu.max_learning_rate(K) == pytest.approx(2 * 12 / lam_max, rel=1e-12)
    assert nu.max_learning_rate(K, "sum") == pytest.approx(2 / lam_max, rel=1e-12)
    with pytest.raises(ValueError, match="eta"):
        nu.gradient_descent_predict(K, problem["y"], problem["f0"], 5, eta=1.01 * nu.max_learning_rate(K))


def test_residual_projections_decay_at_their_rates(problem):
    p = problem
    times = torch.tensor([0.0, 2.0, 9.0], dtype=torch.float64)
    pred = nu.gradient_flow_predict(p["K"], p["y"], p["f0"], times)
    rates, coef = nu.residual_projections(p["K"], pred.train - p["y"])
    lam = torch.linalg.eigvalsh(p["K"]).flip(0) / 12
    torch.testing.assert_close(rates, lam)
    torch.testing.assert_close(coef[2], coef[0] * torch.exp(-rates * 9.0), rtol=1e-8, atol=1e-12)


def test_ntk_gp_against_direct_gaussian_algebra(problem):
    """f_t(x) = f0(x) + P_t (y − f0(X)) with f0 ~ GP(0, K) jointly on (X, x): its mean P_t y and
    covariance [−P_t, I] K_joint [−P_t, I]ᵀ, built here with scipy's expm."""
    p = problem
    t = 4.0
    e = expm(-p["K"].numpy() * t / 12)
    P = p["Kt"].numpy() @ np.linalg.solve(p["K"].numpy(), np.eye(12) - e)
    joint = np.block([[p["S"].numpy(), p["St"].numpy().T], [p["St"].numpy(), p["Sxx"].numpy()]])
    A = np.hstack([-P, np.eye(5)])
    gp = nu.ntk_gp_predict(p["S"], p["K"], p["y"], [0.0, t], nngp_test_train=p["St"],
                           ntk_test_train=p["Kt"], nngp_test=p["Sxx"])
    np.testing.assert_allclose(gp.mean[1].numpy(), P @ p["y"].numpy(), atol=1e-9)
    np.testing.assert_allclose(gp.covariance[1].numpy(), A @ joint @ A.T, atol=1e-9)
    np.testing.assert_allclose(gp.mean[0].numpy(), 0.0, atol=1e-14)  # t = 0: the prior
    np.testing.assert_allclose(gp.covariance[0].numpy(), p["Sxx"].numpy(), atol=1e-14)


def test_nngp_readout_end_point_is_the_gp_posterior(problem):
    p = problem
    gp = nu.nngp_readout_predict(p["S"], p["y"], math.inf, nngp_test_train=p["St"], nngp_test=p["Sxx"])
    sol = torch.linalg.solve(p["S"], p["St"].T)
    torch.testing.assert_close(gp.mean[0], sol.T @ p["y"], rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(gp.covariance[0], p["Sxx"] - p["St"] @ sol, rtol=1e-6, atol=1e-7)


def test_bad_inputs(problem):
    p = problem
    with pytest.raises(ValueError, match="t"):
        nu.gradient_flow_predict(p["K"], p["y"], p["f0"], -1.0)
    with pytest.raises(ValueError, match="y_train"):
        nu.gradient_flow_predict(p["K"], p["y"][:5], p["f0"], 1.0)
    with pytest.raises(ValueError, match="square"):
        nu.gradient_flow_predict(p["K"][:, :5], p["y"], p["f0"], 1.0)
    with pytest.raises(ValueError, match="normalization"):
        nu.gradient_flow_predict(p["K"], p["y"], p["f0"], 1.0, normalization="avg")
    with pytest.raises(ValueError, match="steps"):
        nu.gradient_descent_predict(p["K"], p["y"], p["f0"], 1.5, eta=0.1)
    singular = torch.ones(3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="t=inf"):
        nu.gradient_flow_predict(singular, torch.zeros(3), torch.zeros(3), math.inf)
