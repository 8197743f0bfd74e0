"""Notebook 07: wrong predictions planted in the exact laws must fail their claims.

``law_constant`` replaces the 5 of (1 + 5/n)^(L−1) and e^{5β}: with 4 both the cell-by-cell
output law and the collapse coefficient must FAIL (at ``default`` they PASS with max |z| 2.1 and
κ = 4.93 against a tolerance of 0.128). ``planted_error`` multiplies the predicted excess
E Θ̂²/(E Θ̂)² − 1 and the predicted mean E Θ̂/Θ_∞ = 1 by 1 + ε: with ε = −0.5 the NTK-law and
mean claims must FAIL, and so must the tail claim (fewer than half of the 10-draw means fall
below half the exact mean). The grid and the tail study run exactly as at ``default``; the
λ_min and training studies carry none of these claims, so the run makes them small.
"""

from .conftest import failed

NOTEBOOK = "07_expansion_parameter"


def test_planted_errors_in_the_exact_laws_fail_their_claims(run_planted):
    claims = run_planted(NOTEBOOK, law_constant=4.0, planted_error=-0.5, spectrum_widths=[64, 128, 256],
                         spectrum_nets=2, training_width=32, training_depths=[2, 3, 5], training_nets=2)
    assert failed(claims, "(1+4/n)^(L-1) at every assessed")
    assert failed(claims, "collapse: log R/beta -> 4")
    assert failed(claims, "E Θ̂²/(E Θ̂)² equals its exact")
    assert failed(claims, "E Θ̂(x,x) = Θ_∞(x,x)")
    assert failed(claims, "draws fall below E Θ̂")
    assert not failed(claims, "grows faster than linearly")   # uses no planted prediction
