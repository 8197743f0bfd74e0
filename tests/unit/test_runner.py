"""ntkutils.runner and the ntk-repro CLI, on tiny fixture notebooks built in a temporary folder.

Four real papermill executions in all (one smoke run of the passing fixture; one default run of
all three fixtures with --store); everything else is checked without starting a kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ntkutils import cli, runner
from ntkutils.claims import ClaimSet
from ntkutils.paths import repo_root

PASS_STEM = "01_fixture_pass"
FAIL_STEM = "02_fixture_fail"
CLAIM_FAIL_STEM = "03_fixture_claim_fail"

COMMON_PARAMS = '''profile: str = "default"  # smoke | default | paper
seed: int = 0  # base seed
device: str | None = None  # "cpu" or "cuda"; None: cuda when available
'''

PASS_PARAMS = COMMON_PARAMS + '''width: int = 8  # hidden width # with a hash
widths: list[int] | None = None  # hidden widths; None: the profile's
activation: str = "relu"  # any ntkutils activation
sigma_w: float = 1  # weight scale
label: str = "a#b"
'''

PASS_BODY = f'''import os, sys
from ntkutils.claims import ClaimSet
from ntkutils.paths import figures_dir
claims = ClaimSet("{PASS_STEM}", profile=profile)
claims.within("width is what was asked", "fixture", measured=float(width), expected=float(width), tol=0.5)
print(claims.table())
png = figures_dir() / "{PASS_STEM}_panel.png"
png.parent.mkdir(parents=True, exist_ok=True)
png.write_bytes(b"not really a png")
metrics = {{"prefix": sys.prefix, "cwd": os.getcwd(), "quiet": os.environ.get("NTK_REPRO_QUIET"),
           "mplbackend": os.environ.get("MPLBACKEND")}}
claims.write(metrics, {{"width": width}}, wall_time_s=0.25, seed=seed, device="cpu")
'''

CLAIM_FAIL_BODY = f'''from ntkutils.claims import ClaimSet
claims = ClaimSet("{CLAIM_FAIL_STEM}", profile=profile)
claims.within("one is zero", "fixture", measured=1.0, expected=0.0, tol=0.1)
claims.write({{}}, {{}}, wall_time_s=0.0, seed=seed, device="cpu")
'''

RULES_CELL = COMMON_PARAMS + '''width: int = 8
depth: int = 2
n: int = 4
n_train: int = 10
hidden_width: int = 8
out_depth: int = 1
widths: list[int] | None = None
depths: list[int] = [1, 2]
activation: str = "relu"
parameterization: str = "ntk"
eta: float = 0.1
lr: float = 0.1
sigma_w: float = 1.0
sigma_b: float = 0.0
flag: bool = False
names: list[str] = ["a"]
'''


# ---------------------------------------------------------------------------- fixtures
def _notebook(title: str, params: str, body: str | None, *, metadata: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if metadata:
        nb.metadata["ntk_repro"] = {"title": title, "paper": "Fixture et al. 2024",
                                    "claims": ["width is what was asked"]}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title} heading\n\nSome text."), cell]
    if body is not None:
        nb.cells.append(nbformat.v4.new_code_cell(body))
    return nb


def make_fixtures(directory: Path) -> Path:
    """Three fixture notebooks (pass, raise, failing claim) plus files discovery must skip."""
    directory.mkdir(parents=True, exist_ok=True)
    notebooks = {
        PASS_STEM: _notebook("Passing fixture", PASS_PARAMS, PASS_BODY, metadata=True),
        FAIL_STEM: _notebook("Raising fixture", COMMON_PARAMS, "x = 1 / 0\n", metadata=False),
        CLAIM_FAIL_STEM: _notebook("Claim fixture", COMMON_PARAMS, CLAIM_FAIL_BODY, metadata=True),
        "notes": _notebook("Not numbered", COMMON_PARAMS, None, metadata=False),
        "1_one_digit": _notebook("Not numbered", COMMON_PARAMS, None, metadata=False),
    }
    for stem, nb in notebooks.items():
        nbformat.write(nb, directory / f"{stem}.ipynb")
    return directory


@pytest.fixture()
def nbdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = make_fixtures(tmp_path / "notebooks")
    monkeypatch.setenv(runner.NOTEBOOKS_ENV, str(directory))
    return directory


@pytest.fixture()
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to execute a notebook."""
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("papermill.execute_notebook must not be called")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


def _dirs(base: Path) -> dict[str, Path]:
    return {k: base / k for k in ("outputs", "results", "figures")}


def _run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory):
    """``ntk-repro run 1 --profile smoke`` with every output in a temporary folder."""
    base = tmp_path_factory.mktemp("smoke")
    directory = make_fixtures(base / "notebooks")
    dirs = _dirs(base)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(runner.NOTEBOOKS_ENV, str(directory))
        code, text = _run_cli(["run", "1", "--profile", "smoke", "--output-dir", str(dirs["outputs"]),
                               "--results-dir", str(dirs["results"]),
                               "--figures-dir", str(dirs["figures"])])
    return code, text, dirs, directory


@pytest.fixture(scope="module")
def store_run(tmp_path_factory: pytest.TempPathFactory):
    """All three fixtures at the default profile with store=True."""
    base = tmp_path_factory.mktemp("store")
    directory = make_fixtures(base / "notebooks")
    dirs = _dirs(base)
    before = {p.name: p.read_bytes() for p in directory.glob("*.ipynb")}
    infos = runner.resolve_names([], runner.discover(directory))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")  # as CI sets it: stored notebooks must still get inline figures
        results = runner.run_notebooks(infos, "default", None, dirs["outputs"], dirs["results"],
                                       dirs["figures"], store=True, progress=False)
    return results, dirs, directory, before


# ---------------------------------------------------------------------------- discovery
def test_discover_finds_numbered_notebooks_with_metadata_and_parameters(nbdir: Path) -> None:
    infos = runner.discover()
    assert [i.stem for i in infos] == [PASS_STEM, FAIL_STEM, CLAIM_FAIL_STEM]
    first, second = infos[0], infos[1]
    assert (first.number, first.title, first.paper) == (1, "Passing fixture", "Fixture et al. 2024")
    assert first.claims == ("width is what was asked",)
    assert first.path == (nbdir / f"{PASS_STEM}.ipynb").resolve()
    assert second.title == "Raising fixture heading"  # no metadata: the first heading
    assert second.claims == () and second.paper == ""
    p = first.parameters
    assert list(p) == ["profile", "seed", "device", "width", "widths", "activation", "sigma_w", "label"]
    assert (p["device"].type, p["device"].default, p["device"].optional) == ("str | None", None, True)
    assert p["width"].comment == "hidden width # with a hash"
    assert (p["widths"].base, p["widths"].element, p["widths"].optional) == ("list", "int", True)
    assert p["sigma_w"].default == 1.0 and isinstance(p["sigma_w"].default, float)
    assert p["label"].default == "a#b" and p["label"].comment == ""


def test_parse_parameters_cell_rejects_what_it_cannot_read() -> None:
    assert runner.parse_parameters_cell("x = 3\n")["x"].type == "int"  # inferred when unannotated
    assert runner.parse_parameters_cell("x: Optional[float] = None\n")["x"].optional
    with pytest.raises(ValueError, match=r"line 2: unsupported parameter type 'dict\[str, int\]'"):
        runner.parse_parameters_cell("a: int = 1\nb: dict[str, int] = {}\n")
    with pytest.raises(ValueError, match="must be a literal"):
        runner.parse_parameters_cell("a: int = len([1])\n")
    with pytest.raises(ValueError, match="does not fit"):
        runner.parse_parameters_cell("a: int = 1.5\n")
    with pytest.raises(ValueError, match="expected `name: TYPE = literal`"):
        runner.parse_parameters_cell("import os\n")


def test_discover_reports_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        runner.discover(tmp_path / "nowhere")


# ---------------------------------------------------------------------------- names
def test_resolve_names(nbdir: Path) -> None:
    infos = runner.discover()
    for name in ("1", "01", PASS_STEM, "fixture_pass", f"{PASS_STEM}.ipynb"):
        assert [i.stem for i in runner.resolve_names([name], infos)] == [PASS_STEM]
    chosen = runner.resolve_names(["3", "1", "01"], infos)
    assert [i.stem for i in chosen] == [CLAIM_FAIL_STEM, PASS_STEM]  # order kept, duplicates dropped
    assert runner.resolve_names([], infos) == infos
    with pytest.raises(ValueError, match=f"unknown notebook '9'.*{PASS_STEM}, {FAIL_STEM}"):
        runner.resolve_names(["9"], infos)


# ---------------------------------------------------------------------------- overrides
@pytest.fixture(scope="module")
def rules_spec():
    return runner.parse_parameters_cell(RULES_CELL)


def test_parse_parameter_overrides_values(rules_spec) -> None:
    got = runner.parse_parameter_overrides(
        ["width=512", "widths=[64,128]", "activation=erf", "seed=3", "sigma_w=2", "device=None",
         "flag=true", "names=[a, b]", "sigma_b=0"], rules_spec)
    assert got == {"width": 512, "widths": [64, 128], "activation": "erf", "seed": 3,
                   "sigma_w": 2.0, "device": None, "flag": True, "names": ["a", "b"], "sigma_b": 0.0}
    assert isinstance(got["sigma_w"], float)
    assert runner.parse_parameter_overrides(["device=cpu", "widths=None"], rules_spec) == {
        "device": "cpu", "widths": None}
    assert runner.check_parameter_value("depths", (3, 4), rules_spec) == [3, 4]


def test_device_is_checked_by_select_device(rules_spec) -> None:
    """``device=cuda`` fails before any kernel starts where ``nu.select_device`` would fail."""
    import torch

    if torch.cuda.is_available():
        assert runner.parse_parameter_overrides(["device=cuda"], rules_spec) == {"device": "cuda"}
    else:
        with pytest.raises(ValueError, match="'device'.*no CUDA device is available"):
            runner.parse_parameter_overrides(["device=cuda"], rules_spec)


@pytest.mark.parametrize("item, text", [
    ("nope=1", "unknown parameter 'nope'; known parameters: profile, seed, device"),
    ("width=abc", "'abc'"), ("width=True", "True"), ("width=2.0", "2.0"), ("width=None", "None"),
    ("width=0", "0"), ("depth=0", "0"), ("n=0", "0"), ("n_train=-3", "-3"),
    ("hidden_width=0", "0"), ("out_depth=0", "0"),
    ("widths=[64,0]", "[64, 0]"), ("widths=[64,1.5]", "[64, 1.5]"), ("depths=[0]", "[0]"),
    ("seed=-1", "-1"), ("seed=1.5", "1.5"),
    ("profile=huge", "'huge'"), ("device=tpu", "'tpu'"),
    ("activation=swish", "'swish'"), ("parameterization=mup", "'mup'"),
    ("eta=0", "0"), ("lr=-0.1", "-0.1"), ("sigma_w=0", "0"), ("sigma_b=-0.5", "-0.5"),
    ("sigma_w=1e999", "inf"), ("flag=2", "2"), ("flag=yes", "'yes'"), ("names=3", "3"),
])
def test_every_override_rule_raises_naming_parameter_and_value(rules_spec, item: str, text: str) -> None:
    name = item.split("=")[0]
    with pytest.raises(ValueError) as info:
        runner.parse_parameter_overrides([item], rules_spec)
    message = str(info.value)
    assert f"'{name}'" in message and text in message


def test_override_syntax_errors(rules_spec) -> None:
    with pytest.raises(ValueError, match="KEY=VALUE"):
        runner.parse_parameter_overrides(["width"], rules_spec)
    with pytest.raises(ValueError, match="'width' is given more than once"):
        runner.parse_parameter_overrides(["width=2", "width=3"], rules_spec)


def test_plan_overrides_gives_each_notebook_its_own_keys(nbdir: Path) -> None:
    infos = runner.discover()
    plan = runner.plan_overrides(["width=16", "seed=2"], infos)
    assert plan == {PASS_STEM: {"width": 16, "seed": 2}, FAIL_STEM: {"seed": 2},
                    CLAIM_FAIL_STEM: {"seed": 2}}
    with pytest.raises(ValueError, match="unknown parameter 'width' for 02_fixture_fail"):
        runner.plan_overrides(["width=16"], infos[1:])
    assert runner.plan_overrides({"width": 4}, infos)[PASS_STEM] == {"width": 4}


@pytest.mark.parametrize("argv", [
    ["run", "-p", "width=0"],                       # a bad value for the one notebook that has it
    ["run", "2", "3", "-p", "width=8"],             # a key unknown to every selected notebook
    ["run", "1", "9"],                              # an unknown name after a good one
    ["run", "1", "-p", "profile=fast"],
    ["run", "1", "--profile", "smoke", "-p", "profile=paper"],
    ["run", "1", "--profile", "smoke", "--store"],  # --store needs the default profile
    ["run", "1", "-p", "width=16", "--store"],      # ... and no overrides
])
def test_cli_validates_everything_before_any_kernel_starts(nbdir: Path, no_kernel, tmp_path: Path,
                                                           argv: list[str], capsys) -> None:
    code = cli.main(argv + ["--output-dir", str(tmp_path / "o"), "--results-dir", str(tmp_path / "r")])
    assert code == 2
    assert "ntk-repro: error:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "r").exists()


def test_run_notebooks_validates_before_execution(nbdir: Path, no_kernel, tmp_path: Path) -> None:
    infos = runner.discover()
    with pytest.raises(ValueError, match="parameter 'width'"):
        runner.run_notebooks(infos, "smoke", {"width": 0}, tmp_path / "o")
    with pytest.raises(ValueError, match="--store needs profile 'default' or 'paper'"):
        runner.run_notebooks(infos[:1], "smoke", None, tmp_path / "o", store=True)
    with pytest.raises(ValueError, match="profile must be one of"):
        runner.run_notebooks(infos[:1], "huge", None, tmp_path / "o")


# ------------------------------------------------------------------- where a run writes
def test_only_store_reaches_the_stored_results(monkeypatch: pytest.MonkeyPatch) -> None:
    from ntkutils import paths

    for var in (paths.RESULTS_ENV, paths.FIGURES_ENV):
        monkeypatch.delenv(var, raising=False)
    root = paths.repo_root()
    smoke = runner.destinations("smoke", {"01_x": {}})
    assert (smoke.executed, smoke.results, smoke.figures, smoke.stored) == (
        root / "outputs/smoke", root / "outputs/smoke/results", root / "outputs/smoke/figures", False)
    assert "outputs/smoke/results/" in smoke.describe()
    # overrides: a folder of their own, the same for the same overrides
    a = runner.destinations("default", {"01_x": {"seed": 1}})
    b = runner.destinations("default", {"01_x": {"seed": 1}, "02_y": {}})
    c = runner.destinations("default", {"01_x": {"seed": 2}})
    assert a.executed.parent == root / "outputs" and a.executed.name.startswith("default-")
    assert a == b and a.executed != c.executed
    stored = runner.destinations("default", {"01_x": {}}, store=True)
    assert (stored.results, stored.figures, stored.stored) == (root / "results", root / "figures", True)
    paper = runner.destinations("paper", {"01_x": {}}, store=True)
    assert (paper.results, paper.figures, paper.executed) == (
        root / "results/paper", root / "figures/paper", root / "results/paper")
    # a run that does not store may not aim at a stored place, by argument or environment
    with pytest.raises(ValueError, match="only `make reproduce` or `ntk-repro run --store`"):
        runner.destinations("smoke", {}, results_dir=root / "results")
    monkeypatch.setenv(paths.FIGURES_ENV, str(root / "figures" / "paper"))
    with pytest.raises(ValueError, match="holds the stored results"):
        runner.destinations("default", {"01_x": {"seed": 1}})


def test_dry_run_prints_the_destinations_and_runs_nothing(nbdir: Path, no_kernel, tmp_path: Path,
                                                          capsys) -> None:
    code = cli.main(["run", "1", "--profile", "smoke", "-p", "width=16", "--dry-run",
                     "--output-dir", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0
    assert "would run" in out and "width=16" in out and f"executed notebooks: {tmp_path / 'o'}/" in out
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------- real runs
def test_smoke_run_writes_into_the_given_dirs_and_exits_0(smoke_run) -> None:
    code, text, dirs, directory = smoke_run
    assert code == 0, text
    body = json.loads((dirs["results"] / f"{PASS_STEM}.json").read_text())
    assert body["profile"] == "smoke" and body["counts"]["FAIL"] == 0
    assert body["metrics"]["quiet"] == "1"
    assert Path(body["metrics"]["cwd"]).resolve() == directory.resolve()
    # the "python3" kernel is this interpreter's environment (.venv), not a system Python
    assert Path(body["metrics"]["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert (dirs["figures"] / f"{PASS_STEM}_panel.png").exists()
    executed = nbformat.read(dirs["outputs"] / f"{PASS_STEM}.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert PASS_STEM in text and "ok" in text and "1 notebook(s): 1 ran, 0 failed" in text
    for sub in ("results", "figures", "outputs", "notebooks"):  # nothing went into the repository
        assert not list((repo_root() / sub).glob("*fixture*"))


def test_failures_are_recorded_and_the_next_notebook_still_runs(store_run) -> None:
    results, dirs, directory, before = store_run
    ok, raised, claim_failed = results
    assert runner.exit_code(results) == 1
    assert ok.ok and ok.failed == 0 and ok.passed == 1 and ok.wall_time_s == 0.25
    assert ok.parameters == {}  # default profile, no overrides: nothing injected
    assert not raised.ok and raised.status == "FAILED: ZeroDivisionError"
    assert "division by zero" in raised.error.evalue and "1 / 0" in raised.error.source
    assert raised.error.cell_index == 2
    assert claim_failed.ok and claim_failed.failed == 1  # ran after the raising notebook
    assert runner.exit_code([ok]) == 0 and runner.exit_code([claim_failed]) == 1
    assert runner.exit_code([ok, claim_failed], claims_may_fail=True) == 0
    assert runner.exit_code(results, claims_may_fail=True) == 1  # a notebook that raised still fails
    table = runner.summary_table(results)
    assert "FAILED: ZeroDivisionError" in table and "0/1 (1 FAIL)" in table
    assert "claim FAILED: one is zero" in table and "3 notebook(s): 2 ran, 1 failed" in table
    verdict = table.splitlines()[0]
    assert verdict.startswith("Verdict: ") and "1 FAIL (" in verdict


def test_store_copies_back_only_successful_default_runs(store_run) -> None:
    results, dirs, directory, before = store_run
    assert [r.stored for r in results] == [True, False, True]
    assert (directory / f"{FAIL_STEM}.ipynb").read_bytes() == before[f"{FAIL_STEM}.ipynb"]
    stored = nbformat.read(directory / f"{PASS_STEM}.ipynb", as_version=4)
    nbformat.validate(stored)
    assert "papermill" not in stored.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in stored.cells)
    outputs = [o for c in stored.cells if c.cell_type == "code" for o in c.outputs]
    assert any("width is what was asked" in o.get("text", "") for o in outputs)
    body = json.loads((dirs["results"] / f"{PASS_STEM}.json").read_text())
    assert body["metrics"]["mplbackend"] == "module://matplotlib_inline.backend_inline"
    # the stored notebook is still discoverable with the same parameters
    assert runner.discover(directory)[0].parameters["width"].default == 8


# ---------------------------------------------------------------------------- README, list
def test_readme_table_and_update(nbdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results, figures = tmp_path / "results", tmp_path / "figures"
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(results))
    claims = ClaimSet(PASS_STEM, profile="default")
    claims.within("width is what | was asked", "fixture", measured=8.0, expected=8.0, tol=0.5)
    claims.write({}, {}, wall_time_s=1.0, seed=0, device="cpu")
    figures.mkdir()
    (figures / f"{PASS_STEM}_panel.png").write_bytes(b"x")
    table = runner.readme_table(results, runner.discover(), figures_dir=figures, link_base=tmp_path)
    lines = table.splitlines()
    assert lines[0].startswith("| # | notebook | paper | claim |")
    assert f"[Passing fixture](notebooks/{PASS_STEM}.ipynb)" in lines[2]
    assert "width is what \\| was asked" in lines[2] and "8 ± 0.5" in lines[2] and "PASS" in lines[2]
    assert "resolution" in lines[0] and "±6.3 %" in lines[2]  # |8 − 8(1 ± δ)| > 0.5 from δ = 1/16 (+ 1 % bisection)
    verdict = runner.readme_verdict(results, runner.discover())
    assert verdict.startswith("Verdict: 1 claims PASS, 0 FAIL, ") and "NOT ASSESSED (" in verdict
    with_verdict = tmp_path / "README_verdict.md"
    with_verdict.write_text(f"{runner.VERDICT_START}\nold\n{runner.VERDICT_END}\n"
                            f"{runner.README_START}\n{runner.README_END}\n")
    assert runner.update_readme(with_verdict, table, verdict) is True
    assert verdict in with_verdict.read_text() and "old" not in with_verdict.read_text()
    assert f"[panel](figures/{PASS_STEM}_panel.png)" in lines[2]
    assert "not run" in table and "no claims" in table  # 03 has no results; 02 neither, nor claims

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{runner.README_START}\nold\n{runner.README_END}\nend\n")
    assert runner.update_readme(readme, table) is True
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{runner.README_END}\nend\n")
    assert "old" not in text and table in text
    assert runner.update_readme(readme, table) is False
    (tmp_path / "bad.md").write_text("no markers here\n")
    with pytest.raises(ValueError, match="results-table:start"):
        runner.update_readme(tmp_path / "bad.md", table)
    code, out = _run_cli(["report", "--readme", str(readme), "--results-dir", str(results),
                          "--figures-dir", str(figures)])
    assert code == 0 and "unchanged" in out


def test_cli_list(nbdir: Path, capsys) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "01  Passing fixture  (01_fixture_pass)" in out
    assert "paper: Fixture et al. 2024" in out and "- width is what was asked" in out
    assert "02  Raising fixture heading" in out and "notes" not in out
    assert "widths" in out and "list[int] | None" in out and "# hidden widths; None: the profile's" in out


def test_python_dash_m_is_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "ntkutils", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "usage: ntk-repro" in done.stdout
    assert cli.main([]) == 2


def test_readme_table_shows_figures(tmp_path):
    from ntkutils import runner

    fig_dir = tmp_path / "figures"
    fig_dir.mkdir()
    (fig_dir / "01_fixture_pass_curve.png").write_bytes(b"png")
    info = runner.NotebookInfo(stem="01_fixture_pass", number=1, path=tmp_path / "01_fixture_pass.ipynb",
                               title="Fixture", paper="P", claims=("c",), parameters={})
    table = runner.readme_table(tmp_path / "results", [info], figures_dir=fig_dir, link_base=tmp_path)
    assert '<img src="figures/01_fixture_pass_curve.png"' in table
