"""Find the notebooks and read what each one declares: title, paper, claims and its knobs.

A notebook is ``notebooks/NN_snake_name.ipynb``. Its title, paper and claims come from
``metadata["ntk_repro"]`` (the title falls back to the first Markdown heading); its knobs come
from the first cell tagged ``parameters`` (the one papermill injects overrides after), one
``name: TYPE = literal  # help`` per line.

The cell is read with ``ast`` and never executed. ``papermill.inspect_notebook`` would be the
natural reader, but with papermill 2.7 it silently drops two kinds of knob these notebooks
have: PEP 604 annotations such as ``device: str | None = None`` (nteract/papermill#695, #806)
and any line with a second ``=``, e.g. in its comment (``depths: ...  # L (2 = one hidden
layer)``). On the six notebooks it returns 48 of 101 knobs, so the runner would refuse
``-p device=cpu`` as unknown. ``tests/unit/test_runner_discovery.py`` checks that discovery
returns exactly the knobs the parameters cells define.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..paths import repo_root
from .parameters import ParameterSpec, check_type, parse_type

__all__ = ["NOTEBOOKS_ENV", "NotebookInfo", "default_notebooks_dir", "discover",
           "parse_parameters_cell", "resolve_names"]

NOTEBOOKS_ENV = "NTK_REPRO_NOTEBOOKS_DIR"

_STEM_RE = re.compile(r"(\d{2})_[A-Za-z0-9_]+")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class NotebookInfo:
    """A notebook found by ``discover``.

    Attributes:
        stem: the file name without ``.ipynb``, e.g. ``"01_gp_at_initialization"``.
        number: its two-digit number.
        path: the absolute path.
        title, paper: from ``metadata["ntk_repro"]`` (title: else the first heading).
        claims: the claims the metadata states.
        parameters: the knobs of the ``parameters`` cell, in order.
    """

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
    """All ``NN_snake_name.ipynb`` notebooks of a directory, sorted by file name.

    Args:
        notebooks_dir: where to look (default: ``default_notebooks_dir()``).

    Returns:
        One ``NotebookInfo`` per notebook; other ``.ipynb`` files are skipped.

    Raises:
        ValueError: a missing directory, or a malformed ``parameters`` cell (naming the notebook
            and the line).
    """
    directory = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if not directory.is_dir():
        raise ValueError(f"notebooks directory {str(directory)!r} does not exist")
    return [_read_info(p) for p in sorted(directory.glob("*.ipynb")) if _STEM_RE.fullmatch(p.stem)]


def _read_info(path: Path) -> NotebookInfo:
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("ntk_repro", {}) or {}
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    parameters = {} if cell is None else parse_parameters_cell(
        cell.source, where=f"{path.name}, parameters cell")
    return NotebookInfo(stem=path.stem, number=int(path.stem[:2]), path=path.resolve(),
                        title=str(meta.get("title") or _first_heading(nb) or path.stem),
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
    """Read ``name: TYPE = literal  # comment`` lines with ``ast`` (nothing is executed).

    A plain ``name = literal`` is accepted, its type inferred from the literal; a bare string
    is ignored.

    Args:
        source: the cell's source.
        where: names the cell in error messages.

    Returns:
        ``{name: ParameterSpec}`` in the order of the cell.

    Raises:
        ValueError: anything else (a call, an import, an unsupported annotation, a default that
            does not fit its annotation), naming ``where`` and the line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: line {exc.lineno}: not valid Python ({exc.msg})") from None
    comments = _line_comments(source)
    specs: dict[str, ParameterSpec] = {}
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        spec = _spec_from_node(node, comments.get(node.end_lineno or node.lineno, ""), where)
        specs[spec.name] = spec
    return specs


def _spec_from_node(node: ast.stmt, comment: str, where: str) -> ParameterSpec:
    line = f"{where}: line {node.lineno}"
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        name, type_text, value_node = node.target.id, ast.unparse(node.annotation), node.value
        try:
            parse_type(type_text)
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
        default = check_type(name, default, type_text)
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
        for element, allowed in (("int", {"int"}), ("float", {"int", "float"}), ("str", {"str"})):
            if kinds <= allowed:
                return f"list[{element}]"
    raise ValueError(f"cannot infer a supported type from {value!r}; annotate it")


# ---------------------------------------------------------------------------- name resolution
def resolve_names(names: Sequence[str] | None, infos: Sequence[NotebookInfo]) -> list[NotebookInfo]:
    """The notebooks named by ``names``, in the order given, each once.

    Args:
        names: numbers (``01`` or ``1``), stems (``01_gp_at_initialization``, optionally with
            ``.ipynb`` or a directory) or stems without the number; empty or None: all.
        infos: the discovered notebooks.

    Returns:
        The chosen notebooks (all of ``infos`` when ``names`` is empty).

    Raises:
        ValueError: an unknown or ambiguous name (listing the available notebooks).
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
