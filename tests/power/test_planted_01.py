"""Notebook 01: a 5 % error in the NNGP kernel Σ must be caught."""

from .conftest import failed

FAST = dict(depths=[2, 3], widths=[1, 100], mmd_repeats=2, n_permutations=20)  # the moment study stays at default


def test_a_five_percent_error_in_the_nngp_kernel_fails(run_planted) -> None:
    claims = run_planted("01_gp_at_initialization", planted_error=0.05, **FAST)
    assert failed(claims, "E f(x₁)² = Σ(x₁,x₁)"), {n: c["status"] for n, c in claims.items()}
    # and the same run without the planted error passes that claim, with a resolution below 5 %
    clean = run_planted("01_gp_at_initialization", planted_error=0.0, **FAST)
    name = next(n for n in clean if n.startswith("E f(x₁)² = Σ(x₁,x₁)"))
    assert clean[name]["status"] == "PASS" and clean[name]["resolution"] < 0.05
