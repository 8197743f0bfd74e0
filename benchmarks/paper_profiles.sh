#!/usr/bin/env bash
# Run notebooks at the `paper` profile (the papers' own sizes: width 10000 etc.), meant for a GPU.
# Results, figures and executed copies go under results/paper, figures/paper and outputs/paper, so
# the stored `default` run is left untouched. Usage: bash benchmarks/paper_profiles.sh 02 04
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
for nb in "${@:-02 04}"; do
  "$PY" -m ntkutils run "$nb" --profile paper --results-dir results/paper \
    --figures-dir figures/paper --output-dir outputs/paper || echo "paper profile of $nb failed"
done
