"""Find, validate and execute the notebooks; summarise their claims; write the README table.

Used only by ``ntkutils.cli`` (``ntk-repro``); nothing else in the package imports it.

* ``discover()`` reads ``notebooks/NN_name.ipynb``: title, paper and claims from
  ``metadata["ntk_repro"]``, and the ``parameters`` cell (``name: TYPE = literal  # comment``)
  parsed with ``ast`` (never executed).
* ``resolve_names()`` maps ``01`` / ``1`` / ``01_name`` / ``name`` to notebooks.
* ``parse_parameter_overrides()`` / ``plan_overrides()`` turn ``KEY=VALUE`` strings into typed
  values, checked against the annotation and the value rules in ``VALUE_RULES``, so that a bad
  value fails before any kernel starts.
* ``run_notebooks()`` executes with papermill's Python API in this process, with results and
  figures redirected through ``NTK_REPRO_RESULTS_DIR`` / ``NTK_REPRO_FIGURES_DIR``, keeps going
  past a failing notebook and reads each ``results/<stem>.json``.
* ``summary_table()``, ``exit_code()``, ``readme_table()``, ``update_readme()``.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import json
import math
import os
import re
import time
import tokenize
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ._progress import progress_enabled
from .activations import ACTIVATIONS
from .claims import FAIL, NOT_ASSESSED, PASS, PROFILES, verdict_line
from . import paths as _paths
from .paths import FIGURES_ENV, RESULTS_ENV, atomic_write_bytes, repo_root

__all__ = [
    "NOTEBOOKS_ENV", "QUIET_ENV", "README_START", "README_END", "VALUE_RULES",
    "ParameterSpec", "NotebookInfo", "ValueRule", "RunError", "RunResult",
    "discover", "default_notebooks_dir", "parse_parameters_cell", "resolve_names",
    "parse_parameter_overrides", "check_parameter_value", "plan_overrides",
    "run_notebooks", "summary_table", "exit_code", "readme_table", "readme_verdict", "update_readme",
]

NOTEBOOKS_ENV = "NTK_REPRO_NOTEBOOKS_DIR"
QUIET_ENV = "NTK_REPRO_QUIET"
README_START = "<!-- results-table:start -->"
README_END = "<!-- results-table:end -->"
VERDICT_START = "<!-- verdict:start -->"
VERDICT_END = "<!-- verdict:end -->"
KERNEL_NAME = "python3"
DEVICES = ("cpu", "cuda")
PARAMETERIZATIONS = ("ntk", "standard")

_STEM_RE = re.compile(r"(\d{2})_[A-Za-z0-9_]+")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SCALARS = ("int", "float", "str", "bool")


# ====================================================================== notebook discovery
@dataclass(frozen=True)
class ParameterSpec:
    """One knob of a notebook's ``parameters`` cell.

    ``type``: the annotation as written (``"list[int] | None"``); ``default``: the literal value;
    ``comment``: the trailing ``# comment`` (without ``#``), ``""`` if none.
    """

    name: str
    type: str
    default: Any
    comment: str = ""

    @property
    def base(self) -> str:
        """``int``, ``float``, ``str``, ``bool`` or ``list``."""
        return _parse_type(self.type)[0]

    @property
    def element(self) -> str | None:
        """The element type of a ``list[...]`` parameter, else None."""
        return _parse_type(self.type)[1]

    @property
    def optional(self) -> bool:
        """True iff the annotation allows ``None``."""
        return _parse_type(self.type)[2]


@dataclass(frozen=True)
class NotebookInfo:
    """A notebook found by ``discover``: ``stem`` (``01_gp_at_initialization``), its two-digit
    ``number``, ``path``, ``title``, ``paper``, stated ``claims`` and ``parameters``."""

    stem: str
    number: int
    path: Path
    title: str
    paper: str = ""
    claims: tuple[str, ...] = ()
    parameters: Mapping[str, ParameterSpec] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The stem without its number: ``gp_at_initialization``."""
        return self.stem.split("_", 1)[1]


def default_notebooks_dir() -> Path:
    """``$NTK_REPRO_NOTEBOOKS_DIR`` if set (and non-empty), else ``<repo>/notebooks``."""
    value = os.environ.get(NOTEBOOKS_ENV, "")
    return Path(value).expanduser() if value.strip() else repo_root() / "notebooks"


def discover(notebooks_dir: str | os.PathLike[str] | None = None) -> list[NotebookInfo]:
    """All ``NN_snake_name.ipynb`` notebooks of the directory, sorted by file name.

    Raises ``ValueError`` for a missing directory or a malformed ``parameters`` cell (naming the
    notebook and the line).
    """
    directory = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if not directory.is_dir():
        raise ValueError(f"notebooks directory {str(directory)!r} does not exist")
    return [_read_info(p) for p in sorted(directory.glob("*.ipynb")) if _STEM_RE.fullmatch(p.stem)]


def _read_info(path: Path) -> NotebookInfo:
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("ntk_repro", {}) or {}
    title = str(meta.get("title") or _first_heading(nb) or path.stem)
    params_cell = next((c for c in nb.cells if c.cell_type == "code"
                        and "parameters" in c.get("metadata", {}).get("tags", [])), None)
    parameters = {} if params_cell is None else parse_parameters_cell(
        params_cell.source, where=f"{path.name}, parameters cell")
    return NotebookInfo(stem=path.stem, number=int(path.stem[:2]), path=path.resolve(), title=title,
                        paper=str(meta.get("paper", "")),
                        claims=tuple(str(c) for c in meta.get("claims", []) or ()),
                        parameters=parameters)


def _first_heading(nb: nbformat.NotebookNode) -> str | None:
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = _HEADING_RE.match(line)
            if match and match.group(1):
                return match.group(1)
    return None


def parse_parameters_cell(source: str, *, where: str = "parameters cell") -> dict[str, ParameterSpec]:
    """Parse ``name: TYPE = literal  # comment`` lines (``ast``; nothing is executed).

    A plain ``name = literal`` is accepted with its type inferred from the literal. Anything
    else (a call, an import, an unsupported annotation, a default that does not fit the
    annotation) raises ``ValueError`` naming ``where`` and the line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: line {exc.lineno}: not valid Python ({exc.msg})") from None
    comments = _line_comments(source)
    specs: dict[str, ParameterSpec] = {}
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a bare string (docstring-like) is allowed
        spec = _spec_from_node(node, comments.get(node.end_lineno or node.lineno, ""), where)
        specs[spec.name] = spec
    return specs


def _spec_from_node(node: ast.stmt, comment: str, where: str) -> ParameterSpec:
    line = f"{where}: line {node.lineno}"
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        name, type_text, value_node = node.target.id, ast.unparse(node.annotation), node.value
        try:
            _parse_type(type_text)
        except ValueError as exc:
            raise ValueError(f"{line}: {exc}") from None
    elif (isinstance(node, ast.Assign) and len(node.targets) == 1
          and isinstance(node.targets[0], ast.Name)):
        name, type_text, value_node = node.targets[0].id, "", node.value
    else:
        raise ValueError(f"{line}: expected `name: TYPE = literal`, got {ast.unparse(node)!r}")
    try:
        default = ast.literal_eval(value_node)
    except (ValueError, TypeError, SyntaxError):
        raise ValueError(f"{line}: the default of {name!r} must be a literal, "
                         f"got {ast.unparse(value_node)!r}") from None
    type_text = type_text or _infer_type(default)
    try:
        default = _coerce(name, default, type_text)
    except ValueError as exc:
        raise ValueError(f"{line}: default does not fit its annotation: {exc}") from None
    return ParameterSpec(name=name, type=type_text, default=default, comment=comment)


def _line_comments(source: str) -> dict[int, str]:
    """Line number -> text of the ``#`` comment on that line (``#`` inside strings ignored)."""
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _infer_type(value: Any) -> str:
    if value is None:
        return "str | None"
    if isinstance(value, (bool, int, float, str)):
        return type(value).__name__
    if isinstance(value, (list, tuple)) and value:
        kinds = {type(v).__name__ for v in value}
        if kinds <= {"int"}:
            return "list[int]"
        if kinds <= {"int", "float"}:
            return "list[float]"
        if kinds <= {"str"}:
            return "list[str]"
    raise ValueError(f"cannot infer a supported type from {value!r}; annotate it")


def _parse_type(type_text: str) -> tuple[str, str | None, bool]:
    """``"list[int] | None"`` -> ``("list", "int", True)``; ``ValueError`` if unsupported."""
    try:
        node = ast.parse(type_text, mode="eval").body
    except SyntaxError:
        node = None
    optional = False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        if len(nones) == 1:
            optional, node = True, next(s for s in sides if s is not nones[0])
    elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
          and node.value.id == "Optional"):
        optional, node = True, node.slice
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return node.id, None, optional
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "list"
            and isinstance(node.slice, ast.Name) and node.slice.id in ("int", "float", "str")):
        return "list", node.slice.id, optional
    raise ValueError(f"unsupported parameter type {type_text!r} (allowed: int, float, str, bool, "
                     f"list[int], list[float], list[str], each optionally `| None`)")


# ====================================================================== name resolution
def resolve_names(names: Sequence[str] | None, infos: Sequence[NotebookInfo]) -> list[NotebookInfo]:
    """The notebooks named by ``names`` (all of ``infos`` when empty), in the order given.

    A name is the number (``01`` or ``1``), the stem (``01_gp_at_initialization``, optionally
    with ``.ipynb`` or a directory), or the stem without the number. Unknown or ambiguous names
    raise ``ValueError`` listing the available notebooks.
    """
    if not names:
        return list(infos)
    chosen: list[NotebookInfo] = []
    for name in names:
        info = _resolve_one(name, infos)
        if info not in chosen:
            chosen.append(info)
    return chosen


def _resolve_one(name: str, infos: Sequence[NotebookInfo]) -> NotebookInfo:
    key = str(name).strip()
    if key.endswith(".ipynb"):
        key = Path(key).stem
    if key.isdigit():
        matches = [i for i in infos if i.number == int(key)]
    else:
        matches = [i for i in infos if key in (i.stem, i.short_name)]
    if len(matches) == 1:
        return matches[0]
    available = ", ".join(i.stem for i in infos) or "none"
    if not matches:
        raise ValueError(f"unknown notebook {name!r}; available: {available}")
    raise ValueError(f"notebook name {name!r} is ambiguous: {', '.join(i.stem for i in matches)}")


# ====================================================================== parameter overrides
@dataclass(frozen=True)
class ValueRule:
    """A value rule: parameters whose name matches one of ``patterns`` (``fnmatch``) must
    satisfy ``test`` for the scalar value, or for every element of a list value, when that
    value (element) is an instance of ``kinds``. ``allowed`` is shown in the error message."""

    patterns: tuple[str, ...]
    allowed: str
    test: Callable[[Any], bool]
    kinds: tuple[type, ...]


_NUMBER = (int, float)
#: The value rules (first match per rule, all rules apply). Extend here.
VALUE_RULES: tuple[ValueRule, ...] = (
    ValueRule(("profile",), f"one of {list(PROFILES)}", lambda v: v in PROFILES, (str,)),
    ValueRule(("device",), f"one of {list(DEVICES)} or None", lambda v: v in DEVICES, (str,)),
    ValueRule(("activation", "activations"), f"one of {sorted(ACTIVATIONS)}",
              lambda v: v in ACTIVATIONS, (str,)),
    ValueRule(("parameterization",), f"one of {list(PARAMETERIZATIONS)}",
              lambda v: v in PARAMETERIZATIONS, (str,)),
    ValueRule(("width", "depth", "n", "n_*", "*_width", "*_depth", "widths", "depths"),
              "an integer >= 1", lambda v: v >= 1, (int,)),
    ValueRule(("seed",), "an integer >= 0", lambda v: v >= 0, (int,)),
    ValueRule(("eta", "lr", "sigma_w"), "a number > 0", lambda v: v > 0, _NUMBER),
    ValueRule(("sigma_b",), "a number >= 0", lambda v: v >= 0, _NUMBER),
)


def _split_item(item: str) -> tuple[str, str]:
    key, sep, raw = str(item).partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"-p expects KEY=VALUE with KEY a parameter name, got {item!r}")
    return key, raw.strip()


def parse_parameter_overrides(items: Sequence[str], spec: Mapping[str, ParameterSpec]) -> dict[str, Any]:
    """``["width=512", "activation=erf"]`` -> ``{"width": 512, "activation": "erf"}``.

    Values are parsed with ``ast.literal_eval`` (a ``str`` parameter falls back to the raw text),
    checked against the annotation and against ``VALUE_RULES``. Raises ``ValueError`` naming the
    parameter, the value and what is allowed (an unknown parameter lists the known ones; a key
    given twice is an error).
    """
    out: dict[str, Any] = {}
    for item in items:
        key, raw = _split_item(item)
        if key in out:
            raise ValueError(f"parameter {key!r} is given more than once")
        if key not in spec:
            raise ValueError(f"unknown parameter {key!r}; known parameters: {', '.join(spec) or 'none'}")
        out[key] = _check_rules(key, _coerce(key, _parse_raw(raw, spec[key].type), spec[key].type))
    return out


def check_parameter_value(name: str, value: Any, spec: Mapping[str, ParameterSpec]) -> Any:
    """Check an already-parsed Python ``value`` for parameter ``name`` (as
    ``parse_parameter_overrides`` does) and return it normalised (ints as floats for ``float``,
    tuples as lists)."""
    if name not in spec:
        raise ValueError(f"unknown parameter {name!r}; known parameters: {', '.join(spec) or 'none'}")
    return _check_rules(name, _coerce(name, value, spec[name].type))


_NOT_A_LITERAL = object()


def _parse_raw(raw: str, type_text: str) -> Any:
    """The text of ``KEY=VALUE`` -> a Python value (before type checks)."""
    base, element, optional = _parse_type(type_text)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = _NOT_A_LITERAL
    if base == "str" and not isinstance(value, str) and not (value is None and optional):
        return raw
    if base == "bool" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if base == "list" and element == "str" and value is _NOT_A_LITERAL:
        inner = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
        return [part.strip().strip("'\"") for part in inner.split(",") if part.strip()]
    return raw if value is _NOT_A_LITERAL else value


def _scalar_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, str)


def _coerce(name: str, value: Any, type_text: str) -> Any:
    """Check ``value`` against the annotation; ints become floats for ``float``."""
    base, element, optional = _parse_type(type_text)
    if value is None:
        if optional:
            return None
        raise ValueError(f"parameter {name!r}: None is not allowed (type {type_text}), got None")
    if base == "list":
        if not isinstance(value, (list, tuple)) or not all(_scalar_ok(v, element or "") for v in value):
            raise ValueError(f"parameter {name!r} must be of type {type_text}, got {value!r}")
        return [float(v) if element == "float" else v for v in value]
    if not _scalar_ok(value, base):
        raise ValueError(f"parameter {name!r} must be of type {type_text}"
                         f"{' (finite)' if base == 'float' else ''}, got {value!r}")
    return float(value) if base == "float" else value


def _check_rules(name: str, value: Any) -> Any:
    for rule in VALUE_RULES:
        if not any(fnmatch.fnmatchcase(name, p) for p in rule.patterns):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if (isinstance(item, rule.kinds) and not isinstance(item, bool)
                    and not rule.test(item)):
                if isinstance(value, list):
                    raise ValueError(f"parameter {name!r}: value {value!r} is not allowed; every "
                                     f"element must be {rule.allowed} (got {item!r})")
                raise ValueError(f"parameter {name!r}: value {value!r} is not allowed; "
                                 f"must be {rule.allowed}")
    return value


def plan_overrides(overrides: Sequence[str] | Mapping[str, Any] | None,
                   infos: Sequence[NotebookInfo]) -> dict[str, dict[str, Any]]:
    """The checked overrides for each notebook, keyed by stem.

    ``overrides``: ``KEY=VALUE`` strings or a mapping of Python values. A key that some selected
    notebooks lack is passed only to those that have it; a key that none has is an error.
    """
    if not overrides:
        return {i.stem: {} for i in infos}
    if isinstance(overrides, Mapping):
        pairs = [(str(k), v) for k, v in overrides.items()]
    else:
        pairs = [_split_item(item) for item in overrides]
        keys = [k for k, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"parameter {key!r} is given more than once")
    known = {name for i in infos for name in i.parameters}
    for key, value in pairs:
        if key not in known:
            raise ValueError(f"unknown parameter {key!r} for {', '.join(i.stem for i in infos)}; "
                             f"known parameters: {', '.join(sorted(known)) or 'none'}")
    plan: dict[str, dict[str, Any]] = {}
    for info in infos:
        mine = [(k, v) for k, v in pairs if k in info.parameters]
        if isinstance(overrides, Mapping):
            plan[info.stem] = {k: check_parameter_value(k, v, info.parameters) for k, v in mine}
        else:
            plan[info.stem] = parse_parameter_overrides([f"{k}={v}" for k, v in mine], info.parameters)
    return plan


# ====================================================================== execution
@dataclass(frozen=True)
class RunError:
    """Why a notebook did not complete: the exception's name and message, and the failing cell
    (its index in the executed notebook and its execution count) when the kernel raised."""

    ename: str
    evalue: str
    cell_index: int | None = None
    exec_count: int | None = None
    source: str = ""

    def describe(self) -> str:
        where = ""
        if self.cell_index is not None:
            where = f" (cell {self.cell_index}" + (f", In [{self.exec_count}]" if self.exec_count else "") + ")"
        return f"{self.ename}: {self.evalue}{where}"


@dataclass(frozen=True)
class RunResult:
    """The outcome of one notebook run.

    ``error``: None when the notebook ran to the end and wrote its results file; ``passed`` /
    ``failed`` / ``not_assessed``: claim counts from that file; ``failed_claims``: one line per
    FAILed claim; ``wall_time_s``: as the notebook reported it; ``elapsed_s``: measured here,
    kernel start included; ``stored``: copied back over ``notebooks/<stem>.ipynb``.
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
        return self.info.stem

    @property
    def ok(self) -> bool:
        """The notebook ran to the end and wrote its results (claims may still have failed)."""
        return self.error is None

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.not_assessed

    @property
    def status(self) -> str:
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


def _resolve_profile(profile: str | None, plan: dict[str, dict[str, Any]]) -> str:
    """The run's profile: the argument, or ``-p profile=...``; both must agree. Removes
    ``profile`` from the per-notebook overrides."""
    given = {p.pop("profile") for p in plan.values() if "profile" in p}
    if len(given) > 1:
        raise ValueError(f"profile given with different values: {sorted(given)}")
    from_overrides = given.pop() if given else None
    if profile is not None and from_overrides is not None and profile != from_overrides:
        raise ValueError(f"profile given twice: --profile {profile} and -p profile={from_overrides}")
    chosen = profile if profile is not None else (from_overrides or "default")
    if chosen not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {chosen!r}")
    return chosen


def run_notebooks(infos: Sequence[NotebookInfo], profile: str | None = "default",
                  overrides: Sequence[str] | Mapping[str, Any] | None = None,
                  output_dir: str | os.PathLike[str] | None = None,
                  results_dir: str | os.PathLike[str] | None = None,
                  figures_dir: str | os.PathLike[str] | None = None,
                  store: bool = False, progress: bool | None = None,
                  echo: Callable[[str], None] | None = None) -> list[RunResult]:
    """Execute ``infos`` one after the other with papermill (in this process) and collect results.

    ``profile``: smoke/default/paper (None: from ``overrides`` or ``"default"``); ``overrides``:
    ``KEY=VALUE`` strings or a mapping, all validated (see ``plan_overrides``) before any kernel
    starts. Executed copies go to ``output_dir/<stem>.ipynb`` (default ``<repo>/outputs``);
    results and figures to ``results_dir`` / ``figures_dir`` (default: ``ntkutils.paths``), passed
    to the kernel as absolute paths via the environment, with ``NTK_REPRO_QUIET=1``. With the
    default profile and no overrides no parameters are injected. A failing notebook is
    recorded and the next one runs. ``store``: copy each notebook that ran to the end back over
    its source (only with profile default and no overrides). ``progress``: bars over notebooks
    and cells (None: when interactive). ``echo``: called with a line as each notebook starts
    and ends.
    """
    infos = list(infos)
    plan = plan_overrides(overrides, infos)
    profile = _resolve_profile(profile, plan)
    if store and (profile != "default" or any(plan.values())):
        given = sorted({k for p in plan.values() for k in p})
        raise ValueError("--store needs profile 'default' and no -p overrides (stored notebooks "
                         f"are the default run); got profile {profile!r}, overrides {given}")
    out_dir = Path(output_dir) if output_dir is not None else repo_root() / "outputs"
    res_dir = Path(results_dir) if results_dir is not None else _paths.results_dir()
    fig_dir = Path(figures_dir) if figures_dir is not None else _paths.figures_dir()
    out_dir, res_dir, fig_dir = (p.expanduser().resolve() for p in (out_dir, res_dir, fig_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    # The inline backend whatever MPLBACKEND says outside (CI sets Agg): stored notebooks must
    # show their figures.
    env = {QUIET_ENV: "1", RESULTS_ENV: str(res_dir), FIGURES_ENV: str(fig_dir),
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
        result = _replace(result, error=RunError(
            "NoResults", f"the notebook finished without writing {results_path}"))
    if store and result.ok:
        atomic_write_bytes(info.path, _clean_for_storage(output))
        result = _replace(result, stored=True)
    return result


def _replace(result: RunResult, **changes: Any) -> RunResult:
    from dataclasses import replace

    return replace(result, **changes)


def _with_claims(result: RunResult, path: Path) -> RunResult:
    """Add claim counts and failed claims from a results file (a bad file is an error)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        claims = body["claims"]
        statuses = [c["status"] for c in claims]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _replace(result, results_path=path,
                        error=result.error or RunError("BadResults", f"{path}: {exc}"))
    failed = tuple(f"{c.get('name')}: measured {c.get('measured_text')}, expected {c.get('expected')}"
                   for c in claims if c.get("status") == FAIL)
    wall = body.get("wall_time_s")
    return _replace(result, results_path=path, passed=statuses.count(PASS),
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


# ====================================================================== summaries
def exit_code(results: Sequence[RunResult], *, claims_may_fail: bool = False) -> int:
    """0 iff every notebook ran to the end and no claim FAILed, else 1. With
    ``claims_may_fail`` a FAILed claim does not count (a result to report, e.g. by
    ``make reproduce``, whose job is to regenerate; the tests judge the stored claims)."""
    return 0 if all(r.ok and (claims_may_fail or r.failed == 0) for r in results) else 1


def _claims_text(r: RunResult) -> str:
    if r.results_path is None:
        return "—"
    text = f"{r.passed}/{r.total}"
    if r.failed:
        text += f" ({r.failed} FAIL)"
    if r.not_assessed:
        text += f" (+{r.not_assessed} not assessed)"
    return text


def summary_table(results: Sequence[RunResult]) -> str:
    """The verdict line (claims PASS / FAIL / NOT ASSESSED and where), then a plain-text table:
    notebook | status | claims passed/total | time s, a totals line, then one line per error
    and per failed claim."""
    header = ["notebook", "status", "claims passed/total", "time s"]
    rows = [[r.stem, r.status, _claims_text(r), f"{r.elapsed_s:.1f}"] for r in results]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        parts = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    out = [verdict_line({r.stem: {PASS: r.passed, FAIL: r.failed, NOT_ASSESSED: r.not_assessed}
                         for r in results}), ""]
    out += [line(header), line(["-" * w for w in widths])] + [line(row) for row in rows]
    n_bad = sum(not r.ok for r in results)
    out.append(f"{len(results)} notebook(s): {len(results) - n_bad} ran, {n_bad} failed; claims: "
               f"{sum(r.passed for r in results)} passed, {sum(r.failed for r in results)} failed, "
               f"{sum(r.not_assessed for r in results)} not assessed")
    for r in results:
        if r.error is not None:
            out.append(f"{r.stem}: {r.error.describe()}  [executed copy: {r.output_path}]")
        out += [f"{r.stem}: claim FAILED: {text}" for text in r.failed_claims]
    return "\n".join(out)


# ====================================================================== README table
def _md(text: Any) -> str:
    """Text safe for one Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _link(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def readme_table(results_dir: str | os.PathLike[str] | None, infos: Sequence[NotebookInfo], *,
                 figures_dir: str | os.PathLike[str] | None = None,
                 link_base: str | os.PathLike[str] | None = None) -> str:
    """A Markdown table with one row per claim of every notebook.

    Columns: #, notebook (title linked to the notebook; the profile when not ``default``),
    paper, claim, expected, measured, status, figures (links to ``<stem>_*.png`` that exist).
    A notebook without a results file lists the claims from its metadata as "not run".
    After the table, every notebook's figures are shown (HTML ``<img>``, three to a row).
    Links are relative to ``link_base`` (default: the repository root, where the README is).
    """
    res_dir = Path(results_dir) if results_dir is not None else _paths.results_dir()
    fig_dir = Path(figures_dir) if figures_dir is not None else _paths.figures_dir()
    base = Path(link_base) if link_base is not None else repo_root()
    lines = ["| # | notebook | paper | claim | expected | measured | resolution | status | figures |",
             "|---|---|---|---|---|---|---|---|---|"]
    for info in infos:
        lines += _readme_rows(info, res_dir / f"{info.stem}.json", fig_dir, base.resolve())
    for info in infos:  # the figures themselves, notebook by notebook
        pngs = sorted(fig_dir.glob(f"{info.stem}_*.png"))
        if pngs:
            lines += ["", f"**{info.number:02d} · {_md(info.title)}**", "",
                      " ".join(f'<img src="{_link(p.resolve(), base.resolve())}" width="32%" '
                               f'alt="{_md(p.stem)}">' for p in pngs)]
    return "\n".join(lines)


def _readme_rows(info: NotebookInfo, results_path: Path, fig_dir: Path, base: Path) -> list[str]:
    try:
        body = json.loads(results_path.read_text(encoding="utf-8"))
        claims = [(c["name"], c.get("expected", ""), c.get("measured_text", "—"),
                   c.get("resolution_text", "—"), c["status"]) for c in body["claims"]]
        profile = body.get("profile", "default")
    except FileNotFoundError:
        claims = [(name, "", "—", "—", "not run") for name in info.claims]
        profile = "default"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        claims, profile = [("results file unreadable", "", "—", "—", f"error: {exc}")], "default"
    notebook = f"[{_md(info.title)}]({_link(info.path.resolve(), base)})"
    if profile != "default":
        notebook += f" (profile: {_md(profile)})"
    figures = ", ".join(f"[{_md(p.stem[len(info.stem) + 1:])}]({_link(p.resolve(), base)})"
                        for p in sorted(fig_dir.glob(f"{info.stem}_*.png")))
    claims = claims or [("—", "", "—", "—", "no claims")]
    rows = []
    for k, (name, expected, measured, resolution, status) in enumerate(claims):
        first = k == 0
        cells = [f"{info.number:02d}" if first else "", notebook if first else "",
                 _md(info.paper) if first else "", _md(name), _md(expected), _md(measured), _md(resolution),
                 f"**{status}**" if status == FAIL else _md(status), figures if first else ""]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def readme_verdict(results_dir: str | os.PathLike[str] | None, infos: Sequence[NotebookInfo]) -> str:
    """The one-line verdict over the stored results of ``infos`` (``claims.verdict_line``); a
    notebook without a readable results file counts its claims as NOT ASSESSED."""
    res_dir = Path(results_dir) if results_dir is not None else _paths.results_dir()
    counts = {}
    for info in infos:
        try:
            body = json.loads((res_dir / f"{info.stem}.json").read_text(encoding="utf-8"))
            counts[info.stem] = {s: sum(c["status"] == s for c in body["claims"]) for s in (PASS, FAIL, NOT_ASSESSED)}
        except (OSError, ValueError, KeyError, TypeError):
            counts[info.stem] = {PASS: 0, FAIL: 0, NOT_ASSESSED: max(len(info.claims), 1)}
    return verdict_line(counts) + " (stored `default` runs)"


def _replace_between(text: str, start_marker: str, end_marker: str, body: str, path: Path) -> str:
    if text.count(start_marker) != 1 or text.count(end_marker) != 1:
        raise ValueError(f"{path} must contain the markers {start_marker!r} and {end_marker!r} "
                         f"exactly once each")
    start = text.index(start_marker) + len(start_marker)
    end = text.index(end_marker)
    if end < start:
        raise ValueError(f"{path}: {end_marker!r} comes before {start_marker!r}")
    return text[:start] + "\n" + body.strip("\n") + "\n" + text[end:]


def update_readme(readme_path: str | os.PathLike[str], table: str, verdict: str | None = None) -> bool:
    """Replace the text between ``README_START`` and ``README_END`` by ``table`` and, when
    ``verdict`` is given, the text between ``VERDICT_START`` and ``VERDICT_END`` by it
    (atomically). Returns True if the file changed. ``ValueError`` if markers are missing,
    repeated or out of order.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8")
    new = _replace_between(text, README_START, README_END, table, path)
    if verdict is not None:
        new = _replace_between(new, VERDICT_START, VERDICT_END, verdict, path)
    if new == text:
        return False
    atomic_write_bytes(path, new.encode("utf-8"))
    return True
