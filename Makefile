# ntk-repro: the two commands are `make reproduce` and `make test`.
# Both create .venv from the exact pins in requirements.txt when it is missing.

# Python 3.11, 3.12 or 3.13 (one lock, requirements.txt, is valid for all three): `python3` when
# it is one of them, else the first of python3.13, python3.12, python3.11 on the PATH. Override
# with `make PYTHON=/path/to/python3.x ...`.
SHELL := /bin/bash
SUPPORTED_PYTHONS := 3.11 3.12 3.13
IS_SUPPORTED = -c 'import sys; sys.exit(not ((3, 11, 5) <= sys.version_info[:3] and sys.version_info[:2] <= (3, 13)))'
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python3 python3.13 python3.12 python3.11; do \
  $$p $(IS_SUPPORTED) 2>/dev/null && { echo $$p; break; }; done)
endif
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-unit test-quick reproduce html test-html bench peers lock lock-check clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(or $(PYTHON),false) $(IS_SUPPORTED) 2>/dev/null || { \
	  echo "error: ntk-repro needs Python 3.11 (3.11.5 or later), 3.12 or 3.13; PYTHON='$(PYTHON)' is not one of them"; \
	  echo "  (python3 here: $$(python3 --version 2>&1 || echo none))."; \
	  echo "  Install one (pyenv install 3.12, uv python install 3.12, conda create -n ntk python=3.12,"; \
	  echo "  or your system's python3.12 package) and rerun, or name it: make PYTHON=/path/to/python3.12 ..."; \
	  exit 1; }
	@echo "setting up .venv with $(PYTHON): $$($(PYTHON) --version); on Linux with Python 3.12/3.13, torch is PyPI's CUDA build (several GB)"
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

# A quick check of another Python in a venv of its own (CI runs it for 3.12 and 3.13):
#   make test-quick PYTHON=python3.13 VENV=.venv-3.13
# imports, unit tests of the kernels, empirical NTK, claims and provenance, and one notebook
# run through papermill at the smoke profile (into a temporary directory).
QUICK_UNIT := tests/unit/test_kernels.py tests/unit/test_empirical.py tests/unit/test_claims.py \
  tests/unit/test_provenance.py tests/unit/test_notebook.py tests/unit/test_citation.py
test-quick: $(STAMP)
	$(PY) -c "import sys, torch, ntkutils; print('ntk-repro', ntkutils.__version__, 'on Python', sys.version.split()[0], 'with torch', torch.__version__)"
	NTK_REPRO_QUIET=1 $(PY) -m pytest -q -p no:cacheprovider $(QUICK_UNIT)
	tmp=$$(mktemp -d) && NTK_REPRO_QUIET=1 $(PY) -m ntkutils run 03 --profile smoke \
	  --output-dir $$tmp --results-dir $$tmp/results --figures-dir $$tmp/figures

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

# Re-resolve the full pin set from requirements.in (needs the package registry), then check that
# every pin has a wheel for each supported Python (lock-check). On Linux x86_64 the CPU build of
# torch and the CUDA build from PyPI carry the same version; the lock names the version only.
lock:
	rm -rf /tmp/ntk-repro-lock && $(PYTHON) -m venv /tmp/ntk-repro-lock
	/tmp/ntk-repro-lock/bin/pip install --quiet -r requirements.in
	( echo "# Fully resolved pins, one lock for Python 3.11, 3.12 and 3.13 (generated from requirements.in"; \
	  echo "# by \`make lock\` and checked for each Python by \`make lock-check\`)."; \
	  /tmp/ntk-repro-lock/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' ) > requirements.txt
	$(MAKE) lock-check

# Every pin of requirements.txt resolves to a binary wheel for each supported Python on Linux
# x86_64 (a dry run that reads the index's metadata only; nothing is installed).
# The oldest patch release of each minor version that the lock allows (soupsieve needs 3.11.5).
LOCK_PYTHONS := 3.11.5 3.12.0 3.13.0
LOCK_PLATFORMS := manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 \
  manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux2010_x86_64 manylinux_2_5_x86_64 \
  manylinux1_x86_64 linux_x86_64
lock-check: $(STAMP)
	@for v in $(LOCK_PYTHONS); do \
	  $(PY) -m pip install --dry-run --quiet --ignore-installed --no-deps --only-binary=:all: \
	    --python-version $$v --implementation cp $(addprefix --platform ,$(LOCK_PLATFORMS)) \
	    --target /tmp/ntk-repro-lock-check -r requirements.txt 2>&1 | grep -v "is ignored" ; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "lock-check: a pin has no wheel for Python $$v"; exit 1; }; \
	  echo "lock-check: every pin has a wheel for Python $$v"; done

# The HTML edition for readers without Jupyter: the stored notebooks (outputs and figures) and an
# index page (verdict, claims table, figures) in build/html/, which opens offline; see the README.
html: $(STAMP)
	$(PY) -m ntkutils html --out build/html

# The edition as a reader sees it, in headless Chromium (Debian: chromium, chromium-driver;
# .ci/run installs them); skipped with a reason when the browser is missing.
test-html: html
	$(PY) -m pytest -q -p no:cacheprovider tests/browser

clean:
	rm -rf $(VENV) outputs .pytest_cache
