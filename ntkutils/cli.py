"""``ntk-repro``: list, run and report the reproduction notebooks.

    ntk-repro list
    ntk-repro run [NAMES ...] [--profile smoke|default|paper] [-p KEY=VALUE ...]
                  [--output-dir DIR] [--results-dir DIR] [--figures-dir DIR] [--store]
                  [--claims-may-fail] [--dry-run]
    ntk-repro report [--readme README.md] [--results-dir DIR] [--figures-dir DIR]
    ntk-repro html [--out build/html] [--zip]

Every name and ``-p`` value is checked before the first kernel starts; ``list`` shows each
notebook's knobs (its ``parameters`` cell), which are what ``-p`` accepts. ``run`` prints a
summary table and exits with 0 iff every notebook ran and no claim failed (1 otherwise; with
``--claims-may-fail``, 0 iff every notebook ran, FAILed claims being results); usage errors
exit with 2. ``python -m ntkutils`` is the same command.

Only ``--store`` (``make reproduce``) writes the stored results that the README and citations
point to (``results/``, ``figures/`` and ``notebooks/`` for ``default``; ``results/paper/`` and
``figures/paper/`` for ``paper``). Every other run writes its executed notebooks, results and
figures under ``outputs/<profile>[-<hash of the overrides>]/`` (or the directories given) and
says where.

Examples::

    ntk-repro run 02 --profile smoke -p depth=3 -p activation=erf
    ntk-repro run 01 -p 'widths=[64,128]' -p seed=1
    ntk-repro run --profile default --store --claims-may-fail    # make reproduce
    ntk-repro report --readme README.md
    ntk-repro html --out build/html --zip                         # make html, plus a zip
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import runner
from ._progress import progress_enabled
from .claims import PROFILES
from .paths import repo_root

__all__ = ["main", "build_parser"]

PROG = "ntk-repro"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the ``list``, ``run``, ``report`` and ``html`` sub-commands.

    Returns:
        The ``ntk-repro`` parser.
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description="Run the NTK reproduction notebooks and check their claims.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list the notebooks, their claims and parameters")

    run = sub.add_parser("run", help="execute notebooks with papermill and summarise their claims")
    run.add_argument("names", nargs="*", metavar="NAME",
                     help="notebook number (01 or 1), stem, or stem without the number; default: all")
    run.add_argument("--profile", choices=PROFILES, default=None,
                     help="smoke (seconds), default (what the repository stores), paper (the "
                          "paper's sizes); default: default")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="override a notebook parameter (repeatable; `ntk-repro list` shows "
                          "each notebook's), e.g. -p depth=3 -p activation=erf "
                          "-p 'widths=[64,128]' -p seed=1")
    run.add_argument("--output-dir", type=Path, default=None,
                     help="where executed notebooks go (default: outputs/<profile>[-<hash>]/)")
    run.add_argument("--results-dir", type=Path, default=None,
                     help="where <stem>.json go (default: $NTK_REPRO_RESULTS_DIR, else "
                          "outputs/<profile>[-<hash>]/results/)")
    run.add_argument("--figures-dir", type=Path, default=None,
                     help="where figures go (default: $NTK_REPRO_FIGURES_DIR, else "
                          "outputs/<profile>[-<hash>]/figures/)")
    run.add_argument("--store", action="store_true",
                     help="write the stored results (profile default: results/, figures/, and "
                          "the executed notebooks over notebooks/; profile paper: "
                          "results/paper/, figures/paper/); no -p overrides")
    run.add_argument("--dry-run", action="store_true",
                     help="check the names and parameters and print what would run where, "
                          "without running anything")
    run.add_argument("--claims-may-fail", action="store_true",
                     help="exit 0 when every notebook ran, even if a claim FAILed (the summary "
                          "still lists it); for regenerating results, not for judging them")

    report = sub.add_parser("report", help="rewrite the README results table from results/")
    report.add_argument("--readme", type=Path, default=None,
                        help="the README to update (default: <repo>/README.md)")
    report.add_argument("--results-dir", type=Path, default=None, help="results to read")
    report.add_argument("--figures-dir", type=Path, default=None, help="figures to link")

    html = sub.add_parser("html", help="render the stored notebooks and an index page as static "
                                       "HTML that opens offline")
    html.add_argument("--out", type=Path, default=None,
                      help="the folder (new, empty or an earlier edition; "
                           "default: <repo>/build/html)")
    html.add_argument("--zip", action="store_true",
                      help="also write <out>/../ntk-repro-html.zip for archiving")
    return parser


def _cmd_list(_: argparse.Namespace) -> int:
    infos = runner.discover()
    if not infos:
        print(f"no notebooks in {runner.default_notebooks_dir()}")
        return 0
    print("\n\n".join(_describe(info) for info in infos))
    return 0


def _describe(info: runner.NotebookInfo) -> str:
    """A few lines about one notebook: number, title, paper, claims, knobs (type, default,
    comment)."""
    lines = [f"{info.number:02d}  {info.title}  ({info.stem})"]
    if info.paper:
        lines.append(f"    paper: {info.paper}")
    if info.claims:
        lines.append("    claims:")
        lines += [f"      - {claim}" for claim in info.claims]
    if info.parameters:
        lines.append("    parameters:")
        rows = [(s.name, s.type, repr(s.default), s.comment) for s in info.parameters.values()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for row in rows:
            text = "  ".join(cell.ljust(w) for cell, w in zip(row, widths))
            lines.append(f"      {text}  {'# ' + row[3] if row[3] else ''}".rstrip())
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    infos = runner.resolve_names(args.names, runner.discover())
    if not infos:
        raise ValueError(f"no notebooks to run in {runner.default_notebooks_dir()}")
    plan = runner.plan_overrides(args.param, infos)
    profile = runner.resolve_run_profile(args.profile, plan)
    where = runner.destinations(profile, plan, store=args.store, output_dir=args.output_dir,
                                results_dir=args.results_dir, figures_dir=args.figures_dir)
    if args.dry_run:
        for info in infos:
            given = "".join(f" {k}={v!r}" for k, v in plan[info.stem].items())
            print(f"would run {info.stem} [{profile}]{given}")
        print(f"would write {where.describe()}")
        return 0
    results = runner.run_notebooks(
        infos, profile=args.profile, overrides=args.param, output_dir=args.output_dir,
        results_dir=args.results_dir, figures_dir=args.figures_dir, store=args.store,
        echo=_echo_when_quiet())
    print(runner.summary_table(results))
    print(f"wrote {where.describe()}")
    return runner.exit_code(results, claims_may_fail=args.claims_may_fail)


def _echo_when_quiet() -> Callable[[str], None] | None:
    """A progress line per notebook on stderr when there is no progress bar (logs, CI)."""
    if progress_enabled():
        return None
    return lambda line: print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def _cmd_report(args: argparse.Namespace) -> int:
    readme = args.readme if args.readme is not None else repo_root() / "README.md"
    infos = runner.discover()
    table = runner.readme_table(args.results_dir, infos, figures_dir=args.figures_dir,
                                link_base=readme.resolve().parent)
    verdict = runner.readme_verdict(args.results_dir, infos)
    has_verdict = runner.VERDICT_START in readme.read_text(encoding="utf-8")
    changed = runner.update_readme(readme, table, verdict if has_verdict else None)
    print(verdict)
    print(f"{readme}: results table {'updated' if changed else 'unchanged'}")
    return 0


def _cmd_html(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else runner.default_html_dir()
    edition = runner.build_html_edition(
        out, zip_path=out.resolve().parent / "ntk-repro-html.zip" if args.zip else None)
    print(f"HTML edition: {edition.index} ({len(edition.pages)} notebook pages, "
          f"{len(edition.files)} files; opens offline)")
    if edition.zip_path is not None:
        print(f"archive: {edition.zip_path}")
    return 0


_COMMANDS = {"list": _cmd_list, "run": _cmd_run, "report": _cmd_report, "html": _cmd_html}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ntk-repro``.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 success, 1 a notebook or claim failed, 2 a usage error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
