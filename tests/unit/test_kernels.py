"""Analytic kernels against independent computations: neural-tangents' values, formulas written
out here, 2-D adaptive quadrature (scipy) and Monte Carlo averages of wide networks."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.special import erf

import ntkutils as nu
from ntkutils import kernels as K

DATA = Path(__file__).resolve().parents[1] / "data"


# ---------------------------------------------------------------- neural-tangents 0.6.5 values
def _nt_cases():
    ref = np.load(DATA / "nt_kernels.npz")
    return [(c, ref) for c in json.loads(str(ref["configs"]))]


@pytest.mark.parametrize("case", _nt_cases(), ids=lambda c: c[0]["name"])
def test_matches_neural_tangents(case):
    """stax.serial(Dense(n, W_std, b_std, parameterization), φ, ..., Dense(1, ...)), float64.

    The fixture was computed by benchmarks/peers/nt_reference.py in neural-tangents' own
    environment; its inputs include a duplicated row and two points on one ray.
    """
    cfg, ref = case
    kw = dict(depth=cfg["depth"], activation=cfg["activation"], sigma_w=cfg["W_std"],
              sigma_b=cfg["b_std"], parameterization=cfg["parameterization"], width=cfg["width"])
    cross = nu.analytic_kernels(ref["x1"], ref["x2"], **kw)
    same = nu.analytic_kernels(ref["x1"], **kw)
    for mine, key in [(cross.nngp, "_nngp"), (cross.ntk, "_ntk"), (same.nngp, "_nngp_11"), (same.ntk, "_ntk_11")]:
        expected = ref[cfg["name"] + key]
        np.testing.assert_allclose(mine.numpy(), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


# ---------------------------------------------------------------- closed forms written out here
def _arccos_relu_two_layer(x, y, sw, sb):
    """One hidden relu layer (depth 2), Cho & Saul's arc-cosine kernel of order 1 and 0."""
    n0 = x.shape[1]
    s1 = sw**2 * x @ y.T / n0 + sb**2
    qx = sw**2 * (x * x).sum(1) / n0 + sb**2
    qy = sw**2 * (y * y).sum(1) / n0 + sb**2
    norm = np.sqrt(np.outer(qx, qy))
    theta = np.arccos(np.clip(s1 / norm, -1, 1))
    nngp = sw**2 * norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi) + sb**2
    ntk = nngp + sw**2 * (np.pi - theta) / (2 * np.pi) * s1
    return nngp, ntk


@pytest.mark.parametrize("sw,sb", [(1.0, 0.1), (math.sqrt(2), 0.0), (0.7, 1.3)])
def test_one_hidden_layer_relu_is_the_arccos_kernel(sw, sb):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 4)), rng.standard_normal((5, 4))
    k = nu.analytic_kernels(x, y, depth=2, activation="relu", sigma_w=sw, sigma_b=sb)
    nngp, ntk = _arccos_relu_two_layer(x, y, sw, sb)
    np.testing.assert_allclose(k.nngp.numpy(), nngp, rtol=1e-13)
    np.testing.assert_allclose(k.ntk.numpy(), ntk, rtol=1e-13)


def test_jacot_figure1_values():
    """Jacot et al. Fig. 1 setting (L=4, relu, β=0.1, σ_w=1) at x0=(1,0) against x(γ):
    the values in the reference file, computed there independently in numpy."""
    gamma = [0, math.pi / 4, math.pi / 2, 3 * math.pi / 4, math.pi]
    k = nu.analytic_kernels([[1.0, 0.0]], nu.data.circle(gamma), depth=4, sigma_b=0.1)
    np.testing.assert_allclose(k.ntk[0].numpy(), [0.2825, 0.1700, 0.0927, 0.0660, 0.0644], atol=6e-5)
    np.testing.assert_allclose(k.nngp[0].numpy(), [0.0813, 0.0699, 0.0558, 0.0492, 0.0481], atol=6e-5)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh", "gelu"])
def test_diagonal_is_exact(activation):
    """Where x = x' the correlation is exactly 1: the matrix diagonal, the cross kernel at a
    repeated row and diagonal=True agree to the last bits, and for relu equal the recursion
    q' = σ_w² q/2 + σ_b², Θ' = q' + σ_w²/2·Θ written out here."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3))
    kw = dict(depth=4, activation=activation, sigma_w=1.3, sigma_b=0.2)
    full = nu.analytic_kernels(x, **kw)
    cross = nu.analytic_kernels(x, x.copy(), **kw)
    diag = nu.analytic_kernels(x, diagonal=True, **kw)
    for a, b in [(full.ntk.diagonal(), diag.ntk), (cross.ntk.diagonal(), diag.ntk),
                 (full.nngp.diagonal(), diag.nngp)]:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-15, atol=0)  # a few ulps; arccos(1 − ε) would cost √ε ≈ 1e-8
    if activation == "relu":
        q = 1.3**2 * (x * x).sum(1) / 3 + 0.04
        theta = q.copy()
        for _ in range(3):
            q = 1.3**2 * q / 2 + 0.04
            theta = q + 1.3**2 / 2 * theta
        np.testing.assert_allclose(diag.ntk.numpy(), theta, rtol=2e-15)


def test_nearly_equal_inputs_are_continuous():
    """A point and its copy perturbed by 1e-9: the kernel moves by O(1e-9), not O(√ε)."""
    x = np.array([[0.6, 0.8]])
    y = x + np.array([[1e-9, -1e-9]])
    k_same = nu.analytic_kernels(x, x, depth=3, sigma_b=0.1).ntk
    k_near = nu.analytic_kernels(x, y, depth=3, sigma_b=0.1).ntk
    assert abs(float(k_same - k_near)) < 1e-8


# ---------------------------------------------------------------- Gaussian expectations
def _dblquad_expectation(f, g, q1, q2, k, positive_quadrant=False):
    """E[f(u) g(v)] for (u, v) ~ N(0, [[q1, k], [k, q2]]), by scipy adaptive quadrature over
    whitened coordinates; ``positive_quadrant`` integrates over u > 0, v > 0 only (where relu
    and its step derivative are smooth), with f, g evaluated there."""
    s1 = math.sqrt(q1)
    rho = k / math.sqrt(q1 * q2)
    a, s = math.sqrt(q2) * rho, math.sqrt(q2 * (1 - rho**2))

    def integrand(z2, z1):
        return f(s1 * z1) * g(a * z1 + s * z2) * math.exp(-0.5 * (z1 * z1 + z2 * z2)) / (2 * math.pi)

    if positive_quadrant:  # u > 0 ⇔ z1 > 0; v > 0 ⇔ z2 > −a z1 / s
        return integrate.dblquad(integrand, 0, 12, lambda z1: -a * z1 / s, 12, epsabs=1e-13, epsrel=1e-12)[0]
    return integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-12, epsrel=1e-11)[0]


_PHI = {
    "relu": (lambda x: x, lambda x: 1.0),  # restricted to the positive quadrant below
    "erf": (erf, lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x)),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "gelu": (lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + erf(x / math.sqrt(2))) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
}


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["relu", "erf", "tanh", "gelu"])
def test_expectations_against_adaptive_quadrature(activation):
    """The closed forms (relu, erf) and the trapezoid rule (tanh, gelu) against scipy.dblquad."""
    q1, q2, k = 1.7, 0.6, -0.55
    f, df = _PHI[activation]
    quadrant = activation == "relu"
    t_ref = _dblquad_expectation(f, f, q1, q2, k, quadrant)
    tdot_ref = _dblquad_expectation(df, df, q1, q2, k, quadrant)
    a = nu.get_activation(activation)
    q1t, q2t, kt = (torch.tensor([[v]], dtype=torch.float64) for v in (q1, q2, k))
    c = kt / torch.sqrt(q1t * q2t)
    rule = K._CLOSED_FORMS.get(activation) or K._generic_rule(a, 0.2, symmetric=False)
    t, tdot = rule(q1t, q2t, kt, c)
    tol = 1e-9
    assert float(t) == pytest.approx(t_ref, rel=tol, abs=tol)
    assert float(tdot) == pytest.approx(tdot_ref, rel=tol, abs=tol)


def test_erf_closed_form_equals_quadrature_rule():
    """Two independent routes to the same Gaussian expectations, on a grid of covariances."""
    q1 = torch.tensor([0.3, 1.0, 2.5, 7.0], dtype=torch.float64)[:, None]
    q2 = torch.tensor([0.5, 1.2, 4.0], dtype=torch.float64)[None, :]
    c = torch.tensor([[-0.9, 0.1, 0.99], [0.5, -0.3, 1.0], [0.0, 0.7, -1.0], [0.95, 0.2, -0.6]],
                     dtype=torch.float64)
    k = c * torch.sqrt(q1 * q2)
    closed = K._erf_expectations(q1, q2, k, c)
    quad = K._generic_rule(nu.get_activation("erf"), 0.2, symmetric=False)(q1, q2, k, c)
    for a, b in zip(closed, quad):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- Monte Carlo over wide nets
@pytest.mark.slow
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_monte_carlo_over_wide_networks(activation):
    """mean_s f_s f_sᵀ → Σ and mean_s Θ̂_s → Θ_∞. The tolerance is 4.5 standard errors of the
    Monte Carlo mean plus the O(depth/width) finite-width bias of E[Θ̂] (Hanin & Nica 2019)."""
    x = nu.data.sphere_uniform(4, 3, seed=5)
    width, depth = 1024, 3
    exact = nu.analytic_kernels(x, depth=depth, activation=activation, sigma_w=1.2, sigma_b=0.3)
    mc = nu.monte_carlo_kernels(x, n_samples=120, width=width, depth=depth, activation=activation,
                                sigma_w=1.2, sigma_b=0.3, seed=11)
    bias = 2.0 * depth / width * exact.ntk.abs().max()
    assert bool(((mc.nngp - exact.nngp).abs() <= 4.5 * mc.nngp_sem + 1e-12).all())
    assert bool(((mc.ntk - exact.ntk).abs() <= 4.5 * mc.ntk_sem + bias).all())
    # and the test can fail: a wrong σ_b is far outside the band
    wrong = nu.analytic_kernels(x, depth=depth, activation=activation, sigma_w=1.2, sigma_b=0.5)
    assert not bool(((mc.ntk - wrong.ntk).abs() <= 4.5 * mc.ntk_sem + bias).all())


def test_standard_parameterisation_matches_monte_carlo():
    """Standard parameterisation: the NTK grows with n; E[Θ̂] at width n matches the analytic
    kernel evaluated with that width."""
    x = nu.data.sphere_uniform(3, 2, seed=1)
    exact = nu.analytic_kernels(x, depth=3, sigma_w=1.0, sigma_b=0.1, parameterization="standard", width=256)
    mc = nu.monte_carlo_kernels(x, n_samples=60, width=256, depth=3, sigma_w=1.0, sigma_b=0.1,
                                parameterization="standard", seed=3)
    assert bool(((mc.ntk - exact.ntk).abs() <= 4.5 * mc.ntk_sem + 0.03 * exact.ntk.abs()).all())
    wider = nu.analytic_kernels(x, depth=3, sigma_w=1.0, sigma_b=0.1, parameterization="standard", width=512)
    ratio = float(wider.ntk[0, 0] / exact.ntk[0, 0])
    assert 1.9 < ratio < 2.0  # Θ ≈ n·(...) + O(1): it does not converge without rescaling


# ---------------------------------------------------------------- shapes, layers, bad input
def test_layers_and_shapes():
    x = np.random.default_rng(0).standard_normal((4, 2))
    k = nu.analytic_kernels(x, x[:3], depth=3, return_layers=True)
    assert k.nngp.shape == k.ntk.shape == (4, 3) and k.nngp.dtype == torch.float64
    assert len(k.layers) == 3 and k.layers[0].dnngp is None
    torch.testing.assert_close(k.layers[-1].ntk, k.ntk)
    # Θ^l = Σ^l + Σ̇^l Θ^{l−1}
    torch.testing.assert_close(k.layers[2].ntk, k.layers[2].nngp + k.layers[2].dnngp * k.layers[1].ntk)


@pytest.mark.parametrize("sigma_b, rank", [(0.1, 5), (None, 3)])
def test_polynomial_activation_gives_low_rank_gram(sigma_b, rank):
    """σ(z) = z², L = 2 on the circle: the kernel is a polynomial of degree 2 in cos(γ − γ'), so
    only harmonics 0, 1, 2 appear: rank 2·2 + 1 = 5. Without bias it is even in x, harmonic 1
    drops out and the rank is 3."""
    _, x = nu.data.circle_grid(40, endpoint=False)
    k = nu.analytic_kernels(x, depth=2, activation="square", sigma_b=sigma_b)
    eig = torch.linalg.eigvalsh(k.ntk)
    assert int((eig > 1e-10 * eig.max()).sum()) == rank


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=0), "depth"),
    (dict(depth=2, activation="sigmoid"), "activation"),
    (dict(depth=2, sigma_w=-1.0), "sigma_w"),
    (dict(depth=2, sigma_b=-0.1), "sigma_b"),
    (dict(depth=2, parameterization="mup"), "parameterization"),
    (dict(depth=2, parameterization="standard"), "width"),
    (dict(depth=2, quadrature_step=0.0), "quadrature_step"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nu.analytic_kernels(np.ones((2, 3)), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="x2"):
        nu.analytic_kernels(np.ones((2, 3)), np.ones((2, 4)), depth=2)
    with pytest.raises(ValueError, match="NaN"):
        nu.analytic_kernels(np.array([[1.0, np.nan]]), depth=2)
    with pytest.raises(ValueError, match="x1"):
        nu.analytic_kernels(np.ones(3), depth=2)


@pytest.mark.parametrize("activation", ["identity", "square", "cube"])
def test_monomial_closed_forms_equal_quadrature(activation):
    """Isserlis' theorem against the trapezoid rule (exact for polynomials up to rounding)."""
    q1 = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)[:, None]
    q2 = torch.tensor([0.5, 1.7], dtype=torch.float64)[None, :]
    c = torch.tensor([[-0.9, 0.2], [1.0, -0.3], [0.4, 0.0]], dtype=torch.float64)
    k = c * torch.sqrt(q1 * q2)
    closed = K._CLOSED_FORMS[activation](q1, q2, k, c)
    quad = K._generic_rule(nu.get_activation(activation), 0.2, symmetric=False)(q1, q2, k, c)
    for a, b in zip(closed, quad):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- exact finite-width relu moments
def test_relu_moments_closed_form_without_bias() -> None:
    # He scaling, no bias: E f⁴ / (3 (E f²)²) = (1 + 5/n)^(L−1) and E f² = ‖x‖²·2/n0
    x = torch.tensor([[0.3, -1.2, 0.5]], dtype=torch.float64)
    for n, L in [(1, 2), (4, 3), (16, 8), (256, 16)]:
        m2, m4 = nu.kernels.relu_output_moments(x, width=n, depth=L, sigma_w=2 ** 0.5, sigma_b=None)
        assert float(m2) == pytest.approx(2 * float((x ** 2).sum()) / 3, rel=1e-13)
        assert float(m4 / (3 * m2 ** 2)) == pytest.approx((1 + 5 / n) ** (L - 1), rel=1e-12)


def test_relu_kurtosis_one_hidden_layer_matches_the_iid_sum_formula() -> None:
    # an independent route: the quadrature formula of the one-hidden-layer CLT sum
    x = torch.tensor([[0.7, -0.4], [1.5, 2.0]], dtype=torch.float64)
    for n in (1, 3, 50):
        ours = nu.kernels.relu_excess_kurtosis(x, width=n, depth=2, sigma_w=1.3, sigma_b=0.4)
        ref = nu.kernels.one_hidden_layer_excess_kurtosis(x, width=n, sigma_w=1.3, sigma_b=0.4)
        torch.testing.assert_close(ours, ref, rtol=1e-9, atol=0)


def test_relu_moments_match_monte_carlo_over_many_networks() -> None:
    # deep, narrow, with bias: the recursion against 2·10⁵ sampled networks (4.5 standard errors)
    x = torch.tensor([[0.6, -1.1, 0.2, 0.9]], dtype=torch.float64)
    for n, L in [(2, 4), (5, 3)]:
        f = nu.sample_outputs_at_init(x, n_samples=200_000, width=n, depth=L, sigma_w=1.2,
                                      sigma_b=0.45, seed=11 + n)[:, 0]
        m2, m4 = nu.kernels.relu_output_moments(x, width=n, depth=L, sigma_w=1.2, sigma_b=0.45)
        for power, exact in ((2, float(m2)), (4, float(m4))):
            sample = f ** power
            z = (float(sample.mean()) - exact) / float(sample.std() / len(sample) ** 0.5)
            assert abs(z) < 4.5, (n, L, power, z)
        # the limit kernel's diagonal is exact at every width for relu
        assert float(m2) == pytest.approx(float(nu.analytic_kernels(x, depth=L, sigma_w=1.2, sigma_b=0.45).nngp),
                                          rel=1e-12)


def test_relu_higher_moments_one_unit_closed_form_and_monte_carlo() -> None:
    # one hidden unit, no bias: f = σ_w v relu(h), so E f^{2k} = σ_w^{2k} (2k−1)!! · (2k−1)!! q₁^k / 2
    x = torch.tensor([[0.8, -0.3]], dtype=torch.float64)
    q1 = 1.7 ** 2 * float((x ** 2).sum()) / 2
    moments = nu.kernels.relu_output_moments(x, width=1, depth=2, sigma_w=1.7, sigma_b=None, max_order=4)
    for k, m in enumerate(moments, start=1):
        dfact = math.prod(range(2 * k - 1, 0, -2))
        assert float(m) == pytest.approx(1.7 ** (2 * k) * dfact * dfact * q1 ** k / 2, rel=1e-12)
    # with bias and depth: E f⁶ against 4·10⁵ sampled networks
    f = nu.sample_outputs_at_init(x, n_samples=400_000, width=5, depth=2, sigma_w=1.2, sigma_b=0.45, seed=3)[:, 0]
    m6 = nu.kernels.relu_output_moments(x, width=5, depth=2, sigma_w=1.2, sigma_b=0.45, max_order=3)[2]
    z = (float((f ** 6).mean()) - float(m6)) / float((f ** 6).std() / len(f) ** 0.5)
    assert abs(z) < 4.5


def test_relu_kurtosis_standard_error_matches_the_spread_over_repeats() -> None:
    x = torch.tensor([[0.6, -1.1, 0.2, 0.9]], dtype=torch.float64)
    se = float(nu.kernels.relu_kurtosis_standard_error(x, width=4, depth=2, n_samples=20_000, sigma_w=1.2,
                                                       sigma_b=0.45))
    f = nu.sample_outputs_at_init(x, n_samples=60 * 20_000, width=4, depth=2, sigma_w=1.2, sigma_b=0.45,
                                  seed=5)[:, 0].numpy().reshape(60, 20_000)
    spread = float(np.std(nu.excess_kurtosis(f, axis=1), ddof=1))
    assert 0.7 < spread / se < 1.3  # 60 repeats: the sd of an sd is ≈ 9 %, heavier for kurtosis
