"""Shared benchmark helpers: best-of-k wall time in this process, and peak resident memory of
one call measured in a fresh subprocess (so earlier allocations do not hide it)."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Minimum wall time over ``repeats`` calls (the least noisy estimator on a shared machine)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _child(target, args, queue):
    # Reset the peak-RSS counter (Linux: "5" to clear_refs), so import-time peaks do not count.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = _status_kib("VmRSS")
    target(*args)
    queue.put((_status_kib("VmHWM") - base) / 1024.0)


def peak_memory_mib(target: Callable, *args) -> float:
    """Growth of peak RSS (MiB) over the starting RSS while ``target(*args)`` runs in a spawned
    subprocess (Linux only). ``target`` must be a module-level function (picklable)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    value = queue.get()
    proc.join()
    return value
