"""Finite-width corrections at initialisation: the joint law of (f(x), Θ̂(x, x)) at one input,
sampled exactly for many networks at once, and the exact finite-width laws it is checked against.

The sampler (``sample_output_and_ntk``) draws, for one input x, the output f(x) and the
diagonal of the empirical NTK Θ̂(x, x) = ‖∂f(x)/∂θ‖² of S independent networks without ever
forming a weight matrix. For h^{l+1} = m_l W^l α^l + m_b b^l with W^l of i.i.d. N(0, 1) entries
(``MLP``, NTK parameterisation; m_l = σ_w/√n_l, m_b = σ_b):

* forward: given α^l ≠ 0, write u = α^l/‖α^l‖; then z = W^l u ~ N(0, I_{n_{l+1}}) exactly and
  h^{l+1} = m_l ‖α^l‖ z + m_b b^l;
* backward: δ^L = 1 and δ^l = φ'(h^l) ⊙ m_l W^{lᵀ} δ^{l+1}. Split each row of W^l into its
  component along u and the rest, W^l = z uᵀ + W^⊥ with W^⊥ = W^l(I − uuᵀ) independent of z
  and of everything δ^{l+1} depends on besides z. Hence, exactly in distribution,

      W^{lᵀ} δ^{l+1} = u (zᵀδ^{l+1}) + ‖δ^{l+1}‖ (I − uuᵀ) ζ,   ζ ~ N(0, I_{n_l}) fresh;

* Θ̂(x, x) = Σ_l ‖δ^{l+1}‖² (m_l² ‖α^l‖² + m_b²)  (the layerwise formula of ``empirical``).

The cost is O(S Σ_l n_l) normal draws instead of O(S Σ_l n_l n_{l+1}): thousands of networks
of width 256 and depth 17 take seconds. The sampler is exact in distribution; unit tests check
it against ``sample_outputs_at_init`` and ``empirical_ntk`` of full-weight networks.

Exact laws (relu, no bias; derivations in notebook 07):

* output: E f⁴ / (3 (E f²)²) = (1 + 5/n)^(L−1) (``kernels.relu_output_moments``);
* one hidden layer: Θ̂(x, x) = (σ_w² g/n) · χ²_{2K}, K ~ Binomial(n, ½), g = σ_w²‖x‖²/n0, so
  E Θ̂ = σ_w² g = Θ^{(2)}(x, x) and Var Θ̂ / (E Θ̂)² = 3/n (``one_hidden_layer_ntk_moments``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats as sps

from . import _validation as check
from .empirical import prior_sampler_setup


@dataclass(frozen=True)
class OutputAndNTK:
    """Draws of f(x) and Θ̂(x, x) at one input for S independent networks.

    Attributes:
        f: (S,) float64 numpy array of outputs f_s(x).
        ntk: (S,) float64 numpy array of empirical NTK diagonals Θ̂_s(x, x).
        variance: (S,) float64 numpy array of G_s = Var(f_s(x) | last hidden layer)
            = m_{L−1}²‖α^{L−1}‖² + m_b² (f = √G · Z with Z ~ N(0, 1) independent of G, so
            E f^{2k} = (2k − 1)!! E G^k: the Rao–Blackwellised estimator of the output moments).
    """

    f: np.ndarray
    ntk: np.ndarray
    variance: np.ndarray


def _one_input(x) -> torch.Tensor:
    """x as a float64 (1, n0) tensor; ValueError unless it is one input."""
    x = check.as_inputs("x", x, dtype=torch.float64)
    if x.shape[0] != 1:
        raise ValueError(f"x must be one input of shape (n0,) or (1, n0), got shape {tuple(x.shape)}")
    return x


def _unit_or_first_axis(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(‖a‖, a/‖a‖) per row of a (B, n); a zero row (every relu unit off) gets u = e₁.

    For a zero row any fixed unit vector is exact: W u ~ N(0, I) for every u independent of W."""
    norm = torch.linalg.vector_norm(a, dim=1)
    u = a / torch.where(norm > 0, norm, torch.ones_like(norm))[:, None]
    dead = norm == 0
    if bool(dead.any()):
        u[dead, 0] = 1.0
    return norm, u


def sample_output_and_ntk(x, *, n_samples: int, width: int, depth: int, activation: str = "relu",
                          sigma_w: float = 1.0, sigma_b: float | None = None, seed: int = 0,
                          dtype: torch.dtype = torch.float64,
                          device: torch.device | str | None = None,
                          chunk: int = 8192) -> OutputAndNTK:
    """f(x) and Θ̂(x, x) of ``n_samples`` independent ``MLP`` networks at one input, exactly.

    The networks are ``MLP(n0, width, depth, activation, sigma_w, sigma_b)`` at initialisation
    (NTK parameterisation: the kernel is that of ``empirical_ntk``). The draws use the
    conditional-Gaussian reduction of the module docstring (no weight matrix is formed), so they
    are not the draws of ``MLP(seed=...)`` but have the same joint law.

    Args:
        x: one input, shape (n0,) or (1, n0).
        n_samples: number of networks S >= 1.
        width: hidden width n (or a sequence of depth − 1 widths); depth: weight layers L >= 1.
        activation, sigma_w, sigma_b: as for ``MLP`` (``sigma_b=None``: no biases).
        seed: seed of a generator on ``device``; the same seed gives the same draws.
        dtype, device: of the computation (results are returned as float64 numpy arrays).
        chunk: networks drawn at once.

    Returns:
        ``OutputAndNTK(f, ntk, variance)``, three (S,) float64 arrays.

    Raises:
        ValueError: for a bad count, architecture, chunk or input.
    """
    chunk = check.positive_int("chunk", chunk)
    n_samples, phi, sb, x, widths, m, gen = prior_sampler_setup(
        _one_input(x), n_samples=n_samples, width=width, depth=depth, activation=activation,
        sigma_w=sigma_w, sigma_b=sigma_b, seed=seed, dtype=dtype, device=device)
    fs, thetas, variances = [], [], []
    for lo in range(0, n_samples, chunk):
        b = min(chunk, n_samples - lo)
        a = x.expand(b, -1)
        norms, units, zs, pre = [], [], [], []
        for l in range(depth):
            norm, u = _unit_or_first_axis(a)
            z = torch.randn(b, widths[l + 1], generator=gen, dtype=dtype, device=x.device)
            h = (m[l] * norm)[:, None] * z
            if sigma_b is not None:
                h = h + sb * torch.randn(b, widths[l + 1], generator=gen, dtype=dtype, device=x.device)
            norms.append(norm), units.append(u), zs.append(z), pre.append(h)
            if l < depth - 1:
                a = phi.fn(h)
        delta = torch.ones(b, 1, dtype=dtype, device=x.device)
        theta = torch.zeros(b, dtype=dtype, device=x.device)
        for l in range(depth - 1, -1, -1):
            d2 = (delta * delta).sum(1)
            theta = theta + d2 * (m[l] ** 2 * norms[l] ** 2 + sb ** 2)
            if l == 0:
                break
            u = units[l]
            zeta = torch.randn(b, widths[l], generator=gen, dtype=dtype, device=x.device)
            perp = zeta - (zeta * u).sum(1, keepdim=True) * u
            wt_delta = u * (zs[l] * delta).sum(1, keepdim=True) + torch.sqrt(d2)[:, None] * perp
            delta = phi.derivative(pre[l - 1]) * (m[l] * wt_delta)
        fs.append(pre[-1][:, 0])
        thetas.append(theta)
        variances.append((m[-1] * norms[-1]) ** 2 + sb ** 2)
    return OutputAndNTK(*(torch.cat(v).double().cpu().numpy() for v in (fs, thetas, variances)))


def one_hidden_layer_ntk_moments(x, *, width: int, sigma_w: float = 1.0,
                                 max_order: int = 4) -> np.ndarray:
    """Exact moments E[Θ̂(x, x)^k], k = 1…K, of a one-hidden-layer relu network without bias.

    f = (σ_w/√n) Σ_j v_j relu(h_j), h_j = (σ_w/√n0) w_jᵀx ~ N(0, g), g = σ_w²‖x‖²/n0. Then

        Θ̂(x, x) = (σ_w²/n) Σ_j 1{h_j > 0} (g v_j² + h_j²) = (σ_w² g/n) · χ²_{2K},

    with K ~ Binomial(n, ½) the number of active units (each active unit adds g(v² + z²), a
    χ²₂ variable times g). Given K, E[(χ²_{2K})^k] = Π_{j<k} (2K + 2j); the K-average is an
    exact finite sum. Consequences: E Θ̂ = σ_w² g = Θ^{(2)}(x, x), Var Θ̂ / (E Θ̂)² = 3/n.

    Args:
        x: one input, shape (n0,) or (1, n0).
        width: hidden width n >= 1.
        sigma_w: σ_w > 0.
        max_order: K >= 1.

    Returns:
        (K,) float64 array of E Θ̂, E Θ̂², …, E Θ̂^K.

    Raises:
        ValueError: bad input, width, σ_w or order.
    """
    width = check.positive_int("width", width)
    max_order = check.positive_int("max_order", max_order)
    sw2 = check.finite_float("sigma_w", sigma_w, strictly_positive=True) ** 2
    x = _one_input(x)
    g = sw2 * float((x * x).sum()) / x.shape[1]
    k = np.arange(width + 1, dtype=np.float64)
    pmf = sps.binom.pmf(np.arange(width + 1), width, 0.5)
    scale = sw2 * g / width
    out, rising = [], np.ones_like(k)
    for order in range(max_order):
        rising = rising * (2 * k + 2 * order)
        out.append(scale ** (order + 1) * float(pmf @ rising))
    return np.asarray(out)


# ---------------------------------------------------------------------------------------------
# The exact law of Θ̂(x, x) for relu without bias, at any width and depth
# ---------------------------------------------------------------------------------------------

def _unit_entries(*entries: tuple[int, int]) -> np.ndarray:
    out = np.zeros((5, 5))
    for i, j in entries:
        out[i, j] = 1.0
    return out


# v = (R, B', B'', S', S''): one hidden layer maps v ↦ c (X·E_X + Y·E_Y + I·E_1) v (docstring below):
# R ← X R;  B' ← Y B';  B'' ← I R + Y B'';  S' ← Y B' + X S';  S'' ← I R + Y B'' + X S''.
_E_X = _unit_entries((0, 0), (3, 3), (4, 4))
_E_Y = _unit_entries((1, 1), (2, 2), (3, 1), (4, 2))
_E_1 = _unit_entries((2, 0), (4, 0))
_V_TOP = np.array([1.0, 1.0, 0.0, 1.0, 0.0])


def _chi2_joint_moments(width: int, order: int) -> np.ndarray:
    """E[X^a Y^b I^e] for a + b + e = order: K ~ Bin(n, ½), I = 1{K > 0}, X ~ χ²_K and
    Y ~ χ²_{K−1} independent given K (X = Y = 0 when K = 0: a dead layer)."""
    k = np.arange(width + 1, dtype=np.float64)
    pmf = sps.binom.pmf(np.arange(width + 1), width, 0.5)
    alive = (k > 0).astype(np.float64)
    out = np.zeros((order + 1, order + 1))
    for a in range(order + 1):
        xa = np.prod([k + 2 * i for i in range(a)], axis=0) if a else np.ones_like(k)
        for b in range(order + 1 - a):
            yb = np.prod([(k - 1 + 2 * i) * alive for i in range(b)], axis=0) if b else np.ones_like(k)
            indicator = alive if a + b < order else np.ones_like(k)
            out[a, b] = float(pmf @ (xa * yb * indicator))
    return out


def _kron_all(mats) -> np.ndarray:
    out = np.ones((1, 1))
    for m in mats:
        out = np.kron(out, m)
    return out


def relu_ntk_moments(x, *, width: int, depth: int, sigma_w: float = 1.0,
                     max_order: int = 2) -> np.ndarray:
    """Exact moments E[Θ̂(x, x)^k], k = 1…K, of a relu network without bias at finite width.

    ``MLP(n0, width, depth, "relu", sigma_w, None)``, NTK parameterisation. With c = σ_w²/n,
    G_0 = σ_w²‖x‖²/n0 and, for each hidden layer l = 1…L−1, K_l ~ Bin(n, ½) active units,
    X_l ~ χ²_{K_l} and Y_l ~ χ²_{K_l−1} independent given K_l (all layers independent), and
    Z ~ N(0, 1) (the output layer), the conditional-Gaussian reduction of ``sample_output_and_ntk``
    closes on scalars (derivation in notebook 07, section 2):

        G_l = G_{l−1} c X_l,   f = √G_{L−1} Z,
        ‖δ^L‖² = 1,   ‖δ^l‖² = c (I_l f²/G_l + Y_l ‖δ^{l+1}‖²),   I_l = 1{K_l > 0},
        Θ̂(x, x) = Σ_{l=0}^{L−1} G_l ‖δ^{l+1}‖²,

    using zᵀδ^{l+1} = f/√G_l (the component of the backward signal along the forward one). Read
    from the top with v = (R, B', B'', S', S'') (R = G_{L−1}/G_l; ‖δ^{l+1}‖² = B' + Z²B'';
    Σ_{k≥l} (G_k/G_l)‖δ^{k+1}‖² = S' + Z²S''), each hidden layer acts linearly,
    v_l = c (X E_X + Y E_Y + I E_1) v_{l+1}, from v_{L−1} = (1, 1, 0, 1, 0), and
    Θ̂ = G_0 (S'_0 + Z² S''_0). Moments of order k follow from E[A^{⊗k}], a sum of Kronecker
    products weighted by E[X^a Y^b I^e] (I X = X, I Y = Y), and E Z^{2j} = (2j − 1)!!.

    Checks: E Θ̂ = L G_0 = Θ^{(L)}_∞(x, x) for σ_w² = 2 at every width (no 1/n term); for
    L = 2, Θ̂ = c G_0 χ²_{2K} (``one_hidden_layer_ntk_moments``).

    Args:
        x: one input, shape (n0,) or (1, n0).
        width: hidden width n >= 1; depth: weight layers L >= 1.
        sigma_w: σ_w > 0.
        max_order: K in 1…4 (the order-K computation holds 5^K × 5^K matrices).

    Returns:
        (K,) float64 array of E Θ̂, …, E Θ̂^K.

    Raises:
        ValueError: bad input, width, depth, σ_w or order.
    """
    width = check.positive_int("width", width)
    depth = check.positive_int("depth", depth)
    max_order = check.int_in_range("max_order", max_order, 1, 4)
    sw2 = check.finite_float("sigma_w", sigma_w, strictly_positive=True) ** 2
    x = _one_input(x)
    g0 = sw2 * float((x * x).sum()) / x.shape[1]
    c = sw2 / width
    z_even = [1.0, 1.0, 3.0, 15.0, 105.0]
    out = []
    for k in range(1, max_order + 1):
        xy = _chi2_joint_moments(width, k)
        step = np.zeros((5 ** k, 5 ** k))
        for choice in np.ndindex(*(3,) * k):             # 0: X, 1: Y, 2: I, per factor
            a, b = choice.count(0), choice.count(1)
            step += xy[a, b] * _kron_all([(_E_X, _E_Y, _E_1)[i] for i in choice])
        v = _kron_all([_V_TOP[:, None]] * k)[:, 0]
        for _ in range(depth - 1):
            v = c ** k * (step @ v)
        moment = v.reshape((5,) * k)
        # Θ̂/G_0 = S' + Z² S'' (indices 3 and 4): expand the k-th power.
        total = 0.0
        for j in range(k + 1):
            index = (4,) * j + (3,) * (k - j)
            total += math.comb(k, j) * z_even[j] * moment[index]
        out.append(g0 ** k * total)
    return np.asarray(out)
