"""Notebook 03: a 1 % error planted in the predicted spectrum must fail its claims.

``planted_error`` scales the predicted decay exponents (−2, −4), the closed-form Fourier
coefficients of the two-layer relu kernels and the predicted ranks. 1 % is about 3× the
resolution of the NTK exponent claim (±0.37 %: tolerance 0.009 on −2, measured −1.9985) and far
above that of the NNGP exponent (±0.017 %) and of the closed form (~1e−12). The run keeps only
relu and L = 2, which the spectrum claims do not use, so it takes seconds.
"""

from __future__ import annotations

from .conftest import failed

NAME = "03_positive_definiteness_on_the_sphere"


def test_planted_error_in_the_spectrum_fails(run_planted) -> None:
    claims = run_planted(NAME, planted_error=0.01, activations=["relu"], depths=[2])
    assert failed(claims, "NTK spectrum", "decay slope")
    assert failed(claims, "NNGP spectrum", "decay slope")
    assert failed(claims, "closed form")
    # the planted error touches predictions only: the positive-definiteness claims still pass
    assert claims["points on a ray, relu, β=0.1: positive-definite"]["status"] == "PASS"
    assert not failed(claims, "λ_min")
