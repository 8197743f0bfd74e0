"""Notebook 11: wrong predictions planted in every study must fail their claims.

``kernel_margin`` = 0.3 predicts that kernel regression beats every trained network by 30 accuracy
points; ``approach_trend`` = +1 that networks move away from the infinite network as they widen,
and ``approach_exponent`` = −1.5 that they approach it as n^−1.5; ``nngp_margin`` = 0.2 that
NNGP beats NTK by 20 points; ``calibration`` = 0.01 matches the ridge ε with the flow time
0.01·N/ε instead of N/ε; ``error_trend`` = +1 predicts test errors that grow with N. The run is
the default profile with fewer widths, steps and learning-curve sizes.
"""

from .conftest import failed

NOTEBOOK = "11_kernels_against_networks"


def test_planted_errors_fail_their_claims(run_planted):
    claims = run_planted(NOTEBOOK, kernel_margin=0.3, approach_trend=1, approach_exponent=-1.5, nngp_margin=0.2,
                         calibration=0.01, error_trend=1, widths=[128, 512], steps=300,
                         curve_sizes=[250, 500, 1000, 2000], curve_samples=5000, curve_test=1000)
    assert failed(claims, "at least as accurate as the trained network", "plus 0.3")
    assert failed(claims, "networks move away from the infinite network")
    assert failed(claims, "∝ n^-1.5")
    assert failed(claims, "NNGP regression at least as accurate as NTK regression plus 0.2")
    assert failed(claims, "t = 0.01 N/eps")
    for name in ("NNGP", "NTK", "network"):
        assert failed(claims, f"{name} test error grows with N")
