"""Many independently initialised networks trained at once: batched full-batch gradient descent.

An ensemble of E networks of the same architecture (``MLP`` members with different seeds) is
stored as stacked weights W^l of shape (E, n_{l+1}, n_l) and run with batched matrix products,
so ten to a hundred networks train in about the time of a few. Each member follows exactly the
gradient-descent steps ``train_full_batch`` would take for it alone (the loss of the ensemble is
the sum of the members' losses, and no parameter is shared), on the MSE of Jacot et al.
(``normalization="mean"``: C = (1/2N) Σ_i (f(x_i) − y_i)²) or Lee et al.'s summed loss
(``"sum"``). Time is t = steps × η.

``readout_only=True`` trains the last weight layer (and its bias) only, leaving the features
fixed: the dynamics whose infinite-width limit is the NNGP posterior (Lee et al. 2019, §2.3,
eqs. S22–S23).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from . import _validation as check
from ._progress import progress_bar
from .dynamics import NORMALIZATIONS, check_learning_rate, flatten_output_kernel, gradient_descent_predict
from .empirical import empirical_ntk
from .models import MLP


@dataclass
class EnsembleRecord:
    """Outputs of E networks recorded at R steps (0 and the last always included).

    Attributes:
        steps: (R,) int64; t: (R,) float64 times steps × η.
        loss: (R, E) float64 training loss of every member.
        f_train: (R, E, N[, k]) outputs on the training inputs; f_test: (R, E, M[, k]) or None.
    All on the CPU (moved once, after training), whatever device the networks are on.
    """

    steps: torch.Tensor
    t: torch.Tensor
    loss: torch.Tensor
    f_train: torch.Tensor
    f_test: torch.Tensor | None


def _architecture(net: MLP) -> tuple:
    return (net.widths, net.activation.name, net.weight_multipliers, net.bias_multiplier, net.has_bias,
            next(net.parameters()).dtype, next(net.parameters()).device)


def readout_kernel(net: MLP, x1, x2=None) -> torch.Tensor:
    """Kernel of the last layer's parameters alone, J_L(x1) J_L(x2)ᵀ: (N, M) for scalar output.

    In NTK parameterisation this is (σ_w²/n) φ(h^{L-1}(x1))·φ(h^{L-1}(x2)) + σ_b², the empirical
    NNGP kernel of the output layer (Lee et al. 2019, §2.3). float64.
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


def _stack(nets: Sequence[MLP]) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    weights = [torch.stack([n.weights[l].detach() for n in nets]) for l in range(nets[0].depth)]  # new memory
    biases = None
    if nets[0].has_bias:
        biases = [torch.stack([n.biases[l].detach() for n in nets]) for l in range(nets[0].depth)]
    return weights, biases


def _forward(template: MLP, weights, biases, x: torch.Tensor) -> torch.Tensor:
    """(N, n0) -> (E, N, k) for stacked parameters."""
    a = x.expand(weights[0].shape[0], *x.shape)
    for l, w in enumerate(weights):
        h = template.weight_multipliers[l] * torch.bmm(a, w.transpose(1, 2))
        if biases is not None:
            h = h + template.bias_multiplier * biases[l][:, None, :]
        a = template.activation.fn(h) if l < template.depth - 1 else h
    return a


def train_ensemble(nets: Sequence[MLP], x_train, y_train, *, steps: int, eta: float, x_test=None,
                   record_steps: Sequence[int] | None = None, normalization: str = "mean",
                   readout_only: bool = False, check_stability: bool = True, chunk_size: int | None = None,
                   progress: bool | None = None) -> EnsembleRecord:
    """Full-batch gradient descent on MSE for every network in ``nets`` (none is modified).

    Args:
        nets: E ``MLP`` s of one architecture (same widths, activation, parameterisation, dtype,
            device), e.g. ``[MLP(..., seed=s) for s in range(E)]``.
        x_train (N, n0); y_train (N,) or (N, k), the same targets for every member; x_test (M, n0).
        steps: GD steps; eta: learning rate η (t = steps × η).
        record_steps: steps at which outputs are recorded (default: 0 and ``steps``).
        normalization: "mean" (½·mean over N, Jacot) or "sum" (½·sum, Lee et al.).
        readout_only: train only the last layer's weights and bias.
        check_stability: raise ``ValueError`` if η is not below 2/λ_max of any member's
            normalised empirical kernel at initialisation (NTK, or the readout kernel).
        chunk_size: members trained together (default: all); smaller chunks bound the memory.
        progress: show a progress bar (default: only when run interactively).
    Returns:
        ``EnsembleRecord``; outputs in the members' dtype, squeezed to (R, E, N) for k = 1.
    Raises:
        FloatingPointError: if a member's loss becomes NaN/Inf, naming the step and the member.
    """
    nets = list(nets)
    if not nets or not all(isinstance(n, MLP) for n in nets):
        raise ValueError(f"nets must be a non-empty sequence of ntkutils.MLP, got {type(nets).__name__} "
                         f"of length {len(nets)}")
    arch = _architecture(nets[0])
    if any(_architecture(n) != arch for n in nets[1:]):
        raise ValueError("nets must share one architecture (widths, activation, parameterisation, "
                         "bias, dtype, device)")
    steps = check.nonnegative_int("steps", steps)
    eta = check.finite_float("eta", eta, strictly_positive=True)
    normalization = check.choice("normalization", normalization, NORMALIZATIONS)
    template = nets[0]
    p0 = next(template.parameters())
    x_train = check.as_inputs("x_train", x_train, dtype=p0.dtype, device=p0.device, n0=template.n0)
    x_test = None if x_test is None else check.as_inputs("x_test", x_test, dtype=p0.dtype, device=p0.device,
                                                         n0=template.n0)
    n = x_train.shape[0]
    y = torch.as_tensor(y_train).to(dtype=p0.dtype, device=p0.device)
    y = y[:, None] if y.ndim == 1 else y
    if y.shape != (n, template.n_out) or not bool(torch.isfinite(y).all()):
        raise ValueError(f"y_train must be finite with shape ({n},) or ({n}, {template.n_out}), "
                         f"got {tuple(torch.as_tensor(y_train).shape)}")
    recorded = sorted({0, steps} | {check.nonnegative_int("record_steps", s) for s in (record_steps or ())})
    if recorded[-1] > steps:
        raise ValueError(f"record_steps must lie in [0, steps={steps}], got {recorded}")
    chunk = len(nets) if chunk_size is None else check.positive_int("chunk_size", chunk_size)
    if check_stability:
        for i, net in enumerate(nets):
            if readout_only and net.n_out != 1:
                raise ValueError("readout_only training is implemented for scalar outputs (n_out=1)")
            k = readout_kernel(net, x_train) if readout_only else flatten_output_kernel(empirical_ntk(net, x_train).double())
            try:
                check_learning_rate(eta, k * (k.shape[0] / n) if normalization == "mean" else k, normalization)
            except ValueError as err:
                raise ValueError(f"member {i}: {err}") from None

    scale = 1.0 / n if normalization == "mean" else 1.0
    parts = [_train_chunk(template, nets[lo:lo + chunk], lo, x_train, y, x_test, steps, eta, scale,
                          recorded, readout_only, progress) for lo in range(0, len(nets), chunk)]
    squeeze = (lambda t: t[..., 0]) if template.n_out == 1 else (lambda t: t)
    return EnsembleRecord(
        steps=torch.tensor(recorded, dtype=torch.int64),
        t=torch.tensor(recorded, dtype=torch.float64) * eta,
        loss=torch.cat([p[0] for p in parts], 1),
        f_train=squeeze(torch.cat([p[1] for p in parts], 1)),
        f_test=None if x_test is None else squeeze(torch.cat([p[2] for p in parts], 1)),
    )


def _train_chunk(template, nets, first, x_train, y, x_test, steps, eta, scale, recorded, readout_only, progress):
    weights, biases = _stack(nets)
    trained = [weights[-1]] + ([biases[-1]] if biases is not None else []) if readout_only else \
        weights + (biases or [])
    loss_rec, train_rec, test_rec = [], [], []
    for step in progress_bar(range(steps + 1), total=steps + 1, desc="ensemble GD", progress=progress):
        for p in trained:
            p.requires_grad_(True)
        out = _forward(template, weights, biases, x_train)                      # (E, N, k)
        losses = 0.5 * scale * ((out - y) ** 2).sum(dim=(1, 2))                 # (E,)
        bad = ~torch.isfinite(losses.detach())
        if bool(bad.any()):
            raise FloatingPointError(f"training diverged: member {first + int(bad.nonzero()[0])} has loss "
                                     f"{float(losses.detach()[bad][0])} at step {step} (eta={eta}); lower eta")
        if step in recorded:
            loss_rec.append(losses.detach().double())
            train_rec.append(out.detach().clone())
            if x_test is not None:
                with torch.no_grad():
                    test_rec.append(_forward(template, weights, biases, x_test))
        if step == steps:
            break
        grads = torch.autograd.grad(losses.sum(), trained)
        with torch.no_grad():
            for p, g in zip(trained, grads):
                p.sub_(eta * g)
    return (torch.stack(loss_rec).cpu(), torch.stack(train_rec).cpu(), torch.stack(test_rec).cpu() if test_rec else None)


def network_kernels(net: MLP, x1, x2=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The empirical NNGP (readout) kernel and empirical NTK of one scalar-output network, float64
    (N, M) each: the finite-width stand-ins for Σ^(L) and Θ^(L) (Jacot et al. 2018, §6, used a
    width-10000 network for their Fig. 2)."""
    return readout_kernel(net, x1, x2), empirical_ntk(net, x1, x2).double()


def linearized_ensemble(nets: Sequence[MLP], x_train, y_train, x_test, steps: Sequence[int], *, eta: float,
                        readout_only: bool = False, normalization: str = "mean") -> torch.Tensor:
    """Test outputs of every member's linearisation trained by full-batch GD, in closed form.

    Member e's linearised model f0 + J0(θ − θ0) trained with step η has, after k steps, the
    outputs of ``gradient_descent_predict`` with its own empirical NTK Θ̂_e at θ0 (Lee et al.
    2019, eq. 9, discrete time); with ``readout_only`` the kernel is the readout kernel and the
    result is exactly what training only the last layer of the network gives.

    Args:
        nets: E scalar-output ``MLP`` s; x_train (N, n0), y_train (N,), x_test (M, n0);
        steps: (R,) step counts.
    Returns:
        (R, E, M) float64.
    """
    out = []
    for net in nets:
        p = next(net.parameters())
        xs, xt = (check.as_inputs(name, v, dtype=p.dtype, device=p.device, n0=net.n0)
                  for name, v in (("x_train", x_train), ("x_test", x_test)))
        kern = readout_kernel if readout_only else (lambda n_, a, b=None: empirical_ntk(n_, a, b).double())
        with torch.no_grad():
            f0, g0 = net(xs)[:, 0].double(), net(xt)[:, 0].double()
        pred = gradient_descent_predict(kern(net, xs).cpu(), torch.as_tensor(y_train).double().cpu(), f0.cpu(),
                                        list(steps), eta=eta, ntk_test_train=kern(net, xt, xs).cpu(),
                                        f0_test=g0.cpu(), normalization=normalization)
        out.append(pred.test)
    return torch.stack(out, 1)


def network_kernel_fn(net: MLP):
    """``kernel_fn(x1, x2=None) -> (nngp, ntk)`` from one network's empirical kernels (inputs moved
    to the network's device and dtype; results float64 on the CPU): the finite-width stand-in for
    the limit used by Jacot et al. (2018) for their Fig. 2."""
    p = next(net.parameters())

    def kernel_fn(x1, x2=None):
        a = torch.as_tensor(x1).to(dtype=p.dtype, device=p.device)
        b = None if x2 is None else torch.as_tensor(x2).to(dtype=p.dtype, device=p.device)
        return tuple(k.cpu() for k in network_kernels(net, a, b))
    return kernel_fn


def ensemble_variants(nets: Sequence[MLP], x_train, y_train, x_test, steps: Sequence[int], *, eta: float,
                      chunk_size: int | None = None) -> dict[str, torch.Tensor]:
    """Test outputs of the same E networks trained three ways, each (E, R, M) float64 on the CPU at
    the R recorded ``steps``: ``"network"`` (all layers, ``train_ensemble``), ``"linearised"``
    (every member's linearisation, closed form) and ``"readout-trained"`` (last layer only, closed
    form, exact). Lee et al. (2019) compare the first two with the NTK-GP, the third with the NNGP."""
    p = next(nets[0].parameters())
    dev = lambda v: torch.as_tensor(v).to(dtype=p.dtype, device=p.device)  # noqa: E731
    trained = train_ensemble(nets, dev(x_train), dev(y_train), steps=max(steps), eta=eta, x_test=dev(x_test),
                             record_steps=steps, chunk_size=chunk_size)
    keep = [trained.steps.tolist().index(s) for s in steps]
    out = {"network": trained.f_test[keep].double()}
    for name, readout in (("linearised", False), ("readout-trained", True)):
        out[name] = linearized_ensemble(nets, dev(x_train), y_train, dev(x_test), steps, eta=eta, readout_only=readout)
    return {name: f.transpose(0, 1).contiguous() for name, f in out.items()}


SEED_STRIDE = 1_000_000
GROUP_STRIDE = 10_000


def member_seeds(seed: int, group: int, count: int) -> list[int]:
    """Seeds of ``count`` ensemble members, disjoint across data seeds and groups (widths, studies):
    ``seed·10⁶ + group·10⁴ + i``, i < count ≤ 10⁴, 0 ≤ group < 100. Unlike ``seed + 1000·n + i``,
    runs with seeds s and s + 1 share no network."""
    seed = check.nonnegative_int("seed", seed)
    group = check.nonnegative_int("group", group)
    count = check.positive_int("count", count)
    if group >= SEED_STRIDE // GROUP_STRIDE or count > GROUP_STRIDE:
        raise ValueError(f"group must be < {SEED_STRIDE // GROUP_STRIDE} and count <= {GROUP_STRIDE}, "
                         f"got group={group}, count={count}")
    return [seed * SEED_STRIDE + group * GROUP_STRIDE + i for i in range(count)]
