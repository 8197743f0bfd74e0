"""The notebook context: one object for the set-up every notebook repeats.

A notebook's ``parameters`` cell (tagged for papermill) holds literals only, one knob per line.
The next cell opens the context, naming no knob again::

    PROFILES = {"smoke": dict(widths=[32, 64]), "default": dict(widths=[64, 128, 256])}
    nb = nu.Notebook("02_ntk_convergence_with_width", PROFILES, globals())
    p = nb.p                     # every knob, the profile's values filled in
    ...
    nb.savefig(fig, "init")      # figures/02_ntk_convergence_with_width_init.{pdf,png}
    print(nb.claims.table())     # NBVAL_CHECK_OUTPUT
    nb.finish(metrics)           # results/02_ntk_convergence_with_width.json

``Notebook`` reads the knobs from the namespace it is given: every lower-case name bound to a
literal (str, int, float, bool, None, list, tuple, dict) that does not start with ``_``, which
right after the parameters cell are exactly the parameters cell's knobs (papermill's injected
overrides included). ``profile``, ``seed`` and ``device`` must be among them. A knob left at
``None`` takes the profile table's value; a value given explicitly wins. The profile table may
only define knobs that the parameters cell names.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from ._validation import choice
from .claims import PROFILES as PROFILE_NAMES
from .claims import ClaimSet
from .paths import figures_dir, shown_path
from .plotting import save_figure, use_house_style

__all__ = ["Notebook", "Timer", "resolve_profile", "select_device", "stream_seed"]

_LITERAL_TYPES = (str, int, float, bool, type(None), list, tuple, dict)
_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


def resolve_profile(profiles: Mapping[str, Mapping[str, Any]], profile: str,
                    **explicit: Any) -> SimpleNamespace:
    """Merge the profile's settings with the explicitly given (non-``None``) ones.

    Args:
        profiles: ``{profile name: {knob: value}}``, the notebook's profile table.
        profile: one of ``smoke``, ``default``, ``paper`` that the table defines.
        **explicit: knob values; ``None`` means "take the profile's value". Knobs the table does
            not define are passed through unchanged.

    Returns:
        A namespace with ``profile`` and every knob.

    Raises:
        ValueError: unknown profile.
    """
    choice("profile", profile, [name for name in PROFILE_NAMES if name in profiles])
    settings = dict(explicit)
    for key, value in profiles[profile].items():
        if settings.get(key) is None:
            settings[key] = value
    return SimpleNamespace(**(settings | {"profile": profile}))


def select_device(device: str | None = None) -> torch.device:
    """Choose the device to run on.

    Args:
        device: ``"cpu"``, ``"cuda"``, or ``None`` for ``cuda`` when available, else ``cpu``.

    Returns:
        The ``torch.device``.

    Raises:
        ValueError: a device other than cpu/cuda, or ``"cuda"`` with no CUDA device available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    choice("device", device, ["cpu", "cuda"])
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but no CUDA device is available")
    return torch.device(device)


class Timer:
    """Wall time since construction, for the results file: ``timer.elapsed`` (seconds)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since construction (``time.perf_counter``)."""
        return time.perf_counter() - self._start


def stream_seed(*keys: int) -> int:
    """A network or data seed derived from integer ``keys`` (run seed, experiment, repeat, width).

    ``numpy.random.SeedSequence`` turns distinct key tuples into unrelated 63-bit seeds, so
    experiments inside one notebook, and runs at neighbouring ``seed`` values, never share a
    network (unlike ``seed + 1000 * repeat + width``, where seed s and s + 1 overlap).

    Args:
        *keys: one or more non-negative integers.

    Returns:
        A seed in [0, 2⁶³).

    Raises:
        ValueError: no keys, or a key that is not a non-negative integer.
    """
    if not keys or any(not isinstance(k, int) or isinstance(k, bool) or k < 0 for k in keys):
        raise ValueError(f"keys must be one or more non-negative integers, got {keys!r}")
    state = np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def notebook_knobs(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters-cell knobs in ``namespace``.

    Args:
        namespace: a notebook's ``globals()``.

    Returns:
        ``{name: value}`` for every lower-case name not starting with ``_`` (and not one of
        IPython's ``In``, ``Out``, ``exit``, ``quit``, ``get_ipython``) bound to a literal
        (str, int, float, bool, None, list, tuple, dict).
    """
    return {k: v for k, v in namespace.items()
            if not k.startswith("_") and k not in _IPYTHON_NAMES and k == k.lower()
            and isinstance(v, _LITERAL_TYPES) and not isinstance(v, ModuleType)}


class Notebook:
    """Profile → parameters, device, seed, timer, house style, claims, figures, results.

    Args:
        name: the notebook's stem, e.g. ``"02_ntk_convergence_with_width"``; it names the
            results file and prefixes every figure.
        profiles: the notebook's profile table ``{"smoke": {...}, "default": {...}, ...}``.
        namespace: where the parameters cell's knobs live (pass ``globals()``).

    Attributes:
        p: namespace of every knob (profile values filled in), ``p.profile`` included.
        device: the ``torch.device`` (``device`` knob; ``None`` → cuda when available).
        seed: the run's base seed (``seed`` knob).
        claims: the run's ``ClaimSet``.
        figures: the panels saved so far, in order.
        profile: the profile's name.
        timer: the ``Timer`` started at construction.

    Raises:
        ValueError: the parameters cell lacks ``profile``/``seed``/``device``, the profile table
            names knobs the cell does not, a bad ``seed``, an unknown profile or an unavailable
            device.
    """

    def __init__(self, name: str, profiles: Mapping[str, Mapping[str, Any]],
                 namespace: Mapping[str, Any]) -> None:
        knobs = notebook_knobs(namespace)
        missing = [k for k in ("profile", "seed", "device") if k not in knobs]
        if missing:
            raise ValueError(f"the parameters cell must define {missing} (found {sorted(knobs)})")
        undefined = sorted({k for table in profiles.values() for k in table} - set(knobs))
        if undefined:
            raise ValueError(f"profile knobs {undefined} are not in the parameters cell "
                             f"(knobs: {sorted(knobs)})")
        seed = knobs["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.timer = Timer()
        self.name = name
        profile = knobs.pop("profile")
        self.p = resolve_profile(profiles, profile, **knobs)
        self.profile: str = self.p.profile
        self.seed: int = seed
        self.device = select_device(knobs["device"])
        self.claims = ClaimSet(name, self.profile)
        self.figures: list[str] = []
        use_house_style()

    def seed_for(self, *keys: int) -> int:
        """A seed of its own for each (experiment, repeat, …).

        Args:
            *keys: non-negative integers.

        Returns:
            ``stream_seed(seed, *keys)``.
        """
        return stream_seed(self.seed, *keys)

    def savefig(self, fig: Figure, panel: str) -> None:
        """Save ``fig`` as ``<figures>/<name>_<panel>.pdf`` and ``.png`` (``save_figure``).

        ``<figures>`` is ``ntkutils.paths.figures_dir(profile)``: ``$NTK_REPRO_FIGURES_DIR`` (set
        by ``ntk-repro run``; the stored ``figures/`` only under ``--store``), else
        ``outputs/<profile>/figures``.

        Args:
            fig: the figure.
            panel: the panel's name; appended to ``figures``.
        """
        save_figure(fig, f"{self.name}_{panel}", directory=figures_dir(self.profile))
        self.figures.append(panel)

    def finish(self, metrics: Mapping[str, Any], **extra_parameters: Any) -> None:
        """Write ``results/<name>.json`` and print where the results and figures went.

        The file holds the claims, ``metrics``, every knob (``seed`` and ``device`` in their
        own fields) and provenance (``ClaimSet.write``).

        Args:
            metrics: the run's metrics.
            **extra_parameters: parameters to record besides the knobs.
        """
        parameters = {k: v for k, v in vars(self.p).items() if k not in ("seed", "device")}
        path = self.claims.write(metrics, parameters | extra_parameters,
                                 wall_time_s=self.timer.elapsed, seed=self.seed,
                                 device=str(self.device))
        panels = ",".join(self.figures)
        figures = shown_path(figures_dir(self.profile) / f"{self.name}_{{{panels}}}.{{pdf,png}}")
        print(f"claims: {shown_path(path)}; figures: {figures}")

