"""What the runs say: the summary printed after ``run``, the exit code, and the README's
results table and verdict line (``report``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import paths
from ..claims import FAIL, NOT_ASSESSED, PASS, verdict_line
from ..provenance import environment_note
from .discovery import NotebookInfo
from .execution import RunResult

__all__ = ["README_START", "README_END", "VERDICT_START", "VERDICT_END", "exit_code",
           "summary_table", "readme_table", "readme_verdict", "provenance_table", "update_readme"]

README_START = "<!-- results-table:start -->"
README_END = "<!-- results-table:end -->"
VERDICT_START = "<!-- verdict:start -->"
VERDICT_END = "<!-- verdict:end -->"


def exit_code(results: Sequence[RunResult], *, claims_may_fail: bool = False) -> int:
    """The exit code of ``ntk-repro run``.

    Args:
        results: the runs.
        claims_may_fail: a FAILed claim does not count (a result to report, e.g. by
            ``make reproduce``, whose job is to regenerate; the tests judge the stored claims).

    Returns:
        0 iff every notebook ran to the end and (unless ``claims_may_fail``) no claim FAILed,
        else 1.
    """
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
    """The text ``ntk-repro run`` prints at the end.

    Args:
        results: the runs.

    Returns:
        The verdict line (claims PASS / FAIL / NOT ASSESSED and where), a table notebook |
        status | claims passed/total | time s, a totals line, then one line per error and per
        failed claim.
    """
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



def _md(text: Any) -> str:
    """Text safe for one Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _link(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def readme_table(results_dir: str | os.PathLike[str] | None, infos: Sequence[NotebookInfo], *,
                 figures_dir: str | os.PathLike[str] | None = None,
                 link_base: str | os.PathLike[str] | None = None,
                 notebook_link: Callable[[NotebookInfo], str] | None = None) -> str:
    """The README's results table: one Markdown row per claim of every notebook.

    Columns: #, notebook (title linked to the notebook; the profile when not ``default``),
    paper, claim, expected, measured, resolution, status, figures (links to the
    ``<stem>_*.png`` that exist). A notebook without a results file lists the claims of its
    metadata as "not run". After the table every notebook's figures are shown (HTML
    ``<img>``, three to a row).

    Args:
        results_dir: the results to read (None: the stored ``results/``).
        infos: the notebooks, in the order of the table.
        figures_dir: the figures to link (None: the stored ``figures/``).
        link_base: links are relative to it (default: the repository root, where the README is).
        notebook_link: the link target of a notebook's title (default: its ``.ipynb``, relative
            to ``link_base``); the HTML edition links ``NN_name.html``.

    Returns:
        The Markdown text.
    """
    res_dir = Path(results_dir) if results_dir is not None else paths.stored_results_dir()
    fig_dir = Path(figures_dir) if figures_dir is not None else paths.stored_figures_dir()
    base = Path(link_base) if link_base is not None else paths.repo_root()
    lines = ["| # | notebook | paper | claim | expected | measured | resolution | status | figures |",
             "|---|---|---|---|---|---|---|---|---|"]
    for info in infos:
        lines += _readme_rows(info, res_dir / f"{info.stem}.json", fig_dir, base.resolve(),
                              notebook_link)
    for info in infos:  # the figures themselves, notebook by notebook
        pngs = sorted(fig_dir.glob(f"{info.stem}_*.png"))
        if pngs:
            lines += ["", f"**{info.number:02d} · {_md(info.title)}**", "",
                      " ".join(f'<img src="{_link(p.resolve(), base.resolve())}" width="32%" '
                               f'alt="{_md(p.stem)}">' for p in pngs)]
    return "\n".join(lines)


def _readme_rows(info: NotebookInfo, results_path: Path, fig_dir: Path, base: Path,
                 notebook_link: Callable[[NotebookInfo], str] | None = None) -> list[str]:
    try:
        body = json.loads(results_path.read_text(encoding="utf-8"))
        claims = [(c["name"], c.get("expected", ""), c.get("measured_text", "—"),
                   c.get("resolution_text", "—"), c["status"]) for c in body["claims"]]
        profile = body.get("profile", "default")
        environment = environment_note(body)
    except FileNotFoundError:
        claims = [(name, "", "—", "—", "not run") for name in info.claims]
        profile, environment = "default", None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        claims, profile = [("results file unreadable", "", "—", "—", f"error: {exc}")], "default"
        environment = None
    href = notebook_link(info) if notebook_link is not None else _link(info.path.resolve(), base)
    notebook = f"[{_md(info.title)}]({href})"
    if profile != "default":
        notebook += f" (profile: {_md(profile)})"
    if environment is not None:
        notebook += f" (*{_md(environment)}*)"
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


def provenance_table(results_dir: str | os.PathLike[str] | None,
                     infos: Sequence[NotebookInfo]) -> str:
    """Where each stored run's numbers came from, one Markdown row per notebook.

    Columns: #, commit (12 hex digits; "not recorded" for provenance added afterwards), tree
    (clean / dirty), suite version, Python, torch, numpy, scipy, device, environment (the lock
    or what differs from it). A notebook without results or provenance gets "—".

    Args:
        results_dir: the results to read (None: the stored ``results/``).
        infos: the notebooks, in order.

    Returns:
        The Markdown table.
    """
    res_dir = Path(results_dir) if results_dir is not None else paths.stored_results_dir()
    lines = ["| # | commit | tree | suite | Python | torch | numpy | scipy | device | environment |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for info in infos:
        try:
            body = json.loads((res_dir / f"{info.stem}.json").read_text(encoding="utf-8"))
            prov = body["provenance"]
            git, pkgs = prov["git"], prov["packages"]
        except (OSError, ValueError, KeyError, TypeError):
            lines.append(f"| {info.number:02d} | — |  |  |  |  |  |  |  | no provenance recorded |")
            continue
        commit = f"`{git['commit'][:12]}`" if git.get("commit") else "not recorded"
        tree = {False: "clean", True: "dirty"}.get(git.get("dirty"), "—")
        note = environment_note(body)
        cells = [f"{info.number:02d}", commit, tree, prov.get("suite", {}).get("version", "—"),
                 prov.get("python", {}).get("version", "—"), pkgs.get("torch"), pkgs.get("numpy"),
                 pkgs.get("scipy"), prov.get("device", {}).get("name", "—"),
                 "the lock (requirements.txt)" if note is None else note]
        lines.append("| " + " | ".join(_md(c if c is not None else "—") for c in cells) + " |")
    return "\n".join(lines)


def readme_verdict(results_dir: str | os.PathLike[str] | None, infos: Sequence[NotebookInfo]) -> str:
    """The README's verdict line over stored results (``claims.verdict_line``).

    Args:
        results_dir: the results to read (None: the stored ``results/``).
        infos: the notebooks; one without a readable results file counts its claims as NOT
            ASSESSED.

    Returns:
        E.g. ``"Verdict: 38 claims PASS, 1 FAIL (04), 3 NOT ASSESSED (04, 06) (stored `default` runs)"``.
    """
    res_dir = Path(results_dir) if results_dir is not None else paths.stored_results_dir()
    counts = {}
    unpinned = []
    for info in infos:
        try:
            body = json.loads((res_dir / f"{info.stem}.json").read_text(encoding="utf-8"))
            counts[info.stem] = {s: sum(c["status"] == s for c in body["claims"]) for s in (PASS, FAIL, NOT_ASSESSED)}
            if environment_note(body) is not None:
                unpinned.append(info.stem.split("_", 1)[0])
        except (OSError, ValueError, KeyError, TypeError):
            counts[info.stem] = {PASS: 0, FAIL: 0, NOT_ASSESSED: max(len(info.claims), 1)}
    where = f"; {', '.join(unpinned)} outside the pinned environment" if unpinned else ""
    return verdict_line(counts) + f" (stored `default` runs{where})"


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
    """Write the results table (and verdict line) into a README, atomically.

    Args:
        readme_path: the README.
        table: replaces the text between ``README_START`` and ``README_END``.
        verdict: when given, replaces the text between ``VERDICT_START`` and ``VERDICT_END``.

    Returns:
        True if the file changed.

    Raises:
        ValueError: markers missing, repeated or out of order.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8")
    new = _replace_between(text, README_START, README_END, table, path)
    if verdict is not None:
        new = _replace_between(new, VERDICT_START, VERDICT_END, verdict, path)
    if new == text:
        return False
    paths.atomic_write_bytes(path, new.encode("utf-8"))
    return True
