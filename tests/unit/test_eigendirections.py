"""GD decay rates and Rayleigh quotients along eigendirections (notebook 04) against explicit
gradient-descent iteration and direct matrix algebra."""

import math

import pytest
import torch

import ntkutils as nu
from ntkutils import dynamics as dy


def test_gd_decay_rates_match_iterated_gradient_descent() -> None:
    x = nu.data.sphere_uniform(10, 3, seed=1)
    theta = nu.analytic_kernels(x, depth=3, sigma_b=0.1).ntk
    lam, vec = dy.kernel_eigendecomposition(theta)
    eta, steps = 0.7 / float(lam[0]), 25
    r = vec[:, 2] * 0.3 + vec[:, 5] * 0.1                 # residual along two eigendirections
    for _ in range(steps):
        r = r - eta * theta @ r / len(x)                  # GD on ½·mean: ∂C/∂f = r/N
    rates = dy.gd_decay_rates(lam[[2, 5]], eta)
    expected = torch.tensor([0.3, 0.1], dtype=torch.float64) * torch.exp(-rates * steps * eta)
    assert torch.allclose(vec[:, [2, 5]].T @ r, expected, rtol=1e-9, atol=1e-14)
    # small steps: the rate tends to λ; above ηλ = 1 the component oscillates but still decays
    assert math.isclose(float(dy.gd_decay_rates(lam[:1], 1e-6 / float(lam[0]))), float(lam[0]), rel_tol=1e-5)
    assert math.isclose(float(dy.gd_decay_rates(torch.tensor([1.5]), 1.0)), math.log(2), rel_tol=1e-12)


@pytest.mark.parametrize("bad", [0.0, 1.0, 2.0, 2.5, -0.1])
def test_gd_decay_rates_reject_unstable_or_degenerate_steps(bad: float) -> None:
    with pytest.raises(ValueError, match="eta·rates"):
        dy.gd_decay_rates(torch.tensor([0.5, bad]), 1.0)


def test_rayleigh_quotients_are_one_for_the_reference_kernel_and_scale_with_it() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 8, generator=g, dtype=torch.float64)
    theta = a @ a.T
    lam, vec = dy.kernel_eigendecomposition(theta)
    assert torch.allclose(dy.rayleigh_quotients(theta, vec[:, :4], lam[:4]), torch.ones(4, dtype=torch.float64))
    assert torch.allclose(dy.rayleigh_quotients(1.3 * theta, vec, lam), torch.full((8,), 1.3, dtype=torch.float64))
    lam_s, vec_s = dy.kernel_eigendecomposition(theta, "sum")
    assert torch.allclose(dy.rayleigh_quotients(theta, vec_s, lam_s, "sum"), torch.ones(8, dtype=torch.float64))
    other = theta + torch.diag(torch.arange(8, dtype=torch.float64))
    direct = torch.stack([vec[:, i] @ other @ vec[:, i] / 8 / lam[i] for i in range(8)])
    assert torch.allclose(dy.rayleigh_quotients(other, vec, lam), direct)
    with pytest.raises(ValueError, match="vectors must be"):
        dy.rayleigh_quotients(theta, vec[:, :3], lam[:4])


def test_fit_rate_scale_recovers_the_scale_and_ignores_rotations_in_the_subspace() -> None:
    t = torch.linspace(0, 50, 200, dtype=torch.float64)
    r = torch.tensor([0.10, 0.095, 0.05], dtype=torch.float64)
    c0 = torch.tensor([0.3, -0.2, 0.25], dtype=torch.float64)
    coeffs = c0 * torch.exp(-1.3 * r * t[:, None])
    assert math.isclose(dy.fit_rate_scale(t, coeffs, r), 1.3, rel_tol=1e-6)
    assert math.isclose(dy.fit_rate_scale(t, coeffs, 1.2 * r), 1.3 / 1.2, rel_tol=1e-6)
    # a rotation inside a degenerate block (equal rates) leaves the energy, hence s, unchanged
    r2 = torch.tensor([0.1, 0.1, 0.05], dtype=torch.float64)
    block = c0 * torch.exp(-1.3 * r2 * t[:, None])
    rot = torch.eye(3, dtype=torch.float64)
    rot[:2, :2] = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    assert math.isclose(dy.fit_rate_scale(t, block @ rot.T, r2), 1.3, rel_tol=1e-6)
    assert math.isnan(dy.fit_rate_scale(t[:2], coeffs[:2], r))
    with pytest.raises(ValueError, match="rates must be positive"):
        dy.fit_rate_scale(t, coeffs, -r)
