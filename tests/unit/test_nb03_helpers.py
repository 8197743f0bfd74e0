"""Helpers that notebook 03 (positive-definiteness on the sphere) moved into ntkutils, each
against an independent computation, and their ValueErrors on bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import ntkutils as nu  # noqa: E402


def _circle(n):
    return nu.circle_grid(n, endpoint=False)[1]


# --------------------------------------------------------------------------- certificates
def test_ntk_certificate_of_the_linear_kernel_is_zero_with_its_exact_eigenvalues() -> None:
    """L = 1: Θ = σ_w² x·x'/n0 + β², rank n0 + 1, built here by hand in numpy."""
    x = nu.sphere_uniform(30, 4, seed=3)
    c = nu.ntk_certificate(x, 1, activation="relu", sigma_w=1.3, sigma_b=0.2)
    xn = x.numpy()
    gram = 1.3**2 * xn @ xn.T / 4 + 0.2**2
    np.testing.assert_allclose(c.eigenvalues, np.linalg.eigvalsh(gram), atol=1e-13)
    assert c.status == "zero" and c.rank == 5 and c.undecided == 0


def test_ntk_certificate_positive_for_relu_at_depth_two_and_given_k_is_used() -> None:
    x = nu.sphere_uniform(25, 3, seed=0)
    c = nu.ntk_certificate(x, 2, activation="relu", sigma_b=0.1)
    k = nu.analytic_kernels(x, depth=2, activation="relu", sigma_b=0.1).ntk
    again = nu.ntk_certificate(x, 2, k, activation="relu", sigma_b=0.1)
    assert c.status == "positive" and c.rank == 25
    np.testing.assert_array_equal(c.eigenvalues, again.eigenvalues)
    assert c.bound == again.bound
    np.testing.assert_allclose(c.eigenvalues, np.linalg.eigvalsh(k.numpy()), rtol=0, atol=0)


def test_ntk_certificates_equal_one_certificate_per_depth() -> None:
    x = nu.sphere_uniform(20, 5, seed=1)
    many = nu.ntk_certificates(x, [1, 3], activation="erf", sigma_b=0.1)
    assert list(many) == [1, 3]
    for L, c in many.items():
        one = nu.ntk_certificate(x, L, activation="erf", sigma_b=0.1)
        np.testing.assert_allclose(c.eigenvalues, one.eigenvalues, rtol=1e-12, atol=1e-15)
        assert c.status == one.status


def test_certificate_bad_inputs_raise() -> None:
    x = nu.sphere_uniform(10, 3, seed=0)
    with pytest.raises(ValueError):
        nu.ntk_certificate(x, 0)
    with pytest.raises(ValueError):
        nu.ntk_certificate(x, 2, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError):
        nu.ntk_certificates(x, [])


def _cert(lo, bound, hi=1.0):
    return nu.certify(np.diag([lo, 0.5, hi]), bound)


def test_deciding_certificate_and_claim() -> None:
    weak, strong = _cert(1e-6, 1e-8), _cert(1e-3, 1e-8)
    assert nu.deciding_certificate([strong, weak], "positive") is weak   # smallest λ_min/B
    near, far = _cert(5e-9, 1e-8), _cert(1e-12, 1e-8)
    assert nu.deciding_certificate([far, near], "zero") is near          # largest |λ_min|/B
    claims = nu.ClaimSet("test_nb03", "default")
    ok = nu.certificate_claim(claims, "pd", "paper", [strong, weak], "positive")
    bad = nu.certificate_claim(claims, "sing", "paper", [far, strong], "zero")
    assert ok.status == "PASS" and bad.status == "FAIL"
    assert ok.measured == pytest.approx(1e-6) and ok.resolution == pytest.approx(1e-8)
    assert bad.measured == pytest.approx(1e-3)                          # |1e-3|/B is largest
    with pytest.raises(ValueError):
        nu.deciding_certificate([], "positive")
    with pytest.raises(ValueError):
        nu.deciding_certificate([weak], "negative")


# --------------------------------------------------------------------------- circle harmonics
def test_circle_spectra_are_the_eigenvalues_of_the_circulant_gram_matrix() -> None:
    """M μ_k (k = 0 once, 0 < k < M/2 twice, M/2 once) = eigenvalues of the M×M Gram matrix."""
    m = 32
    spec, bound = nu.analytic_circle_spectra(m, depths=[3], sigma_bs=[0.2], kinds=["ntk"],
                                             activation="tanh")
    mu = spec[3, 0.2, "ntk"]
    x = _circle(m)
    gram = nu.analytic_kernels(x, depth=3, activation="tanh", sigma_b=0.2).ntk.numpy()
    expected = np.sort(np.linalg.eigvalsh(gram))
    got = np.sort(m * np.concatenate([mu, mu[1:-1]]))
    np.testing.assert_allclose(got, expected, atol=1e-11 * expected.max())
    assert 0 < bound[3, 0.2, "ntk"] < 1e-10


def test_circle_spectra_match_the_relu_closed_form_and_keys_are_ordered() -> None:
    m = 256
    spec, bound = nu.analytic_circle_spectra(m, depths=[2, 3], sigma_bs=[None, 0.1])
    assert list(spec) == [(L, b, kd) for L in (2, 3) for b in (None, 0.1)
                          for kd in ("ntk", "nngp")]
    ks = np.arange(2, 40, 2)
    for kd in ("ntk", "nngp"):
        exact, tail = nu.relu_circle_fft_coefficients(ks, m, kd)
        dev = nu.closed_form_deviation(spec[2, None, kd][ks], exact, bound[2, None, kd] + tail)
        assert dev < 1.0
    with pytest.raises(ValueError):
        nu.analytic_circle_spectra(16, depths=[2], sigma_bs=[None], kinds=["cntk"])


def test_closed_form_deviation_against_a_loop() -> None:
    rng = np.random.default_rng(0)
    m, p, b = rng.normal(size=7), rng.normal(size=7), rng.uniform(1, 2, size=7)
    assert nu.closed_form_deviation(m, p, b) == pytest.approx(
        max(abs(mi - pi) / bi for mi, pi, bi in zip(m, p, b)))
    assert nu.closed_form_deviation(m, p, 2.0) == pytest.approx(max(abs(m - p)) / 2.0)
    with pytest.raises(ValueError):
        nu.closed_form_deviation(m, p[:3], 1.0)
    with pytest.raises(ValueError):
        nu.closed_form_deviation(m, p, 0.0)


# --------------------------------------------------------------------------- plotting
def test_plot_above_bound_draws_only_certified_values_as_data() -> None:
    fig, ax = plt.subplots()
    x, y, b = np.arange(5.0), np.array([1e-3, 1e-12, 2e-6, -1e-15, 5e-9]), 1e-8
    line = nu.plot_above_bound(ax, x, y, b, color="C0", label="data")
    np.testing.assert_array_equal(line.get_xdata(), x[y > b])
    np.testing.assert_array_equal(line.get_ydata(), y[y > b])
    markers = [ln for ln in ax.lines if ln.get_marker() == "v"]
    assert len(markers) == 1 and list(markers[0].get_xdata()) == [1.0, 3.0, 4.0]
    with pytest.raises(ValueError):
        nu.plot_above_bound(ax, x, y[:3], b)
    with pytest.raises(ValueError):
        nu.plot_above_bound(ax, x, y, np.ones(3))
    plt.close(fig)


def test_panels_lay_out_without_problems() -> None:
    nu.use_house_style()
    x = nu.sphere_uniform(12, 3, seed=0)
    series = {a: nu.ntk_certificates(x, [1, 2, 3], activation=a) for a in ("relu", "erf")}
    spec, bound = nu.analytic_circle_spectra(64, depths=[2], sigma_bs=[None])
    figs = [plt.subplots(figsize=(7.5, 3.8)) for _ in range(3)]
    nu.certificate_panel(figs[0][1], series, xlabel="depth L")
    nu.eigenvalue_panel(figs[1][1], {"relu, L=1": series["relu"][1]}, count=10)
    nu.bound_legend(figs[1][1], "not certified nonzero")
    nu.spectrum_panel(figs[2][1], {kd: spec[2, None, kd] for kd in ("ntk", "nngp")},
                      {kd: bound[2, None, kd] for kd in ("ntk", "nngp")}, np.arange(2, 31, 2),
                      np.arange(3, 31, 2))
    nu.bound_legend(figs[2][1], "within the error bound", "FFT error bound")
    for fig, _ in figs:
        assert nu.layout_problems(nu.layout_report(fig)) == []
    labels = [t.get_text() for t in figs[0][1].get_legend().get_texts()]
    assert labels[:2] == ["relu", "erf"] and "bound" in labels[-1]
    assert [t.get_text() for t in figs[0][1].get_xticklabels()] == ["1", "2", "3"]
    with pytest.raises(ValueError):
        nu.certificate_panel(figs[0][1], series, xlabel="L", xscale="symlog")
    for fig, _ in figs:
        plt.close(fig)


# --------------------------------------------------------------------------- second pass helpers
def test_certificate_summary_and_report_against_hand_formatting() -> None:
    a, b = _cert(1e-6, 1e-8), _cert(-1e-12, 1e-8)
    summary = nu.certificate_summary({"relu": {1: b, 2: a}, "ray": a})
    assert summary["relu"][2] == dict(ratio=1e-6, bound_ratio=1e-8, status="positive", rank=3)
    assert summary["relu"][1]["status"] == "zero" and summary["relu"][1]["rank"] == 2
    assert summary["ray"]["ratio"] == pytest.approx(1e-6)
    series = {"relu": {1: b, 2: a}, "erf": {8: a}}
    assert nu.certificate_report(series, "L", ratio=True) == (
        " relu: L=1: -1.0e-12 (zero), L=2: 1.0e-06 (positive)\n  erf: L=8: 1.0e-06 (positive)")
    assert nu.certificate_report(series, "N") == " relu: N=1: zero, N=2: positive\n  erf: N=8: positive"
    with pytest.raises(ValueError):
        nu.certificate_summary({"x": 1.0})


def test_polynomial_ranks_match_the_closed_form_dimensions() -> None:
    """2D + 1 on the circle and (D + 1)² on S², D = p^(L−1); an undecided case gives −1."""
    full = nu.certify(np.diag(np.arange(1.0, 30.0)), 0.5)
    undecided = nu.certify(np.diag([-1.0, 1.0, 2.0]), 0.5)
    ranks = nu.polynomial_ranks({(2, "square", 3): full, (3, "cube", 2): full,
                                 (3, "identity", 3): undecided},
                                {("square", 3): 2, ("cube", 2): 3, ("identity", 3): 1})
    assert ranks == {(2, "square", 3): (29, 2 * 4 + 1), (3, "cube", 2): (29, (3 + 1) ** 2),
                     (3, "identity", 3): (-1, (1 + 1) ** 2)}
    with pytest.raises(ValueError):
        nu.polynomial_ranks({(2, "cube", 3): full}, {("cube", 2): 3})


def test_polynomial_ranks_of_real_gram_matrices() -> None:
    x = _circle(40)
    certs = {(2, "square", 2): nu.ntk_certificate(x, 2, activation="square", sigma_b=0.1)}
    assert nu.polynomial_ranks(certs, {("square", 2): 2}) == {(2, "square", 2): (5, 5)}


def test_rank_claim_passes_iff_every_case_matches() -> None:
    claims = nu.ClaimSet("test_nb03", "default")
    ok = nu.rank_claim(claims, "ok", "paper", {1: (5, 5), 2: (9, 9)})
    bad = nu.rank_claim(claims, "bad", "paper", {1: (5, 5), 2: (8, 9)})
    planted = nu.rank_claim(claims, "planted", "paper", {1: (100, 100)}, planted_error=0.01)
    assert (ok.status, bad.status, planted.status) == ("PASS", "FAIL", "FAIL")
    assert ok.expected == "2 of 2" and bad.measured == 1 and ok.resolution_kind == "exact"
    with pytest.raises(ValueError):
        nu.rank_claim(claims, "empty", "paper", {})


def test_relu_circle_spectra_against_direct_computation_and_its_claims() -> None:
    m, fit_k, closed_k, odd_k = 256, np.arange(8, 60, 2), np.arange(2, 60, 2), np.arange(3, 61, 2)
    sp = nu.relu_circle_spectra(m, depths=(2,), sigma_bs=(None, 0.1), fit_k=fit_k,
                                closed_k=closed_k, odd_k=odd_k, n_boot=20, seed=1)
    spec, bound = nu.analytic_circle_spectra(m, depths=(2,), sigma_bs=(None, 0.1))
    for key in spec:
        np.testing.assert_array_equal(sp.spectra[key], spec[key])
        assert sp.parity[key] == max(abs(spec[key][k]) for k in odd_k) / abs(spec[key][2])
        assert sp.parity_bound(key) == pytest.approx(bound[key] / abs(spec[key][2]))
    slope = np.polyfit(np.log(fit_k), np.log(spec[2, None, "ntk"][fit_k]), 1)[0]
    assert sp.fits["ntk"].slope == pytest.approx(slope, rel=1e-12)
    exact, tail = nu.relu_circle_fft_coefficients(closed_k, m, "nngp")
    dev = np.abs(spec[2, None, "nngp"][closed_k] - exact) / (bound[2, None, "nngp"] + tail)
    assert sp.deviation() >= dev.max() and sp.deviation() < 1
    assert sp.deviation(1.01) > 1                       # a 1 % wrong closed form is resolved
    assert set(sp.metrics()) == {"slopes", "odd/mu2", "FFT error bounds", "deviation"}
    assert sp.report().count("\n") == 4 and sp.report().startswith("L=2, β=None,  ntk")
    claims = nu.ClaimSet("test_nb03", "default")
    out = nu.circle_spectrum_claims(claims, sp, {"ntk": (-2.0, 0.1), "nngp": (-4.0, 0.2)})
    assert [c.status for c in out] == ["PASS"] * 5 and len(claims) == 5
    wrong = nu.ClaimSet("test_nb03", "default")
    assert nu.circle_spectrum_claims(wrong, sp, {"ntk": (-3.0, 0.1)})[1].status == "FAIL"
    with pytest.raises(ValueError):
        nu.circle_spectrum_claims(wrong, sp, {"cntk": (-2.0, 0.1)})
    with pytest.raises(ValueError):
        nu.relu_circle_spectra(m, depths=(3,), sigma_bs=(None,), fit_k=fit_k, closed_k=closed_k,
                               odd_k=odd_k)
    with pytest.raises(ValueError):
        nu.relu_circle_spectra(m, depths=(2,), sigma_bs=(None, 0.1), fit_k=fit_k,
                               closed_k=closed_k, odd_k=np.arange(3, 301, 2))


def test_grouped_panels_lay_out_without_problems() -> None:
    nu.use_house_style()
    certs = {(d, a, L): nu.ntk_certificate(x, L, activation=a, sigma_b=0.1)
             for d, x in ((2, _circle(30)), (3, nu.sphere_uniform(30, 3, seed=0)))
             for a, L in (("identity", 3), ("square", 2))}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    nu.eigenvalue_panels(axes, certs)
    assert [ax.get_title() for ax in axes] == ["$S^1$", "$S^2$"]
    assert [ln.get_label() for ln in axes[0].lines][:1] == ["identity, L=3"]
    assert nu.layout_problems(nu.layout_report(fig)) == []
    with pytest.raises(ValueError):
        nu.eigenvalue_panels(axes[:1], certs)
    sp = nu.relu_circle_spectra(64, depths=(2,), sigma_bs=(None, 0.1), fit_k=np.arange(4, 31, 2),
                                closed_k=np.arange(2, 31, 2), odd_k=np.arange(3, 31, 2), n_boot=5)
    fig2, axes2 = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    nu.relu_spectrum_panels(axes2, sp)
    assert axes2[0].get_title() == "relu, L=2, no bias" and axes2[1].get_title() == "relu, L=2, β=0.1"
    assert nu.layout_problems(nu.layout_report(fig2)) == []
    with pytest.raises(ValueError):
        nu.relu_spectrum_panels(axes2[:1], sp)
    plt.close(fig)
    plt.close(fig2)
