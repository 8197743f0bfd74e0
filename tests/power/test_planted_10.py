"""Notebook 10: wrong predictions planted in both studies must fail their claims.

``rate_factor`` = 2.5 predicts a rate (1 − 2.5ηλ₀)^k, faster than gradient descent can go (its
slowest direction decays by (1 − ηλ₀)² ≈ 1 − 2ηλ₀ per step); ``width_exponent`` = −1 predicts
flips, weight movement and ‖H(0) − H∞‖₂ falling as 1/m; ``bound_scale`` = 10⁻¹² shrinks the
theorem's sufficient width below the width actually needed; ``lambda_exponent`` = 2 is Lemma
3.1's concentration width λ₀⁻² instead of the λ₀⁻⁴ of R′ < R. ``lambda_fraction`` is left at
Lemma 3.2's 1/2, and that claim must still pass. The run is the default profile with fewer
widths and seeds in section 1 and without the smallest angle in section 2 (the widest runs).
"""

from .conftest import failed

NOTEBOOK = "10_global_convergence"


def test_planted_errors_in_both_studies_fail_their_claims(run_planted):
    claims = run_planted(NOTEBOOK, rate_factor=2.5, width_exponent=-1.0, bound_scale=1e-12, lambda_exponent=2.0,
                         widths=[400, 800, 1600, 3200], n_seeds=3, angles=[0.8, 0.57, 0.4, 0.28])
    assert failed(claims, "(1 - 2.5 eta lambda0)^k")
    assert failed(claims, "flipped activation patterns ∝ m^-1")
    assert failed(claims, "weight movement", "m^-1")
    assert failed(claims, "|H(0) - H_inf|_2 ∝ m^-1")
    assert failed(claims, "theorem's width suffices: m* <= 1e-12")
    assert failed(claims, "m* ∝ lambda0^-2")
    assert not failed(claims, "lambda_min(H(k)) >= 0.5 lambda0")    # no planted prediction
