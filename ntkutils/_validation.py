"""Input checks shared by the package. Every failure is a ``ValueError`` that names the
parameter, the value received and what is allowed; nothing is silently clipped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer >= 1, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return int(value)


def nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def finite_float(name: str, value: Any, *, minimum: float | None = None,
                 strictly_positive: bool = False) -> float:
    """Return ``value`` as a finite float, optionally >= ``minimum`` or > 0."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if strictly_positive and out <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def as_inputs(name: str, x: Any, *, dtype: torch.dtype, device: torch.device | str | None = None,
              n0: int | None = None) -> torch.Tensor:
    """Convert an array-like of shape (N, n0) to a 2-D tensor of ``dtype``.

    Raises ``ValueError`` if it is not 2-D, has no rows, has the wrong feature dimension
    ``n0``, or holds a NaN/Inf.
    """
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, n0), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {tuple(t.shape)}")
    if n0 is not None and t.shape[1] != n0:
        raise ValueError(f"{name} must have {n0} features (n0), got shape {tuple(t.shape)}")
    t = t.to(dtype=dtype, device=device)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or Inf entries")
    return t
