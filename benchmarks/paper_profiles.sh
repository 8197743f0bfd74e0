#!/usr/bin/env bash
# Run notebooks at the `paper` profile (the papers' own sizes: width 10000 etc.), meant for a GPU.
# `--store --profile paper` writes results, figures and executed copies to results/paper and
# figures/paper (the stored `paper` place), so the stored `default` run is left untouched. Usage: bash benchmarks/paper_profiles.sh 02 04
# Where papermill is not installed (a GPU image with its own python3), the code cells run as one
# script (benchmarks/run_notebook_as_script.py) and a log replaces the executed copy.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
for nb in "${@:-02 04}"; do
  if "$PY" -c "import papermill, ipykernel" 2>/dev/null; then
    "$PY" -m ntkutils run "$nb" --profile paper --store --claims-may-fail \
      || echo "paper profile of $nb failed"
  else
    path=$(ls notebooks/"$nb"_*.ipynb)
    NTK_REPRO_RESULTS_DIR=results/paper NTK_REPRO_FIGURES_DIR=figures/paper PYTHONPATH=. \
      "$PY" benchmarks/run_notebook_as_script.py "$path" '{"profile": "paper"}' \
      > "results/paper/$(basename "$path" .ipynb).log" 2>&1 || echo "paper profile of $nb failed"
  fi
done
