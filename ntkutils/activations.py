"""The activation registry: each nonlinearity φ with its derivative φ'.

Used by the networks (``models``), the analytic kernels (``kernels``: closed forms for relu and
erf, Gauss–Hermite quadrature for the rest) and the fast empirical NTK (``empirical``), so all
three agree on what, e.g., "gelu" means (here: the exact x·Φ(x), not the tanh approximation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._validation import choice

_SQRT_2 = math.sqrt(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """A pointwise nonlinearity.

    Attributes:
        name: registry key.
        fn: φ, applied elementwise to a tensor of any shape and dtype.
        derivative: φ', elementwise (for relu the step function, 0 at 0, as autograd gives).
        polynomial_degree: degree p if φ is a polynomial (the NTK is then degenerate, see
            Jacot et al. 2018, Prop. 2), else ``None``.
        both: optional x -> (φ(x), φ'(x)) that shares work between the two; ``None`` means
            ``fn`` and ``derivative`` are called separately (see ``fn_and_derivative``).
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]
    polynomial_degree: int | None = None
    both: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None

    def fn_and_derivative(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Evaluate φ and φ' together.

        Shares the expensive special-function evaluations where possible (tanh, gelu).

        Args:
            x: pre-activations, a tensor of any shape and dtype.

        Returns:
            ``(φ(x), φ'(x))``, two tensors of ``x``'s shape and dtype.
        """
        return self.both(x) if self.both is not None else (self.fn(x), self.derivative(x))


def _relu_derivative(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _erf_derivative(x: torch.Tensor) -> torch.Tensor:
    return _TWO_OVER_SQRT_PI * torch.exp(-x * x)


def _tanh_derivative(x: torch.Tensor) -> torch.Tensor:
    t = torch.tanh(x)
    return 1.0 - t * t


def _gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / _SQRT_2))


def _gelu_derivative(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(x / _SQRT_2)) + x * _INV_SQRT_2PI * torch.exp(-0.5 * x * x)


def _tanh_both(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    t = torch.tanh(x)
    return t, 1.0 - t * t


def _gelu_both(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cdf = 0.5 * (1.0 + torch.erf(x / _SQRT_2))
    return x * cdf, cdf + x * _INV_SQRT_2PI * torch.exp(-0.5 * x * x)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", torch.relu, _relu_derivative),
        Activation("erf", torch.erf, _erf_derivative),
        Activation("tanh", torch.tanh, _tanh_derivative, both=_tanh_both),
        Activation("gelu", _gelu, _gelu_derivative, both=_gelu_both),
        Activation("identity", lambda x: x, torch.ones_like, polynomial_degree=1),
        Activation("square", lambda x: x * x, lambda x: 2.0 * x, polynomial_degree=2),
        Activation("cube", lambda x: x * x * x, lambda x: 3.0 * x * x, polynomial_degree=3),
    )
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name.

    Args:
        name: registry key, one of ``ACTIVATIONS`` (relu, erf, tanh, gelu, identity, square,
            cube).

    Returns:
        The registered ``Activation``.

    Raises:
        ValueError: unknown ``name``; the message lists the allowed names.
    """
    return ACTIVATIONS[choice("activation", name, tuple(ACTIVATIONS))]
