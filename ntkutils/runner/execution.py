"""Execute notebooks with papermill, in this process, and read back what each one wrote.

``run_notebooks`` checks every override (``parameters.plan_overrides``) before the first kernel
starts, then runs the notebooks one after the other with ``papermill.execute_notebook``:
results and figures are redirected through ``NTK_REPRO_RESULTS_DIR`` /
``NTK_REPRO_FIGURES_DIR``, a failing notebook is recorded and the next one runs, and each
``results/<stem>.json`` is read into a ``RunResult``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nbformat

from .. import paths
from .._progress import progress_enabled
from ..claims import FAIL, NOT_ASSESSED, PASS
from .discovery import NotebookInfo
from .parameters import plan_overrides, resolve_run_profile

__all__ = ["QUIET_ENV", "KERNEL_NAME", "RunError", "RunResult", "run_notebooks"]

QUIET_ENV = "NTK_REPRO_QUIET"
KERNEL_NAME = "python3"


@dataclass(frozen=True)
class RunError:
    """Why a notebook did not complete.

    Attributes:
        ename, evalue: the exception's name and message.
        cell_index, exec_count: the failing cell's index in the executed notebook and its
            execution count, when the kernel raised.
        source: that cell's source.
    """

    ename: str
    evalue: str
    cell_index: int | None = None
    exec_count: int | None = None
    source: str = ""

    def describe(self) -> str:
        """``"ZeroDivisionError: division by zero (cell 2, In [2])"``."""
        where = ""
        if self.cell_index is not None:
            where = f" (cell {self.cell_index}" + (f", In [{self.exec_count}]" if self.exec_count else "") + ")"
        return f"{self.ename}: {self.evalue}{where}"


@dataclass(frozen=True)
class RunResult:
    """The outcome of one notebook run.

    Attributes:
        info, profile, parameters: what ran (``parameters``: those injected).
        output_path: the executed copy.
        elapsed_s: measured here, kernel start included.
        error: None when the notebook ran to the end and wrote its results file.
        results_path: the results file read, if any.
        passed, failed, not_assessed: claim counts from that file.
        failed_claims: one line per FAILed claim.
        wall_time_s: as the notebook reported it.
        stored: copied back over ``notebooks/<stem>.ipynb``.
    """

    info: NotebookInfo
    profile: str
    parameters: Mapping[str, Any]
    output_path: Path
    elapsed_s: float
    error: RunError | None = None
    results_path: Path | None = None
    passed: int = 0
    failed: int = 0
    not_assessed: int = 0
    failed_claims: tuple[str, ...] = ()
    wall_time_s: float | None = None
    stored: bool = False

    @property
    def stem(self) -> str:
        """The notebook's stem."""
        return self.info.stem

    @property
    def ok(self) -> bool:
        """The notebook ran to the end and wrote its results (claims may still have failed)."""
        return self.error is None

    @property
    def total(self) -> int:
        """Number of claims in the results file."""
        return self.passed + self.failed + self.not_assessed

    @property
    def status(self) -> str:
        """``"ok"`` or ``"FAILED: <exception name>"``."""
        return "ok" if self.ok else f"FAILED: {self.error.ename}"


@contextmanager
def _environ(updates: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {k: os.environ.get(k) for k in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_notebooks(infos: Sequence[NotebookInfo], profile: str | None = "default",
                  overrides: Sequence[str] | Mapping[str, Any] | None = None,
                  output_dir: str | os.PathLike[str] | None = None,
                  results_dir: str | os.PathLike[str] | None = None,
                  figures_dir: str | os.PathLike[str] | None = None,
                  store: bool = False, progress: bool | None = None,
                  echo: Callable[[str], None] | None = None) -> list[RunResult]:
    """Execute notebooks one after the other with papermill (in this process).

    With the default profile and no overrides no parameters are injected. A failing notebook
    is recorded and the next one runs. Results and figures directories reach the kernel as
    absolute paths in the environment, with ``NTK_REPRO_QUIET=1``.

    Args:
        infos: the notebooks (``discover`` / ``resolve_names``).
        profile: smoke, default or paper (None: from ``overrides``, else ``"default"``).
        overrides: ``KEY=VALUE`` strings or a mapping, all checked (``plan_overrides``) before
            any kernel starts.
        output_dir: where executed copies go as ``<stem>.ipynb`` (default ``<repo>/outputs``).
        results_dir, figures_dir: where the notebooks write (default: ``ntkutils.paths``).
        store: copy each notebook that ran to the end back over its source (profile default,
            no overrides only).
        progress: bars over notebooks and cells (None: when interactive).
        echo: called with a line as each notebook starts and ends.

    Returns:
        One ``RunResult`` per notebook, in order.

    Raises:
        ValueError: a bad override or profile, or ``store`` with another profile or overrides
            (before anything runs).
    """
    infos = list(infos)
    plan = plan_overrides(overrides, infos)
    profile = resolve_run_profile(profile, plan)
    if store and (profile != "default" or any(plan.values())):
        given = sorted({k for p in plan.values() for k in p})
        raise ValueError("--store needs profile 'default' and no -p overrides (stored notebooks "
                         f"are the default run); got profile {profile!r}, overrides {given}")
    out_dir = Path(output_dir) if output_dir is not None else paths.repo_root() / "outputs"
    res_dir = Path(results_dir) if results_dir is not None else paths.results_dir()
    fig_dir = Path(figures_dir) if figures_dir is not None else paths.figures_dir()
    out_dir, res_dir, fig_dir = (p.expanduser().resolve() for p in (out_dir, res_dir, fig_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    # The inline backend whatever MPLBACKEND says outside (CI sets Agg): stored notebooks must
    # show their figures.
    env = {QUIET_ENV: "1", paths.RESULTS_ENV: str(res_dir), paths.FIGURES_ENV: str(fig_dir),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    show = progress_enabled(progress)
    from tqdm.auto import tqdm

    results: list[RunResult] = []
    with tqdm(total=len(infos), desc="notebooks", unit="nb", disable=not show) as bar:
        for info in infos:
            bar.set_postfix_str(info.stem)
            params = {"profile": profile, **plan[info.stem]}
            if profile == "default" and not plan[info.stem]:
                params = {}
            if echo:
                echo(f"running {info.stem} [{profile}]" + "".join(f" {k}={v!r}" for k, v in plan[info.stem].items()))
            result = _run_one(info, profile, params, out_dir / f"{info.stem}.ipynb",
                              res_dir / f"{info.stem}.json", env, show, store)
            if echo:
                echo(f"{info.stem}: {result.status} ({result.elapsed_s:.1f} s)")
            results.append(result)
            bar.update()
    return results


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _run_one(info: NotebookInfo, profile: str, params: dict[str, Any], output: Path,
             results_path: Path, env: Mapping[str, str], show: bool, store: bool) -> RunResult:
    """Execute one notebook; never raises for a notebook failure (KeyboardInterrupt passes)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    before = _mtime(results_path)
    start = time.perf_counter()
    error: RunError | None = None
    try:
        with _environ(env):
            papermill.execute_notebook(str(info.path), str(output), parameters=params or None,
                                       kernel_name=KERNEL_NAME, progress_bar=show,
                                       cwd=str(info.path.parent))
    except PapermillExecutionError as exc:
        error = RunError(ename=str(exc.ename), evalue=str(exc.evalue), cell_index=exc.cell_index,
                         exec_count=exc.exec_count, source=str(exc.source or ""))
    except Exception as exc:  # kernel death, timeout, unreadable notebook: record, go on
        lines = str(exc).strip().splitlines()
        error = RunError(ename=type(exc).__name__, evalue=lines[-1] if lines else "")
    elapsed = time.perf_counter() - start
    fresh = _mtime(results_path) is not None and _mtime(results_path) != before
    result = RunResult(info=info, profile=profile, parameters=dict(params), output_path=output,
                       elapsed_s=elapsed, error=error)
    if fresh:
        result = _with_claims(result, results_path)
    elif error is None:
        result = replace(result, error=RunError(
            "NoResults", f"the notebook finished without writing {results_path}"))
    if store and result.ok:
        paths.atomic_write_bytes(info.path, _clean_for_storage(output))
        result = replace(result, stored=True)
    return result


def _with_claims(result: RunResult, path: Path) -> RunResult:
    """Add claim counts and failed claims from a results file (a bad file is an error)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        claims = body["claims"]
        statuses = [c["status"] for c in claims]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return replace(result, results_path=path,
                        error=result.error or RunError("BadResults", f"{path}: {exc}"))
    failed = tuple(f"{c.get('name')}: measured {c.get('measured_text')}, expected {c.get('expected')}"
                   for c in claims if c.get("status") == FAIL)
    wall = body.get("wall_time_s")
    return replace(result, results_path=path, passed=statuses.count(PASS),
                    failed=statuses.count(FAIL), not_assessed=statuses.count(NOT_ASSESSED),
                    failed_claims=failed, wall_time_s=float(wall) if isinstance(wall, (int, float)) else None)


def _clean_for_storage(executed: Path) -> bytes:
    """The executed notebook without papermill's run-specific metadata (absolute paths, time
    stamps, durations), so a stored notebook differs from the previous one only in outputs."""
    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")
