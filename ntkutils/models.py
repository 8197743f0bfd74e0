"""Fully-connected networks in NTK and standard parameterisation.

NTK parameterisation (Jacot et al. 2018, §2; Lee et al. 2019, eq. 1): every weight and bias
entry starts i.i.d. N(0, 1) and the layer is

    h^{l+1} = (σ_w / √n_l) W^l α^l + σ_b b^l,    α^0 = x,   α^l = φ(h^l),   f(x) = h^L.

Jacot et al.'s network is ``sigma_w=1.0, sigma_b=β``. Standard parameterisation draws
W^l ~ N(0, σ_w²/n_l), b^l ~ N(0, σ_b²) and computes h^{l+1} = W^l α^l + b^l: the same
function at initialisation, but different gradients (its NTK grows with the width).

``depth`` is the number of weight layers L (Jacot's L): depth 4 means 3 hidden layers.
``forward(weights, x, ...)`` is the package's one forward pass, for one network or E stacked ones.
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
    """Intermediate values of one forward pass, used by the empirical kernels.

    Attributes:
        preactivations: [h^1, ..., h^L], h^l of shape (N, n_l) ((E, N, n_l) for E stacked
            networks); h^L is the output.
        postactivations: [α^0, ..., α^{L-1}], α^l = φ(h^l); α^0 = x of shape (N, n0).
    """

    preactivations: list[torch.Tensor]
    postactivations: list[torch.Tensor]


def hidden_widths(width: int | Sequence[int], depth: int) -> list[int]:
    """The ``depth - 1`` hidden widths [n_1, ..., n_{L-1}] of a network.

    Args:
        width: one width n for every hidden layer, or a sequence of ``depth - 1`` widths.
        depth: number of weight layers L >= 1 (validated by the caller).

    Returns:
        List of ``depth - 1`` positive ints (empty for ``depth == 1``).

    Raises:
        ValueError: if a width is not a positive int, or a sequence has the wrong length.
    """
    if isinstance(width, Sequence) and not isinstance(width, str):
        widths = [check.positive_int("width", w) for w in width]
        if len(widths) != depth - 1:
            raise ValueError(
                f"width must be an int or a sequence of depth - 1 = {depth - 1} hidden widths, "
                f"got {len(widths)} widths {list(width)!r}")
        return widths
    return [check.positive_int("width", width)] * (depth - 1)


def _affine(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, m: float, mb: float,
            batched: bool, fused: bool) -> torch.Tensor:
    """h = m (a Wᵀ) + m_b b for one layer; ``fused`` folds m and m_b into one GEMM (rounds differently)."""
    if fused:
        wt = w.transpose(-1, -2)
        if b is None:
            return (torch.bmm(a, wt) if batched else torch.mm(a, wt)).mul_(m)
        return (torch.baddbmm if batched else torch.addmm)(b, a, wt, beta=mb, alpha=m)
    h = m * (torch.bmm(a, w.transpose(1, 2)) if batched else a @ w.T)
    return h if b is None else h + mb * b


def forward(weights: Sequence[torch.Tensor], x: torch.Tensor, *, activation: Activation | str,
            weight_multipliers: Sequence[float], biases: Sequence[torch.Tensor] | None = None,
            bias_multiplier: float = 0.0, layerwise: bool = False,
            fused: bool = False) -> torch.Tensor | LayerwiseForward:
    """The forward pass of a fully-connected network, or of E networks at once.

    Computes, for l = 0, ..., L−1 (Jacot et al. 2018, §2; Lee et al. 2019, eq. 1),

        h^{l+1} = m_l (α^l W^{lᵀ}) + m_b b^l,    α^0 = x,   α^l = φ(h^l),   f(x) = h^L,

    with m_l = σ_w/√n_l, m_b = σ_b in NTK parameterisation and m_l = m_b = 1 in standard
    parameterisation (``MLP.weight_multipliers``, ``MLP.bias_multiplier``). This is the one
    forward pass of the package: ``MLP.forward``/``MLP.layerwise``, the empirical kernels
    (``fused=True``), the batched prior sampler and ensemble training all call it. Each variant
    does its floating-point operations in a fixed order (multiplier after the product, then
    the bias), so results are reproducible bit for bit.

    Args:
        weights: L weight matrices W^l, each (n_{l+1}, n_l) for one network, or stacked
            (E, n_{l+1}, n_l) for E networks (batched matrix products).
        x: inputs (N, n0) (or a single input (n0,) for one network); with stacked weights
            (N, n0) is shared by all E networks, (E, N, n0) gives each its own inputs.
        activation: φ, an ``Activation`` or a name from ``ntkutils.activations.ACTIVATIONS``.
        weight_multipliers: the L floats m_l.
        biases: L bias vectors b^l, (n_{l+1},) or stacked (E, n_{l+1}); ``None``: no biases.
        bias_multiplier: m_b.
        layerwise: return every pre- and post-activation (``LayerwiseForward``) instead of f(x).
        fused: fold m_l and m_b into one GEMM per layer (``addmm``/``baddbmm`` alpha and beta);
            faster, equal to the unfused pass up to rounding (used by the empirical NTK).

    Returns:
        f(x) of shape (N, n_L) (or (E, N, n_L)) in the dtype of the weights, or with
        ``layerwise=True`` a ``LayerwiseForward`` whose α^0 is ``x`` (expanded to (E, N, n0)
        for stacked weights).

    Raises:
        ValueError: if ``weight_multipliers`` or ``biases`` do not have one entry per layer.
    """
    depth = len(weights)
    if len(weight_multipliers) != depth or (biases is not None and len(biases) != depth):
        raise ValueError(f"weight_multipliers and biases must have one entry per weight layer ({depth}), "
                         f"got {len(weight_multipliers)} and {None if biases is None else len(biases)}")
    phi = activation if isinstance(activation, Activation) else get_activation(activation)
    batched = weights[0].ndim == 3
    a = x.expand(weights[0].shape[0], *x.shape) if batched and x.ndim == 2 else x
    pre, post = [], [a]
    for l, w in enumerate(weights):
        b = None if biases is None else (biases[l][:, None, :] if batched else biases[l])
        h = _affine(a, w, b, weight_multipliers[l], bias_multiplier, batched, fused)
        a = phi.fn(h) if l < depth - 1 else h
        if layerwise:
            pre.append(h)
            if l < depth - 1:
                post.append(a)
    return LayerwiseForward(pre, post) if layerwise else a


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

    Attributes:
        widths: [n0, n_1, ..., n_{L-1}, n_out].
        weights: ``nn.ParameterList`` of the L matrices W^l, (n_{l+1}, n_l).
        biases: ``nn.ParameterList`` of the L vectors b^l, (n_{l+1},), or ``None``.
        weight_multipliers: the L floats m_l of h^{l+1} = m_l W^l α^l + m_b b^l
            (σ_w/√n_l in NTK parameterisation, 1.0 in standard).
        bias_multiplier: m_b (σ_b in NTK parameterisation, 1.0 in standard, 0.0 without biases).

    ``forward(x)`` maps (N, n0) to (N, n_out), and a single input (n0,) to (n_out,).

    Raises:
        ValueError: for a bad dimension, depth, width(s), activation, scale or parameterisation.
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
        self.widths = [self.n0, *hidden_widths(width, self.depth), self.n_out]

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
        """Whether the network has bias parameters (``sigma_b is not None``)."""
        return self.biases is not None

    def _pass(self, x: torch.Tensor, layerwise: bool) -> torch.Tensor | LayerwiseForward:
        # list(...) reads the ParameterLists item by item, so torch.func.functional_call's
        # substituted parameters are the ones used.
        return forward(list(self.weights), x, activation=self.activation,
                       weight_multipliers=self.weight_multipliers,
                       biases=None if self.biases is None else list(self.biases),
                       bias_multiplier=self.bias_multiplier, layerwise=layerwise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x): (N, n0) -> (N, n_out), or (n0,) -> (n_out,), in the parameters' dtype."""
        return self._pass(x, layerwise=False)

    def layerwise(self, x: torch.Tensor) -> LayerwiseForward:
        """Forward pass keeping every pre- and post-activation (see ``LayerwiseForward``)."""
        return self._pass(x, layerwise=True)

    def extra_repr(self) -> str:
        return (f"widths={self.widths}, activation={self.activation.name!r}, sigma_w={self.sigma_w}, "
                f"sigma_b={self.sigma_b}, parameterization={self.parameterization!r}, seed={self.seed}")
