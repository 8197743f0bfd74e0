# ntk-repro: the two commands are `make reproduce` and `make test`.
# Both create .venv from the exact pins in requirements.txt when it is missing.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-unit reproduce bench peers lock clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required; set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

# Unit tests and notebook runs (smoke + other parameters), then the stored notebooks re-executed
# at the default profile by nbval: their claims tables must reproduce. Results and figures of
# the test runs go to a temporary directory, never into the repository.
test: $(STAMP)
	NTK_REPRO_QUIET=1 $(PY) -m pytest -q tests
	tmp=$$(mktemp -d) && NTK_REPRO_QUIET=1 NTK_REPRO_RESULTS_DIR=$$tmp/results \
	  NTK_REPRO_FIGURES_DIR=$$tmp/figures $(PY) -m pytest -q -p no:cacheprovider --nbval-lax notebooks/

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# Run every notebook at the default profile, store the executed notebooks (with outputs) back
# into notebooks/, write figures/ and results/, and refresh the README's results table. A claim
# that FAILs is a result (listed in the summary and the README), not an error; `make test`
# judges the stored claims (tests/notebooks/test_stored_results.py).
reproduce: $(STAMP)
	$(PY) -m ntkutils run --profile default --store --claims-may-fail
	$(PY) -m ntkutils report --readme README.md

# Benchmarks against the peers: one table, written to benchmarks/results.json. nngeometry goes
# into .venv (pure Python, no dependencies installed); neural-tangents only from its own venv,
# made by `make peers` (~2.6 GB with TensorFlow) and reported as "not installed" without it.
bench: $(STAMP)
	$(PY) -m pip install --quiet --no-deps -r benchmarks/requirements.txt
	$(PY) benchmarks/run_all.py

peers:
	$(PYTHON) -m venv benchmarks/peers/.venv
	benchmarks/peers/.venv/bin/pip install --quiet neural-tangents==0.6.5 jax==0.4.25 jaxlib==0.4.25 "numpy<2" tf2jax==0.3.6

# Re-resolve the full pin set from requirements.in (needs the package registry).
lock:
	rm -rf /tmp/ntk-repro-lock && $(PYTHON) -m venv /tmp/ntk-repro-lock
	/tmp/ntk-repro-lock/bin/pip install --quiet -r requirements.in
	( echo "# Fully resolved pins for Python 3.11 (generated from requirements.in by \`make lock\`)."; \
	  /tmp/ntk-repro-lock/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' ) > requirements.txt

clean:
	rm -rf $(VENV) outputs .pytest_cache
