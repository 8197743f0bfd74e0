"""The README's example commands, run as a newcomer would in a fresh clone, leave it clean.

The clone is made from this checkout's HEAD, with the working tree's uncommitted changes copied
in and committed there, so the test judges the code under test. Each ``.venv/bin/ntk-repro …``
line of the README's example block runs as ``python -m ntkutils …`` with the clone first on
``PYTHONPATH`` (the clone's own package, not the editable install of this checkout); a
``--profile paper`` line runs with ``--dry-run`` (the papers' sizes take hours on a CPU). Then
``git status`` must be empty, and what the runs wrote must be under ``outputs/``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ntkutils.paths import FIGURES_ENV, RESULTS_ENV, repo_root

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (repo_root() / ".git").exists(),
                                reason="needs git and a git checkout")

BLOCK_INTRO = "Run one notebook, another profile, or other parameters:"
PREFIX = ".venv/bin/ntk-repro"


def readme_examples(readme: Path) -> list[list[str]]:
    """The ``ntk-repro`` commands of the README's example block, as argument lists."""
    text = readme.read_text(encoding="utf-8")
    start = text.index(BLOCK_INTRO)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert block is not None, f"no ```bash block after {BLOCK_INTRO!r} in the README"
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()
                if line.strip().startswith(PREFIX)]
    return [c[1:] for c in commands]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


def fresh_clone(source: Path, target: Path) -> Path:
    """``git clone`` of ``source`` plus its uncommitted changes, committed in the clone."""
    subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True)
    changed = _git(source, "ls-files", "-m", "-o", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, changed):
        if (source / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, target / rel)
    for rel in filter(None, _git(source, "ls-files", "-d", "-z").split("\0")):
        (target / rel).unlink(missing_ok=True)
    _git(target, "add", "-A")
    _git(target, "-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q",
         "--allow-empty", "-m", "working tree under test")
    return target


@pytest.mark.slow
def test_readme_examples_leave_a_fresh_clone_clean(tmp_path: Path) -> None:
    examples = readme_examples(repo_root() / "README.md")
    assert any(c[:1] == ["list"] for c in examples) and any(c[:1] == ["run"] for c in examples)
    clone = fresh_clone(repo_root(), tmp_path / "clone")
    assert _git(clone, "status", "--porcelain") == ""
    env = {k: v for k, v in os.environ.items() if k not in (RESULTS_ENV, FIGURES_ENV)}
    env |= {"PYTHONPATH": str(clone), "NTK_REPRO_QUIET": "1", "MPLBACKEND": "Agg"}
    for args in examples:
        if "paper" in args:
            args = args + ["--dry-run"]
        done = subprocess.run([sys.executable, "-m", "ntkutils", *args], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"ntk-repro {shlex.join(args)}:\n{done.stdout}\n{done.stderr}"
        if args[0] == "run" and "--dry-run" not in args:
            assert "wrote executed notebooks: outputs/" in done.stdout, done.stdout
            assert "results: outputs/" in done.stdout and "figures: outputs/" in done.stdout
        if "--dry-run" in args and "--store" in args:
            assert "stored results: results/paper/" in done.stdout, done.stdout
    assert _git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    written = sorted(p.relative_to(clone / "outputs").as_posix()
                     for p in (clone / "outputs").rglob("*.json"))
    assert any(w.startswith("smoke/results/01_") for w in written), written
    assert any(re.match(r"smoke-[0-9a-f]{8}/results/01_", w) for w in written), written
