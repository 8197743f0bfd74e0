"""Many independently initialised networks trained at once: batched full-batch gradient descent.

This module's one job is training (and, in closed form, linearising) ensembles; the empirical
kernels of one network (``readout_kernel``, ``network_kernels``, ``network_kernel_fn``) live in
``ntkutils.empirical``.

An ensemble of E networks of the same architecture (``MLP`` members with different seeds) is
stored as stacked weights W^l of shape (E, n_{l+1}, n_l) and run with batched matrix products,
so ten to a hundred networks train in about the time of a few. Each member follows the
gradient-descent steps ``training.train_network`` would take for it alone, up to the rounding
of batched matrix products (the loss of the ensemble is the sum of the members' losses, and no
parameter is shared), on the MSE of Jacot et al.
(``normalization="mean"``: C = (1/2N) Σ_i (f(x_i) − y_i)²) or Lee et al.'s summed loss
(``"sum"``). Time is t = steps × η. The forward pass is ``models.forward`` with stacked
weights; targets, recorded steps and the stability check are those of ``training``.

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
from .dynamics import NORMALIZATIONS, gradient_descent_predict
from .empirical import empirical_ntk, readout_kernel
from .models import MLP, forward
from .training import check_gd_stability, prepare_targets, record_schedule


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


def _stack(nets: Sequence[MLP]) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    weights = [torch.stack([n.weights[l].detach() for n in nets]) for l in range(nets[0].depth)]  # new memory
    biases = None
    if nets[0].has_bias:
        biases = [torch.stack([n.biases[l].detach() for n in nets]) for l in range(nets[0].depth)]
    return weights, biases


def train_ensemble(nets: Sequence[MLP], x_train, y_train, *, steps: int, eta: float, x_test=None,
                   record_steps: Sequence[int] | None = None, normalization: str = "mean",
                   readout_only: bool = False, check_stability: bool = True, chunk_size: int | None = None,
                   progress: bool | None = None) -> EnsembleRecord:
    """Full-batch gradient descent on MSE for every network in ``nets`` (none is modified).

    Args:
        nets: E ``MLP`` s of one architecture (same widths, activation, parameterisation, dtype,
            device), e.g. ``[MLP(..., seed=s) for s in range(E)]``.
        x_train: (N, n0); y_train: (N,) or (N, k), the same targets for every member;
            x_test: (M, n0), optional. Converted to the members' dtype and device.
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
        ValueError: for mixed architectures, bad arguments or data (``training.prepare_targets``,
            ``training.record_schedule``), or an η above a member's stability bound
            (``training.check_gd_stability``, naming the member).
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
    y = prepare_targets(y_train, n, template.n_out, dtype=p0.dtype, device=p0.device)
    recorded = record_schedule(steps, () if record_steps is None else record_steps)
    chunk = len(nets) if chunk_size is None else check.positive_int("chunk_size", chunk_size)
    if check_stability:
        if readout_only and template.n_out != 1:
            raise ValueError("readout_only training is implemented for scalar outputs (n_out=1)")
        for i, net in enumerate(nets):
            try:
                check_gd_stability(net, x_train, eta, normalization, readout_only=readout_only)
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


def _forward(template: MLP, weights: list[torch.Tensor], biases: list[torch.Tensor] | None,
             x: torch.Tensor) -> torch.Tensor:
    """(N, n0) -> (E, N, k): ``models.forward`` with stacked parameters and ``template``'s
    activation and multipliers."""
    return forward(weights, x, activation=template.activation, weight_multipliers=template.weight_multipliers,
                   biases=biases, bias_multiplier=template.bias_multiplier)


def _train_chunk(template, nets, first, x_train, y, x_test, steps, eta, scale, recorded, readout_only, progress):
    weights, biases = _stack(nets)
    trained = [weights[-1]] + ([biases[-1]] if biases is not None else []) if readout_only else \
        weights + (biases or [])
    loss_rec, train_rec, test_rec = [], [], []
    for step in progress_bar(range(steps + 1), total=steps + 1, desc="ensemble GD", progress=progress):
        for p in trained:
            p.requires_grad_(True)
        out = _forward(template, weights, biases, x_train)                     # (E, N, k)
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


def linearized_ensemble(nets: Sequence[MLP], x_train, y_train, x_test, steps: Sequence[int], *, eta: float,
                        readout_only: bool = False, normalization: str = "mean") -> torch.Tensor:
    """Test outputs of every member's linearisation trained by full-batch GD, in closed form.

    Member e's linearised model f0 + J0(θ − θ0) trained with step η has, after k steps, the
    outputs of ``gradient_descent_predict`` with its own empirical NTK Θ̂_e at θ0 (Lee et al.
    2019, eq. 9, discrete time); with ``readout_only`` the kernel is the readout kernel and the
    result is exactly what training only the last layer of the network gives.

    Args:
        nets: E scalar-output ``MLP`` s.
        x_train: (N, n0); y_train: (N,); x_test: (M, n0).
        steps: (R,) step counts.
        eta: learning rate η.
        readout_only: use the readout kernel (train the last layer only) instead of the NTK.
        normalization: "mean" (½·mean over N) or "sum" (½·sum).

    Returns:
        (R, E, M) float64 on the CPU.

    Raises:
        ValueError: for malformed inputs or a vector-output network.
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


def ensemble_variants(nets: Sequence[MLP], x_train, y_train, x_test, steps: Sequence[int], *, eta: float,
                      chunk_size: int | None = None) -> dict[str, torch.Tensor]:
    """Test outputs of the same E networks trained three ways.

    ``"network"`` (all layers, ``train_ensemble``), ``"linearised"`` (every member's
    linearisation, closed form) and ``"readout-trained"`` (last layer only, closed form, exact).
    Lee et al. (2019, Fig. 2) compare the first two with the NTK-GP, the third with the NNGP.

    Args:
        nets: E scalar-output ``MLP`` s of one architecture.
        x_train: (N, n0); y_train: (N,); x_test: (M, n0).
        steps: the R steps to report; eta: learning rate η (mean loss).
        chunk_size: members trained together (see ``train_ensemble``).

    Returns:
        {variant: (E, R, M) float64 tensor on the CPU}.

    Raises:
        ValueError: as ``train_ensemble`` and ``linearized_ensemble``.
    """
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
    """Seeds of ``count`` ensemble members, disjoint across data seeds and groups (widths, studies).

    ``seed·10⁶ + group·10⁴ + i``, i < count ≤ 10⁴, 0 ≤ group < 100. Unlike ``seed + 1000·n + i``,
    runs with seeds s and s + 1 share no network.

    Args:
        seed: the run's (data) seed, >= 0.
        group: the group (width, study), 0 <= group < 100.
        count: the number of members, 1 <= count <= 10⁴.

    Returns:
        List of ``count`` distinct ints.

    Raises:
        ValueError: if an argument is out of range.
    """
    seed = check.nonnegative_int("seed", seed)
    group = check.nonnegative_int("group", group)
    count = check.positive_int("count", count)
    if group >= SEED_STRIDE // GROUP_STRIDE or count > GROUP_STRIDE:
        raise ValueError(f"group must be < {SEED_STRIDE // GROUP_STRIDE} and count <= {GROUP_STRIDE}, "
                         f"got group={group}, count={count}")
    return [seed * SEED_STRIDE + group * GROUP_STRIDE + i for i in range(count)]


# ---------------------------------------------------------------- issue 13: notebook 06's ensembles


def ensemble_members(n0: int, width: int, count: int, *, seed: int, group: int, device=None,
            **architecture) -> list[MLP]:
    """``count`` networks ``MLP(n0, width, seed=s, device=device, **architecture)``, one per
    seed s of ``member_seeds(seed, group, count)``, in that order.

    Raises:
        ValueError: as ``member_seeds`` and ``MLP``.
    """
    return [MLP(n0, width, seed=s, device=device, **architecture)
            for s in member_seeds(seed, group, count)]


def trained_curves(counts: dict[int, int], x_train, y_train, x_test, *, steps: int, eta: float,
                   seed: int, first_group: int, device=None, **architecture) -> dict[int, torch.Tensor]:
    """For each width n with count E (``counts``, in order j = 0, 1, ...): E networks of group
    ``first_group + j`` (``ensemble_members``) trained together by full-batch GD (``train_ensemble``,
    mean loss), and their outputs at ``x_test`` after the last step.

    Args:
        counts: {width n: number of members E}; x_train: (N, n0); y_train: (N,); x_test: (G, n0)
            (moved to ``device`` as float32, the networks' dtype).
        steps: GD steps; eta: learning rate η (t = steps·η).

    Returns:
        {n: (E, G) float64 tensor}.

    Raises:
        ValueError: empty ``counts``, or as ``ensemble_members`` and ``train_ensemble``.
    """
    if len(counts) == 0:
        raise ValueError("counts must name at least one width")
    x_d, y_d = torch.as_tensor(x_train).float().to(device), torch.as_tensor(y_train).float().to(device)
    x_t = torch.as_tensor(x_test).float().to(device)
    out = {}
    for j, (n, count) in enumerate(counts.items()):
        nets = ensemble_members(x_d.shape[1], n, count, seed=seed, group=first_group + j, device=device, **architecture)
        out[n] = train_ensemble(nets, x_d, y_d, x_test=x_t, steps=steps, eta=eta).f_test[-1].double()
    return out


def width_ensembles(widths: Sequence[int], n_nets: int, x_train, y_train, x_test, steps: Sequence[int], *,
                    eta: float, seed: int, first_group: int, device=None,
                    **architecture) -> dict[int, dict[str, torch.Tensor]]:
    """``ensemble_variants`` of ``n_nets`` members (group ``first_group + j`` for the j-th width)
    at each width, trained ``chunk_size = max(1, 2³¹ // (12 n²))`` members at a time.

    Args:
        widths: the widths n; n_nets: members E per width; x_train: (N, n0); y_train: (N,);
            x_test: (M, n0); steps: the R steps to report; eta: learning rate η (mean loss).

    Returns:
        {n: {variant: (E, R, M) float64 tensor}} (see ``ensemble_variants``).

    Raises:
        ValueError: no widths, or as ``ensemble_members`` and ``ensemble_variants``.
    """
    if len(widths) == 0:
        raise ValueError("widths must hold at least one width")
    n0 = torch.as_tensor(x_train).shape[1]
    return {n: ensemble_variants(ensemble_members(n0, n, n_nets, seed=seed, group=first_group + j, device=device,
                                         **architecture),
                                 x_train, y_train, x_test, steps, eta=eta, chunk_size=max(1, 2**31 // (12 * n * n)))
            for j, n in enumerate(widths)}


def readout_trained_members(width: int, count: int, x_train, y_train, x_test, steps: Sequence[int], *,
                            eta: float, seed: int, group: int, device=None, **architecture) -> torch.Tensor:
    """``count`` networks of ``group`` (``ensemble_members``) with only their last layer trained
    by full-batch GD, in closed form (``linearized_ensemble(..., readout_only=True)``: exact for
    readout training, one forward pass per member).

    Args:
        width: hidden width n; count: members E; x_train: (N, n0); y_train: (N,); x_test: (M, n0);
            steps: the R steps to report; eta: learning rate η (mean loss).

    Returns:
        (E, R, M) float64 tensor on the CPU.

    Raises:
        ValueError: as ``ensemble_members`` and ``linearized_ensemble``.
    """
    n0 = torch.as_tensor(x_train).shape[1]
    nets = ensemble_members(n0, width, count, seed=seed, group=group, device=device, **architecture)
    return linearized_ensemble(nets, x_train, y_train, x_test, steps, eta=eta, readout_only=True).transpose(0, 1)


# ------------------------------------------------ issue 13: notebook 06's two studies, one call each
Z90 = 1.2815515655446004  # 90th percentile of N(0, 1): the 10-90 % band is μ ± Z90·σ


@dataclass
class CircleStudy:
    """Jacot et al. 2018, Fig. 2 in one object (``circle_study``).

    Attributes:
        gamma: (G,) angles of the grid; limits: ``gp_checks.LimitBands`` at time t;
        curves: {width: (E, G) float64 trained curves}; calibration: ``gp_checks.CurveCalibration``;
        t: the time (steps, η = 1); z: band half-width in σ; n_shown: curves per width in the
        figure; points: (angles, targets) of the training points.
    """

    gamma: torch.Tensor
    limits: object
    curves: dict
    calibration: object
    t: float
    z: float
    n_shown: int
    points: tuple


def circle_study(angles, targets, widths: Sequence[int], *, n_shown: int, pit_inits: int, steps: int,
                 kernel_width: int, alpha: float, seed: int, device=None, n_grid: int = 200,
                 z: float = Z90, **architecture) -> CircleStudy:
    """Trained relu curves on the circle against their NTK-GP limit (Jacot et al. 2018, §5, Fig. 2).

    In order: inputs (cos γ, sin γ) (``data.circle``) with float64 ``targets``, a grid of
    ``n_grid`` angles; the limit at t = ``steps`` (η = 1) from the analytic kernels and from one
    ``kernel_width`` net (seed ``member_seeds(seed, 0, 1)[0]``) (``gp_checks.limit_bands``);
    ``pit_inits`` nets at the first width and ``n_shown`` at the others (``trained_curves``,
    groups 1, 2, ...); then ``gp_checks.curve_calibration`` at level ``alpha``.

    Args:
        angles, targets: the N training angles and targets; widths: widths of the trained nets;
        n_shown, pit_inits: ensemble sizes; steps: GD steps at η = 1; kernel_width: width of the
        net standing in for the limit; alpha: level of the PIT quantile; architecture: ``MLP``
        keywords (depth, activation, sigma_w, sigma_b).

    Returns:
        ``CircleStudy``.

    Raises:
        ValueError: no widths, angles and targets of different lengths, or as the calls.
    """
    from .data import circle, circle_grid
    from .empirical import network_kernel_fn
    from .gp_checks import curve_calibration, limit_bands
    from .kernels import analytic_kernel_fn

    if len(widths) == 0 or len(angles) != len(targets):
        raise ValueError(f"need at least one width and one target per angle, got widths={widths!r}, "
                         f"{len(angles)} angles and {len(targets)} targets")
    x, y = circle(angles), torch.tensor(targets, dtype=torch.float64)
    gamma, grid = circle_grid(n_grid)
    t = float(steps)
    big_net = MLP(2, kernel_width, seed=member_seeds(seed, 0, 1)[0], device=device, **architecture)
    kernel_fns = {"analytic": analytic_kernel_fn(**architecture),
                  f"width-{kernel_width} net": network_kernel_fn(big_net)}
    limits = limit_bands(kernel_fns, x, y, grid, t)
    counts = {n: pit_inits if j == 0 else n_shown for j, n in enumerate(widths)}
    curves = trained_curves(counts, x, y, grid, steps=steps, eta=1.0, seed=seed, first_group=1,
                            device=device, **architecture)
    calibration = curve_calibration(curves, limits.bands, limits.cov, n_shown=n_shown, z=z,
                                    alpha=alpha, seed=seed)
    return CircleStudy(gamma, limits, curves, calibration, t, z, n_shown, (list(angles), list(targets)))


def figure_circle_curves(study: CircleStudy):
    """Jacot et al. 2018, Fig. 2: one ``plotting.circle_curve_panels`` panel per width.

    Returns:
        the matplotlib figure (1 × widths, shared y).
    """
    import matplotlib.pyplot as plt

    from .plotting import circle_curve_panels

    n = len(study.curves)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n + 3, 3.6), sharey=True, squeeze=False)
    circle_curve_panels(axes[0], study.gamma, study.curves, study.limits.bands, z=study.z,
                        n_shown=study.n_shown, points=study.points, t=study.t)
    return fig


@dataclass
class EnsembleGPStudy:
    """Lee et al. 2019, Fig. 2 in one object (``ensemble_gp_study``).

    Attributes:
        task: ``data.BinaryLineTask``; steps: [0, *snapshot steps]; times: (R + 1,) float64 t =
        steps·η; blocks: analytic ``KernelBlocks``; references: {variant: GD ``JointGaussian``
        over all times and test inputs (means × mean_factor)}; targets: {variant: "NTK-GP" or
        "NNGP"}; runs: {width: {variant: (E, R + 1, M + L)}}; readout: (E', R + 1, M) extra
        readout-trained members at the widest width; study: ``gp_checks.EnsembleWidthStudy``;
        shift: ``dynamics.flow_vs_gd_shift``; bound: 2N/λ_max of the limiting NTK; eta, classes,
        n_train, mean_factor: as given.
    """

    task: object
    steps: list
    times: torch.Tensor
    blocks: object
    references: dict
    targets: dict
    runs: dict
    readout: torch.Tensor
    study: object
    shift: float
    bound: float
    eta: float
    classes: list
    n_train: int
    mean_factor: float

    @property
    def noise_floor(self) -> float:
        """The gap of ``study.n_nets`` exact Gaussian draws (``gp_checks.gap_noise_floor``)."""
        from .gp_checks import gap_noise_floor

        return gap_noise_floor(self.study.n_nets)

    def bayes_check(self, *, alpha: float, seed: int = 0):
        """``gp_checks.gap_ratio_check`` of the widest network ensemble at the last time against
        the NTK-GP there, with the ends' means × ``mean_factor``.

        Raises:
            ValueError: as ``gap_ratio_check``.
        """
        from .gp_checks import gap_ratio_check

        m, n = self.task.n_test, self.study.widths[-1]
        last = self.references["network"].select([len(self.steps) - 1], slice(0, m))
        return gap_ratio_check(self.runs[n]["network"][:, -1, :m], last, self.blocks, self.task.y_train,
                               alpha=alpha, time=self.times[-1], width=n, mean_factor=self.mean_factor,
                               seed=seed)

    def __str__(self) -> str:
        return (f"data: {self.task.name} {self.classes[0]} vs {self.classes[1]}, {self.n_train} training / "
                f"{self.task.n_test} test images; η = {self.eta} (stability bound of the limiting NTK "
                f"2N/λ_max = {self.bound:.3g}); t = {self.times.tolist()}\n"
                f"gradient flow instead of GD would move the t = {self.times[1]:g} mean by up to "
                f"{self.shift:.2f} σ/√E\n{self.study}")


def ensemble_gp_study(classes, n_train: int, widths: Sequence[int], n_nets: int, readout_nets: int,
                      snapshot_steps: Sequence[int], *, eta: float, alpha_z: float, seed: int,
                      device=None, n_test: int = 32, mean_factor: float = 1.0,
                      **architecture) -> EnsembleGPStudy:
    """Ensembles of trained networks against the GD NTK-GP / NNGP (Lee et al. 2019, Fig. 2).

    In order: ``data.digits_line_task`` (``n_test`` test images, line α ∈ [−2, 3], 51 points);
    analytic ``dynamics.kernel_blocks``; the references ``dynamics.gd_gaussian`` per variant
    (readout-only for "readout-trained"), means × ``mean_factor``; ``flow_vs_gd_shift``;
    ``max_learning_rate``; ``width_ensembles`` (groups 10, 11, ...); ``readout_nets``
    ``readout_trained_members`` at the widest width (group 20); ``gp_checks.ensemble_width_study``
    at the trained times t > 0 and the test images.

    Args:
        classes: two digit labels (targets +1, −1); n_train: training images; widths: hidden
        widths; n_nets: members per width; readout_nets: extra readout-trained members;
        snapshot_steps: trained steps (0 is added first); eta: GD learning rate (mean loss);
        alpha_z: level of the max |z| bounds; mean_factor: 1 + planted error of the means;
        architecture: ``MLP`` keywords.

    Returns:
        ``EnsembleGPStudy``.

    Raises:
        ValueError: no widths or no snapshot steps, or as the calls.
    """
    from .data import digits_line_task
    from .dynamics import flow_vs_gd_shift, gd_gaussian, kernel_blocks, max_learning_rate
    from .gp_checks import ensemble_width_study
    from .kernels import analytic_kernel_fn

    if len(widths) == 0 or len(snapshot_steps) == 0:
        raise ValueError(f"need at least one width and one snapshot step, got widths={widths!r}, "
                         f"snapshot_steps={snapshot_steps!r}")
    line = torch.linspace(-2, 3, 51, dtype=torch.float64)
    task = digits_line_task(classes, n_train, n_test, seed=seed, line=line)
    x, y, xq, m = task.x_train, task.y_train, task.x_test, task.n_test
    steps, n_big = [0, *snapshot_steps], widths[-1]
    times = torch.tensor(steps, dtype=torch.float64) * eta
    blocks = kernel_blocks(analytic_kernel_fn(**architecture), x, xq)
    targets = {"network": "NTK-GP", "linearised": "NTK-GP", "readout-trained": "NNGP"}
    references = {k: gd_gaussian(blocks, y, steps, eta=eta, readout_only=k == "readout-trained")
                  .scaled(mean_factor) for k in targets}
    shift = flow_vs_gd_shift(blocks, y, steps, eta=eta, n_members=n_nets, n_points=m)
    bound = max_learning_rate(blocks.train[1])
    runs = width_ensembles(widths, n_nets, x, y, xq, steps, eta=eta, seed=seed, first_group=10,
                           device=device, **architecture)
    readout = readout_trained_members(n_big, readout_nets, x, y, xq[:m], steps, eta=eta, seed=seed,
                                      group=20, device=device, **architecture)
    trained = {k: g.select(slice(1, None), slice(0, m)) for k, g in references.items()}
    study = ensemble_width_study(runs, trained, readout, n_test=m, times=times, alpha_z=alpha_z)
    return EnsembleGPStudy(task, steps, times, blocks, references, targets, runs, readout, study,
                           shift, bound, eta, list(classes), n_train, mean_factor)


def figure_ensemble_bands(study: EnsembleGPStudy):
    """Lee et al. 2019, Fig. 2: the widest network ensemble along the line against the NTK-GP
    and the readout NNGP, one ``plotting.ensemble_band_panels`` panel per time.

    Returns:
        the matplotlib figure (1 × times, shared y).
    """
    import matplotlib.pyplot as plt

    from .plotting import ensemble_band_panels

    r = len(study.steps)
    fig, axes = plt.subplots(1, r, figsize=(3.2 * r + 3, 3.6), sharey=True)
    references = {"NTK-GP (all layers)": study.references["network"],
                  "NNGP (readout)": study.references["readout-trained"]}
    ensemble_band_panels(axes, study.task.line, references, study.runs[study.study.widths[-1]]["network"],
                         first=study.task.n_test, times=study.times, steps=study.steps,
                         points=([0, 1], list(study.task.line_targets)))
    return fig


def figure_gaps(study: EnsembleGPStudy):
    """Pooled variance ratios and gaps against width (``plotting.gap_panels``), with the noise
    floor of ``n_nets`` exact draws.

    Returns:
        the matplotlib figure (1 × 2).
    """
    import matplotlib.pyplot as plt

    from .plotting import gap_panels

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    gap_panels(axes, study.study, study.targets, noise_floor=study.noise_floor)
    return fig
