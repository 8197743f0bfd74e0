"""Every finite-network kernel: the empirical NTK Θ̂(x, x') = ⟨∂f(x)/∂θ, ∂f(x')/∂θ⟩, the
readout (empirical NNGP) and network kernels of one network, Monte Carlo kernels over
initialisations, and the batched sampler of outputs at initialisation.

Two implementations of the empirical NTK of the same quantity:

* ``layerwise`` (fast path, ``MLP`` only). For h^{l+1} = m_l W^l α^l + m_b b^l the gradients
  are ∂f/∂W^l = m_l δ^{l+1} α^{lᵀ} and ∂f/∂b^l = m_b δ^{l+1}, with δ^l = ∂f/∂h^l
  (δ^L = Id, δ^l = φ'(h^l) ⊙ m_l W^{lᵀ} δ^{l+1}). Hence (Novak et al. 2022, "structured
  derivatives"; reference file §7)

      Θ̂_ab(x, x') = Σ_{l=0}^{L−1} ⟨δ_a^{l+1}(x), δ_b^{l+1}(x')⟩ · (m_l² ⟨α^l(x), α^l(x')⟩ + m_b²),

  which costs O(N M Σ_l n_l) and never builds the N × P Jacobian.
* ``jacobian`` (reference, any ``nn.Module``): per-example Jacobians from
  ``torch.func.vmap(torch.func.jacrev(...))`` contracted over all parameters, in blocks of
  ``batch_size`` inputs so the memory is O(batch_size · P).

Forward passes go through ``models.forward`` (the fused variant for the fast path).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import _validation as check
from .activations import get_activation
from .models import MLP, forward, hidden_widths

IMPLEMENTATIONS = ("auto", "layerwise", "jacobian")


def _as_model_inputs(model: nn.Module, name: str, x) -> torch.Tensor:
    p = next(model.parameters())
    n0 = model.n0 if isinstance(model, MLP) else None
    return check.as_inputs(name, x, dtype=p.dtype, device=p.device, n0=n0)


def _squeeze_outputs(theta: torch.Tensor) -> torch.Tensor:
    """(N, M, k, k) -> (N, M) when k = 1."""
    return theta[..., 0, 0] if theta.shape[-1] == 1 else theta


# ---------------------------------------------------------------------------------------------
# Fast layerwise path
# ---------------------------------------------------------------------------------------------

@torch.no_grad()
def _layerwise_features(net: MLP, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """[(α^l, δ^{l+1}) for l = 0..L−1]; α^l (N, n_l), δ^{l+1} (N, k, n_{l+1}); δ^L = Id is None.

    δ^l = φ'(h^l) ⊙ (m_l δ^{l+1} W^l): the multiplier m_l scales the (N, k, n_l) product, never
    a copy of the n_{l+1} × n_l weight matrix."""
    # The pass with m_l and m_b folded into one GEMM per layer (same pre-activations as
    # ``MLP.layerwise`` up to rounding, without an extra pass over each (N, n) output).
    fw = forward(list(net.weights), x, activation=net.activation, weight_multipliers=net.weight_multipliers,
                 biases=None if net.biases is None else list(net.biases),
                 bias_multiplier=net.bias_multiplier, layerwise=True, fused=True)
    pre, post = fw.preactivations, fw.postactivations
    delta = None  # δ^L = identity (N, k, k), kept implicit
    feats: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    for l in range(net.depth - 1, -1, -1):
        feats.append((post[l], delta))
        if l == 0:
            break
        w, m = net.weights[l], net.weight_multipliers[l]                    # (n_{l+1}, n_l)
        deriv = net.activation.derivative(pre[l - 1])[:, None, :]          # (N, 1, n_l)
        # (N, k, n_l); for the output layer n_{l+1} = k and δ^L = Id, so the product is m W.
        delta = deriv * (m * w) if delta is None else (delta @ w).mul_(m).mul_(deriv)
    feats.reverse()
    return feats


def _layerwise_block(net: MLP, f1, f2) -> torch.Tensor:
    """Θ̂ block of shape (N1, N2, k, k) from features of two input blocks."""
    k = net.n_out
    n1, n2 = f1[0][0].shape[0], f2[0][0].shape[0]
    theta = torch.zeros(n1, n2, k, k, dtype=f1[0][0].dtype, device=f1[0][0].device)
    mb2 = net.bias_multiplier ** 2
    for l, ((a1, d1), (a2, d2)) in enumerate(zip(f1, f2)):
        inputs = net.weight_multipliers[l] ** 2 * (a1 @ a2.T)
        if mb2:
            inputs = inputs + mb2
        if d1 is None:  # output layer: ⟨δ_a, δ_b⟩ = 1[a = b]
            theta += inputs[:, :, None, None] * torch.eye(k, dtype=theta.dtype, device=theta.device)
        elif k == 1:
            theta[..., 0, 0] += (d1[:, 0] @ d2[:, 0].T) * inputs
        else:
            theta += torch.einsum("iap,jbp->ijab", d1, d2) * inputs[:, :, None, None]
    return theta


def _blocks(n: int, batch_size: int | None):
    step = n if batch_size is None else batch_size
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _layerwise_ntk(net: MLP, x1: torch.Tensor, x2: torch.Tensor | None, batch_size: int | None):
    """Blocks of x1 rows against all of x2 (memory: O(batch_size · Σ n_l) for x1's features)."""
    other = _layerwise_features(net, x1 if x2 is None else x2)
    blocks = _blocks(x1.shape[0], batch_size)
    if x2 is None and len(blocks) == 1:
        return _layerwise_block(net, other, other)
    return torch.cat([_layerwise_block(net, _layerwise_features(net, x1[sl]), other) for sl in blocks])


# ---------------------------------------------------------------------------------------------
# Reference path: torch.func Jacobian contraction
# ---------------------------------------------------------------------------------------------

def _jacobian_fn(model: nn.Module) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    params = {name: p.detach() for name, p in model.named_parameters()}

    def single(p, x):
        return torch.func.functional_call(model, p, (x[None],)).reshape(-1)

    jac = torch.func.vmap(torch.func.jacrev(single), in_dims=(None, 0))

    def jacobians(x):
        return {name: j.reshape(j.shape[0], j.shape[1], -1) for name, j in jac(params, x).items()}

    return jacobians


def _jacobian_ntk(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor | None, batch_size: int):
    jacobians = _jacobian_fn(model)
    other = x1 if x2 is None else x2
    b1, b2 = _blocks(x1.shape[0], batch_size), _blocks(other.shape[0], batch_size)
    out = None
    for s1 in b1:
        j1 = jacobians(x1[s1])
        for s2 in b2:
            if x2 is None and s2.start < s1.start:
                continue  # symmetric: fill from the transpose below
            j2 = j1 if (x2 is None and s2 == s1) else jacobians(other[s2])
            block = sum(torch.einsum("iap,jbp->ijab", j1[n], j2[n]) for n in j1)
            if out is None:
                out = torch.zeros(x1.shape[0], other.shape[0], *block.shape[2:],
                                  dtype=block.dtype, device=block.device)
            out[s1, s2] = block
            if x2 is None and s2 != s1:
                out[s2, s1] = block.transpose(0, 1).transpose(2, 3)
    return out


def empirical_ntk(net: nn.Module, x1, x2=None, *, implementation: str = "auto",
                  batch_size: int | None = None) -> torch.Tensor:
    """Empirical NTK Θ̂(x1, x2) = J(x1) J(x2)ᵀ of a network at its current parameters.

    Args:
        net: an ``MLP`` (fast layerwise path) or any ``nn.Module`` mapping (N, n0) to (N, k).
        x1: inputs (N, n0); x2: inputs (M, n0) or ``None`` for x2 = x1.
        implementation: "auto" (layerwise for ``MLP``, else jacobian), "layerwise" or "jacobian".
        batch_size: inputs per block (bounds memory); ``None``: one block for the layerwise
            path, 16 for the Jacobian path.

    Returns:
        Tensor in the network's dtype and on its device: (N, M) for scalar output, (N, M, k, k)
        for k outputs (Θ̂_ab(x_i, x'_j) at [i, j, a, b]).

    Raises:
        ValueError: for malformed inputs, a bad ``implementation`` or ``batch_size``, or
            ``implementation="layerwise"`` with a network that is not an ``MLP``.
    """
    implementation = check.choice("implementation", implementation, IMPLEMENTATIONS)
    if batch_size is not None:
        batch_size = check.positive_int("batch_size", batch_size)
    x1 = _as_model_inputs(net, "x1", x1)
    x2 = None if x2 is None else _as_model_inputs(net, "x2", x2)
    if x2 is not None and x2.shape[1] != x1.shape[1]:
        raise ValueError(f"x2 must have the same number of features as x1 ({x1.shape[1]}), "
                         f"got shape {tuple(x2.shape)}")
    if implementation == "auto":
        implementation = "layerwise" if isinstance(net, MLP) else "jacobian"
    if implementation == "layerwise":
        if not isinstance(net, MLP):
            raise ValueError(f"implementation='layerwise' needs an ntkutils.MLP, got {type(net).__name__}")
        theta = _layerwise_ntk(net, x1, x2, batch_size)
    else:
        theta = _jacobian_ntk(net, x1, x2, batch_size or 16)
    return _squeeze_outputs(theta)


# ---------------------------------------------------------------------------------------------
# Readout (empirical NNGP) and network kernels of one network
# ---------------------------------------------------------------------------------------------

def readout_kernel(net: MLP, x1, x2=None) -> torch.Tensor:
    """Kernel of the last layer's parameters alone, J_L(x1) J_L(x2)ᵀ.

    With α = φ(h^{L-1}) the last hidden layer's post-activations, it is
    m_{L-1}² α(x1)·α(x2) + m_b² ((σ_w²/n) α·α' + σ_b² in NTK parameterisation): the empirical
    NNGP kernel of the output layer, whose GD dynamics are those of training the readout alone
    (Lee et al. 2019, §2.3, eqs. S22–S23).

    Args:
        net: a scalar-output ``MLP``.
        x1: inputs (N, n0); x2: inputs (M, n0), or ``None`` for x2 = x1.

    Returns:
        (N, M) float64 tensor on the network's device (the features are computed in the
        network's dtype, then promoted).

    Raises:
        ValueError: if ``net.n_out != 1`` or the inputs are malformed.
    """
    if net.n_out != 1:
        raise ValueError(f"readout_kernel needs a scalar-output network, got n_out={net.n_out}")
    p = next(net.parameters())
    x1 = check.as_inputs("x1", x1, dtype=p.dtype, device=p.device, n0=net.n0)
    x2 = x1 if x2 is None else check.as_inputs("x2", x2, dtype=p.dtype, device=p.device, n0=net.n0)
    with torch.no_grad():
        a1, a2 = (net.layerwise(x).postactivations[-1].double() for x in (x1, x2))
    k = net.weight_multipliers[-1] ** 2 * (a1 @ a2.T)
    return k + net.bias_multiplier ** 2 if net.has_bias else k


def network_kernels(net: MLP, x1, x2=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The empirical NNGP (readout) kernel and empirical NTK of one scalar-output network.

    The finite-width stand-ins for Σ^(L) and Θ^(L) (Jacot et al. 2018, §6, used a width-10000
    network for their Fig. 2).

    Args:
        net: a scalar-output ``MLP``.
        x1: inputs (N, n0); x2: inputs (M, n0), or ``None`` for x2 = x1.

    Returns:
        ``(readout_kernel(net, x1, x2), empirical_ntk(net, x1, x2))``, each (N, M) float64 on the
        network's device.

    Raises:
        ValueError: if ``net.n_out != 1`` or the inputs are malformed.
    """
    return readout_kernel(net, x1, x2), empirical_ntk(net, x1, x2).double()


def network_kernel_fn(net: MLP) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """``kernel_fn(x1, x2=None) -> (nngp, ntk)`` from one network's empirical kernels.

    The finite-width stand-in for the limit used by Jacot et al. (2018) for their Fig. 2, in
    the form ``dynamics.kernel_blocks`` takes (like ``kernels.analytic_kernel_fn``).

    Args:
        net: a scalar-output ``MLP``.

    Returns:
        A function of inputs x1 (N, n0) and x2 (M, n0) or ``None`` (moved to the network's device
        and dtype) returning ``network_kernels(net, x1, x2)`` as float64 tensors on the CPU.
    """
    p = next(net.parameters())

    def kernel_fn(x1, x2=None):
        a = torch.as_tensor(x1).to(dtype=p.dtype, device=p.device)
        b = None if x2 is None else torch.as_tensor(x2).to(dtype=p.dtype, device=p.device)
        return tuple(k.cpu() for k in network_kernels(net, a, b))
    return kernel_fn


# ---------------------------------------------------------------------------------------------
# Monte Carlo kernels over independent initialisations
# ---------------------------------------------------------------------------------------------

@dataclass
class MonteCarloKernels:
    """Averages over ``n_samples`` independent networks (seeds seed, seed+1, ...).

    Attributes:
        nngp: mean of f(x1) f(x2)ᵀ (scalar output), (N, M).
        ntk: mean of Θ̂, (N, M), or ``None`` when not computed.
        nngp_sem, ntk_sem: elementwise standard errors of those means (std over samples /
            √n_samples), same shapes.
        n_samples: the number of networks S.
    """

    nngp: torch.Tensor
    ntk: torch.Tensor | None
    nngp_sem: torch.Tensor
    ntk_sem: torch.Tensor | None
    n_samples: int


def monte_carlo_kernels(x1, x2=None, *, n_samples: int, width: int, depth: int,
                        activation: str = "relu", sigma_w: float = 1.0,
                        sigma_b: float | None = 0.1, parameterization: str = "ntk",
                        seed: int = 0, dtype: torch.dtype = torch.float64,
                        device: torch.device | str | None = None,
                        compute_ntk: bool = True) -> MonteCarloKernels:
    """Monte Carlo NNGP and NTK of scalar-output ``MLP`` networks of finite ``width``.

    Σ̂ = mean_s f_s(x1) f_s(x2)ᵀ estimates Σ^L; mean_s Θ̂_s estimates E[Θ̂] (→ Θ^L_∞ as n → ∞,
    Jacot et al. 2018, Thm 1).

    Args:
        x1: inputs (N, n0); x2: inputs (M, n0), or ``None`` for x2 = x1.
        n_samples: number of networks S (seeds ``seed``, ..., ``seed + S − 1``).
        width, depth, activation, sigma_w, sigma_b, parameterization: as for ``MLP``.
        seed: the first network's seed.
        dtype, device: of the networks and the results.
        compute_ntk: also average the empirical NTK (else ``ntk`` and ``ntk_sem`` are None).

    Returns:
        ``MonteCarloKernels`` with (N, M) tensors of ``dtype``.

    Raises:
        ValueError: for a bad ``n_samples``, malformed inputs or a bad architecture.
    """
    n_samples = check.positive_int("n_samples", n_samples)
    x1 = check.as_inputs("x1", x1, dtype=dtype, device=device)
    x2 = None if x2 is None else check.as_inputs("x2", x2, dtype=dtype, device=device, n0=x1.shape[1])
    moments = {"nngp": [0.0, 0.0], "ntk": [0.0, 0.0]}
    for s in range(n_samples):
        net = MLP(x1.shape[1], width, depth, activation, sigma_w, sigma_b, parameterization,
                  seed=seed + s, dtype=dtype, device=device)
        with torch.no_grad():
            f1 = net(x1)[:, 0]
            f2 = f1 if x2 is None else net(x2)[:, 0]
        samples = {"nngp": torch.outer(f1, f2)}
        if compute_ntk:
            samples["ntk"] = empirical_ntk(net, x1, x2)
        for key, value in samples.items():
            moments[key][0] = moments[key][0] + value
            moments[key][1] = moments[key][1] + value * value

    def mean_sem(key):
        m1, m2 = moments[key][0] / n_samples, moments[key][1] / n_samples
        var = torch.clamp(m2 - m1 * m1, min=0.0) * n_samples / max(n_samples - 1, 1)
        return m1, torch.sqrt(var / n_samples)

    nngp, nngp_sem = mean_sem("nngp")
    ntk, ntk_sem = mean_sem("ntk") if compute_ntk else (None, None)
    return MonteCarloKernels(nngp, ntk, nngp_sem, ntk_sem, n_samples)


# ---------------------------------------------------------------------------------------------
# Many independent networks at initialisation, batched
# ---------------------------------------------------------------------------------------------

def prior_sampler_setup(x, *, n_samples: int, width, depth: int, activation: str, sigma_w: float,
                        sigma_b: float | None, seed: int, dtype: torch.dtype,
                        device: torch.device | str | None):
    """The checked arguments every sampler of networks at initialisation starts from.

    Returns:
        ``(n_samples, φ, m_b, x, widths, multipliers, generator)``: m_b = σ_b (0.0 without
        bias), widths [n0, n_1, …, n_{L−1}, 1], multipliers m_l = σ_w/√n_l, and a generator on
        x's device seeded with ``seed``.

    Raises:
        ValueError: for a bad count, depth, activation, scale, seed or input.
    """
    n_samples = check.positive_int("n_samples", n_samples)
    depth = check.positive_int("depth", depth)
    phi = get_activation(activation)
    sigma_w = check.finite_float("sigma_w", sigma_w, strictly_positive=True)
    sb = 0.0 if sigma_b is None else check.finite_float("sigma_b", sigma_b, minimum=0.0)
    x = check.as_inputs("x", x, dtype=dtype, device=device)
    widths = [x.shape[1], *hidden_widths(width, depth), 1]
    gen = torch.Generator(device=x.device).manual_seed(check.nonnegative_int("seed", seed))
    return n_samples, phi, sb, x, widths, [sigma_w / math.sqrt(n) for n in widths[:-1]], gen


def sample_outputs_at_init(x, *, n_samples: int, width: int, depth: int, activation: str = "relu",
                           sigma_w: float = 1.0, sigma_b: float | None = 0.1, seed: int = 0,
                           dtype: torch.dtype = torch.float64,
                           device: torch.device | str | None = None,
                           max_chunk_bytes: int = 256 * 2**20) -> torch.Tensor:
    """Outputs f_s(x) of ``n_samples`` independent randomly initialised scalar-output networks.

    The networks are the ``MLP`` of the same arguments (either parameterisation: they define the
    same function distribution at initialisation), drawn in batches and evaluated with batched
    matrix products, so thousands of initialisations take seconds. The draws are a deterministic
    function of ``seed`` (not the same draws as ``MLP(seed=...)``).

    Args:
        x: inputs (N, n0).
        n_samples: number of networks S.
        width, depth, activation, sigma_w, sigma_b: as for ``MLP`` (``sigma_b=None``: no biases).
        seed: seed of the draws (a generator on ``device``).
        dtype, device: of the draws and the result.
        max_chunk_bytes: bound on the weights held at once; networks are drawn in chunks.

    Returns:
        (n_samples, N) tensor of ``dtype``: row s is (f_s(x_1), ..., f_s(x_N)).

    Raises:
        ValueError: for a bad count, architecture or malformed inputs.
    """
    n_samples, phi, sb, x, widths, multipliers, gen = prior_sampler_setup(
        x, n_samples=n_samples, width=width, depth=depth, activation=activation, sigma_w=sigma_w,
        sigma_b=sigma_b, seed=seed, dtype=dtype, device=device)
    per_net = sum(a * b for a, b in zip(widths[:-1], widths[1:])) * x.element_size()
    chunk = max(1, min(n_samples, max_chunk_bytes // max(per_net, 1)))
    out = []
    for lo in range(0, n_samples, chunk):
        b = min(chunk, n_samples - lo)
        weights, biases = [], []  # drawn in the order W^0, b^0, W^1, b^1, ...
        for n_in, n_next in zip(widths[:-1], widths[1:]):
            # W^l stored as (B, n_in, n_next) and used through its transpose view (B, n_next, n_in)
            weights.append(torch.randn(b, n_in, n_next, generator=gen, dtype=dtype, device=x.device).transpose(1, 2))
            if sigma_b is not None:
                biases.append(torch.randn(b, 1, n_next, generator=gen, dtype=dtype, device=x.device)[:, 0])
        f = forward(weights, x, activation=phi, weight_multipliers=multipliers,
                    biases=biases if sigma_b is not None else None, bias_multiplier=sb)  # (B, N, 1)
        out.append(f[..., 0])
    return torch.cat(out, 0)
