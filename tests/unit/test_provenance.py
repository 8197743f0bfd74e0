"""Provenance of a results file: git state (on throw-away repositories), the pin check (on
made-up locks), the device's name, the environment note in the table, README and results."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from ntkutils import claims as claims_mod
from ntkutils import provenance as prov
from ntkutils.claims import ClaimSet
from ntkutils.paths import repo_root

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


def _notebook(source: str, output: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": [source], "metadata": {},
                                  "outputs": [{"output_type": "stream", "name": "stdout",
                                               "text": [output]}], "execution_count": 1}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "ntkutils").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "results").mkdir()
    (root / "ntkutils" / "a.py").write_text("x = 1\n")
    (root / "notebooks" / "01_a.ipynb").write_text(_notebook("print(1)", "1\n"))
    (root / "results" / "01_a.json").write_text("{}\n")
    (root / "README.md").write_text("table\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return root


@needs_git
def test_git_state_of_a_clean_checkout(checkout: Path) -> None:
    state = prov.git_state(checkout)
    assert state == {"commit": _git(checkout, "rev-parse", "HEAD").strip(), "dirty": False,
                     "dirty_paths": []}


@needs_git
def test_what_a_store_writes_does_not_make_the_tree_dirty(checkout: Path) -> None:
    (checkout / "results" / "01_a.json").write_text('{"new": 1}\n')
    (checkout / "results" / "02_b.json").write_text("{}\n")
    (checkout / "README.md").write_text("new table\n")
    # same sources, new outputs: a stored notebook re-executed
    (checkout / "notebooks" / "01_a.ipynb").write_text(_notebook("print(1)", "2\n"))
    assert prov.git_state(checkout)["dirty"] is False


@needs_git
def test_code_and_notebook_source_changes_are_dirty(checkout: Path) -> None:
    (checkout / "ntkutils" / "a.py").write_text("x = 2\n")
    (checkout / "notebooks" / "01_a.ipynb").write_text(_notebook("print(2)", "2\n"))
    (checkout / "ntkutils" / "new.py").write_text("y = 1\n")   # untracked code counts
    state = prov.git_state(checkout)
    assert state["dirty"] is True
    assert state["dirty_paths"] == ["notebooks/01_a.ipynb", "ntkutils/a.py", "ntkutils/new.py"]


@needs_git
def test_dirty_paths_are_capped(checkout: Path) -> None:
    for k in range(prov.MAX_DIRTY_PATHS + 5):
        (checkout / "ntkutils" / f"m{k:02d}.py").write_text("")
    state = prov.git_state(checkout)
    assert len(state["dirty_paths"]) == prov.MAX_DIRTY_PATHS
    assert state["dirty_paths_total"] == prov.MAX_DIRTY_PATHS + 5


def test_git_state_outside_a_checkout(tmp_path: Path) -> None:
    state = prov.git_state(tmp_path)
    assert state["commit"] is None and state["dirty"] is None and "not the top" in state["reason"]


def test_pin_report_against_a_made_up_lock(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("# comment\ntorch==2.13.0\nNumPy==2.4.6  # pinned\nscikit_learn==1.9.1\n")
    ok = prov.pin_report(lock, installed={"torch": "2.13.0+cpu", "numpy": "2.4.6",
                                          "scikit-learn": "1.9.1"}, python=(3, 12, 1))
    assert ok["match"] is True and ok["differing"] == {} and ok["python_supported"] is True
    gpu = prov.pin_report(lock, installed={"torch": "2.11.0+cu130", "numpy": "2.5.2",
                                           "scikit-learn": "1.9.1"}, python=(3, 12, 3))
    assert gpu["match"] is False
    assert gpu["differing"] == {"torch": {"ran": "2.11.0+cu130", "pinned": "2.13.0"},
                                "numpy": {"ran": "2.5.2", "pinned": "2.4.6"}}
    for python, supported in [((3, 11, 4), False), ((3, 11, 5), True), ((3, 13, 9), True),
                              ((3, 14, 0), False), ((3, 10, 13), False)]:
        report = prov.pin_report(lock, installed={"torch": "2.13.0", "numpy": "2.4.6",
                                                  "scikit-learn": "1.9.1"}, python=python)
        assert report["python_supported"] is supported and report["match"] is supported
    assert prov.pin_report(tmp_path / "none.txt")["match"] is None


def test_this_environment_is_the_pinned_one() -> None:
    """`make test` runs in the .venv made from requirements.txt: the check must say so."""
    report = prov.pin_report()
    assert report["lock"] == "requirements.txt"
    assert report == {"lock": "requirements.txt", "match": True, "python_supported": True,
                      "differing": {}, "missing": []}


def test_environment_note_names_each_difference() -> None:
    body = {"provenance": {"python": {"version": "3.14.0"}, "pins": {
        "match": False, "python_supported": False, "missing": [],
        "differing": {"torch": {"ran": "2.11.0", "pinned": "2.13.0"}}}}}
    assert prov.environment_note(body) == ("not the pinned environment: Python 3.14.0 (lock: "
                                           "3.11.5–3.13), torch 2.11.0 (pinned 2.13.0)")
    old = {"versions_differing_from_pins": {"scipy": {"ran": "1.18.1", "pinned": "1.17.1"}}}
    assert prov.environment_note(old) == "not the pinned environment: scipy 1.18.1 (pinned 1.17.1)"
    assert prov.environment_note({"provenance": {"pins": {"match": True}}}) is None
    assert prov.environment_note({"versions_differing_from_pins": {}}) is None


def test_device_description_names_the_processor() -> None:
    cpu = prov.device_description(torch.device("cpu"))
    assert cpu["type"] == "cpu" and cpu["torch_threads"] == torch.get_num_threads()
    assert cpu["name"].endswith("logical CPUs)") and len(cpu["name"]) > len(" (2 logical CPUs)")


def test_results_file_carries_the_provenance(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(tmp_path))
    cs = ClaimSet("99_provenance", "smoke")
    cs.less_than("x small", "paper", 0.1, 1.0)
    body = json.loads(cs.write({"m": np.float64(1.0)}, {"width": 8}, wall_time_s=1.0, seed=3,
                               device="cpu").read_text())
    p = body["provenance"]
    version = re.search(r'^version = "([^"]+)"', (repo_root() / "pyproject.toml").read_text(),
                        re.M).group(1)
    assert p["suite"] == {"name": "ntk-repro", "version": version}
    assert p["packages"]["torch"] == torch.__version__ and p["packages"]["numpy"] == np.__version__
    assert {"scipy", "papermill", "matplotlib"} <= set(p["packages"])
    assert p["python"]["version"] == ".".join(map(str, __import__("sys").version_info[:3]))
    assert p["device"]["type"] == "cpu" and "logical CPUs" in p["device"]["name"]
    assert p["pins"]["match"] is True
    if shutil.which("git") and (repo_root() / ".git").exists():
        assert p["git"]["commit"] == _git(repo_root(), "rev-parse", "HEAD").strip()
        assert isinstance(p["git"]["dirty"], bool)
    assert body["profile"] == "smoke" and body["parameters"] == {"width": 8} and body["seed"] == 3


def test_table_says_when_the_environment_is_not_the_pinned_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cs = ClaimSet("99_env", "default")
    cs.less_than("x small", "paper", 0.1, 1.0)
    assert "not the pinned environment" not in cs.table()
    monkeypatch.setattr(claims_mod, "_PINS_CACHE", [{
        "match": False, "python_supported": True, "missing": [],
        "differing": {"torch": {"ran": "2.11.0+cu130", "pinned": "2.13.0"}}}])
    assert cs.table().splitlines()[-1].startswith(
        "not the pinned environment: torch 2.11.0+cu130 (pinned 2.13.0)")


def test_readme_row_and_verdict_mark_an_unpinned_run(tmp_path: Path) -> None:
    from ntkutils import runner

    info = runner.discover()[0]
    body = {"profile": "paper", "claims": [{"name": "c", "status": "PASS", "expected": "< 1",
                                            "measured_text": "0.5", "resolution_text": "±1 %"}],
            "versions_differing_from_pins": {"torch": {"ran": "2.11.0", "pinned": "2.13.0"}}}
    (tmp_path / f"{info.stem}.json").write_text(json.dumps(body))
    table = runner.readme_table(tmp_path, [info], figures_dir=tmp_path, link_base=tmp_path)
    assert "(*not the pinned environment: torch 2.11.0 (pinned 2.13.0)*)" in table
    verdict = runner.readme_verdict(tmp_path, [info])
    assert verdict.endswith(f"; {info.stem[:2]} outside the pinned environment)")


def test_provenance_table_names_the_commit_and_the_environment(tmp_path: Path) -> None:
    from ntkutils import runner

    first, second = runner.discover()[:2]
    body = {"claims": [], "versions_differing_from_pins": {},
            "provenance": {"git": {"commit": "0123456789abcdef" * 2 + "01234567", "dirty": False},
                           "suite": {"version": "9.9"}, "python": {"version": "3.12.1"},
                           "packages": {"torch": "2.13.0", "numpy": "2.4.6", "scipy": "1.17.1"},
                           "device": {"name": "Test CPU"}, "pins": {"match": True}}}
    (tmp_path / f"{first.stem}.json").write_text(json.dumps(body))
    rows = runner.provenance_table(tmp_path, [first, second]).splitlines()
    assert rows[2] == (f"| {first.stem[:2]} | `0123456789ab` | clean | 9.9 | 3.12.1 | 2.13.0 | "
                       "2.4.6 | 1.17.1 | Test CPU | the lock (requirements.txt) |")
    assert rows[3].startswith(f"| {second.stem[:2]} | — |") and "no provenance recorded" in rows[3]
