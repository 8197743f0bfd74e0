"""A network against its linearisation: the experiments of notebook 05 (Lee et al. 2019).

One job: train a network by (full-batch or minibatch, plain or heavy-ball) gradient descent and
give the linearised model's outputs at the same recorded steps, from the same initialisation,

    f^lin_t(x) = f_0(x) + ∇_θ f_0(x) (θ_t − θ_0)                      (Lee et al. 2019, eq. 6),

in closed form for full-batch GD (``dynamics.linearized_gd_predict``), trained step by step
otherwise (``training.train_full_batch(linearized=True)``), over a grid of widths and seeds
(``linearization_runs``); then the statistics of notebook 05 over that grid (``width_study``):
the output gap G_n(t) = ‖f_t − f^lin_t‖_F / ‖f^lin_t − f_0‖_F, the relative NTK and weight
changes, and their log-log slopes in the width n.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from . import _validation as check
from .dynamics import linearized_gd_predict
from .models import MLP
from .stats import (SlopeFit, classification_accuracy, loglog_slope_t, relative_frobenius_error,
                    relative_gap)
from .training import TrainingRecord, train_full_batch, width_scaled_learning_rate

__all__ = ["scale_change", "train_with_linearization", "linearization_runs", "per_width",
           "WidthStudy", "width_study", "scaled_gap", "mean_accuracies", "scaled_accuracy_gap"]

#: One run: the network's ``TrainingRecord`` and the linearised test outputs (R, M[, k]).
Run = tuple[TrainingRecord, torch.Tensor]


def scale_change(f: torch.Tensor, s: float) -> torch.Tensor:
    """``f_0 + s (f_t − f_0)``: a trajectory whose change from its first entry is scaled by s.

    Plants a relative error ``s − 1`` in a prediction's change (power tests), or scans it (a
    claim's resolution). ``f``: (R, ...) tensor, entry 0 the initial value; returns (R, ...).
    Raises ``ValueError`` for a non-finite ``s`` or an ``f`` without a time axis.
    """
    s = check.finite_float("s", s)
    if not isinstance(f, torch.Tensor) or f.ndim == 0:
        raise ValueError(f"f must be a tensor of shape (R, ...), got {type(f).__name__}")
    return f[:1] + s * (f - f[:1])


def train_with_linearization(net: nn.Module, x_train, y_train, x_test, *, steps: int, eta: float,
                             momentum: float = 0.0, batch_size: int | None = None, seed: int = 0,
                             n_records: int = 40, planted_error: float = 0.0
                             ) -> tuple[TrainingRecord, torch.Tensor]:
    """Train ``net`` for ``steps`` GD steps of size η and give its linearisation's test outputs.

    The network is trained with ``train_full_batch`` (½·mean loss over the N training points),
    recording at ``n_records`` log-spaced steps (0 and ``steps`` included) and storing the
    empirical NTK on ``x_train`` at steps 0 and ``steps``. The linearised model takes the same
    steps from the same θ_0: in closed form (``linearized_gd_predict``, from that NTK at step 0)
    for full-batch GD without momentum, trained step by step otherwise.

    Args:
        net: network (N, n0) → (N, k), e.g. an ``ntkutils.MLP``; not modified.
        x_train: (N, n0); y_train: (N, k) targets (float64 for the closed form); x_test: (M, n0).
        steps, eta, momentum, batch_size, seed: as ``train_full_batch``.
        n_records: number of log-spaced steps in [1, steps] to record (duplicates merged).
        planted_error: ε; the linearised change f^lin_t − f_0 is multiplied by 1 + ε
            (``scale_change``), 0 for none.

    Returns:
        ``(record, lin)``: the network's ``TrainingRecord`` (outputs in the net's dtype) and the
        linearised model's test outputs (R, M[, k]) float64 at ``record.steps``.

    Raises:
        ValueError: bad arguments (``train_full_batch``'s checks, η above the stability bound).
    """
    n_records = check.positive_int("n_records", n_records)
    p0 = next(net.parameters())
    x, xt, y = (torch.as_tensor(a).to(p0.dtype) for a in (x_train, x_test, y_train))
    kw = dict(steps=steps, eta=eta, x_test=xt, momentum=momentum, batch_size=batch_size, seed=seed,
              record_steps=np.unique(np.geomspace(1, steps, n_records).astype(int)).tolist())
    rec = train_full_batch(net, x, y, ntk_steps=[0, steps], ntk_inputs=x, **kw)
    if momentum == 0 and batch_size is None:
        lin = linearized_gd_predict(net, x, y_train, rec.steps, eta=eta, x_test=xt,
                                    ntk_train=rec.ntk[0]).test
    else:
        lin = train_full_batch(net, x, y, linearized=True, **kw).f_test.double()
    return rec, scale_change(lin, 1 + planted_error)


def per_width(runs: Mapping[tuple[int, int], Any], fn: Callable[..., Any]) -> np.ndarray:
    """``fn(*runs[n, s])`` over a grid of runs, as an array (widths, seeds, ...).

    ``runs``: ``{(width, seed): (record, lin), ...}`` on a full grid (every width with the same
    seeds); widths and seeds in the order they first appear. Raises ``ValueError`` if the grid
    is empty or has holes.
    """
    widths = list(dict.fromkeys(n for n, _ in runs))
    seeds = list(dict.fromkeys(s for _, s in runs))
    if not runs or len(runs) != len(widths) * len(seeds):
        raise ValueError(f"runs must fill a (width, seed) grid, got keys {sorted(runs)}")
    return np.array([[fn(*runs[n, s]) for s in seeds] for n in widths])


def linearization_runs(widths: Sequence[int], n_seeds: int, x_train, y_train, x_test, *,
                       steps: int, eta: float, net: Mapping[str, Any], seed: int = 0,
                       **train_kwargs: Any) -> dict[tuple[int, int], Run]:
    """``train_with_linearization`` for every width n in ``widths`` and repeat s < ``n_seeds``.

    The network is a float32 ``MLP(n0, n, n_out=k, seed=seed + 100 s + n, **net)`` (k outputs
    as ``y_train``'s columns); its learning rate is
    ``width_scaled_learning_rate(eta, n, net["parameterization"])`` (η in NTK
    parameterisation, η/n in standard parameterisation) and its minibatch seed ``seed + s``.

    Args:
        widths: hidden widths n; n_seeds: repeats per width.
        x_train (N, n0), y_train (N, k), x_test (M, n0): as ``train_with_linearization``.
        steps, eta: GD steps and the NTK-parameterisation learning rate η.
        net: ``MLP`` keywords (depth, activation, sigma_w, sigma_b, parameterization, device).
        **train_kwargs: momentum, batch_size, n_records, planted_error.

    Returns:
        ``{(n, s): (record, lin)}``, widths outer, repeats inner.

    Raises:
        ValueError: bad arguments.
    """
    n_seeds = check.positive_int("n_seeds", n_seeds)
    parameterization = net.get("parameterization", "ntk")
    n0, k = torch.as_tensor(x_train).shape[1], torch.as_tensor(y_train).shape[1]
    runs = {}
    for n in widths:
        lr = width_scaled_learning_rate(eta, n, parameterization)
        for s in range(n_seeds):
            model = MLP(n0, n, n_out=k, seed=seed + 100 * s + n, dtype=torch.float32, **net)
            runs[n, s] = train_with_linearization(model, x_train, y_train, x_test, steps=steps,
                                                  eta=lr, seed=seed + s, **train_kwargs)
    return runs


def scaled_gap(runs: Sequence[Run], s: float) -> float:
    """Mean over ``runs`` of the final gap G(T) with the linearised change f^lin_T − f_0 scaled
    by ``s`` (``scale_change``): ``s = 1`` is the measured gap; a claim's resolution scans s."""
    return float(np.mean([relative_gap(rec.f_test, scale_change(lin, s))[-1] for rec, lin in runs]))


def mean_accuracies(runs: Sequence[Run], targets, s: float = 1.0) -> tuple[float, float]:
    """Test accuracies at the last recorded step, means over ``runs``: ``(network, linearised)``,
    the linearised change f^lin_T − f_0 scaled by ``s``. ``targets``: (M, k) one-hot (or (M,)
    labels) of the test inputs."""
    acc_net = np.mean([classification_accuracy(rec.f_test[-1], targets) for rec, _ in runs])
    acc_lin = np.mean([classification_accuracy(scale_change(lin, s)[-1], targets) for _, lin in runs])
    return acc_net, acc_lin


def scaled_accuracy_gap(runs: Sequence[Run], targets, s: float) -> float:
    """``|network − linearised|`` of ``mean_accuracies(runs, targets, s)``: a claim's
    statistic, its resolution scanning s."""
    acc_net, acc_lin = mean_accuracies(runs, targets, s)
    return abs(acc_net - acc_lin)


@dataclass
class WidthStudy:
    """Statistics of a (width, seed) grid of runs (``width_study``).

    Attributes:
        widths: (W,) widths n; t: (R,) recorded times t = steps × η.
        loss: (W, S, R) training loss (½·mean); gap: (W, S, R) G_n(t) on the test inputs.
        ntk_change: (W, S) ‖Θ̂_T − Θ̂_0‖_F / ‖Θ̂_0‖_F on the training inputs.
        layer_change: {"W1 (input)", ..., "WL (output)": (W, S) ‖W^l_T − W^l_0‖_F/‖W^l_0‖_F}.
        fits: log-log slopes in n of the mean over seeds: "output gap" (G_n(T)) and "NTK
            change" at level ``ci``, each weight matrix at ``layer_ci`` (``loglog_slope_t``).
        drift: R − 1 fits of G_n(t) at every recorded t > 0 (level ``ci``).
        accuracy: ``(network, linearised)`` test accuracies at the widest width and t = T,
            means over seeds (``mean_accuracies``), or None without targets.
    """

    widths: list[int]
    t: np.ndarray
    loss: np.ndarray
    gap: np.ndarray
    ntk_change: np.ndarray
    layer_change: dict[str, np.ndarray]
    fits: dict[str, SlopeFit]
    drift: list[SlopeFit]
    accuracy: tuple[float, float] | None = None

    @property
    def changes(self) -> dict[str, np.ndarray]:
        """{name: (W, S)} of every fitted quantity, in the order of ``fits``."""
        return {"output gap": self.gap[..., -1], "NTK change": self.ntk_change} | self.layer_change

    def loss_report(self) -> str:
        """The training loss at t = 0 and t = T, means over widths and seeds, and its fall."""
        loss0, loss_t = self.loss[..., 0], self.loss[..., -1]
        return (f"training loss, mean over widths and seeds: {loss0.mean():.3g} at t=0 -> "
                f"{loss_t.mean():.3g} at t={self.t[-1]:.4g} (fell {np.mean(loss0 / loss_t):.0f}x "
                f"on average, at least {np.min(loss0 / loss_t):.0f}x)")

    def report(self) -> str:
        """The fits, one per line; the gap exponent at three recorded times; at the widest
        width, the gap at T (mean and seeds) and, with ``accuracy``, both test accuracies."""
        lines = [f"{name:>14}: {f}" for name, f in self.fits.items()]
        picks = sorted({len(self.drift) // 4, len(self.drift) // 2, len(self.drift) - 1})
        at = [f"t={self.t[i + 1]:.3g}: {self.drift[i].slope:.2f} "
              f"[{self.drift[i].ci_low:.2f}, {self.drift[i].ci_high:.2f}]" for i in picks]
        gap = self.gap[-1, :, -1]
        last = f"at n={self.widths[-1]}, t=T: gap {gap.mean():.3f} (seeds {np.round(gap, 3).tolist()})"
        if self.accuracy is not None:
            last += (f"; test accuracy network {self.accuracy[0]:.3f}, "
                     f"linearised {self.accuracy[1]:.3f}")
        return "\n".join(lines + ["gap exponent during training: " + "; ".join(at), last])

    def metrics(self, prefix: str = "") -> dict[str, Any]:
        """The numbers behind the fits, for a results file; ``prefix`` starts every key."""
        drift = {k: [getattr(f, k) for f in self.drift] for k in ("slope", "ci_low", "ci_high")}
        out = {"slopes": self.fits,
               "training loss (widths, seeds)": {"t=0": self.loss[..., 0], "t=T": self.loss[..., -1]},
               "gap by width (seeds)": dict(zip(self.widths, self.gap[..., -1])),
               "ntk_change by width (seeds)": dict(zip(self.widths, self.ntk_change)),
               "gap exponent vs t": {"t": self.t[1:]} | drift}
        if self.accuracy is not None:
            out["test_accuracy"] = dict(zip(("network", "linearised"), self.accuracy))
        return {prefix + key: value for key, value in out.items()}


def width_study(runs: Mapping[tuple[int, int], Run], targets=None, *, ci: float = 0.99,
                layer_ci: float = 0.995) -> WidthStudy:
    """Gap, NTK and weight changes of every run and their log-log slopes in the width.

    ``runs``: ``{(n, s): (record, lin)}`` as ``linearization_runs`` (every record with the same
    recorded steps, NTK snapshots at 0 and the last step, at least 2 seeds and 3 widths).
    ``targets``: optional (M, k) one-hot test targets, for the accuracies at the widest width.
    Returns a ``WidthStudy``. Raises ``ValueError`` on a grid with holes or too few repeats.
    """
    widths = list(dict.fromkeys(n for n, _ in runs))
    first = next(iter(runs.values()))[0]
    n_layers = sum(name.startswith("weights.") for name in first.layer_change)
    role = ["input"] + ["hidden"] * (n_layers - 2) + ["output"] if n_layers > 1 else ["input"]
    layers = {f"W{l + 1} ({role[l]})": per_width(runs, lambda rec, lin, l=l: float(
        rec.layer_change[f"weights.{l}"][-1])) for l in range(n_layers)}
    gap = per_width(runs, lambda rec, lin: relative_gap(rec.f_test, lin))
    ntk_change = per_width(runs, lambda rec, lin: relative_frobenius_error(
        rec.ntk[int(rec.steps[-1])], rec.ntk[0]))
    fits = {"output gap": loglog_slope_t(widths, gap[..., -1], ci=ci),
            "NTK change": loglog_slope_t(widths, ntk_change, ci=ci)}
    fits |= {name: loglog_slope_t(widths, v, ci=layer_ci) for name, v in layers.items()}
    drift = [loglog_slope_t(widths, gap[..., i], ci=ci) for i in range(1, gap.shape[-1])]
    loss = per_width(runs, lambda rec, lin: rec.loss.numpy())
    widest = [run for (n, _), run in runs.items() if n == widths[-1]]
    accuracy = None if targets is None else mean_accuracies(widest, targets)
    return WidthStudy(widths, first.t.numpy(), loss, gap, ntk_change, layers, fits, drift, accuracy)
