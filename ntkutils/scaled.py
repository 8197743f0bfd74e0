"""Output-scaled two-layer networks: the lazy and the rich regime.

Chizat, Oyallon & Bach, *On Lazy Training in Differentiable Programming*, NeurIPS 2019
(arXiv:1812.07956): train τ·h(w) on the loss R(τh)/τ². As τ → ∞ the trajectory approaches that
of the linearised model (kernel regression with the tangent kernel at initialisation), with
deviations O(1/τ); the weights move by O(1/τ). Geiger, Spigler, Jacot & Wyart, *Disentangling
feature and lazy training in deep neural networks*, J. Stat. Mech. 2020 (arXiv:1906.08034):
with F = α(h(w) − h(w₀)) and the NTK parameterisation, the lazy/feature crossover is at α√h ~ 1.

One batch holds B independent networks of the same width m (a scale, a seed each):

    h_b(x) = (1/√m) Σ_j a_bj · φ(σ_w ⟨w_bj, x⟩/√n0 + σ_b c_bj),   φ = relu unless chosen,

with all weights i.i.d. N(0, 1) (NTK parameterisation, the same as ``MLP(depth=2)``). The
model trained is f_b = τ_b·(h_b(w) − h_b(w₀)) (centred) or τ_b·h_b(w) (for a symmetrised
initialisation, whose h_b(w₀) = 0), on L_b = (1/(2Nτ_b²)) Σ_n (f_b(x_n) − y_n)² (½·mean).
Float64 throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ._progress import progress_bar
from .activations import get_activation
from ._validation import finite_float, positive_int

__all__ = ["ScaledTraining", "TwoLayerNets", "two_layer_forward", "two_layer_nets", "two_layer_ntk",
           "train_output_scaled"]


@dataclass(frozen=True)
class TwoLayerNets:
    """A batch of B two-layer relu networks of width m (NTK parameterisation).

    Attributes:
        w: (B, m, n0) first-layer weights.
        c: (B, m) first-layer biases, or None (no bias).
        a: (B, m) readout weights.
        sigma_w: weight scale σ_w of the first layer.
        sigma_b: bias scale σ_b (0.0 without bias).
        activation: the hidden nonlinearity φ (a name of the ``activations`` registry).
    """

    w: torch.Tensor
    c: torch.Tensor | None
    a: torch.Tensor
    sigma_w: float
    sigma_b: float
    activation: str = "relu"

    @property
    def params(self) -> list[torch.Tensor]:
        """The trainable tensors: [w, c, a] or [w, a]."""
        return [t for t in (self.w, self.c, self.a) if t is not None]

    def flat(self) -> torch.Tensor:
        """(B, P) all parameters of each network in one row."""
        return torch.cat([t.reshape(t.shape[0], -1) for t in self.params], dim=1)


def two_layer_nets(n_nets: int, n0: int, width: int, *, sigma_w: float = 1.0, sigma_b: float | None = None,
                   activation: str = "relu", symmetric: bool = False, seed: int = 0,
                   dtype: torch.dtype = torch.float64) -> TwoLayerNets:
    """Draw B two-layer networks with i.i.d. N(0, 1) weights.

    Args:
        n_nets: number of networks B.
        n0: input dimension.
        width: hidden width m (even when ``symmetric``).
        sigma_w: first-layer weight scale σ_w > 0.
        sigma_b: bias scale σ_b > 0, or None for no bias.
        activation: the hidden nonlinearity (relu, erf, tanh, …; ``activations`` registry).
        symmetric: Chizat et al.'s symmetrised initialisation: units m/2…m−1 copy the input
            weights and biases of units 0…m/2−1 and negate their readout, so h(w₀) = 0.
        seed: seed of the torch generator.
        dtype: floating dtype (float64 for the studies).

    Returns:
        A ``TwoLayerNets``.

    Raises:
        ValueError: non-positive sizes, an odd width with ``symmetric``, bad scales, an unknown
            activation.
    """
    get_activation(activation)
    b, n0, m = positive_int("n_nets", n_nets), positive_int("n0", n0), positive_int("width", width)
    sigma_w = finite_float("sigma_w", sigma_w, strictly_positive=True)
    if sigma_b is not None:
        sigma_b = finite_float("sigma_b", sigma_b, strictly_positive=True)
    if symmetric and m % 2:
        raise ValueError(f"width must be even for a symmetrised initialisation, got {width}")
    g = torch.Generator().manual_seed(int(seed))
    half = m // 2 if symmetric else m
    w = torch.randn(b, half, n0, generator=g, dtype=dtype)
    c = torch.randn(b, half, generator=g, dtype=dtype) if sigma_b is not None else None
    a = torch.randn(b, half, generator=g, dtype=dtype)
    if symmetric:
        w, a = torch.cat([w, w], 1), torch.cat([a, -a], 1)
        c = torch.cat([c, c], 1) if c is not None else None
    return TwoLayerNets(w, c, a, sigma_w, 0.0 if sigma_b is None else sigma_b, activation)


def _pre(nets: TwoLayerNets, x: torch.Tensor) -> torch.Tensor:
    pre = nets.sigma_w * torch.einsum("nd,bmd->bnm", x, nets.w) / math.sqrt(x.shape[1])
    return pre if nets.c is None else pre + nets.sigma_b * nets.c[:, None, :]


def two_layer_forward(nets: TwoLayerNets, x: torch.Tensor) -> torch.Tensor:
    """h_b(x_n) for every network b and input n.

    Args:
        nets: the batch of B networks.
        x: (N, n0) inputs, the networks' dtype.

    Returns:
        (B, N) outputs.
    """
    act = get_activation(nets.activation).fn(_pre(nets, x))
    return torch.einsum("bnm,bm->bn", act, nets.a) / math.sqrt(nets.a.shape[1])


def two_layer_ntk(nets: TwoLayerNets, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    """The empirical NTK of each network, in closed form.

    Θ_b(x, x′) = (1/m) Σ_j [φ(p_j) φ(p′_j) + a_j² φ′(p_j) φ′(p′_j) (σ_w²⟨x, x′⟩/n0 + σ_b²)],
    p_j the pre-activation of unit j (the readout, then the first-layer weights and biases;
    for relu φ′ is the step 1{p > 0}).

    Args:
        nets: the batch of B networks.
        x1: (N, n0) inputs; x2: (M, n0) inputs (default x1).

    Returns:
        (B, N, M) kernels of h (not of τh: multiply by τ² for the scaled model).
    """
    x2 = x1 if x2 is None else x2
    p1, p2 = _pre(nets, x1), _pre(nets, x2)
    m, n0 = nets.a.shape[1], x1.shape[1]
    phi = get_activation(nets.activation)
    (f1, d1), (f2, d2) = phi.fn_and_derivative(p1), phi.fn_and_derivative(p2)
    readout = torch.einsum("bnm,bkm->bnk", f1, f2)
    gates = torch.einsum("bnm,bkm->bnk", d1 * nets.a[:, None, :] ** 2, d2)
    inner = nets.sigma_w ** 2 * (x1 @ x2.T) / n0 + nets.sigma_b ** 2
    return (readout + gates * inner) / m


@dataclass(frozen=True)
class ScaledTraining:
    """Networks f_b = τ_b(h_b(w) − h_b(w₀)) (or τ_b·h_b(w) when not centred) trained by full-batch
    GD on ½·mean squared loss / τ_b².

    Attributes:
        scales: (B,) τ_b.
        initial: the networks at initialisation.
        final: the networks after training.
        train_output: (B, N) f_b on the training inputs after training.
        test_output: (B, M) f_b on the test inputs after training, or None.
        train_loss: (B,) final ½·mean squared error of f_b (not divided by τ²).
        test_loss: (B,) final ½·mean squared error on the test set, or None.
        best_test_loss: (B,) the smallest test loss over the recorded steps, or None.
        weight_change: (B,) ‖w_T − w₀‖/‖w₀‖ over all parameters.
    """

    scales: torch.Tensor
    initial: TwoLayerNets
    final: TwoLayerNets
    train_output: torch.Tensor
    test_output: torch.Tensor | None
    train_loss: torch.Tensor
    test_loss: torch.Tensor | None
    best_test_loss: torch.Tensor | None
    weight_change: torch.Tensor


def train_output_scaled(nets: TwoLayerNets, scales, x_train: torch.Tensor, y_train: torch.Tensor, *,
                        steps: int, eta, x_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None,
                        center: bool = True, record_every: int = 50) -> ScaledTraining:
    """Train each network b on L_b = (1/(2Nτ_b²)) Σ_n (τ_b(h_b(x_n) − h_b⁰(x_n)) − y_n)² by GD.

    With this loss the linearised dynamics do not depend on τ (the tangent kernel of τh is τ²Θ
    and the loss divides by τ²): the lazy limit τ → ∞ is kernel regression with Θ at w₀ and
    step ``eta`` (``gradient_descent_predict``), for every τ.

    Args:
        nets: B networks at initialisation (not modified).
        scales: (B,) output scales τ_b > 0.
        x_train: (N, n0) inputs; y_train: (N,) or (B, N) targets.
        steps: number of GD steps.
        eta: step size, a float or (B,) per network. For τ_b ≥ 1 a step below 2N/λ_max(Θ_b)
            is stable; a small τ needs a step ∝ τ (the loss's curvature grows like 1/τ there).
        x_test: (M, n0) test inputs, or None; y_test: (M,) or (B, M) targets.
        center: subtract h_b(w₀) (False for a symmetrised initialisation).
        record_every: evaluate the test loss every this many steps (for ``best_test_loss``).

    Returns:
        A ``ScaledTraining``.

    Raises:
        ValueError: bad shapes, scales or steps; a step above the stability bound 2N/λ_max of
            the tangent kernel at initialisation; non-finite outputs during training (naming
            the step).
    """
    steps, record_every = positive_int("steps", steps), positive_int("record_every", record_every)
    dtype = nets.a.dtype
    tau = torch.as_tensor(scales, dtype=dtype).reshape(-1)
    if tau.shape[0] != nets.a.shape[0] or not bool(torch.all(torch.isfinite(tau) & (tau > 0))):
        raise ValueError(f"scales must be {nets.a.shape[0]} positive numbers, got {scales!r}")
    eta_t = torch.as_tensor(eta, dtype=dtype).reshape(-1).expand(tau.shape[0]).clone()
    if not bool(torch.all(torch.isfinite(eta_t) & (eta_t > 0))):
        raise ValueError(f"eta must be positive, got {eta!r}")
    n = x_train.shape[0]
    lam = torch.linalg.eigvalsh(two_layer_ntk(nets, x_train))[:, -1]
    bound = 2 * n / lam
    if bool(torch.any(eta_t >= bound)):
        b = int(torch.argmax(eta_t / bound))
        raise ValueError(f"eta={float(eta_t[b]):.4g} for network {b} is above the stability bound "
                         f"2N/lambda_max = {float(bound[b]):.4g} of its tangent kernel; use a smaller eta")
    y = y_train.to(dtype).expand(tau.shape[0], n)
    yt = None if y_test is None else y_test.to(dtype).expand(tau.shape[0], x_test.shape[0])
    with torch.no_grad():
        h0 = two_layer_forward(nets, x_train) if center else torch.zeros_like(y)
        h0_test = None
        if x_test is not None:
            h0_test = two_layer_forward(nets, x_test) if center else torch.zeros(tau.shape[0], x_test.shape[0], dtype=dtype)
    params = [t.detach().clone().requires_grad_(True) for t in nets.params]

    def current() -> TwoLayerNets:
        it = iter(params)
        w = next(it)
        c = next(it) if nets.c is not None else None
        return replace(nets, w=w, c=c, a=next(it))

    def test_loss() -> torch.Tensor | None:
        if x_test is None or yt is None:
            return None
        f = tau[:, None] * (two_layer_forward(current(), x_test) - h0_test)
        return 0.5 * ((f - yt) ** 2).mean(1)

    best = None
    for step in progress_bar(range(steps), desc="scaled nets", total=steps):
        f = tau[:, None] * (two_layer_forward(current(), x_train) - h0)
        loss = (0.5 * ((f - y) ** 2).mean(1) / tau ** 2).sum()
        if not bool(torch.isfinite(loss)):
            raise ValueError(f"train_output_scaled: non-finite loss at step {step} (scales {tau.tolist()}); "
                             "use a smaller eta")
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= eta_t.reshape(-1, *([1] * (p.dim() - 1))) * g
            if step % record_every == 0:
                tl = test_loss()
                if tl is not None:
                    best = tl if best is None else torch.minimum(best, tl)
    with torch.no_grad():
        final = current()
        final = replace(final, w=final.w.detach(), c=None if final.c is None else final.c.detach(), a=final.a.detach())
        f_train = tau[:, None] * (two_layer_forward(final, x_train) - h0)
        f_test = None if x_test is None else tau[:, None] * (two_layer_forward(final, x_test) - h0_test)
        train_loss = 0.5 * ((f_train - y) ** 2).mean(1)
        tl = None if f_test is None or yt is None else 0.5 * ((f_test - yt) ** 2).mean(1)
        if tl is not None:
            best = tl if best is None else torch.minimum(best, tl)
        w0 = nets.flat()
        change = torch.linalg.norm(final.flat() - w0, dim=1) / torch.linalg.norm(w0, dim=1)
    return ScaledTraining(tau, nets, final, f_train, f_test, train_loss, tl, best, change)
