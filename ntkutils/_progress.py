"""Progress bars, shown only when a person is watching.

Shown in a terminal or a live Jupyter kernel; silent in tests, papermill runs and CI (set
``NTK_REPRO_QUIET=1``, which the runner and tests do).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def progress_enabled(progress: bool | None = None) -> bool:
    """Decide whether to show a progress bar.

    Args:
        progress: an explicit choice, which wins; ``None`` decides from the environment.

    Returns:
        ``progress`` if given; else False when ``NTK_REPRO_QUIET`` is 1/true/yes or ``CI`` is
        set, else True iff stderr is a terminal or this is a live Jupyter kernel.
    """
    if progress is not None:
        return progress
    if os.environ.get("NTK_REPRO_QUIET", "").lower() in {"1", "true", "yes"} or os.environ.get("CI"):
        return False
    return sys.stderr.isatty() or _in_jupyter_kernel()


def _in_jupyter_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def progress_bar(iterable: Iterable[T], *, total: int | None = None, desc: str | None = None,
                 progress: bool | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a progress bar when one should be shown.

    Args:
        iterable: what to iterate over.
        total: number of items, for the bar (optional).
        desc: the bar's label (optional).
        progress: forwarded to ``progress_enabled``.

    Returns:
        ``tqdm.auto.tqdm`` around ``iterable`` (``leave=False``) when
        ``progress_enabled(progress)``, else ``iterable`` itself.
    """
    if not progress_enabled(progress):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
