"""Claims: paper predictions checked on this run's numbers, their table, and ``results/*.json``.

A notebook builds one ``ClaimSet``, states each claim with ``within`` / ``less_than`` /
``greater_than`` / ``check`` / ``not_assessed``, prints ``claims.table()`` (rounded, so the
output is stable across reruns and can carry ``# NBVAL_CHECK_OUTPUT``) and calls
``claims.write(metrics, parameters, ...)``::

    claims = ClaimSet("02_ntk_convergence_with_width", profile="default")
    claims.within("relative NTK error slope", "Jacot et al. 2018, Fig. 1",
                  measured=fit.slope, expected=-0.5, tol=0.15, digits=2)
    print(claims.table())
    claims.write({"slope": fit}, params, wall_time_s=elapsed, seed=0, device="cpu")

Every claim records its **resolution** — the smallest relative error of the prediction that
would have turned it into FAIL on this run's numbers. ``within`` computes it from ``expected``;
``less_than``/``greater_than``/``check`` take ``prediction=``, the statistic (or verdict)
recomputed with the prediction scaled by a factor, and ``relative_resolution`` bisects; a fitted
exponent (``slope``) reports its interval's half-width; otherwise the notebook states one
(``resolution_kind`` "bound" or "exact"). A statistical claim states ``alpha``, its false-failure
probability under the prediction; ``family_alpha`` (their sum) bounds the chance that a run
FAILs somewhere although every prediction holds.

Rules: a non-finite measured value (NaN, ±Inf) always FAILs; NOT ASSESSED (e.g. at the
``smoke`` profile) is not a failure. The JSON file holds no timestamp, so two runs with the same
numbers write the same bytes apart from ``wall_time_s``.

A leaf module: it imports only ``ntkutils.paths`` (itself a leaf).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import _validation as check
from .paths import RESULTS_ENV, atomic_write_bytes, repo_root, results_dir
from .provenance import environment_note, pin_report, provenance

__all__ = ["Claim", "ClaimSet", "relative_resolution", "verdict_line", "PASS", "FAIL", "NOT_ASSESSED", "PROFILES", "load_results", "to_jsonable"]

PASS = "PASS"
FAIL = "FAIL"
NOT_ASSESSED = "NOT ASSESSED"
STATUSES = (PASS, FAIL, NOT_ASSESSED)
PROFILES = ("smoke", "default", "paper")
SCHEMA_VERSION = 2
RESOLUTION_KINDS = (None, "relative", "interval", "bound", "exact")

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _fmt(value: float | None, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits (``"%.{digits}g"``); ``None`` -> ``"—"``."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf'
    text = f"{value:.{digits}g}"
    return "0" if re.fullmatch(r"-0(\.0*)?", text) else text


def _const(value: float) -> str:
    """A stated constant (expected value, tolerance, bound): up to 6 significant digits, so
    that it is shown as written (``0.15``, ``0.0078``) whatever ``digits`` the claim uses."""
    return _fmt(value, 6)


def _measured(value: Any) -> float | None:
    """Measured value -> float (NaN kept) or None. Accepts Python/NumPy/torch scalars."""
    if value is None:
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalar or 1-element array
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            shape = tuple(getattr(value, "shape", ()))
            raise ValueError(f"measured must be a scalar, got an array of shape {shape}") from None
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"measured must be a real number or None, got {value!r}") from None


def relative_resolution(passes: Callable[[float], bool], *, max_error: float = 1.0,
                        smallest: float = 1e-6, rtol: float = 0.01) -> float:
    """The smallest relative error of a prediction that turns a claim into FAIL.

    A scan on a doubling grid finds the first failing bracket, bisection refines it to
    ``rtol`` relative precision (the result errs on the large side). No data are re-drawn:
    only the check is repeated.

    Args:
        passes: ``passes(s)`` is the claim's check re-evaluated with the prediction multiplied
            by ``s`` (``passes(1.0)`` is the claim's verdict on this run).
        max_error: the largest relative error tried.
        smallest: the first relative error tried.
        rtol: relative precision of the bisection.

    Returns:
        The smallest ``δ`` in ``[smallest, max_error]`` with ``passes(1 + δ)`` or
        ``passes(1 − δ)`` False; ``0.0`` if the claim already fails, ``inf`` if no error up to
        ``max_error`` flips it.
    """
    if not passes(1.0):
        return 0.0

    def flips(d: float) -> bool:
        return not passes(1.0 + d) or not passes(1.0 - d)

    lo, hi = 0.0, smallest
    while not flips(hi):
        if hi >= max_error:
            return math.inf
        lo, hi = hi, min(2.0 * hi, max_error)
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if flips(mid) else (mid, hi)
    return hi


def _stated_or_bisected(ok: bool, passes: Callable[[float], bool] | None, resolution: float | None,
                        kind: str | None) -> tuple[float | None, str | None]:
    """(resolution, kind) of a claim: bisected from ``passes(scale)`` when given (a claim that
    already FAILs has resolution 0), else the stated pair."""
    if passes is not None:
        if resolution is not None:
            raise ValueError("give either prediction or resolution, not both")
        return relative_resolution(lambda s: ok and passes(s)), "relative"
    if resolution is not None and kind is None:
        raise ValueError("resolution needs a resolution_kind")
    return resolution, kind


def _digits(digits: Any) -> int:
    return check.int_in_range("digits", digits, 1, 17)


def _real(name: str, value: Any) -> float:
    return check.finite_float(name, value)


@dataclass(frozen=True)
class Claim:
    """One checked prediction.

    Attributes:
        name: short description ("NTK error slope vs width").
        paper: source with equation/figure ("Jacot et al. 2018, Fig. 1").
        expected: the prediction as text ("-0.5 ± 0.15", "< 0.05").
        measured: this run's value (float, NaN allowed, or None).
        tolerance: how the comparison is made.
        status: "PASS" | "FAIL" | "NOT ASSESSED".
        reason: why it is NOT ASSESSED (or why it failed without a comparison, e.g. a NaN).
        digits: significant digits used for display.
        resolution: the smallest change that would flip the claim, in the sense of
            ``resolution_kind`` (see ``resolution_text``), or None.
        resolution_kind: None, "relative", "interval", "bound" or "exact".
        alpha: the false-failure probability under the prediction, if statistical.
    """

    name: str
    paper: str
    expected: str
    measured: float | None
    tolerance: str
    status: str
    reason: str | None = None
    digits: int = 3
    resolution: float | None = None
    resolution_kind: str | None = None
    alpha: float | None = None

    @property
    def resolution_text(self) -> str:
        """What the table shows in its ``resolution`` column.

        Returns:
            By ``resolution_kind``: ``relative``, the smallest relative error of the
            prediction that would flip the claim ("±2.1 %", "> 100 %" if none does);
            ``interval``, the half-width of the measured value's interval ("±0.063");
            ``bound``, the claim would flip if the measured value crossed this
            ("< 3.2e-05"); ``exact``, an exact (integer / identity) comparison ("exact");
            None (or no value): not stated ("—").
        """
        r, kind = self.resolution, self.resolution_kind
        if kind is None:
            return "—"
        if kind == "exact":
            return "exact"
        if r is None:
            return "—"
        if kind == "relative":
            if math.isinf(r):
                return "> 100 %"
            return f"±{_fmt(100 * r, 2)} %"
        if kind == "interval":
            return f"±{_fmt(r, 2)}"
        return _fmt(r, 2)

    @property
    def measured_text(self) -> str:
        """What the table shows in its ``measured`` column.

        Returns:
            ``measured`` rounded to ``digits`` significant digits ("—" for None).
        """
        return _fmt(self.measured, self.digits)

    @property
    def passed(self) -> bool:
        """True iff ``status`` is PASS."""
        return self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        """Convert to a plain dict.

        Returns:
            The fields plus ``measured_text`` and ``resolution_text``; ``measured`` may be NaN
            (the JSON writer replaces non-finite floats by null and records them).
        """
        out = dataclasses.asdict(self)
        out["measured_text"] = self.measured_text
        out["resolution_text"] = self.resolution_text
        return out


class ClaimSet:
    """The claims of one notebook run.

    Claim names must be unique within a set.

    Args:
        notebook: the notebook's stem, e.g. ``"01_gp_at_initialization"`` (letters, digits,
            ``_ . -``; it names ``results/<notebook>.json``).
        profile: one of ``PROFILES``.
        assess: judge the claims (default: every profile but ``smoke``); when False each claim
            is still computed and shown but recorded as NOT ASSESSED, with the status it would
            have had.

    Raises:
        ValueError: a ``notebook`` that is not a file stem, or an unknown ``profile``.
    """

    def __init__(self, notebook: str, profile: str, *, assess: bool | None = None) -> None:
        if not isinstance(notebook, str) or not _NAME_RE.fullmatch(notebook):
            raise ValueError(
                f"notebook must be a file stem of letters, digits, '_', '.', '-' (no path "
                f"separators), got {notebook!r}"
            )
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
        self.notebook = notebook
        self.profile = profile
        # At the smoke profile the numbers come from too few samples to judge a claim: the
        # comparisons are still computed and shown, but recorded as NOT ASSESSED.
        self.assess = profile != "smoke" if assess is None else bool(assess)
        self._claims: list[Claim] = []

    # ------------------------------------------------------------------ container protocol
    @property
    def claims(self) -> tuple[Claim, ...]:
        """The claims so far, in the order they were added."""
        return tuple(self._claims)

    def __len__(self) -> int:
        return len(self._claims)

    def __iter__(self) -> Iterator[Claim]:
        return iter(tuple(self._claims))

    def __getitem__(self, name: str) -> Claim:
        for c in self._claims:
            if c.name == name:
                return c
        raise KeyError(name)

    def __repr__(self) -> str:
        counts = self.counts()
        return (f"ClaimSet({self.notebook!r}, profile={self.profile!r}, pass={counts[PASS]}, "
                f"fail={counts[FAIL]}, not_assessed={counts[NOT_ASSESSED]})")

    def __str__(self) -> str:
        return self.table()

    # ------------------------------------------------------------------ adding claims
    def _add(self, name: str, paper: str, expected: str, measured: float | None, tolerance: str,
             status: str, reason: str | None, digits: int, *, resolution: float | None = None,
             resolution_kind: str | None = None, alpha: float | None = None) -> Claim:
        for label, text in (("name", name), ("paper", paper)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{label} must be a non-empty string, got {text!r}")
        if any(c.name == name for c in self._claims):
            raise ValueError(f"a claim named {name!r} already exists in {self.notebook!r}")
        if resolution_kind not in RESOLUTION_KINDS:
            raise ValueError(f"resolution_kind must be one of {list(RESOLUTION_KINDS)}, got {resolution_kind!r}")
        if resolution is not None:
            resolution = float(resolution)
            if math.isnan(resolution) or resolution < 0 and resolution_kind != "bound":
                raise ValueError(f"resolution must be >= 0 (or inf), got {resolution!r}")
        if alpha is not None:
            alpha = _real("alpha", alpha)
            if not 0.0 <= alpha < 1.0:
                raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        if not self.assess and status != NOT_ASSESSED:
            reason = f"not assessed at the {self.profile} profile (would be {status})"
            status = NOT_ASSESSED
        claim = Claim(name=name, paper=paper, expected=expected, measured=measured,
                      tolerance=tolerance, status=status, reason=reason, digits=_digits(digits),
                      resolution=resolution, resolution_kind=resolution_kind, alpha=alpha)
        self._claims.append(claim)
        return claim

    @staticmethod
    def _nonfinite_reason(measured: float | None) -> str | None:
        if measured is not None and not math.isfinite(measured):
            return f"measured value is {measured} (non-finite values always fail)"
        return None

    def within(self, name: str, paper: str, measured: Any, expected: float, tol: float,
               digits: int = 3, *, interval: tuple[float, float] | None = None,
               alpha: float | None = None) -> Claim:
        """Add a claim that PASSes iff ``|measured − expected| ≤ tol`` (and measured is finite).

        Resolution: with ``interval`` its half-width; otherwise, for ``expected ≠ 0``, the
        smallest relative error of ``expected`` that flips the claim
        (``|measured − (1±δ)·expected| > tol``); for ``expected = 0``, ``tol`` as a bound.

        Args:
            name: the claim's short description (unique within the set).
            paper: its source, with equation/figure.
            measured: this run's value (a Python/NumPy/torch scalar; NaN/Inf FAILs).
            expected: the predicted value.
            tol: the allowed absolute deviation, >= 0.
            digits: significant digits shown (1…17).
            interval: the measured value's confidence interval ``(low, high)``, e.g. a fitted
                slope's.
            alpha: the claim's false-failure probability under the prediction, if statistical.

        Returns:
            The recorded ``Claim``.

        Raises:
            ValueError: ``measured`` None or not a scalar, non-finite ``expected``/``tol``,
                ``tol`` < 0, a reversed ``interval``, a duplicate or empty name, or a bad
                ``digits``/``alpha``.
        """
        digits = _digits(digits)
        exp = _real("expected", expected)
        tol_f = _real("tol", tol)
        if tol_f < 0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        m = _measured(measured)
        if m is None:
            raise ValueError("measured must be a number for within(); use not_assessed() instead")
        reason = self._nonfinite_reason(m)
        ok = reason is None and abs(m - exp) <= tol_f
        if interval is not None:
            lo, hi = (_real("interval", v) for v in interval)
            if hi < lo:
                raise ValueError(f"interval must be (low, high) with low <= high, got {interval!r}")
            res, kind = (hi - lo) / 2, "interval"
        elif exp != 0.0:
            res = relative_resolution(lambda s: reason is None and abs(m - s * exp) <= tol_f)
            kind = "relative"
        else:
            res, kind = tol_f, "bound"
        return self._add(name, paper, f"{_const(exp)} ± {_const(tol_f)}", m,
                         f"|measured − expected| ≤ {_const(tol_f)}", PASS if ok else FAIL,
                         reason, digits, resolution=res, resolution_kind=kind, alpha=alpha)

    def slope(self, name: str, paper: str, fit: Any, expected: float, *, tol: float = 0.0,
              alpha: float, digits: int = 2) -> Claim:
        """Add a claim on a fitted exponent.

        PASS iff ``expected`` lies in the fit's interval widened by ``tol`` on both sides; a
        non-finite slope or interval FAILs. Resolution: the interval's half-width.

        Args:
            name: the claim's short description (unique within the set).
            paper: its source, with equation/figure.
            fit: a ``ntkutils.stats.SlopeFit``-like object (``slope``, ``ci_low``, ``ci_high``).
            expected: the predicted exponent.
            tol: a stated systematic allowance, >= 0 (e.g. a bounded finite-size tilt; 0 means
                the interval alone decides).
            alpha: the interval's miscoverage (e.g. 0.05 for a 95 % interval, or its Bonferroni
                share).
            digits: significant digits shown.

        Returns:
            The recorded ``Claim``.

        Raises:
            ValueError: ``fit`` without slope/ci_low/ci_high, non-finite ``expected``/``tol``,
                ``tol`` < 0, a duplicate or empty name, or a bad ``digits``/``alpha``.
        """
        slope_value = _measured(getattr(fit, "slope", None))
        lo, hi = (_measured(getattr(fit, k, None)) for k in ("ci_low", "ci_high"))
        if slope_value is None or lo is None or hi is None:
            raise ValueError(f"fit must have slope, ci_low and ci_high, got {fit!r}")
        exp = _real("expected", expected)
        tol_f = _real("tol", tol)
        if tol_f < 0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        reason = self._nonfinite_reason(slope_value)
        if reason is None and not (math.isfinite(lo) and math.isfinite(hi)):
            reason = "the slope has no finite interval (too few points or repeats)"
        ok = reason is None and lo - tol_f <= exp <= hi + tol_f
        expected_text = f"{_const(exp)} in CI" + (f" ± {_const(tol_f)}" if tol_f else "")
        res = (hi - lo) / 2 if math.isfinite(hi - lo) else None
        return self._add(name, paper, expected_text, slope_value,
                         f"CI [{_fmt(lo, 3)}, {_fmt(hi, 3)}] (± {_const(tol_f)}) holds {_const(exp)}",
                         PASS if ok else FAIL, reason, digits, resolution=res,
                         resolution_kind="interval", alpha=alpha)

    def less_than(self, name: str, paper: str, measured: Any, bound: float, digits: int = 3, *,
                  prediction: Callable[[float], Any] | None = None, alpha: float | None = None,
                  resolution: float | None = None, resolution_kind: str | None = None) -> Claim:
        """Add a claim that PASSes iff ``measured < bound`` (strict; measured finite).

        Args:
            name: the claim's short description (unique within the set).
            paper: its source, with equation/figure.
            measured: this run's value (a scalar; NaN/Inf FAILs).
            bound: the strict upper bound.
            digits: significant digits shown.
            prediction: the measured statistic recomputed with the claim's prediction scaled
                by a factor (``prediction(1.0)`` is ``measured``); the resolution is then the
                smallest relative error of the prediction that flips the claim
                (``relative_resolution``).
            alpha: the claim's false-failure probability under the prediction, if statistical.
            resolution: stated directly instead of ``prediction``.
            resolution_kind: the kind of a stated ``resolution`` (see ``Claim``).

        Returns:
            The recorded ``Claim``.

        Raises:
            ValueError: ``measured`` None or not a scalar, a non-finite ``bound``, both
                ``prediction`` and ``resolution``, a ``resolution`` without its kind, a
                duplicate or empty name, or a bad ``digits``/``alpha``.
        """
        return self._bound(name, paper, measured, bound, digits, below=True, prediction=prediction,
                           alpha=alpha, resolution=resolution, resolution_kind=resolution_kind)

    def greater_than(self, name: str, paper: str, measured: Any, bound: float, digits: int = 3, *,
                     prediction: Callable[[float], Any] | None = None, alpha: float | None = None,
                     resolution: float | None = None, resolution_kind: str | None = None) -> Claim:
        """Add a claim that PASSes iff ``measured > bound`` (strict; measured finite).

        Args:
            name, paper, measured, digits, prediction, alpha, resolution, resolution_kind:
                as in ``less_than``.
            bound: the strict lower bound.

        Returns:
            The recorded ``Claim``.

        Raises:
            ValueError: as ``less_than``.
        """
        return self._bound(name, paper, measured, bound, digits, below=False, prediction=prediction,
                           alpha=alpha, resolution=resolution, resolution_kind=resolution_kind)

    def _bound(self, name: str, paper: str, measured: Any, bound: float, digits: int, *, below: bool,
               prediction: Callable[[float], Any] | None, alpha: float | None,
               resolution: float | None, resolution_kind: str | None) -> Claim:
        digits = _digits(digits)
        b = _real("bound", bound)
        m = _measured(measured)
        if m is None:
            method = "less_than" if below else "greater_than"
            raise ValueError(f"measured must be a number for {method}(); use not_assessed() instead")
        reason = self._nonfinite_reason(m)

        def holds(value: Any) -> bool:
            v = _measured(value)
            return v is not None and math.isfinite(v) and (v < b if below else v > b)

        ok = reason is None and holds(m)
        resolution, resolution_kind = _stated_or_bisected(
            ok, None if prediction is None else (lambda s: holds(prediction(s))), resolution, resolution_kind)
        return self._add(name, paper, f"{'<' if below else '>'} {_const(b)}", m,
                         "strict upper bound" if below else "strict lower bound",
                         PASS if ok else FAIL, reason, digits, resolution=resolution,
                         resolution_kind=resolution_kind, alpha=alpha)

    def check(self, name: str, paper: str, passed: bool, measured: Any, expected_text: str,
              digits: int = 3, tolerance: str = "", *,
              prediction: Callable[[float], bool] | None = None, alpha: float | None = None,
              resolution: float | None = None, resolution_kind: str | None = None) -> Claim:
        """Add a generic claim whose pass/fail the caller decided.

        Args:
            name: the claim's short description (unique within the set).
            paper: its source, with equation/figure.
            passed: the caller's verdict, a bool.
            measured: this run's value, or None (e.g. a yes/no property); a non-finite measured
                value FAILs even when ``passed`` is True.
            expected_text: the prediction as text (non-empty).
            digits: significant digits shown.
            tolerance: how the comparison is made (text).
            prediction: the pass/fail decision re-evaluated with the prediction scaled by a
                factor (``prediction(1.0) == passed``), which gives the relative resolution.
            alpha: the claim's false-failure probability under the prediction, if statistical.
            resolution: stated directly instead of ``prediction``.
            resolution_kind: the kind of a stated ``resolution`` (e.g. ``"exact"``).

        Returns:
            The recorded ``Claim``.

        Raises:
            ValueError: ``passed`` not a bool, an empty ``expected_text``, both ``prediction``
                and ``resolution``, a ``resolution`` without its kind, a duplicate or empty
                name, or a bad ``digits``/``alpha``.
        """
        if not isinstance(passed, (bool, np.bool_)):
            raise ValueError(f"passed must be a bool, got {passed!r}")
        if not isinstance(expected_text, str) or not expected_text.strip():
            raise ValueError(f"expected_text must be a non-empty string, got {expected_text!r}")
        digits = _digits(digits)
        m = _measured(measured)
        reason = self._nonfinite_reason(m)
        ok = reason is None and bool(passed)
        resolution, resolution_kind = _stated_or_bisected(
            ok, None if prediction is None else (lambda s: bool(prediction(s))), resolution, resolution_kind)
        return self._add(name, paper, expected_text, m, tolerance, PASS if ok else FAIL, reason, digits,
                         resolution=resolution, resolution_kind=resolution_kind, alpha=alpha)

    def not_assessed(self, name: str, paper: str, reason: str, *, measured: Any = None,
                     expected: str = "", digits: int = 3) -> Claim:
        """Record a claim that this run cannot judge (e.g. ``smoke`` profile), with why.

        Args:
            name: the claim's short description (unique within the set).
            paper: its source, with equation/figure.
            reason: why it cannot be judged (non-empty).
            measured: a value to show, or None.
            expected: the prediction as text.
            digits: significant digits shown.

        Returns:
            The recorded NOT ASSESSED ``Claim``.

        Raises:
            ValueError: an empty ``reason``, a duplicate or empty name, or a bad ``digits``.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"reason must be a non-empty string, got {reason!r}")
        return self._add(name, paper, expected, _measured(measured), "", NOT_ASSESSED, reason, digits)

    # ------------------------------------------------------------------ summaries
    @property
    def all_passed(self) -> bool:
        """True iff no claim FAILed (NOT ASSESSED is not a failure; an empty set passes)."""
        return all(c.status != FAIL for c in self._claims)

    @property
    def failed(self) -> tuple[Claim, ...]:
        """The claims that FAILed, in order."""
        return tuple(c for c in self._claims if c.status == FAIL)

    @property
    def family_alpha(self) -> float:
        """Bound on the probability that at least one claim FAILs although every prediction holds.

        The sum of the claims' stated ``alpha`` (Bonferroni). Meaningful only when every claim
        states one (the table says so otherwise).
        """
        return float(sum(c.alpha for c in self._claims if c.alpha is not None))

    def counts(self) -> dict[str, int]:
        """Count the claims by status.

        Returns:
            ``{"PASS": n, "FAIL": n, "NOT ASSESSED": n}``.
        """
        return {s: sum(c.status == s for c in self._claims) for s in STATUSES}

    def table(self) -> str:
        """Render the claims as a fixed-width plain-text table.

        Numbers are rounded to each claim's ``digits`` significant digits; the ``note`` column
        (NOT ASSESSED reasons, non-finite values) appears only when some claim has one.

        Returns:
            The table: claim | paper | expected | measured | resolution | α | status [| note],
            then a totals line with the family-wise α.
        """
        header = ["claim", "paper", "expected", "measured", "resolution", "α", "status"]
        rows = [[c.name, c.paper, c.expected, c.measured_text, c.resolution_text,
                 "—" if c.alpha is None else _fmt(c.alpha, 2), c.status] for c in self._claims]
        if any(c.reason for c in self._claims):
            header.append("note")
            for row, c in zip(rows, self._claims):
                row.append(c.reason or "")
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

        def line(cells: list[str]) -> str:
            return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

        out = [line(header), line(["-" * w for w in widths])]
        out += [line(r) for r in rows]
        n = self.counts()
        unstated = sum(c.alpha is None for c in self._claims)
        alpha = (f"family-wise false-failure probability ≤ {_fmt(100 * self.family_alpha, 2)} %"
                 if not unstated else f"false-failure probability not stated for {unstated} of "
                 f"{len(self._claims)} claims")
        out.append(f"{self.notebook} [{self.profile}]: {n[PASS]} passed, {n[FAIL]} failed, "
                   f"{n[NOT_ASSESSED]} not assessed; {alpha}")
        note = environment_note({"provenance": {"pins": _this_environment_pins(),
                                                "python": {"version": platform.python_version()}}})
        if note is not None:   # a run outside the lock says so under its claims
            out.append(f"{note} — the claims were judged, but this is not the stored run's "
                       f"environment")
        return "\n".join(out)

    # ------------------------------------------------------------------ results file
    def to_dict(self, metrics: Mapping[str, Any], parameters: Mapping[str, Any], *,
                wall_time_s: float, seed: int, device: Any) -> dict[str, Any]:
        """The JSON body of ``write`` (before non-finite floats are replaced).

        Args:
            metrics: the run's metrics.
            parameters: the run's parameters.
            wall_time_s: wall time in seconds, >= 0 (rounded to ms).
            seed: the run's integer seed.
            device: where it ran (stored as ``str``).

        Returns:
            The body as a dict (see ``write`` for its keys).

        Raises:
            ValueError: a non-integer ``seed``, a negative or non-finite ``wall_time_s``, or
                ``metrics``/``parameters`` that are not mappings.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        wall = _real("wall_time_s", wall_time_s)
        if wall < 0:
            raise ValueError(f"wall_time_s must be >= 0, got {wall_time_s!r}")
        if not isinstance(metrics, Mapping):
            raise ValueError(f"metrics must be a mapping, got {type(metrics).__name__}")
        if not isinstance(parameters, Mapping):
            raise ValueError(f"parameters must be a mapping, got {type(parameters).__name__}")
        return {
            "schema_version": SCHEMA_VERSION,
            "notebook": self.notebook,
            "profile": self.profile,
            "seed": int(seed),
            "device": str(device),
            "wall_time_s": round(wall, 3),
            "all_passed": self.all_passed,
            "counts": self.counts(),
            "family_alpha": self.family_alpha,
            "claims": [c.to_dict() for c in self._claims],
            "metrics": dict(metrics),
            "parameters": dict(parameters),
            "versions": _versions(),
            "provenance": provenance(device),
        }

    def write(self, metrics: Mapping[str, Any], parameters: Mapping[str, Any], *,
              wall_time_s: float, seed: int, device: Any) -> Path:
        """Write ``<results_dir()>/<notebook>.json`` atomically and return its path.

        Body: schema_version, notebook, profile, seed, device, wall_time_s (rounded to ms),
        all_passed, counts,
        claims (in order), metrics, parameters, versions (python, numpy, scipy, torch,
        matplotlib), ``provenance`` (``ntkutils.provenance.provenance``: suite version, git
        commit and dirty state, Python and package versions, device name, whether the
        environment matches the pins of requirements.txt) and ``nonfinite`` — a map from the
        JSON path of every NaN/±Inf float to
        "nan"/"inf"/"-inf" (those values are stored as null). Keys sorted, indent 2, UTF-8,
        trailing newline, no timestamp. Metrics/parameters may hold NumPy/torch scalars and
        arrays, tuples, Paths and dataclasses (e.g. ``SlopeFit``).

        Args:
            metrics, parameters, wall_time_s, seed, device: as in ``to_dict``.

        Returns:
            The path written.

        Raises:
            TypeError: a value that cannot be stored, naming its JSON path.
            ValueError: as ``to_dict``.
        """
        body = self.to_dict(metrics, parameters, wall_time_s=wall_time_s, seed=seed, device=device)
        nonfinite: dict[str, str] = {}
        safe = to_jsonable(body, nonfinite=nonfinite)
        safe["nonfinite"] = nonfinite
        text = json.dumps(safe, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        return atomic_write_bytes(results_dir(self.profile) / f"{self.notebook}.json",
                                  (text + "\n").encode("utf-8"))

    def max_z(self, name: str, paper: str, test: Any, *, reason: str | None = None,
              digits: int = 2) -> Claim | None:
        """A cell-by-cell z-test: PASS iff max_k |z_k| < the Bonferroni quantile (rounded to 2 decimals).

        ``test``: a ``stats.MaxZTest``-like object (``measured``, ``statistic``, ``threshold``,
        ``alpha``, ``at_scale(s)``); the claim is named ``"<name> (max |z|, K cells)"`` and its
        resolution is the smallest relative error of the predictions (all scaled by ``1 ± δ``)
        that flips it. With no cell (``test`` None or K = 0) the claim is recorded as NOT
        ASSESSED under ``name`` with ``reason``, or not recorded at all when ``reason`` is None.

        Args:
            name, paper: the claim's name stem and source.
            test: the z-test, or None.
            reason: why the claim cannot be judged when there is no cell.
            digits: significant digits of the measured value.

        Returns:
            The ``Claim``, or None when nothing was recorded.

        Raises:
            ValueError: as ``less_than`` / ``not_assessed``.
        """
        k = 0 if test is None else len(test.measured)
        if k == 0:
            return None if reason is None else self.not_assessed(name, paper, reason)
        return self.less_than(f"{name} (max |z|, {k} cells)", paper, test.statistic,
                              round(test.threshold, 2), digits=digits, alpha=test.alpha,
                              prediction=test.at_scale)

    def slope_or_not_assessed(self, name: str, paper: str, fit: Any, expected: float, *,
                              alpha: float, reason: str, digits: int = 2) -> Claim:
        """Add a ``slope`` claim, or a NOT ASSESSED one when nothing could be fitted.

        Args:
            name, paper, expected, alpha, digits: as in ``slope``.
            fit: the fit, or None (nothing could be fitted).
            reason: why the claim is NOT ASSESSED when ``fit`` is None.

        Returns:
            ``slope(name, paper, fit, expected, alpha=alpha, digits=digits)``, or
            ``not_assessed(name, paper, reason)`` when ``fit`` is None.

        Raises:
            ValueError: as ``slope`` / ``not_assessed``.
        """
        if fit is None:
            return self.not_assessed(name, paper, reason)
        return self.slope(name, paper, fit, expected, alpha=alpha, digits=digits)


def verdict_line(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Summarise the claims of several notebooks in one line.

    Args:
        counts: maps a notebook stem to its status counts (``ClaimSet.counts()``).

    Returns:
        E.g. "Verdict: 38 claims PASS, 1 FAIL (04), 3 NOT ASSESSED (04, 06)" (notebooks named
        by the stem's prefix before the first ``_``).
    """
    total = {s: sum(int(c.get(s, 0)) for c in counts.values()) for s in STATUSES}

    def where(status: str) -> str:
        names = [stem.split("_", 1)[0] for stem, c in counts.items() if c.get(status, 0)]
        return f" ({', '.join(names)})" if names else ""

    return (f"Verdict: {total[PASS]} claims PASS, {total[FAIL]} FAIL{where(FAIL)}, "
            f"{total[NOT_ASSESSED]} NOT ASSESSED{where(NOT_ASSESSED)}")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("numpy", "scipy", "torch", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


_PINS_CACHE: list[dict[str, Any]] = []


def _this_environment_pins() -> dict[str, Any]:
    """``pin_report()`` of this interpreter, computed once per process."""
    if not _PINS_CACHE:
        _PINS_CACHE.append(pin_report())
    return _PINS_CACHE[0]


def versions_differing_from_pins(versions: Mapping[str, str | None],
                                 requirements: str | Path) -> dict[str, dict[str, str | None]]:
    """The packages whose versions differ from the pins of a requirements file.

    A results file written under other versions than the pins (e.g. a GPU machine with its own
    torch) must say so.

    Args:
        versions: ``{package: version or None}`` (as ``_versions()``).
        requirements: a pip requirements file with ``name==pin`` lines.

    Returns:
        ``{package: {"ran": version, "pinned": pin}}`` for every package of ``versions`` whose
        pin differs (a local build tag such as ``+cpu`` or ``+cu130`` is ignored); empty when
        all agree.
    """
    return pin_report(requirements, installed=versions)["differing"]


def to_jsonable(obj: Any, *, nonfinite: dict[str, str] | None = None, path: str = "$") -> Any:
    """Convert ``obj`` to JSON-safe Python values.

    Mappings (keys made ``str``), lists/tuples, NumPy/torch arrays and scalars, dataclasses,
    ``Path`` and plain scalars are converted recursively. Non-finite floats become ``None``
    and, if ``nonfinite`` is given, are recorded there as ``{json_path: "nan" | "inf" | "-inf"}``
    (paths look like ``$.metrics.slope`` / ``$.claims[2].measured``).

    Args:
        obj: the value to convert.
        nonfinite: if given, collects the JSON paths of non-finite floats.
        path: the JSON path of ``obj``.

    Returns:
        ``obj`` as JSON-safe Python values.

    Raises:
        TypeError: a complex value or any other unsupported type, naming its path.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isfinite(value):
            return value
        if nonfinite is not None:
            nonfinite[path] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v, nonfinite=nonfinite, path=f"{path}.{k}") for k, v in obj.items()}
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return to_jsonable(obj.item(), nonfinite=nonfinite, path=path)
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, nonfinite=nonfinite, path=f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, complex):
        raise TypeError(f"{path}: complex values are not JSON-serialisable, got {obj!r}")
    raise TypeError(f"{path}: cannot store a {type(obj).__name__} in a results file ({obj!r:.80})")


def load_results(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file.

    Args:
        notebook: a path to a ``.json``, or a notebook stem, looked up in
            ``$NTK_REPRO_RESULTS_DIR`` when that is set, else in the stored ``<repo>/results``.

    Returns:
        The parsed JSON body.

    Raises:
        FileNotFoundError: no such results file.
    """
    path = Path(notebook)
    if path.suffix != ".json":
        directory = os.environ.get(RESULTS_ENV, "").strip()
        base = Path(directory).expanduser() if directory else repo_root() / "results"
        path = base / f"{notebook}.json"
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def cells_by_depth(texts: Mapping[tuple[int, int], str], prefix: str = "") -> str:
    """Printed per-cell values, one line per depth: ``"L=2: <prefix>n=1: <text>, n=2: <text>"``.

    Args:
        texts: ``{(L, n): formatted value}``, in the order to print (depths grouped).
        prefix: text after ``"L=<L>: "``.

    Returns:
        The lines joined by newlines ("" when ``texts`` is empty).

    Raises:
        ValueError: a key that is not an (L, n) pair.
    """
    if any(not (isinstance(k, tuple) and len(k) == 2) for k in texts):
        raise ValueError(f"texts must be keyed by (L, n) pairs, got keys {list(texts)!r}")
    rows: dict[Any, list[str]] = {}
    for (L, n), text in texts.items():
        rows.setdefault(L, []).append(f"n={n}: {text}")
    return "\n".join(f"L={L}: {prefix}" + ", ".join(parts) for L, parts in rows.items())


__all__ += ["cells_by_depth"]
