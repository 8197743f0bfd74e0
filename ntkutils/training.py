"""Training one network, or its linearisation around θ₀, by gradient descent on MSE.

``train_network`` does full-batch GD, minibatch SGD and heavy-ball momentum (``train_full_batch``
is its deprecated old name). The preparation of targets, the recorded steps and the stability
check used here and by ``ensembles.train_ensemble`` are ``prepare_targets``,
``record_schedule`` and ``check_gd_stability``.

Loss (Jacot et al. 2018): C(θ) = (1/2N) Σ_i ‖f_θ(x_i) − y_i‖² (``normalization="mean"``), or the
summed loss ½ Σ_i ‖·‖² of Lee et al. 2019 (``"sum"``). One step is θ ← θ − η ∇_θ C, and time is
t = steps × η. The linearised model (Lee et al. 2019, eq. 6) is

    f^lin_θ(x) = f_{θ₀}(x) + J_{θ₀}(x)(θ − θ₀),

evaluated with ``torch.func.jvp`` around θ₀; its gradient J_{θ₀}(X)ᵀ r comes from one
``torch.func.vjp`` at θ₀ reused for every step. Both models take identical steps.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _validation as check
from ._progress import progress_bar
from .dynamics import NORMALIZATIONS, check_learning_rate, flatten_output_kernel
from .empirical import empirical_ntk, readout_kernel
from .models import PARAMETERIZATIONS


@dataclass
class TrainingRecord:
    """What was recorded at ``steps`` (R recorded steps, increasing, including 0 and the last).

    Attributes:
        steps: (R,) int64 step indices; ``t`` (R,) float64 times steps × η.
        loss: (R,) training loss (normalisation as requested).
        f_train: (R, N[, k]) outputs on the training inputs; f_test: (R, M[, k]) or None.
        param_change: (R,) ‖θ_t − θ₀‖ / ‖θ₀‖ over all parameters.
        layer_change: {parameter name: (R,) ‖θ^l_t − θ^l_0‖_F / ‖θ^l_0‖_F}.
        ntk: {step: empirical NTK on ``ntk_inputs``} for the requested ``ntk_steps``.
        params: the final parameters {name: tensor} (θ_T for both models).

    Recorded outputs and NTK snapshots are returned on the CPU (moved once, after training);
    ``params`` stay on the network's device.
    """

    steps: torch.Tensor
    t: torch.Tensor
    loss: torch.Tensor
    f_train: torch.Tensor
    f_test: torch.Tensor | None
    param_change: torch.Tensor
    layer_change: dict[str, torch.Tensor]
    ntk: dict[int, torch.Tensor] = field(default_factory=dict)
    params: dict[str, torch.Tensor] = field(default_factory=dict)


def record_schedule(steps: int, record_steps: Sequence[int] | None = None,
                    record_every: int | None = None) -> list[int]:
    """The increasing list of steps at which a training run records its outputs.

    Args:
        steps: the number of GD steps T (validated by the caller).
        record_steps: steps to record, each a non-negative int <= T; 0 and T are added.
        record_every: with ``record_steps=None``, record every ``record_every``-th step
            (and T); ``None``: 0 and T only.

    Returns:
        Sorted list of distinct ints in [0, T], always holding 0 and T.

    Raises:
        ValueError: if a step is not an int in [0, T], or ``record_every`` is not a positive int.
    """
    if record_steps is not None:
        chosen = sorted({check.nonnegative_int("record_steps", s) for s in record_steps} | {0, steps})
        if chosen[-1] > steps:
            raise ValueError(f"record_steps must lie in [0, steps={steps}], got {[s for s in chosen if s > steps]}")
        return chosen
    if record_every is None:
        return sorted({0, steps})
    every = check.positive_int("record_every", record_every)
    return sorted(set(range(0, steps + 1, every)) | {steps})


def prepare_targets(y_train, n: int, k: int, *, dtype: torch.dtype,
                    device: torch.device | str | None) -> torch.Tensor:
    """Training targets as an (N, k) tensor of the network's dtype and device.

    Args:
        y_train: array-like (N,) (scalar outputs) or (N, k).
        n: the number of training points N; k: the network's number of outputs.
        dtype, device: those of the network's parameters.

    Returns:
        (N, k) tensor of ``dtype`` on ``device``.

    Raises:
        ValueError: if the shape does not match or an entry is NaN/Inf.
    """
    y = torch.as_tensor(y_train).to(dtype=dtype, device=device)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (n, k):
        raise ValueError(f"y_train must have shape ({n},) or ({n}, {k}) to match the "
                         f"network's outputs, got {tuple(torch.as_tensor(y_train).shape)}")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("y_train contains NaN or Inf entries")
    return y


def check_gd_stability(net: nn.Module, x_train: torch.Tensor, eta: float, normalization: str, *,
                       momentum: float = 0.0, readout_only: bool = False) -> None:
    """Refuse a learning rate at which GD on the linearised model diverges.

    Full-batch (heavy-ball) GD on f^lin with step η and momentum μ is stable iff
    η < 2(1 + μ)/λ_max of the normalised kernel Θ̂/N (``"mean"``) or Θ̂ (``"sum"``), Θ̂ the
    empirical NTK at the current parameters (Lee et al. 2019, §2.4, eq. 9 discrete time), or
    the readout kernel when only the last layer is trained. For k outputs the kernel is the
    (N·k, N·k) ``dynamics.flatten_output_kernel`` with the N-point normalisation.

    Args:
        net: the network (any ``nn.Module`` for the NTK; an ``MLP`` for ``readout_only``).
        x_train: (N, n0) inputs in the network's dtype and device.
        eta: learning rate η; normalization: "mean" or "sum".
        momentum: μ in [0, 1).
        readout_only: use ``empirical.readout_kernel`` (scalar outputs) instead of the NTK.

    Raises:
        ValueError: if η/(1 + μ) is not below 2/λ_max (from ``dynamics.check_learning_rate``).
    """
    n = x_train.shape[0]
    k = readout_kernel(net, x_train) if readout_only else flatten_output_kernel(empirical_ntk(net, x_train).double())
    check_learning_rate(eta / (1 + momentum), k * (k.shape[0] / n if normalization == "mean" else 1.0),
                        normalization)


def train_network(net: nn.Module, x_train, y_train, *, steps: int, eta: float, x_test=None,
                  linearized: bool = False, record_every: int | None = 1,
                  record_steps: Sequence[int] | None = None, ntk_steps: Sequence[int] = (),
                  ntk_inputs=None, normalization: str = "mean", check_stability: bool = True,
                  momentum: float = 0.0, batch_size: int | None = None, seed: int = 0,
                  progress: bool | None = None) -> TrainingRecord:
    """Train a copy of ``net`` (or its linearisation around the current parameters) by
    gradient descent on MSE — full batch by default, minibatch SGD with ``batch_size`` — with
    optional heavy-ball momentum. ``net`` itself is not modified.

    The loss is C(θ) = (1/2N) Σ_i ‖f_θ(x_i) − y_i‖² (Jacot et al. 2018) or ½ Σ_i ‖·‖² (Lee et
    al. 2019); the linearised model is f^lin_θ = f_{θ₀} + J_{θ₀}(θ − θ₀) (Lee et al. 2019, eq. 6),
    and both take the steps θ ← θ − η v, v ← μ v + ∇C.

    Args:
        net: a network mapping (N, n0) to (N, k) (e.g. ``ntkutils.MLP``).
        x_train: (N, n0); y_train: (N,) or (N, k); x_test: (M, n0), optional. Converted to
            the network's dtype and device.
        steps: number of GD steps T; eta: learning rate η (time t = steps × η).
        linearized: train f^lin instead of the network.
        record_every / record_steps: which steps to record (0 and ``steps`` always are;
            ``record_steps`` wins, see ``record_schedule``).
        ntk_steps: steps at which to store the empirical NTK on ``ntk_inputs`` (default x_train);
            network training only (the linearised model's NTK is constant).
        normalization: "mean" (½·mean over N, Jacot) or "sum" (½·sum, Lee et al.).
        check_stability: raise ``ValueError`` if η ≥ 2(1 + μ)/λ_max of the normalised empirical
            NTK at initialisation (the stability bound of full-batch (heavy-ball) GD on the
            linearised model; for minibatch SGD a necessary condition only).
        momentum: μ in v ← μ v + ∇C, θ ← θ − η v (PyTorch's SGD convention), 0 ≤ μ < 1.
        batch_size: minibatch size B (None: full batch). Each epoch visits the training points
            once in an order drawn from ``seed``; the step's loss is the same normalisation over
            the batch (½·mean over B, or ½·sum). Recorded losses are always on the full set.
        progress: show a progress bar (default: only when run interactively).

    Returns:
        ``TrainingRecord``: outputs in the network's dtype on the CPU, squeezed to (R, N) for
        k = 1; losses and parameter changes float64.

    Raises:
        ValueError: for a bad argument, malformed data, or (``check_stability``) an η above
            the stability bound.
        FloatingPointError: if the loss becomes NaN/Inf, naming the step.
    """
    steps = check.nonnegative_int("steps", steps)
    eta = check.finite_float("eta", eta, strictly_positive=True)
    normalization = check.choice("normalization", normalization, NORMALIZATIONS)
    if linearized and ntk_steps:
        raise ValueError("ntk_steps is only for network training: the linearised model's NTK is "
                         f"constant (got ntk_steps={list(ntk_steps)!r} with linearized=True)")
    p0 = next(net.parameters())
    n0 = getattr(net, "n0", None)
    x_train = check.as_inputs("x_train", x_train, dtype=p0.dtype, device=p0.device, n0=n0)
    x_test = None if x_test is None else check.as_inputs("x_test", x_test, dtype=p0.dtype,
                                                         device=p0.device, n0=x_train.shape[1])
    ntk_x = x_train if ntk_inputs is None else check.as_inputs("ntk_inputs", ntk_inputs, dtype=p0.dtype,
                                                                device=p0.device, n0=x_train.shape[1])
    n = x_train.shape[0]
    scale = 1.0 / n if normalization == "mean" else 1.0
    momentum = check.finite_float("momentum", momentum, minimum=0.0)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    batches = _batch_schedule(n, batch_size, steps, check.nonnegative_int("seed", seed))
    recorded = record_schedule(steps, record_steps, 1 if record_every is None else record_every)
    ntk_at = {check.nonnegative_int("ntk_steps", s) for s in ntk_steps}
    if any(s > steps for s in ntk_at):
        raise ValueError(f"ntk_steps must lie in [0, steps={steps}], got {sorted(ntk_at)}")

    model = copy.deepcopy(net)
    params = {name: p.detach().clone() for name, p in model.named_parameters()}
    theta0 = {name: p.clone() for name, p in params.items()}

    def f(p, x):
        return torch.func.functional_call(model, p, (x,))

    with torch.no_grad():
        f0_train = f(theta0, x_train)
    y = prepare_targets(y_train, n, f0_train.shape[-1], dtype=f0_train.dtype, device=f0_train.device)
    if check_stability:
        check_gd_stability(model, x_train, eta, normalization, momentum=momentum)

    if linearized:
        _, vjp_train = torch.func.vjp(lambda p: f(p, x_train), theta0)
        delta = {name: torch.zeros_like(p) for name, p in theta0.items()}
        f0_test = None if x_test is None else f(theta0, x_test).detach()

        def outputs(x, f0x):
            return f0x + torch.func.jvp(lambda p: f(p, x), (theta0,), (delta,))[1]

        def current():
            return {name: theta0[name] + delta[name] for name in theta0}

    velocity = {name: torch.zeros_like(p) for name, p in theta0.items()}

    def step_direction(grads: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        for name, g in grads.items():
            velocity[name] = momentum * velocity[name] + g if momentum else g
        return velocity

    rec: dict[str, list] = {"loss": [], "f_train": [], "f_test": [], "change": [], "layers": []}
    snapshots: dict[int, torch.Tensor] = {}
    norm0 = torch.sqrt(sum((p.double() ** 2).sum() for p in theta0.values()))

    def record(step: int, out_train: torch.Tensor, loss: torch.Tensor, p_now: dict[str, torch.Tensor]):
        rec["loss"].append(float(loss.detach()))
        rec["f_train"].append(out_train.detach().clone())
        if x_test is not None:
            with torch.no_grad():
                rec["f_test"].append(outputs(x_test, f0_test) if linearized else f(p_now, x_test))
        diffs = {name: (p_now[name].detach() - theta0[name]).double() for name in theta0}
        rec["change"].append(float(torch.sqrt(sum((d ** 2).sum() for d in diffs.values())) / norm0))
        rec["layers"].append({name: float(d.norm() / theta0[name].double().norm().clamp_min(1e-300))
                              for name, d in diffs.items()})

    for step in progress_bar(range(steps + 1), total=steps + 1, desc="GD", progress=progress):
        if linearized:
            with torch.no_grad():
                out = outputs(x_train, f0_train)
        else:
            for p in params.values():
                p.requires_grad_(True)
            out = f(params, x_train)
        resid = out - y
        loss = 0.5 * scale * (resid ** 2).sum()
        if not bool(torch.isfinite(loss.detach())):
            raise FloatingPointError(f"training diverged: the loss is {float(loss.detach())} at step {step} "
                                     f"(eta={eta}); lower eta")
        if step in recorded:
            record(step, out, loss, current() if linearized else params)
        if step in ntk_at:
            snapshots[step] = empirical_ntk(_with_params(model, params), ntk_x)
        if step == steps:
            break
        weight = _batch_weights(batches, step, resid, normalization)
        if linearized:
            direction = step_direction(vjp_train((scale if weight is None else weight) * resid)[0])
            for name in delta:
                delta[name] -= eta * direction[name]
        else:
            batch_loss = loss if weight is None else 0.5 * (weight * resid ** 2).sum()
            grads = dict(zip(params, torch.autograd.grad(batch_loss, list(params.values()))))
            direction = step_direction(grads)
            with torch.no_grad():
                params = {name: (p - eta * direction[name]).detach() for name, p in params.items()}

    final = current() if linearized else {k: v.detach() for k, v in params.items()}
    return TrainingRecord(
        steps=torch.tensor(recorded, dtype=torch.int64),
        t=torch.tensor(recorded, dtype=torch.float64) * eta,
        loss=torch.tensor(rec["loss"], dtype=torch.float64),
        f_train=_squeeze(torch.stack(rec["f_train"])).cpu(),
        f_test=_squeeze(torch.stack(rec["f_test"])).cpu() if rec["f_test"] else None,
        param_change=torch.tensor(rec["change"], dtype=torch.float64),
        layer_change={name: torch.tensor([r[name] for r in rec["layers"]], dtype=torch.float64)
                      for name in theta0},
        ntk={step: k.cpu() for step, k in snapshots.items()},
        params=final,
    )


def train_full_batch(net: nn.Module, x_train, y_train, **kwargs) -> TrainingRecord:
    """Deprecated alias of ``train_network`` (its name before it also did minibatch SGD and
    momentum), kept for one release: same arguments, same results. Use ``train_network``."""
    return train_network(net, x_train, y_train, **kwargs)


def _batch_schedule(n: int, batch_size: int | None, steps: int, seed: int) -> list[torch.Tensor] | None:
    """Index sets of the ``steps`` minibatches: epochs of a seeded random order, cut in chunks."""
    if batch_size is None:
        return None
    batch_size = check.positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of training points {n}, got {batch_size}")
    gen = torch.Generator().manual_seed(seed)
    schedule: list[torch.Tensor] = []
    while len(schedule) < steps:
        order = torch.randperm(n, generator=gen)
        schedule += list(order.split(batch_size))
    return schedule[:steps]


def _batch_weights(batches, step: int, resid: torch.Tensor, normalization: str) -> torch.Tensor | None:
    """Per-point loss weights of this step's minibatch, shape (N, 1); None for full batch."""
    if batches is None:
        return None
    idx = batches[step]
    weight = torch.zeros(resid.shape[0], 1, dtype=resid.dtype, device=resid.device)
    weight[idx.to(resid.device)] = 1.0 / len(idx) if normalization == "mean" else 1.0
    return weight


def _squeeze(out: torch.Tensor) -> torch.Tensor:
    """(R, N, 1) -> (R, N) for scalar outputs."""
    return out[..., 0] if out.shape[-1] == 1 else out


def _with_params(model: nn.Module, params: dict[str, torch.Tensor]) -> nn.Module:
    """Load ``params`` into ``model`` (a private copy) so the fast empirical NTK can use it."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name])
    return model


def width_scaled_learning_rate(eta: float, width: int, parameterization: str) -> float:
    """The learning rate that gives a network of ``width`` the same dynamics in both
    parameterisations: ``eta`` in NTK parameterisation, ``eta / width`` in standard
    parameterisation, whose NTK is ``width`` times larger (Lee et al. 2019, §2.3 and App. F;
    Θ_SP(n) = n A + B). Raises ``ValueError`` for a bad ``eta``, ``width`` or parameterisation.
    """
    eta = check.finite_float("eta", eta, strictly_positive=True)
    width = check.positive_int("width", width)
    check.choice("parameterization", parameterization, PARAMETERIZATIONS)
    return eta / width if parameterization == "standard" else eta


@dataclass(frozen=True)
class NTKChange:
    """The empirical NTK of one network before and after training (``train_ntk_change``).

    Attributes:
        initial: (G, G) Θ̂_0 on the kernel inputs; final: (G, G) Θ̂_T (network dtype, CPU).
        loss: the final training loss (½·mean over N); t: the final time T × η.
    """

    initial: torch.Tensor
    final: torch.Tensor
    loss: float
    t: float

    @property
    def ntk(self) -> dict[float, torch.Tensor]:
        """``{0.0: Θ̂_0, t: Θ̂_T}``, the kernels by training time."""
        return {0.0: self.initial, self.t: self.final}

    @property
    def change(self) -> float:
        """‖Θ̂_T − Θ̂_0‖_F / ‖Θ̂_0‖_F (``stats.relative_frobenius_error``)."""
        from .stats import relative_frobenius_error
        return relative_frobenius_error(self.final, self.initial)

    def relative_inflation(self, row: int, reference: torch.Tensor) -> float:
        """mean_j (Θ̂_T − Θ̂_0)[row, j] / mean_j reference[row, j]: how much training moved
        (inflated) the kernel slice Θ̂(x_row, ·), relative to the mean of the reference slice."""
        return float((self.final - self.initial)[row].mean() / reference[row].mean())


def train_ntk_change(net: nn.Module, x_train, y_train, ntk_inputs, *, steps: int,
                     eta: float) -> NTKChange:
    """Train ``net`` by full-batch GD on the loss (1/2N) Σ_i (f(x_i) − y_i)² for ``steps``
    steps and return its empirical NTK on ``ntk_inputs`` at step 0 and at the last step
    (Jacot et al. 2018, Fig. 1: the kernel before and after training).

    Args:
        net: a network mapping (N, n0) to (N, 1), e.g. ``MLP`` (not modified).
        x_train: (N, n0) inputs; y_train: (N,) targets; ntk_inputs: (G, n0) kernel inputs.
        steps: number of GD steps T >= 1; eta: learning rate η (for standard
            parameterisation pass ``width_scaled_learning_rate``).

    Returns:
        ``NTKChange(initial, final, loss, t)``: Θ̂_0 and Θ̂_T of shape (G, G), the final loss
        and t = T × η as floats.

    Raises:
        ValueError: ``steps`` < 1, or any argument ``train_network`` rejects.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    rec = train_network(net, x_train, y_train, steps=steps, ntk_inputs=ntk_inputs, eta=eta,
                        ntk_steps=[0, steps], record_steps=[0, steps])
    return NTKChange(rec.ntk[0], rec.ntk[steps], float(rec.loss[-1]), float(rec.t[-1]))
