"""Fully-connected networks in NTK and standard parameterisation.

NTK parameterisation (Jacot et al. 2018, §2; Lee et al. 2019, eq. 1): every weight and bias
entry starts i.i.d. N(0, 1) and the layer is

    h^{l+1} = (σ_w / √n_l) W^l α^l + σ_b b^l,    α^0 = x,   α^l = φ(h^l),   f(x) = h^L.

Jacot et al.'s network is ``sigma_w=1.0, sigma_b=β``. Standard parameterisation draws
W^l ~ N(0, σ_w²/n_l), b^l ~ N(0, σ_b²) and computes h^{l+1} = W^l α^l + b^l: the same
function at initialisation, but different gradients (its NTK grows with the width).

``depth`` is the number of weight layers L (Jacot's L): depth 4 means 3 hidden layers.
``sigma_b=None`` means no bias parameters at all; ``sigma_b=0.0`` keeps them (they start at 0
and are trained; in standard parameterisation they still contribute to the NTK).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from . import _validation as check
from .activations import Activation, get_activation

PARAMETERIZATIONS = ("ntk", "standard")


@dataclass(frozen=True)
class LayerwiseForward:
    """Intermediate values of one forward pass, used by the fast empirical NTK.

    Attributes:
        preactivations: [h^1, ..., h^L], h^l of shape (N, n_l); h^L is the output.
        postactivations: [α^0, ..., α^{L-1}], α^0 = x of shape (N, n0).
    """

    preactivations: list[torch.Tensor]
    postactivations: list[torch.Tensor]


def _hidden_widths(width: int | Sequence[int], depth: int) -> list[int]:
    if isinstance(width, Sequence) and not isinstance(width, str):
        widths = [check.positive_int("width", w) for w in width]
        if len(widths) != depth - 1:
            raise ValueError(
                f"width must be an int or a sequence of depth - 1 = {depth - 1} hidden widths, "
                f"got {len(widths)} widths {list(width)!r}")
        return widths
    return [check.positive_int("width", width)] * (depth - 1)


class MLP(nn.Module):
    """A fully-connected network f: R^{n0} -> R^{n_out} with ``depth`` weight layers.

    Args:
        n0: input dimension.
        width: hidden width n (all hidden layers), or a sequence of ``depth - 1`` widths.
        depth: number of weight layers L >= 1 (L = 1 is a linear model).
        activation: a name from ``ntkutils.activations.ACTIVATIONS``.
        sigma_w, sigma_b: weight and bias scales (``sigma_b=None``: no biases).
        parameterization: ``"ntk"`` or ``"standard"``.
        n_out: output dimension.
        seed: initialisation seed; the same seed gives the same parameters (drawn in float64
            on the CPU, then cast), whatever ``dtype`` or ``device``.
        dtype, device: of the parameters.

    ``forward(x)`` maps (N, n0) to (N, n_out), and a single input (n0,) to (n_out,).
    """

    def __init__(self, n0: int, width: int | Sequence[int], depth: int, activation: str = "relu",
                 sigma_w: float = 1.0, sigma_b: float | None = 0.1,
                 parameterization: str = "ntk", n_out: int = 1, seed: int = 0,
                 dtype: torch.dtype = torch.float32, device: torch.device | str | None = None):
        super().__init__()
        self.n0 = check.positive_int("n0", n0)
        self.depth = check.positive_int("depth", depth)
        self.n_out = check.positive_int("n_out", n_out)
        self.activation: Activation = get_activation(activation)
        self.sigma_w = check.finite_float("sigma_w", sigma_w, strictly_positive=True)
        self.sigma_b = None if sigma_b is None else check.finite_float("sigma_b", sigma_b, minimum=0.0)
        self.parameterization = check.choice("parameterization", parameterization, PARAMETERIZATIONS)
        self.seed = check.nonnegative_int("seed", seed)
        self.widths = [self.n0, *_hidden_widths(width, self.depth), self.n_out]

        generator = torch.Generator().manual_seed(self.seed)
        ntk = self.parameterization == "ntk"
        weights, biases = [], []
        self.weight_multipliers: list[float] = []
        for n_in, n_next in zip(self.widths[:-1], self.widths[1:]):
            scale = self.sigma_w / math.sqrt(n_in)
            w = torch.randn(n_next, n_in, generator=generator, dtype=torch.float64)
            weights.append(nn.Parameter((w if ntk else w * scale).to(dtype=dtype, device=device)))
            self.weight_multipliers.append(scale if ntk else 1.0)
            if self.sigma_b is not None:
                b = torch.randn(n_next, generator=generator, dtype=torch.float64)
                biases.append(nn.Parameter((b if ntk else b * self.sigma_b).to(dtype=dtype, device=device)))
        self.weights = nn.ParameterList(weights)
        self.biases = nn.ParameterList(biases) if biases else None
        # Multiplier of b^l in h^{l+1}; 0.0 when there are no biases.
        self.bias_multiplier = 0.0 if self.sigma_b is None else (self.sigma_b if ntk else 1.0)

    @property
    def has_bias(self) -> bool:
        return self.biases is not None

    def _layer(self, l: int, a: torch.Tensor) -> torch.Tensor:
        h = self.weight_multipliers[l] * (a @ self.weights[l].T)
        if self.biases is not None:
            h = h + self.bias_multiplier * self.biases[l]
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x
        for l in range(self.depth):
            h = self._layer(l, a)
            a = self.activation.fn(h) if l < self.depth - 1 else h
        return a

    def layerwise(self, x: torch.Tensor) -> LayerwiseForward:
        """Forward pass keeping every pre- and post-activation (see ``LayerwiseForward``)."""
        pre, post = [], [x]
        for l in range(self.depth):
            h = self._layer(l, post[-1])
            pre.append(h)
            if l < self.depth - 1:
                post.append(self.activation.fn(h))
        return LayerwiseForward(pre, post)

    def extra_repr(self) -> str:
        return (f"widths={self.widths}, activation={self.activation.name!r}, sigma_w={self.sigma_w}, "
                f"sigma_b={self.sigma_b}, parameterization={self.parameterization!r}, seed={self.seed}")
