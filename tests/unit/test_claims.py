"""ntkutils.claims and ntkutils.paths: statuses, the table, the results file."""

from __future__ import annotations

import json
import math
import os
from types import SimpleNamespace
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from ntkutils import claims as claims_mod
from ntkutils.claims import FAIL, NOT_ASSESSED, PASS, Claim, ClaimSet, load_results, to_jsonable
from ntkutils.paths import atomic_write_bytes, figures_dir, repo_root, results_dir


@pytest.fixture
def out_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path / "figures"))
    return tmp_path


def _example() -> ClaimSet:
    cs = ClaimSet("02_ntk_convergence", profile="default")
    cs.within("slope", "Jacot et al. 2018, Fig. 1", measured=-0.48731, expected=-0.5, tol=0.15, digits=2)
    cs.less_than("mmd", "Matthews et al. 2018, Fig. 6", measured=0.000143219, bound=0.0078)
    cs.greater_than("min eigenvalue", "Jacot et al. 2018, Prop. 2", measured=1.23456789e-3, bound=0.0)
    cs.not_assessed("rate", "Jacot et al. 2018, Thm. 2", reason="smoke-sized widths")
    return cs


# --------------------------------------------------------------------------- statuses
def test_within_boundaries() -> None:
    cs = ClaimSet("x", "default")
    assert cs.within("a", "p", -0.5, -0.5, 0.0).status == PASS
    assert cs.within("b", "p", -0.36, -0.5, 0.15).status == PASS
    assert cs.within("c", "p", -0.34, -0.5, 0.15).status == FAIL
    assert cs.within("d", "p", -0.66, -0.5, 0.15).status == FAIL
    assert cs.within("e", "p", np.float32(-0.5), -0.5, 0.1).status == PASS
    assert cs.within("f", "p", torch.tensor(-0.45, dtype=torch.float64), -0.5, 0.1).status == PASS


def test_bounds_are_strict() -> None:
    cs = ClaimSet("x", "default")
    assert cs.less_than("a", "p", 0.04, 0.05).status == PASS
    assert cs.less_than("b", "p", 0.05, 0.05).status == FAIL
    assert cs.greater_than("c", "p", 0.06, 0.05).status == PASS
    assert cs.greater_than("d", "p", 0.05, 0.05).status == FAIL


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), np.float64("nan"),
                                 torch.tensor(float("nan"))])
def test_nonfinite_measured_always_fails(bad) -> None:
    cs = ClaimSet("x", "default")
    claims = [
        cs.within("w", "p", bad, 0.0, 1e300),
        cs.less_than("l", "p", bad, 1e300),
        cs.greater_than("g", "p", bad, -1e300),
        cs.check("c", "p", True, bad, "finite"),
    ]
    assert all(c.status == FAIL for c in claims)
    assert all("non-finite" in (c.reason or "") for c in claims)
    assert not cs.all_passed


def test_check_and_not_assessed() -> None:
    cs = ClaimSet("x", "default")
    assert cs.check("pd", "p", True, None, "positive-definite").status == PASS
    assert cs.check("pd2", "p", np.bool_(False), 3.0, "positive-definite").status == FAIL
    na = cs.not_assessed("n", "p", reason="too small")
    assert na.status == NOT_ASSESSED and na.reason == "too small" and na.measured is None
    with pytest.raises(ValueError, match="passed"):
        cs.check("pd3", "p", 1, None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reason"):
        cs.not_assessed("n2", "p", reason="")


def test_all_passed_ignores_not_assessed() -> None:
    cs = ClaimSet("x", "default")
    assert cs.all_passed  # empty
    cs.not_assessed("a", "p", reason="smoke")
    cs.less_than("b", "p", 1.0, 2.0)
    assert cs.all_passed
    cs.less_than("c", "p", 3.0, 2.0)
    assert not cs.all_passed
    assert [c.name for c in cs.failed] == ["c"]


def test_methods_return_and_append_in_order() -> None:
    cs = _example()
    assert [c.name for c in cs] == ["slope", "mmd", "min eigenvalue", "rate"]
    assert isinstance(cs["mmd"], Claim) and len(cs) == 4
    with pytest.raises(ValueError, match="already exists"):
        cs.less_than("mmd", "p", 0.1, 1.0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda cs: cs.within("a", "p", 1.0, 1.0, -0.1), "tol"),
        (lambda cs: cs.within("a", "p", 1.0, float("nan"), 0.1), "expected"),
        (lambda cs: cs.within("a", "p", None, 1.0, 0.1), "not_assessed"),
        (lambda cs: cs.within("a", "p", "high", 1.0, 0.1), "measured"),
        (lambda cs: cs.within("a", "p", np.ones(3), 1.0, 0.1), "scalar"),
        (lambda cs: cs.less_than("a", "p", 1.0, "x"), "bound"),
        (lambda cs: cs.within("", "p", 1.0, 1.0, 0.1), "name"),
        (lambda cs: cs.within("a", "", 1.0, 1.0, 0.1), "paper"),
        (lambda cs: cs.within("a", "p", 1.0, 1.0, 0.1, digits=0), "digits"),
        (lambda cs: cs.within("a", "p", 1.0, 1.0, 0.1, digits="2"), "digits"),
        (lambda cs: cs.less_than("a", "p", 1.0, 2.0, digits=2.5), "digits"),
    ],
)
def test_bad_claim_arguments(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call(ClaimSet("x", "default"))


@pytest.mark.parametrize("nb", ["", "../escape", "a/b", "a\\b", ".hidden", None])
def test_bad_notebook_names(nb) -> None:
    with pytest.raises(ValueError, match="notebook"):
        ClaimSet(nb, "smoke")  # type: ignore[arg-type]


def test_bad_profile() -> None:
    with pytest.raises(ValueError, match="profile"):
        ClaimSet("01_x", "defualt")


# --------------------------------------------------------------------------- table
def test_table_rounds_and_is_stable() -> None:
    table = _example().table()
    lines = table.splitlines()
    assert lines[0].split() == ["claim", "paper", "expected", "measured", "resolution", "α", "status", "note"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "-0.49" in table and "-0.48731" not in table  # digits=2 significant
    assert "-0.5 ± 0.15" in table  # stated constants are not cut to `digits`
    assert "0.000143" in table and "0.000143219" not in table  # default 3 significant digits
    assert "< 0.0078" in table and "> 0" in table
    assert "NOT ASSESSED" in table and "smoke-sized widths" in table
    assert lines[-1] == ("02_ntk_convergence [default]: 3 passed, 0 failed, 1 not assessed; "
                         "false-failure probability not stated for 4 of 4 claims")
    # fixed width: every data column starts at the same offset in every row
    start = lines[0].index("expected")
    assert all(line[start - 2 : start] == "  " for line in lines[1:-1])
    # a rerun whose numbers differ below the displayed precision prints the same table
    cs2 = ClaimSet("02_ntk_convergence", profile="default")
    cs2.within("slope", "Jacot et al. 2018, Fig. 1", measured=-0.48733, expected=-0.5, tol=0.15, digits=2)
    cs2.less_than("mmd", "Matthews et al. 2018, Fig. 6", measured=0.00014318, bound=0.0078)
    cs2.greater_than("min eigenvalue", "Jacot et al. 2018, Prop. 2", measured=1.2349e-3, bound=0.0)
    cs2.not_assessed("rate", "Jacot et al. 2018, Thm. 2", reason="smoke-sized widths")
    assert cs2.table() == table
    assert str(cs2) == table


def test_table_shows_failures_and_nan() -> None:
    cs = ClaimSet("x", "default")
    cs.within("s", "p", float("nan"), 1.0, 0.1)
    assert cs.within("c", "p", 0.5, 0.5, 0.15, digits=1).expected == "0.5 ± 0.15"
    t = cs.within("t", "p", -0.0, 0.0, 0.1, digits=1)
    assert t.measured_text == "0"  # never "-0"
    assert cs.within("u", "p", -0.0001234, 0.0, 0.1, digits=2).measured_text == "-0.00012"
    table = cs.table()
    assert "nan" in table and "FAIL" in table
    assert "3 passed, 1 failed" in table


def test_table_without_notes_has_no_note_column() -> None:
    cs = ClaimSet("x", "default")
    cs.less_than("a", "p", 1.0, 2.0)
    assert "note" not in cs.table().splitlines()[0]


# --------------------------------------------------------------------------- JSON file
def _write(cs: ClaimSet, **kw) -> Path:
    metrics = {
        "slope": -0.48731,
        "widths": np.array([64, 128, 256]),
        "errors": torch.tensor([0.1, float("nan")], dtype=torch.float64),
        "loss": float("inf"),
        "nested": {"t": (1, 2.5), 3: np.float32(0.5), "ok": np.bool_(True)},
    }
    params = {"profile": cs.profile, "seed": 0, "widths": [64, 128, 256], "out": Path("figures")}
    args = dict(wall_time_s=12.3456, seed=0, device="cpu")
    args.update(kw)
    return cs.write(metrics, params, **args)


def test_write_round_trip(out_dirs: Path) -> None:
    cs = _example()
    path = _write(cs)
    assert path == out_dirs / "results" / "02_ntk_convergence.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["notebook"] == "02_ntk_convergence" and data["profile"] == "default"
    assert data["seed"] == 0 and data["device"] == "cpu" and data["wall_time_s"] == 12.346
    assert data["all_passed"] is True
    assert data["counts"] == {"PASS": 3, "FAIL": 0, "NOT ASSESSED": 1}
    assert [c["name"] for c in data["claims"]] == ["slope", "mmd", "min eigenvalue", "rate"]
    assert data["claims"][0]["measured"] == -0.48731
    assert data["claims"][0]["measured_text"] == "-0.49"
    assert data["claims"][3]["measured"] is None and data["claims"][3]["status"] == "NOT ASSESSED"
    assert data["metrics"]["widths"] == [64, 128, 256]
    assert data["metrics"]["errors"] == [0.1, None]
    assert data["metrics"]["loss"] is None
    assert data["metrics"]["nested"] == {"t": [1, 2.5], "3": 0.5, "ok": True}
    assert data["nonfinite"] == {"$.metrics.errors[1]": "nan", "$.metrics.loss": "inf"}
    assert data["parameters"]["out"] == "figures"
    assert set(data["versions"]) == {"python", "numpy", "scipy", "torch", "matplotlib"}
    assert data["versions"]["numpy"] == np.__version__
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert text.endswith("}\n") and text.startswith('{\n  "all_passed"')  # sorted, indent 2
    assert load_results("02_ntk_convergence") == data
    assert load_results(path) == data


def test_write_nan_claim_flagged(out_dirs: Path) -> None:
    cs = ClaimSet("03_x", "default")
    cs.within("s", "p", float("nan"), 1.0, 0.1)
    data = json.loads(_write(cs).read_text())
    assert data["all_passed"] is False
    assert data["claims"][0]["measured"] is None and data["claims"][0]["status"] == "FAIL"
    assert data["nonfinite"]["$.claims[0].measured"] == "nan"


def test_write_is_byte_stable_and_has_no_timestamp(out_dirs: Path) -> None:
    first = _write(_example()).read_bytes()
    second = _write(_example()).read_bytes()
    assert first == second
    third = _write(_example(), wall_time_s=99.0).read_bytes()
    body = {k: v for k, v in json.loads(first).items() if k != "wall_time_s"}
    assert body == {k: v for k, v in json.loads(third).items() if k != "wall_time_s"}
    assert not ({"created", "timestamp", "date", "time"} & set(json.loads(first)))


def test_write_is_atomic(out_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while replacing leaves the old file intact and no temporary file behind."""
    path = _write(_example())
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    cs = ClaimSet("02_ntk_convergence", "default")
    cs.less_than("other", "p", 5.0, 1.0)
    with pytest.raises(OSError, match="disk full"):
        _write(cs)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_write_rejects_bad_arguments(out_dirs: Path) -> None:
    cs = _example()
    with pytest.raises(ValueError, match="seed"):
        cs.write({}, {}, wall_time_s=1.0, seed=1.5, device="cpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wall_time_s"):
        cs.write({}, {}, wall_time_s=float("nan"), seed=0, device="cpu")
    with pytest.raises(ValueError, match="metrics"):
        cs.write([1], {}, wall_time_s=1.0, seed=0, device="cpu")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\$\.metrics\.f"):
        cs.write({"f": object()}, {}, wall_time_s=1.0, seed=0, device="cpu")
    assert not (out_dirs / "results").exists() or not any((out_dirs / "results").iterdir())


def test_to_jsonable_dataclass_and_device() -> None:
    @dataclass(frozen=True)
    class Fit:
        slope: float
        ci: float

    flags: dict[str, str] = {}
    out = to_jsonable({"fit": Fit(-0.5, float("-inf")), "d": torch.device("cpu").type}, nonfinite=flags)
    assert out == {"fit": {"slope": -0.5, "ci": None}, "d": "cpu"}
    assert flags == {"$.fit.ci": "-inf"}
    json.dumps(out, allow_nan=False)


# --------------------------------------------------------------------------- paths
def test_unstored_runs_default_to_outputs_and_stored_places_are_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ntkutils.paths import stored_figures_dir, stored_results_dir

    monkeypatch.delenv("NTK_REPRO_RESULTS_DIR", raising=False)
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", "")  # empty means unset
    root = repo_root()
    assert (root / "ntkutils" / "paths.py").is_file()
    assert results_dir("smoke") == root / "outputs" / "smoke" / "results"
    assert figures_dir("default") == root / "outputs" / "default" / "figures"
    assert results_dir() == root / "outputs" / "results"
    assert stored_results_dir() == root / "results"
    assert stored_figures_dir("paper") == root / "figures" / "paper"
    with pytest.raises(ValueError, match="profile must be one of .*'smoke'"):
        stored_results_dir("smoke")


def test_env_redirect(out_dirs: Path) -> None:
    assert results_dir() == out_dirs / "results"
    assert figures_dir() == out_dirs / "figures"
    assert claims_mod.results_dir() == out_dirs / "results"


def test_atomic_write_bytes_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.bin"
    assert atomic_write_bytes(target, b"one") == target
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_smoke_profile_records_claims_as_not_assessed():
    cs = ClaimSet("x", "smoke")
    c = cs.within("slope", "p", measured=-0.9, expected=-0.5, tol=0.1)
    assert c.status == "NOT ASSESSED" and "would be FAIL" in c.reason and c.measured == -0.9
    assert cs.all_passed
    forced = ClaimSet("y", "smoke", assess=True)
    assert forced.within("slope", "p", measured=-0.9, expected=-0.5, tol=0.1).status == "FAIL"


# --------------------------------------------------------------------------- resolution
def test_relative_resolution_matches_the_closed_form_of_within() -> None:
    # |m − (1±δ)e| ≤ tol flips at δ = (tol − |m − e|)/|e| (on the side that moves away from m)
    cs = ClaimSet("x", "default")
    c = cs.within("w", "p", measured=-0.48, expected=-0.5, tol=0.15)
    assert c.resolution_kind == "relative"
    assert c.resolution == pytest.approx((0.15 - 0.02) / 0.5, rel=0.011)
    assert c.resolution >= (0.15 - 0.02) / 0.5  # errs on the large side, never claims more power
    assert c.resolution_text == "±26 %"


def test_relative_resolution_of_a_z_statistic_by_bisection() -> None:
    # z(s) = |m − s·e| / se: flips at |δ| = (z* · se − |m − e|) / e on the worse side
    m, e, se, zstar = 10.2, 10.0, 0.1, 3.0
    z = lambda s: abs(m - s * e) / se
    cs = ClaimSet("x", "default")
    c = cs.less_than("z", "p", z(1.0), zstar, prediction=z, alpha=0.01)
    exact = (zstar * se - abs(m - e)) / e
    assert exact <= c.resolution <= exact * 1.011
    assert c.alpha == 0.01 and cs.family_alpha == pytest.approx(0.01)


def test_resolution_is_zero_for_a_failing_claim_and_inf_when_nothing_flips() -> None:
    assert claims_mod.relative_resolution(lambda s: False) == 0.0
    assert claims_mod.relative_resolution(lambda s: True) == math.inf
    cs = ClaimSet("x", "default")
    assert cs.within("w", "p", 2.0, 1.0, 0.1).resolution == 0.0
    assert cs.less_than("l", "p", 1.0, 2.0, prediction=lambda s: 1.0).resolution_text == "> 100 %"


def test_slope_claim_uses_its_interval() -> None:
    fit = SimpleNamespace(slope=0.92, ci_low=0.87, ci_high=0.98)
    cs = ClaimSet("x", "default")
    c = cs.slope("sp", "p", fit, 1.0, alpha=0.05)
    assert c.status == FAIL  # the interval excludes 1: a ±0.1 tolerance would have hidden it
    assert c.resolution == pytest.approx(0.055) and c.resolution_kind == "interval"
    assert cs.slope("sp2", "p", fit, 1.0, tol=0.03, alpha=0.05).status == PASS
    assert cs.slope("sp3", "p", fit, 0.9, alpha=0.05).status == PASS
    assert cs.slope("sp4", "p", SimpleNamespace(slope=1.0, ci_low=float("nan"), ci_high=float("nan")),
                    1.0, alpha=0.05).status == FAIL
    assert cs.family_alpha == pytest.approx(0.2)
    assert "≤ 20 %" in cs.table().splitlines()[-1]


def test_check_with_a_prediction_and_stated_resolutions() -> None:
    cs = ClaimSet("x", "default")
    c = cs.check("ratio", "p", True, 1.01, "1 ± 3 %", prediction=lambda s: abs(1.01 / s - 1) <= 0.03)
    assert 0.019 < c.resolution < 0.0205
    assert cs.check("rank", "p", True, 5, "5", resolution_kind="exact").resolution_text == "exact"
    with pytest.raises(ValueError, match="resolution_kind"):
        cs.check("bad", "p", True, 5, "5", resolution=0.1)
    with pytest.raises(ValueError, match="alpha"):
        cs.less_than("bad2", "p", 1.0, 2.0, alpha=1.5)


def test_resolution_and_alpha_are_written_to_json(out_dirs: Path) -> None:
    cs = ClaimSet("01_x", "default")
    cs.less_than("z", "p", 1.0, 3.0, prediction=lambda s: abs(1.0 - 20 * (s - 1)), alpha=0.02)
    body = load_results(cs.write({}, {}, wall_time_s=1.0, seed=0, device="cpu"))
    claim = body["claims"][0]
    assert claim["resolution_kind"] == "relative" and claim["resolution"] == pytest.approx(0.1, rel=0.02)
    assert claim["resolution_text"] == "±10 %" and claim["alpha"] == 0.02
    assert body["family_alpha"] == pytest.approx(0.02)


def test_verdict_line_names_the_notebooks() -> None:
    line = claims_mod.verdict_line({
        "01_a": {PASS: 3, FAIL: 0, NOT_ASSESSED: 0},
        "04_b": {PASS: 2, FAIL: 1, NOT_ASSESSED: 2},
        "06_c": {PASS: 1, FAIL: 0, NOT_ASSESSED: 1}})
    assert line == "Verdict: 6 claims PASS, 1 FAIL (04), 3 NOT ASSESSED (04, 06)"


def test_versions_differing_from_pins_names_what_differs(tmp_path) -> None:
    from ntkutils.claims import versions_differing_from_pins

    req = tmp_path / "requirements.txt"
    req.write_text("# pins\ntorch==2.13.0\nnumpy==2.4.6  # comment\nscipy>=1\n", encoding="utf-8")
    ran = {"python": "3.12.3", "torch": "2.11.0+cu130", "numpy": "2.4.6", "scipy": "1.18.1"}
    assert versions_differing_from_pins(ran, req) == {"torch": {"ran": "2.11.0+cu130", "pinned": "2.13.0"}}
    assert versions_differing_from_pins({"torch": "2.13.0+cpu"}, req) == {}
