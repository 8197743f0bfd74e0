"""Knob values: their types (from the ``parameters`` cell's annotations) and what is allowed.

Every ``-p KEY=VALUE`` and every value passed to ``run_notebooks`` goes through here before
any kernel starts, so a bad value fails in seconds rather than minutes into a run. The allowed
values are not restated: each knob is checked by the function the package itself applies to
it (``models.PARAMETERIZATIONS``, ``activations.get_activation``, ``notebook.select_device``,
``claims.PROFILES``, the ``_validation`` checks), so the message is the one the model would
raise, prefixed by the knob's name.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from .. import _validation as check
from ..activations import get_activation
from ..claims import PROFILES
from ..models import PARAMETERIZATIONS
from ..notebook import select_device

if TYPE_CHECKING:
    from .discovery import NotebookInfo

__all__ = ["ParameterSpec", "parse_type", "check_type", "check_value", "check_parameter_value",
           "parse_parameter_overrides", "plan_overrides", "resolve_run_profile"]

_SCALARS = ("int", "float", "str", "bool")
_NUMBER = (int, float)

#: Which of the package's own checks applies to a knob: name patterns (``fnmatch``), the type
#: of value (or list element) it is for, and the check, called as ``check(name, value)``.
_CHECKS: tuple[tuple[tuple[str, ...], type | tuple[type, ...], Callable[[str, Any], Any]], ...] = (
    (("profile",), str, lambda name, v: check.choice(name, v, PROFILES)),
    (("device",), str, lambda name, v: select_device(v)),
    (("activation", "activations"), str, lambda name, v: get_activation(v)),
    (("parameterization",), str, lambda name, v: check.choice(name, v, PARAMETERIZATIONS)),
    (("width", "depth", "n", "n_*", "*_width", "*_depth", "widths", "depths"), int,
     check.positive_int),
    (("seed",), int, check.nonnegative_int),
    (("eta", "lr", "sigma_w"), _NUMBER, partial(check.finite_float, strictly_positive=True)),
    (("sigma_b",), _NUMBER, partial(check.finite_float, minimum=0.0)),
)


def parse_type(type_text: str) -> tuple[str, str | None, bool]:
    """Split a knob's annotation into its parts.

    Args:
        type_text: the annotation as written, e.g. ``"list[int] | None"`` or ``"Optional[str]"``.

    Returns:
        ``(base, element, optional)``: base ``int``, ``float``, ``str``, ``bool`` or ``list``;
        the element type of a list (else None); whether ``None`` is allowed.

    Raises:
        ValueError: an annotation other than int, float, str, bool, list[int | float | str],
            each optionally ``| None``.
    """
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


@dataclass(frozen=True)
class ParameterSpec:
    """One knob of a notebook's ``parameters`` cell.

    Attributes:
        name: the knob, e.g. ``"depth"``.
        type: the annotation as written (``"list[int] | None"``), or inferred from the default.
        default: the literal value (ints as floats for a ``float`` knob, tuples as lists).
        comment: the trailing ``# comment`` without ``#``; ``""`` if none.
    """

    name: str
    type: str
    default: Any
    comment: str = ""

    @property
    def base(self) -> str:
        """``int``, ``float``, ``str``, ``bool`` or ``list``."""
        return parse_type(self.type)[0]

    @property
    def element(self) -> str | None:
        """The element type of a ``list[...]`` knob, else None."""
        return parse_type(self.type)[1]

    @property
    def optional(self) -> bool:
        """True iff the annotation allows ``None``."""
        return parse_type(self.type)[2]


def _is_a(value: Any, kind: str) -> bool:
    if kind == "bool" or isinstance(value, bool):
        return kind == "bool" and isinstance(value, bool)
    return isinstance(value, {"int": int, "float": _NUMBER, "str": str}[kind])


def check_type(name: str, value: Any, type_text: str) -> Any:
    """Check a value against a knob's annotation.

    Args:
        name: the knob (for the message).
        value: a Python value.
        type_text: the knob's annotation.

    Returns:
        ``value``, with ints as floats for ``float`` and tuples as lists.

    Raises:
        ValueError: the value does not have the annotated type (or is a non-finite float).
    """
    base, element, optional = parse_type(type_text)
    if value is None:
        if optional:
            return None
        raise ValueError(f"parameter {name!r}: None is not allowed (type {type_text}), got None")
    if base == "list":
        if not isinstance(value, (list, tuple)) or not all(_is_a(v, element or "") for v in value):
            raise ValueError(f"parameter {name!r} must be of type {type_text}, got {value!r}")
        items = list(value)
    elif _is_a(value, base):
        items = [value]
    else:
        raise ValueError(f"parameter {name!r} must be of type {type_text}, got {value!r}")
    if (element or base) != "float":
        return items if base == "list" else value
    try:
        floats = [check.finite_float(name, v) for v in items]
    except ValueError as exc:
        raise ValueError(f"parameter {name!r} must be of type {type_text} (finite): {exc}") from None
    return floats if base == "list" else floats[0]


def check_value(name: str, value: Any) -> Any:
    """Check a typed knob value with the package's own check for that knob (if any).

    Lists are checked element by element; ``None`` (where the annotation allows it) always
    passes: it means "the profile's value".

    Args:
        name: the knob, e.g. ``"depth"`` or ``"widths"``.
        value: its value, already through ``check_type``.

    Returns:
        ``value`` unchanged.

    Raises:
        ValueError: naming the knob, the value and, from the package's check, what is allowed.
    """
    items = value if isinstance(value, list) else [value]
    for patterns, kinds, rule in _CHECKS:
        if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        for item in items:
            if not isinstance(item, kinds) or isinstance(item, bool):
                continue
            try:
                rule(name, item)
            except ValueError as exc:
                raise ValueError(f"parameter {name!r}: value {value!r} is not allowed: {exc}") from None
    return value


def check_parameter_value(name: str, value: Any, spec: Mapping[str, ParameterSpec]) -> Any:
    """Check an already-parsed value for one knob of a notebook (type, then allowed values).

    Args:
        name: the knob.
        value: a Python value.
        spec: the notebook's knobs (``NotebookInfo.parameters``).

    Returns:
        The value normalised (ints as floats for ``float``, tuples as lists).

    Raises:
        ValueError: an unknown knob (listing the known ones) or a bad value.
    """
    if name not in spec:
        raise ValueError(f"unknown parameter {name!r}; known parameters: {', '.join(spec) or 'none'}")
    return check_value(name, check_type(name, value, spec[name].type))


def _split_item(item: str) -> tuple[str, str]:
    key, sep, raw = str(item).partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"-p expects KEY=VALUE with KEY a parameter name, got {item!r}")
    return key, raw.strip()


_NOT_A_LITERAL = object()


def _parse_raw(raw: str, type_text: str) -> Any:
    """The text after ``KEY=`` -> a Python value (before the type check)."""
    base, element, optional = parse_type(type_text)
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


def parse_parameter_overrides(items: Sequence[str], spec: Mapping[str, ParameterSpec]) -> dict[str, Any]:
    """Turn ``-p`` strings into checked values for one notebook.

    ``["depth=3", "activation=erf"]`` -> ``{"depth": 3, "activation": "erf"}``. Values are read
    with ``ast.literal_eval`` (a ``str`` knob falls back to the raw text; ``true``/``false``
    work for a ``bool``; ``[a, b]`` for a ``list[str]``).

    Args:
        items: ``KEY=VALUE`` strings.
        spec: the notebook's knobs.

    Returns:
        ``{knob: value}``.

    Raises:
        ValueError: bad syntax, a key given twice, an unknown knob (listing the known ones), or
            a value of the wrong type or not allowed (naming knob, value and what is allowed).
    """
    out: dict[str, Any] = {}
    for item in items:
        key, raw = _split_item(item)
        if key in out:
            raise ValueError(f"parameter {key!r} is given more than once")
        if key not in spec:
            raise ValueError(f"unknown parameter {key!r}; known parameters: {', '.join(spec) or 'none'}")
        out[key] = check_parameter_value(key, _parse_raw(raw, spec[key].type), spec)
    return out


def plan_overrides(overrides: Sequence[str] | Mapping[str, Any] | None,
                   infos: Sequence[NotebookInfo]) -> dict[str, dict[str, Any]]:
    """The checked overrides for each notebook, keyed by stem.

    Args:
        overrides: ``KEY=VALUE`` strings or a mapping of Python values. A key that only some of
            the notebooks have goes only to those.
        infos: the notebooks to run.

    Returns:
        ``{stem: {knob: value}}`` for every notebook of ``infos``.

    Raises:
        ValueError: a key that none of ``infos`` has, a key given twice, or a bad value.
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
    for key, _ in pairs:
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


def resolve_run_profile(profile: str | None, plan: dict[str, dict[str, Any]]) -> str:
    """The run's profile: the argument, or ``-p profile=...``; both must agree.

    Args:
        profile: ``--profile`` (None: not given).
        plan: ``plan_overrides``'s result; ``profile`` is removed from it.

    Returns:
        The profile (``"default"`` when given nowhere).

    Raises:
        ValueError: two different profiles, or one that is not smoke, default or paper.
    """
    given = {p.pop("profile") for p in plan.values() if "profile" in p}
    if len(given) > 1:
        raise ValueError(f"profile given with different values: {sorted(given)}")
    from_overrides = given.pop() if given else None
    if profile is not None and from_overrides is not None and profile != from_overrides:
        raise ValueError(f"profile given twice: --profile {profile} and -p profile={from_overrides}")
    chosen = profile if profile is not None else (from_overrides or "default")
    return check.choice("profile", chosen, PROFILES)
