"""Notebook 08: wrong predictions planted in the three studies must fail their claims.

``planted_error`` = 1 doubles the α of the predicted Q_α (GD must then miss it); ``rich_limit``
= "l2" swaps the predicted α → 0 and α → ∞ limits (both limit claims and the test-error claim
must FAIL); ``weight_exponent`` = −1/2 and ``deviation_exponent`` = −1 (Chizat et al.'s rate for
smooth models) must fail the slope claims, and ``smooth_exponent`` = −2 (a bound tighter than
Chizat et al.'s O(1/τ)) the smooth control's; ``collapse_exponent`` = 1 compares the widths at fixed
α·h instead of α√h, and the collapse and crossover claims must FAIL. The run is the default
profile with fewer α (the GD runs are the slowest part).
"""

from .conftest import failed

NOTEBOOK = "08_lazy_and_rich_regimes"


def test_planted_errors_in_the_three_studies_fail_their_claims(run_planted):
    claims = run_planted(NOTEBOOK, planted_error=1.0, rich_limit="l2", weight_exponent=-0.5, deviation_exponent=-1.0,
                         smooth_exponent=-2.0, collapse_exponent=1.0, alphas=[1e-3, 1e-2, 0.1, 0.3, 1.0, 10.0])
    assert failed(claims, "argmin Q_alpha")
    assert failed(claims, "alpha -> 0")
    assert failed(claims, "alpha -> inf")
    assert failed(claims, "test error moves")
    assert failed(claims, "weight change ∝ tau^-0.5")
    assert failed(claims, "distance to the lazy limit ∝ tau^-1")
    assert failed(claims, "smooth (erf) student")
    assert failed(claims, "kernel change collapses against alpha*h^1")
    assert failed(claims, "test loss collapses", "alpha*h^1")
    assert failed(claims, "crossover")
    assert not failed(claims, "NTK change -> 0")          # uses no planted prediction
    assert not failed(claims, "test loss below the lazy limit")
