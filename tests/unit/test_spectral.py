"""ntkutils.spectral: the kernel error bound against 40-digit arithmetic, the certification rule,
harmonic dimensions and the circle spectrum against independent computations."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch

import ntkutils as nu
from ntkutils import spectral as sp


# --------------------------------------------------------------------------- 40-digit reference
def _reference_ntk(x, depth, activation, sigma_b):
    """The NTK recursion of ntkutils.kernels (σ_w = 1) in 40-digit arithmetic on the stored
    float64 inputs (closed forms: relu arc-cosine kernels, erf by Williams 1997)."""
    with mp.workdps(40):
        rows = [[mp.mpf(float(v)) for v in row] for row in x.tolist()]
        n, n0 = len(rows), len(rows[0])
        sb2 = mp.mpf(0) if sigma_b is None else mp.mpf(sigma_b) ** 2
        cov = [[mp.fsum(a * b for a, b in zip(ri, rj)) / n0 + sb2 for rj in rows] for ri in rows]
        ntk = [r[:] for r in cov]
        for _ in range(depth - 1):
            q = [cov[i][i] for i in range(n)]
            new_cov = [[None] * n for _ in range(n)]
            new_ntk = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(n):
                    k = cov[i][j]
                    if activation == "relu":
                        c = max(min(k / mp.sqrt(q[i] * q[j]), mp.mpf(1)), mp.mpf(-1))
                        th = mp.acos(c)
                        t = mp.sqrt(q[i] * q[j]) * (mp.sin(th) + (mp.pi - th) * c) / (2 * mp.pi)
                        tdot = (mp.pi - th) / (2 * mp.pi)
                    else:
                        a = (1 + 2 * q[i]) * (1 + 2 * q[j])
                        t = 2 / mp.pi * mp.asin(2 * k / mp.sqrt(a))
                        tdot = 4 / mp.pi / mp.sqrt(a - 4 * k * k)
                    new_cov[i][j] = t + sb2
                    new_ntk[i][j] = new_cov[i][j] + tdot * ntk[i][j]
            cov, ntk = new_cov, new_ntk
        return np.array([[float(v) for v in r] for r in ntk])


def _hard_inputs():
    """Points on S², a ray (x, 2x, 3x), a point 1e−9 rad from x, a point 1e−10 rad from −x,
    and an exact duplicate: the nearly parallel / antipodal pairs where arccos amplifies."""
    base = nu.data.sphere_uniform(6, 3, seed=3)
    x = base[0]
    axis = torch.linalg.cross(x, base[1])
    axis = axis / axis.norm()
    def rotate(v, a):
        return v * math.cos(a) + torch.linalg.cross(axis, v) * math.sin(a)
    extra = torch.stack([2 * x, 3 * x, rotate(x, 1e-9), rotate(-x, 1e-10), base[2].clone()])
    return torch.cat([base, extra])


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("sigma_b", [None, 0.1])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_entrywise_bound_holds_against_40_digits(activation, sigma_b, depth) -> None:
    x = _hard_inputs()
    def fn(a, b=None):
        return nu.analytic_kernels(a, b, depth=depth, activation=activation, sigma_b=sigma_b).ntk
    k = fn(x)
    err = np.abs(k.numpy() - _reference_ntk(x, depth, activation, sigma_b))
    bound = sp.entrywise_error(k, x, kernel_fn=fn, depth=depth)
    assert (err <= bound).all(), (err / bound).max()
    # not vacuous: at most 1e−6 of the diagonal scale √(Θ_ii Θ_jj) anywhere, and at round-off
    # level (1e−13) on the well-separated pairs
    scale = np.sqrt(np.outer(k.diagonal().numpy(), k.diagonal().numpy()))
    assert (bound <= 1e-6 * scale).all()
    assert (bound[:6, :6] <= 1e-13 * scale[:6, :6]).all()


def test_angle_term_is_needed_for_relu_near_parallel_inputs() -> None:
    """Without the angle term, round-off alone does not cover relu's √ε error: the test above
    could fail."""
    x = _hard_inputs()
    def fn(a, b=None):
        return nu.analytic_kernels(a, b, depth=3, activation="relu", sigma_b=None).ntk
    k = fn(x)
    err = np.abs(k.numpy() - _reference_ntk(x, 3, "relu", None))
    rounding_only = sp.ROUNDING * 3 * sp.EPS * np.abs(k.numpy())
    assert (err > rounding_only).any()
    assert err.max() > 1e-10 * np.abs(k.numpy()).max()


def test_eigenvalue_bound_covers_the_reference_spectrum() -> None:
    """Weyl: every computed eigenvalue is within B of the 40-digit Gram matrix's."""
    x = _hard_inputs()
    for sigma_b in (None, 0.1):
        def fn(a, b=None):
            return nu.analytic_kernels(a, b, depth=3, activation="relu", sigma_b=sigma_b).ntk
        k = fn(x)
        bound = sp.kernel_error_bound(k, x, kernel_fn=fn, depth=3)
        ref = _reference_ntk(x, 3, "relu", sigma_b)
        with mp.workdps(40):
            exact = sorted(float(v) for v in mp.eigsy(mp.matrix(ref.tolist()), eigvals_only=True))
        assert np.abs(np.linalg.eigvalsh(k.numpy()) - np.array(exact)).max() <= bound


# --------------------------------------------------------------------------- certification
def test_angle_error() -> None:
    d = 1e-14
    assert sp.angle_error(1.0, d) == pytest.approx(math.acos(1 - 2 * d))
    assert sp.angle_error(-1.0, d) == pytest.approx(math.acos(1 - 2 * d))
    assert sp.angle_error(0.0, d) == pytest.approx(d, rel=1e-9)
    # the true angle change over any ρ in [ρ̂ − δ, ρ̂ + δ] is below the bound
    rho = np.array([0.3, 0.99, 1 - 1e-10, 1 - 3e-14])
    for r, b in zip(rho, sp.angle_error(rho, d)):
        lo, hi = max(r - d, -1.0), min(r + d, 1.0)
        with mp.workdps(40):
            change = max(abs(mp.acos(mp.mpf(lo)) - mp.acos(mp.mpf(r))),
                         abs(mp.acos(mp.mpf(hi)) - mp.acos(mp.mpf(r))))
        assert change <= b


def test_certify_statuses_and_rank() -> None:
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64, generator=gen))
    def gram(values):
        return q @ torch.diag(torch.tensor(values, dtype=torch.float64)) @ q.T
    c = sp.certify(gram([1e-6, 0.1, 0.5, 1.0, 2.0]), 1e-8)
    assert c.status == "positive" and c.rank == 5 and c.undecided == 0
    assert c.ratio == pytest.approx(5e-7, rel=1e-6) and c.bound_ratio == pytest.approx(5e-9)
    c = sp.certify(gram([0.0, 0.0, 0.5, 1.0, 2.0]), 1e-8)
    assert c.status == "zero" and c.rank == 3
    c = sp.certify(gram([-1e-6, 0.0, 0.5, 1.0, 2.0]), 1e-8)
    assert c.status == "undecided" and c.undecided == 1
    with pytest.raises(ValueError, match="bound"):
        sp.certify(gram([1.0] * 5), -1.0)


def test_entrywise_error_rejects_bad_shapes() -> None:
    x = torch.randn(4, 3, dtype=torch.float64)
    fn = lambda a, b: nu.analytic_kernels(a, b, depth=2).ntk
    with pytest.raises(ValueError, match="shape"):
        sp.entrywise_error(torch.zeros(3, 4), x, kernel_fn=fn, depth=2)
    with pytest.raises(ValueError, match="n0"):
        sp.entrywise_error(torch.ones(4, 4), torch.ones(4, 1), kernel_fn=fn, depth=2)


# --------------------------------------------------------------------------- harmonics
@pytest.mark.parametrize("degree", range(8))
def test_harmonic_dimension_known_formulas(degree) -> None:
    assert sp.harmonic_dimension(2, degree) == 2 * degree + 1
    assert sp.harmonic_dimension(3, degree) == (degree + 1) ** 2
    # S^{n0−1}: polynomials of degree ≤ D restricted to the sphere (monomials of degree D and D−1)
    for n0 in (4, 10):
        expected = (math.comb(degree + n0 - 1, n0 - 1)
                    + (math.comb(degree + n0 - 2, n0 - 1) if degree else 0))
        assert sp.harmonic_dimension(n0, degree) == expected


def test_circle_spectrum_is_the_circulant_spectrum() -> None:
    n = 64
    _, x = nu.data.circle_grid(n, start=0.0, stop=2 * math.pi, endpoint=False)
    k = nu.analytic_kernels(x, depth=3, activation="erf", sigma_b=0.2).ntk
    mu = sp.circle_spectrum(k[0])
    full = np.concatenate([mu, mu[1:-1][::-1]])            # μ_k for k = 0 … n−1
    eig = np.linalg.eigvalsh(k.numpy()) / n
    assert np.allclose(np.sort(full), eig, rtol=0, atol=1e-13 * eig.max())


@pytest.mark.parametrize("kind", ["ntk", "nngp"])
def test_relu_circle_coefficients_against_fft(kind) -> None:
    """The closed form, aliased as an M-point FFT aliases it, against the analytic kernel's FFT,
    within the stated error bound of the FFT coefficients."""
    m = 1024
    fn = lambda a, b: getattr(nu.analytic_kernels(a, b, depth=2, activation="relu", sigma_b=None),
                              kind)
    mu, bound = sp.kernel_circle_spectrum(fn, m, depth=2)
    _, x = nu.data.circle_grid(m, start=0.0, stop=2 * math.pi, endpoint=False)
    assert np.array_equal(mu, sp.circle_spectrum(fn(x[:1], x)[0]))
    k = np.arange(2, 257)
    aliased, tail = sp.relu_circle_fft_coefficients(k, m, kind, terms=20_000)
    assert np.abs(mu[k] - aliased).max() <= bound + tail
    assert (sp.relu_circle_coefficients(np.arange(3, 99, 2), kind) == 0).all()


def test_relu_circle_coefficients_bad_k() -> None:
    with pytest.raises(ValueError, match="k must"):
        sp.relu_circle_coefficients([1, 2])
    with pytest.raises(ValueError, match="kind"):
        sp.relu_circle_coefficients([2], "ntkk")


@pytest.mark.parametrize("kind,exponent,asymptotic,aliasing", [("ntk", -2, 0.0033, 0.0049),
                                                                ("nngp", -4, 0.0014, 0.0001)])
def test_slope_corrections_stated_in_notebook_03(kind, exponent, asymptotic, aliasing) -> None:
    """The tolerances of notebook 03's decay-rate claims: the least-squares slope of the exact
    coefficients over even 16 ≤ k ≤ 256 departs from the asymptotic exponent by less than
    ``asymptotic``, and the aliasing of a 4096-point FFT moves it by less than ``aliasing``."""
    k = np.arange(16, 257, 2)
    def fit(mu):
        return np.polyfit(np.log(k), np.log(mu), 1)[0]
    exact = fit(sp.relu_circle_coefficients(k, kind))
    assert abs(exact - exponent) < asymptotic
    assert abs(fit(sp.relu_circle_fft_coefficients(k, 4096, kind)[0]) - exact) < aliasing


def test_relu_circle_fft_coefficients_tail() -> None:
    k = np.array([2, 100, 200])
    for kind in ("ntk", "nngp"):
        few, tail = sp.relu_circle_fft_coefficients(k, 512, kind, terms=50)
        many, _ = sp.relu_circle_fft_coefficients(k, 512, kind, terms=5_000)
        assert (many - few >= 0).all() and (many - few <= tail).all()
    with pytest.raises(ValueError, match="samples"):
        sp.relu_circle_fft_coefficients([300], 512)
