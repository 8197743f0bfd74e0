"""Run a notebook's code cells in order as one script, for a machine without papermill/ipykernel
(e.g. a GPU image with its own python3 and torch). The executed notebook is not written; the
notebook's own results/ and figures/ are (``NTK_REPRO_RESULTS_DIR`` / ``NTK_REPRO_FIGURES_DIR``).

    PYTHONPATH=. python3 benchmarks/run_notebook_as_script.py notebooks/04_eigendirection_convergence.ipynb '{"profile": "paper"}'

The JSON overrides are injected right after the cell tagged ``parameters``, as papermill does.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
nb = json.load(open(sys.argv[1], encoding="utf-8"))
overrides = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
env = {"__name__": "__main__"}
for i, cell in enumerate(nb["cells"]):
    if cell["cell_type"] != "code":
        continue
    exec(compile("".join(cell["source"]), f"<cell {i}>", "exec"), env)
    if "parameters" in cell.get("metadata", {}).get("tags", []):
        exec("\n".join(f"{k} = {v!r}" for k, v in overrides.items()), env)
