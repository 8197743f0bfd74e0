"""Execute notebooks with papermill, in this process, and read back what each one wrote.

``run_notebooks`` checks every override (``parameters.plan_overrides``) before the first kernel
starts, then runs the notebooks one after the other with ``papermill.execute_notebook``:
results and figures are redirected through ``NTK_REPRO_RESULTS_DIR`` /
``NTK_REPRO_FIGURES_DIR``, a failing notebook is recorded and the next one runs, and each
``results/<stem>.json`` is read into a ``RunResult``.
"""

from __future__ import annotations

import hashlib
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

__all__ = ["QUIET_ENV", "KERNEL_NAME", "Destinations", "RunError", "RunResult", "destinations",
           "run_notebooks"]

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


@dataclass(frozen=True)
class Destinations:
    """Where one ``run`` writes.

    Attributes:
        executed: the folder of the executed copies ``<stem>.ipynb``.
        results, figures: the folders of ``<stem>.json`` and ``<stem>_<panel>.{pdf,png}``.
        stored: True iff these are the stored places (``--store``).
    """

    executed: Path
    results: Path
    figures: Path
    stored: bool

    def describe(self) -> str:
        """One line: ``"executed notebooks: …; results: …; figures: …"`` (paths shown relative
        to the repository when inside it)."""
        def shown(path: Path) -> str:
            return paths.shown_path(path) + "/"
        kind = "stored " if self.stored else ""
        return (f"executed notebooks: {shown(self.executed)}; {kind}results: "
                f"{shown(self.results)}; {kind}figures: {shown(self.figures)}")


def _run_label(profile: str, plan: Mapping[str, Mapping[str, Any]]) -> str:
    """``outputs/`` folder name of a run: the profile, plus a short hash of the overrides."""
    given = {stem: dict(sorted(p.items())) for stem, p in sorted(plan.items()) if p}
    if not given:
        return profile
    digest = hashlib.sha256(json.dumps(given, sort_keys=True, default=repr).encode()).hexdigest()
    return f"{profile}-{digest[:8]}"


def destinations(profile: str, plan: Mapping[str, Mapping[str, Any]], *, store: bool = False,
                 output_dir: str | os.PathLike[str] | None = None,
                 results_dir: str | os.PathLike[str] | None = None,
                 figures_dir: str | os.PathLike[str] | None = None) -> Destinations:
    """Where a run writes: only ``store`` reaches the stored results.

    * ``store`` (profile ``default`` or ``paper``, no overrides): results and figures go to
      ``paths.stored_results_dir(profile)`` / ``stored_figures_dir(profile)`` (``results/``,
      ``figures/``; ``results/paper/``, ``figures/paper/``); executed copies to
      ``outputs/default/`` (then copied over ``notebooks/``) or ``results/paper/``.
    * otherwise everything goes under ``outputs/<label>/`` (``executed`` itself, ``results/``,
      ``figures/``), ``<label>`` being the profile plus, with overrides, ``-`` and 8 hex digits
      of their hash, so runs with other parameters never mix.

    Explicit directories (arguments, else ``$NTK_REPRO_RESULTS_DIR`` /
    ``$NTK_REPRO_FIGURES_DIR``) win in both cases.

    Args:
        profile: the run's profile.
        plan: ``{stem: {knob: value}}`` overrides (``plan_overrides``).
        store: write the stored results.
        output_dir, results_dir, figures_dir: explicit directories, or None.

    Returns:
        The ``Destinations`` (absolute paths; nothing is created).

    Raises:
        ValueError: ``store`` with a profile other than default/paper or with overrides; a run
            without ``store`` whose results or figures would land in a stored place.
    """
    if store and (profile not in paths.STORED_PROFILES or any(plan.values())):
        given = sorted({k for p in plan.values() for k in p})
        raise ValueError("--store needs profile 'default' or 'paper' and no -p overrides (the "
                         f"stored results are those profiles' own runs); got profile {profile!r}, "
                         f"overrides {given}")

    def explicit(arg: str | os.PathLike[str] | None, env: str) -> Path | None:
        if arg is not None:
            return Path(arg)
        value = os.environ.get(env, "").strip()
        return Path(value) if value else None

    res = explicit(results_dir, paths.RESULTS_ENV)
    fig = explicit(figures_dir, paths.FIGURES_ENV)
    out = Path(output_dir) if output_dir is not None else None
    if store:
        res = res or paths.stored_results_dir(profile)
        fig = fig or paths.stored_figures_dir(profile)
        out = out or (paths.scratch_dir("default") if profile == "default" else res)
    else:
        scratch = paths.scratch_dir(_run_label(profile, plan))
        res, fig, out = res or scratch / "results", fig or scratch / "figures", out or scratch
    res, fig, out = (p.expanduser().resolve() for p in (res, fig, out))
    if not store:
        protected = {paths.stored_results_dir(p).resolve() for p in paths.STORED_PROFILES}
        protected |= {paths.stored_figures_dir(p).resolve() for p in paths.STORED_PROFILES}
        clash = [str(p) for p in (res, fig) if p in protected]
        if clash:
            raise ValueError(f"results/figures directory {clash[0]} holds the stored results; "
                             "only `make reproduce` or `ntk-repro run --store` writes there "
                             "(give another --results-dir/--figures-dir, or none for outputs/)")
    return Destinations(executed=out, results=res, figures=fig, stored=store)


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
        output_dir, results_dir, figures_dir: where executed copies, results and figures go
            (default: ``destinations``: under ``outputs/`` unless ``store``).
        store: write the stored results and figures (profile default or paper, no overrides);
            at the default profile, also copy each notebook that ran to the end back over its
            source.
        progress: bars over notebooks and cells (None: when interactive).
        echo: called with a line as each notebook starts and ends.

    Returns:
        One ``RunResult`` per notebook, in order.

    Raises:
        ValueError: a bad override or profile, or bad destinations (``destinations``), before
            anything runs.
    """
    infos = list(infos)
    plan = plan_overrides(overrides, infos)
    profile = resolve_run_profile(profile, plan)
    where = destinations(profile, plan, store=store, output_dir=output_dir,
                         results_dir=results_dir, figures_dir=figures_dir)
    out_dir, res_dir, fig_dir = where.executed, where.results, where.figures
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
                              res_dir / f"{info.stem}.json", env, show,
                              store and profile == "default")
            if where.stored and profile != "default" and result.output_path.exists():
                # a stored paper run keeps its executed copy beside its results: without
                # papermill's absolute paths and time stamps
                paths.atomic_write_bytes(result.output_path, _clean_for_storage(result.output_path))
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
