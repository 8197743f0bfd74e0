"""The committed results/ files: one per notebook, written at the default profile, every claim
passing, and consistent with the stored notebook's own claims table."""

import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_results_pass_at_default(notebook):
    path = ROOT / "results" / f"{notebook.stem}.json"
    assert path.exists(), f"run `make reproduce` to write {path.relative_to(ROOT)}"
    result = json.loads(path.read_text())
    assert result["profile"] == "default"
    failed = [c["name"] for c in result["claims"] if c["status"] == "FAIL"]
    assert not failed, f"claims failing at the default profile: {failed}"
    assert any(c["status"] == "PASS" for c in result["claims"])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_has_outputs_and_its_table_matches_results(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any("parameters" in c.metadata.get("tags", []) for c in code)
    assert all(c.get("execution_count") for c in code), "stored notebook was not fully executed"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "no inline figure stored"
    table = [c for c in code if "NBVAL_CHECK_OUTPUT" in c.source]
    assert table, "no cell carries # NBVAL_CHECK_OUTPUT"
    text = "".join(o.get("text", "") for c in table for o in c.outputs)
    result = json.loads((ROOT / "results" / f"{notebook.stem}.json").read_text())
    for claim in result["claims"]:
        assert claim["name"] in text and claim["measured_text"] in text
