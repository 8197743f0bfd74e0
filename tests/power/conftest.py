"""Planted-error tests: a notebook's claims must FAIL when its central prediction is wrong.

Each notebook has a parameter ``planted_error`` (default 0.0): the relative error planted in
its central prediction (e.g. the analytic NNGP or NTK multiplied by ``1 + planted_error``).
``run_planted`` executes the notebook with papermill at the smallest profile at which the
claims are assessed (``default``, with overrides that only drop work the planted claims do
not use) and returns the results file; results and figures go to a temporary directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import papermill as pm
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def run_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("NTK_REPRO_QUIET", "1")

    def run(name: str, **parameters: Any) -> dict[str, dict[str, Any]]:
        """Run ``notebooks/<name>.ipynb`` at ``default`` with ``parameters``; claims by name."""
        pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                            parameters={"profile": "default", **parameters}, kernel_name="python3",
                            progress_bar=False, cwd=str(NOTEBOOKS))
        body = json.loads((tmp_path / "results" / f"{name}.json").read_text())
        return {c["name"]: c for c in body["claims"]}

    return run


def failed(claims: dict[str, dict[str, Any]], *fragments: str) -> list[str]:
    """Names of FAILed claims whose name contains every fragment."""
    return [n for n, c in claims.items() if c["status"] == "FAIL" and all(f in n for f in fragments)]
