"""The two-layer relu network of Du, Zhai, Poczos & Singh (2019) and Arora, Du, Hu, Li & Wang (2019).

    f(W, x) = (1/√m) Σ_r a_r relu(w_rᵀx),   a_r ∈ {±1} fixed, w_r(0) ~ N(0, κ² I), ‖x‖ = 1,

trained by full-batch gradient descent on the summed loss Φ(W) = ½ Σ_i (f(W, x_i) − y_i)² (Du et
al. eq. 2; no 1/N). Only the first layer W moves. With u(k) = (f(W(k), x_i))_i the outputs,

    u(k+1) − u(k) ≈ −η H(k) (u(k) − y),   H_ij(k) = (x_iᵀx_j / m) Σ_r 1{w_rᵀx_i ≥ 0, w_rᵀx_j ≥ 0}

(Du et al. eq. 4–5), and H(0) → H∞ as m → ∞ with (Du et al. §3, Arora et al. eq. 3)

    H∞_ij = E_w[x_iᵀx_j 1{wᵀx_i ≥ 0, wᵀx_j ≥ 0}] = x_iᵀx_j (π − arccos(x_iᵀx_j)) / (2π).

Everything is float64. Many networks train at once: weights have shape (B, m, d), labels (B, N)
(one row per network, e.g. one per corrupted label set) or (N,) shared by all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import _validation as check
from .data import require_on_sphere
from .kernels import _identical_rows


def relu_gram(x, z=None) -> torch.Tensor:
    """The limiting Gram matrix H∞(x, z) = xᵀz (π − arccos xᵀz)/(2π) (Du et al., Assumption 3.1).

    Angles are exact where a row of ``x`` equals a row of ``z`` bit for bit (there H∞ = ‖x‖²/2 =
    1/2), and cosines are clipped to [−1, 1] only to remove rounding.

    Args:
        x: inputs on the unit sphere, (N, d).
        z: inputs on the unit sphere, (M, d); ``None`` means ``x``.

    Returns:
        H∞, (N, M), float64.

    Raises:
        ValueError: inputs that are not finite 2-D arrays or are off the unit sphere.
    """
    x = require_on_sphere(x, name="x", atol=1e-8)
    zz = x if z is None else require_on_sphere(z, name="z", atol=1e-8)
    if zz.shape[1] != x.shape[1]:
        raise ValueError(f"z must have {x.shape[1]} columns like x, got {zz.shape[1]}")
    c = (x @ zz.T).clamp(-1.0, 1.0)
    c[_identical_rows(x, None if z is None else zz)] = 1.0
    return c * (math.pi - torch.arccos(c)) / (2 * math.pi)


@dataclass
class ReluNets:
    """B two-layer relu networks of width m on inputs of dimension d.

    Attributes:
        w: first-layer weights, (B, m, d), float64 (the trained layer).
        a: output signs a_r ∈ {±1}, (B, m), float64 (fixed).
    """

    w: torch.Tensor
    a: torch.Tensor

    @property
    def width(self) -> int:
        return int(self.w.shape[1])


def relu_nets(n_nets: int, width: int, dim: int, *, seed: int, scale: float = 1.0,
              symmetric: bool = False) -> ReluNets:
    """Draw B = ``n_nets`` networks: w_r ~ N(0, scale² I_d), a_r uniform on {±1} (Du et al. §3).

    Args:
        n_nets: number of networks B, >= 1.
        width: hidden units m, >= 1 (even when ``symmetric``).
        dim: input dimension d, >= 1.
        seed: seed of the draw, >= 0.
        scale: κ, the standard deviation of the first-layer weights (Arora et al. use a small κ).
        symmetric: units m/2 + r copy unit r with a negated, so f(W(0), x) = 0 up to rounding (the
            residual starts at y, as in Arora et al.'s analysis with κ → 0); H(0) is unchanged in
            law but averages m/2 independent units.

    Returns:
        ``ReluNets`` with w (B, m, d) and a (B, m), float64.

    Raises:
        ValueError: a non-positive count, an odd width with ``symmetric``, or a bad scale/seed.
    """
    n_nets, width, dim = (check.positive_int(k, v) for k, v in
                          (("n_nets", n_nets), ("width", width), ("dim", dim)))
    scale = check.positive_float("scale", scale)
    seed = check.nonnegative_int("seed", seed)
    if symmetric and width % 2:
        raise ValueError(f"width must be even when symmetric=True, got {width}")
    g = torch.Generator().manual_seed(seed)
    half = width // 2 if symmetric else width
    w = scale * torch.randn(n_nets, half, dim, generator=g, dtype=torch.float64)
    a = torch.randint(0, 2, (n_nets, half), generator=g).to(torch.float64) * 2 - 1
    if symmetric:
        w, a = torch.cat([w, w], 1), torch.cat([a, -a], 1)
    return ReluNets(w, a)


def relu_net_output(nets: ReluNets, x: torch.Tensor) -> torch.Tensor:
    """u = f(W, x) = (1/√m) Σ_r a_r relu(w_rᵀx) for every network: x (N, d) → (B, N), float64."""
    pre = torch.einsum("bmd,nd->bmn", nets.w, x)
    return torch.einsum("bm,bmn->bn", nets.a, pre.clamp_min(0.0)) / math.sqrt(nets.width)


def relu_net_gram(nets: ReluNets, x: torch.Tensor) -> torch.Tensor:
    """The finite-width Gram matrix H(W) = (X Xᵀ) ⊙ (S Sᵀ)/m, S_ir = 1{w_rᵀx_i ≥ 0} (Du et al. eq. 5).

    Args:
        nets: B networks, w (B, m, d).
        x: inputs, (N, d).

    Returns:
        H(W), (B, N, N), float64.
    """
    s = (torch.einsum("bmd,nd->bnm", nets.w, x) >= 0).to(torch.float64)
    return (x @ x.T) * (s @ s.transpose(1, 2)) / nets.width


@dataclass
class ReluTraining:
    """Full-batch GD of B two-layer relu networks on Φ = ½ Σ_i (u_i − y_i)² (Du et al. eq. 2).

    Attributes:
        eta: the step η.
        loss: Φ(W(k)) = ½‖u(k) − y‖², (B, K+1), k = 0…K.
        record_steps: steps at which the quantities below were recorded, (R,) int64.
        lambda_min: λ_min(H(W(k))) at the recorded steps, (B, R).
        flipped: fraction of pairs (i, r) whose sign 1{w_rᵀx_i ≥ 0} differed from that at k = 0
            at some step up to this one (Du et al.'s set S_i⊥ grows with it), (B, R).
        max_weight_change: max_r ‖w_r(k) − w_r(0)‖, (B, R) (Du et al. Lemma 3.3 bound R').
        gram_init: H(W(0)), (B, N, N).
        gram_final: H(W(K)), (B, N, N).
        outputs: u(K), (B, N).
        test_outputs: f(W(K), x_test), (B, N_test), or None.
        nets: the trained networks.
    """

    eta: float
    loss: torch.Tensor
    record_steps: torch.Tensor
    lambda_min: torch.Tensor
    flipped: torch.Tensor
    max_weight_change: torch.Tensor
    gram_init: torch.Tensor
    gram_final: torch.Tensor
    outputs: torch.Tensor
    test_outputs: torch.Tensor | None
    nets: ReluNets

    def steps_to(self, fraction: float) -> np.ndarray:
        """First step k at which Φ(k) ≤ ``fraction``·Φ(0), per network, (B,) (K+1 if never)."""
        below = (self.loss <= fraction * self.loss[:, :1]).numpy()
        return np.where(below.any(1), below.argmax(1), self.loss.shape[1]).astype(np.int64)


def train_relu_nets(nets: ReluNets, x, y, *, steps: int, eta: float, record_every: int = 10,
                    x_test=None) -> ReluTraining:
    """Full-batch gradient descent on Φ(W) = ½ Σ_i (f(W, x_i) − y_i)², only W trained (Du et al. §3).

    The gradient is analytic: ∂Φ/∂w_r = (a_r/√m) Σ_i (u_i − y_i) 1{w_rᵀx_i ≥ 0} x_i (Du et al.
    eq. 3). The step must be below the stability bound 2/λ_max(H(W(0))) of every network.

    Args:
        nets: B networks (not modified; copies are trained).
        x: training inputs on the unit sphere, (N, d).
        y: labels, (N,) shared or (B, N) one row per network.
        steps: GD steps K, >= 1.
        eta: step η, 0 < η < 2/λ_max(H(0)).
        record_every: record λ_min(H), flips and weight changes every this many steps (and at K).
        x_test: optional test inputs on the sphere, (N_test, d).

    Returns:
        ``ReluTraining``.

    Raises:
        ValueError: inputs off the sphere, mismatched shapes, a bad ``steps``/``record_every``,
            or η at or above the stability bound; ``FloatingPointError`` naming the step if the
            loss becomes NaN or infinite.
    """
    x = require_on_sphere(x, name="x", atol=1e-8)
    steps = check.positive_int("steps", steps)
    record_every = check.positive_int("record_every", record_every)
    b, m, d = nets.w.shape
    if x.shape[1] != d:
        raise ValueError(f"x must have d={d} columns (the networks' input dimension), got {x.shape[1]}")
    y = torch.as_tensor(y, dtype=torch.float64)
    y = y.expand(b, -1) if y.dim() == 1 else y
    if y.shape != (b, x.shape[0]):
        raise ValueError(f"y must have shape ({x.shape[0]},) or ({b}, {x.shape[0]}), got {tuple(y.shape)}")
    eta = check.finite_float("eta", eta, strictly_positive=True)
    gram0 = relu_net_gram(nets, x)
    bound = 2.0 / float(torch.linalg.eigvalsh(gram0)[:, -1].max())
    if eta >= bound:
        raise ValueError(f"eta={eta!r} is above the gradient-descent stability bound 2/λ_max(H(0)) = "
                         f"{bound:.6g} of these networks (summed loss); use eta < {bound:.6g}")
    w0 = nets.w.clone()
    w = w0.clone()
    s0 = torch.einsum("bmd,nd->bmn", w0, x) >= 0
    ever = torch.zeros_like(s0)
    scale = nets.a[:, :, None] / math.sqrt(m)                                         # (B, m, 1)
    readout = scale.transpose(1, 2)                                                     # (B, 1, m)
    xt = x.T.contiguous()
    losses = torch.empty(b, steps + 1, dtype=torch.float64)
    rec_steps, lam, flips, moves = [], [], [], []
    for k in range(steps + 1):
        pre = w @ xt                                                                   # (B, m, N)
        active = pre >= 0
        u = (readout @ pre.clamp_min(0.0))[:, 0]                                       # (B, N)
        r = u - y
        losses[:, k] = 0.5 * (r * r).sum(1)
        if not torch.isfinite(losses[:, k]).all():
            raise FloatingPointError(f"training diverged at step {k}: the loss is not finite (eta={eta})")
        ever |= active != s0
        if k % record_every == 0 or k == steps:
            current = ReluNets(w, nets.a)
            rec_steps.append(k)
            lam.append(torch.linalg.eigvalsh(relu_net_gram(current, x))[:, 0])
            flips.append(ever.to(torch.float64).mean((1, 2)))
            moves.append(torch.linalg.vector_norm(w - w0, dim=2).amax(1))
        if k < steps:
            w = w - (eta * scale) * ((active * r[:, None, :]) @ x)
    trained = ReluNets(w, nets.a)
    test = None if x_test is None else relu_net_output(trained, require_on_sphere(x_test, name="x_test", atol=1e-8))
    return ReluTraining(eta, losses, torch.tensor(rec_steps), torch.stack(lam, 1), torch.stack(flips, 1),
                        torch.stack(moves, 1), gram0, relu_net_gram(trained, x), u.clone(), test, trained)


def predicted_loss(gram, y, eta: float, steps, *, exponent: float = 2.0) -> torch.Tensor:
    """Arora et al. (2019) Theorem 4.1: ½‖y − u(k)‖² ≈ ½ Σ_i (1 − ηλ_i)^{2k} (v_iᵀ(y − u(0)))².

    (λ_i, v_i) are the eigenpairs of H∞; the residual of GD on the linearised model decays along
    each eigendirection by (1 − ηλ_i) per step. Here y stands for the initial residual y − u(0).

    Args:
        gram: H∞, (N, N).
        y: initial residuals, (N,) or (B, N).
        eta: step η.
        steps: steps k, (K,) integers.
        exponent: the power of (1 − ηλ_i) per step, 2 for the squared residual (the theorem);
            another value is a wrong prediction (tests/power).

    Returns:
        ½‖y − u(k)‖², (B, K) (B = 1 for a 1-D ``y``), float64.
    """
    lam, vec = torch.linalg.eigh(torch.as_tensor(gram, dtype=torch.float64))
    y = torch.as_tensor(y, dtype=torch.float64)
    proj2 = (torch.atleast_2d(y) @ vec) ** 2                                         # (B, N)
    k = torch.as_tensor(steps, dtype=torch.float64)
    decay = (1 - eta * lam)[None, :] ** (exponent * k[:, None])                              # (K, N)
    return 0.5 * proj2 @ decay.T
