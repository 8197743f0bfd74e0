"""Notebook set-up: profiles (smoke / default / paper) with explicit overrides, and the device.

A notebook's ``parameters`` cell leaves a knob at ``None`` to take the profile's value; any
value given explicitly (e.g. ``papermill -p widths "[64, 128]"``) wins::

    p = nu.profiles.resolve(PROFILES, profile, widths=widths, n_samples=n_samples)
    p.widths, p.n_samples
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import torch

from .claims import PROFILES as PROFILE_NAMES



def resolve(profiles: Mapping[str, Mapping[str, Any]], profile: str, **explicit: Any) -> SimpleNamespace:
    """Merge the profile's settings with the explicitly given (non-``None``) ones.

    Raises ``ValueError`` for an unknown profile or a knob the profile table does not define.
    """
    if profile not in PROFILE_NAMES or profile not in profiles:
        raise ValueError(f"profile must be one of {[p for p in PROFILE_NAMES if p in profiles]}, got {profile!r}")
    settings = dict(profiles[profile])
    unknown = sorted(set(explicit) - set(settings))
    if unknown:
        raise ValueError(f"parameters {unknown} are not defined by the profile table "
                         f"(known: {sorted(settings)})")
    settings.update({k: v for k, v in explicit.items() if v is not None})
    return SimpleNamespace(profile=profile, **settings)


def select_device(device: str | None = None) -> torch.device:
    """``"cuda"`` when available (or asked for), else ``"cpu"``; an unavailable request raises."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or None, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but no CUDA device is available")
    return torch.device(device)


class Timer:
    """Wall time since construction, for the results file: ``timer.elapsed``."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start


def stream_seed(*keys: int) -> int:
    """A network or data seed derived from integer ``keys`` (e.g. run seed, experiment, repeat,
    width) by ``numpy.random.SeedSequence``: distinct key tuples give unrelated 63-bit seeds, so
    experiments inside one notebook, and runs at neighbouring ``seed`` values, never share a
    network (unlike ``seed + 1000 * repeat + width``, where seed s and s + 1 overlap)."""
    import numpy as np

    if not keys or any(not isinstance(k, int) or isinstance(k, bool) or k < 0 for k in keys):
        raise ValueError(f"keys must be one or more non-negative integers, got {keys!r}")
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
