"""Notebook 04: a 10 % error planted in the predicted decay rates must fail the central claim.

``planted_error`` scales the closed-form GD rates r_i = −ln(1 − ηλ_i)/η. The central claim —
the initial kernels' rate scale extrapolated to n → ∞, s_∞ = 1 — is computed from
``limit_nets`` initial kernels per width in ``limit_widths`` exactly as at ``default``; a planted
error δ divides every fitted rate scale, hence s_∞, by 1 + δ. The trained-network sections
(Figure 3, the rate study, the kernel-change study) do not enter that claim, so the run shrinks
them to tiny widths (their claims are not asserted here).
"""

from __future__ import annotations

from .conftest import failed

NAME = "04_eigendirection_convergence"
SHRUNK = dict(widths=[32, 64], n_trials=2, rate_trials=2, growth_widths=[32, 64, 128], growth_repeats=2, noise_draws=2)


def test_planted_error_in_the_rates_fails_the_limit_claim(run_planted) -> None:
    claims = run_planted(NAME, planted_error=0.10, **SHRUNK)
    (name,) = failed(claims, "rates → r_i", "s_∞")
    assert abs(claims[name]["measured"] * 1.10 - 1) < 0.08      # s_∞ ≈ 1/(1 + δ)
