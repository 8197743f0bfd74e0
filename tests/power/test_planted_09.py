"""Notebook 09: wrong predictions planted in its three studies must fail their claims.

``trend`` = −1 predicts that the time to fit, the test error and the complexity fall with the
corrupted fraction p (all six trend claims must FAIL); ``loss_exponent`` = 1 predicts the loss
decays as Σ (1 − ηλ_i)^k (v_iᵀy)², the residual's rate instead of its square's (Arora et al.'s
Thm 4.1 claim must FAIL); ``noise_share`` = 0.02 and ``ridge_share`` = 0 predict that
interpolation removes all but 2 % of the label noise and beats the cross-validated ridge (the
four Belkin claims must FAIL). A run of 8 GD steps predicts zero training error far too early.
"""

from .conftest import failed

NOTEBOOK = "09_memorisation_and_interpolation"


def test_planted_trends_rates_and_noise_shares_fail_their_claims(run_planted):
    claims = run_planted(NOTEBOOK, trend=-1, loss_exponent=1.0, noise_share=0.02, ridge_share=0.0)
    for fragment in ("time to fit", "test error falls"):
        assert len(failed(claims, fragment)) == 2
    assert failed(claims, "complexity", "decreases")
    assert failed(claims, "complexity tracks")
    assert failed(claims, "(1-eta lam_i)^(1k)")
    assert len(failed(claims, "interpolant")) == 4
    assert not failed(claims, "fits every corrupted label set")        # uses no planted prediction


def test_eight_steps_do_not_fit_the_labels(run_planted):
    claims = run_planted(NOTEBOOK, steps=8, trend=1)
    assert len(failed(claims, "fits every corrupted label set")) == 2
