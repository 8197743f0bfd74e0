"""ntkutils.runner against the real notebooks and the rest of the package: discovery returns the
knobs the parameters cells define, values are judged by the package's own checks, and the CLI
advertises only knobs that exist. No kernel is started."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

import ntkutils
from ntkutils import cli, runner
from ntkutils.paths import repo_root

NOTEBOOKS = sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _parameters_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))


@pytest.fixture(scope="module")
def infos() -> dict[str, runner.NotebookInfo]:
    return {i.stem: i for i in runner.discover(repo_root() / "notebooks")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_discovery_returns_the_knobs_of_the_parameters_cell(path: Path, infos) -> None:
    """Independent reference: run the cell (literals only) and read the names it binds."""
    namespace: dict = {}
    exec(_parameters_cell(path), namespace)  # noqa: S102 - the cell holds literals only
    namespace = {k: v for k, v in namespace.items() if not k.startswith("__")}
    spec = infos[path.stem].parameters
    assert list(spec) == list(namespace)
    assert {k: s.default for k, s in spec.items()} == namespace
    for name in ("profile", "seed", "device"):
        assert name in spec
    assert all(s.comment for s in spec.values()), "every knob carries a comment (its help)"


def test_every_notebook_knob_default_passes_its_own_check(infos) -> None:
    for info in infos.values():
        for name, spec in info.parameters.items():
            if name != "device":  # its default None means "cuda when available"
                assert runner.check_parameter_value(name, spec.default, info.parameters) == spec.default


def _message(call) -> str:
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("knob, value, package_call", [
    ("parameterization", "mup", lambda: ntkutils.MLP(2, 4, 2, parameterization="mup")),
    ("activation", "swish", lambda: ntkutils.get_activation("swish")),
    ("sigma_w", 0.0, lambda: ntkutils.MLP(2, 4, 2, sigma_w=0.0)),
    ("sigma_b", -0.5, lambda: ntkutils.MLP(2, 4, 2, sigma_b=-0.5)),
    ("depth", 0, lambda: ntkutils.MLP(2, 4, 0)),
    ("device", "tpu", lambda: ntkutils.select_device("tpu")),
])
def test_values_are_judged_by_the_package_own_checks(knob: str, value, package_call) -> None:
    """The runner's message ends with the very message the model (or helper) raises."""
    spec = {knob: runner.ParameterSpec(knob, "float" if isinstance(value, float) else
                                       "int" if isinstance(value, int) else "str", None)}
    ours = _message(lambda: runner.check_parameter_value(knob, value, spec))
    assert ours.startswith(f"parameter {knob!r}: value {value!r} is not allowed: ")
    assert ours.endswith(_message(package_call))


def test_no_second_copy_of_the_package_rules() -> None:
    for name in ("PARAMETERIZATIONS", "DEVICES", "ACTIVATIONS", "PROFILES", "VALUE_RULES"):
        assert not hasattr(runner, name)


def test_runner_modules_import_no_private_names() -> None:
    files = sorted((repo_root() / "ntkutils" / "runner").glob("*.py")) + [
        repo_root() / "ntkutils" / "cli.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:  # `from .. import _validation`: a module
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"


def test_cli_advertises_only_knobs_that_exist(infos, capsys) -> None:
    assert cli.main(["run", "--help"]) == 0
    texts = capsys.readouterr().out + (cli.__doc__ or "")
    examples = re.findall(r"-p '?([a-z_]\w*)=([^\s']+)'?", texts)
    assert {k for k, _ in examples} >= {"depth", "activation", "seed"}
    for key, value in examples:
        having = [i for i in infos.values() if key in i.parameters]
        assert having, f"the help advertises -p {key}=..., a knob no notebook has"
        plan = runner.plan_overrides([f"{key}={value}"], having)  # a value the knob accepts
        assert all(key in p for p in plan.values())


def test_cli_list_shows_each_notebook_knobs(infos, capsys, monkeypatch) -> None:
    monkeypatch.setenv(runner.NOTEBOOKS_ENV, str(repo_root() / "notebooks"))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for info in infos.values():
        block = out.split(f"({info.stem})", 1)[1].split("\n\n", 1)[0]
        for name, spec in info.parameters.items():
            assert re.search(rf"^\s+{name}\s+{re.escape(spec.type)}\s", block, re.M), name
