"""Input checks shared by the package.

Every failure is a ``ValueError`` that names the parameter, the value received and what is
allowed; nothing is silently clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def positive_int(name: str, value: Any) -> int:
    """Check a positive integer.

    Args:
        name: the parameter's name, for the message.
        value: an int or NumPy integer (not a bool).

    Returns:
        ``value`` as an int.

    Raises:
        ValueError: not an integer, a bool, or < 1.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return int(value)


def nonnegative_int(name: str, value: Any) -> int:
    """Check a non-negative integer.

    Args:
        name: the parameter's name, for the message.
        value: an int or NumPy integer (not a bool).

    Returns:
        ``value`` as an int.

    Raises:
        ValueError: not an integer, a bool, or < 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def finite_float(name: str, value: Any, *, minimum: float | None = None,
                 strictly_positive: bool = False) -> float:
    """Check a finite real number.

    Args:
        name: the parameter's name, for the message.
        value: anything ``float()`` accepts.
        minimum: if given, the smallest allowed value.
        strictly_positive: require ``value > 0``.

    Returns:
        ``value`` as a finite float.

    Raises:
        ValueError: not a real number, NaN/Inf, <= 0 with ``strictly_positive``, or below
            ``minimum``.
    """
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
    """Check that ``value`` is one of ``allowed``.

    Args:
        name: the parameter's name, for the message.
        value: the value received.
        allowed: the allowed values.

    Returns:
        ``value`` unchanged.

    Raises:
        ValueError: ``value`` not in ``allowed``; the message lists them sorted.
    """
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def as_inputs(name: str, x: Any, *, dtype: torch.dtype, device: torch.device | str | None = None,
              n0: int | None = None) -> torch.Tensor:
    """Convert an array-like of shape (N, n0) to a 2-D tensor of ``dtype``.

    Args:
        name: the parameter's name, for the message.
        x: a tensor or array-like of shape (N, n0).
        dtype: the result's dtype.
        device: the result's device (``None``: keep ``x``'s, CPU for arrays).
        n0: if given, the required feature dimension.

    Returns:
        A tensor of shape (N, n0), ``dtype``, on ``device``.

    Raises:
        ValueError: not 2-D, no rows, the wrong feature dimension ``n0``, or a NaN/Inf entry.
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


def int_in_range(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Check an integer in a closed range.

    Args:
        name: the parameter's name, for the message.
        value: an int or NumPy integer (not a bool).
        minimum: the smallest allowed value.
        maximum: the largest allowed value, or ``None`` for no upper limit.

    Returns:
        ``value`` as an int.

    Raises:
        ValueError: not an integer, a bool, or outside [minimum, maximum].
    """
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum
            or (maximum is not None and value > maximum)):
        allowed = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    """Check a finite, strictly positive real number.

    Args:
        name: the parameter's name, for the message.
        value: anything ``float()`` accepts.

    Returns:
        ``value`` as a float > 0.

    Raises:
        ValueError: not a real number, NaN/Inf, or <= 0.
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive real number, got {value!r}") from None
    if not math.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return out


def confidence_level(ci: Any) -> float:
    """Check a confidence level.

    Args:
        ci: anything ``float()`` accepts.

    Returns:
        ``ci`` as a float in the open interval (0, 1).

    Raises:
        ValueError: not a number, or not in (0, 1).
    """
    try:
        out = float(ci)
    except (TypeError, ValueError):
        raise ValueError(f"ci must be a number in (0, 1), got {ci!r}") from None
    if not (0.0 < out < 1.0):
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    return out


def float64_array(name: str, value: Any) -> np.ndarray:
    """Convert an array-like or torch tensor to a float64 ``ndarray``.

    Args:
        name: the parameter's name, for the message.
        value: an array-like, or a torch tensor (detached and moved to the CPU).

    Returns:
        A float64 ``ndarray`` of ``value``'s shape (a copy only where needed).

    Raises:
        ValueError: not a real numeric array.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().to(torch.float64).numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real numeric array, got {type(value).__name__}") from None


def all_finite(name: str, arr: np.ndarray) -> None:
    """Check that every entry of ``arr`` is finite.

    Args:
        name: the array's name, for the message.
        arr: a float ndarray of any shape.

    Raises:
        ValueError: naming the first NaN/Inf entry of ``arr``.
    """
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} must contain only finite values, got {bad!r}")


def all_positive(name: str, arr: np.ndarray) -> None:
    """Check that every entry of ``arr`` is finite and > 0 (as log-log fits need).

    Args:
        name: the array's name, for the message.
        arr: a float ndarray of any shape.

    Raises:
        ValueError: naming the first NaN/Inf or non-positive entry.
    """
    all_finite(name, arr)
    if np.any(arr <= 0):
        bad = arr[arr <= 0].flat[0]
        raise ValueError(f"{name} must contain only positive values (log-log fit), got {bad!r}")
