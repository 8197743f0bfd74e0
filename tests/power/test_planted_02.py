"""Notebook 02: a 5 % error planted in the limiting kernel Θ∞ must fail the pooled-mean claim.

The pooled-mean claim (§4) uses the initial kernels of the Figure 1 networks and of the
convergence-at-init study, exactly as at ``default``; training enters only other claims, so
the run drops that work (three narrow training widths, one step).
"""

from .conftest import failed

NOTEBOOK = "02_ntk_convergence_with_width"


def test_planted_error_in_theta_inf_fails_the_pooled_mean(run_planted):
    claims = run_planted(NOTEBOOK, planted_error=0.05, train_widths=[32, 64, 128], steps=1)
    (name,) = failed(claims, "mean ⟨Θ̂,Θ∞⟩")
    assert abs(claims[name]["measured"] - 1 / 1.05) < 0.03  # r is divided by 1 + planted_error
