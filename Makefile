# ntk-repro: the two commands are `make reproduce` and `make test`.
# Both create .venv from the exact pins in requirements.txt when it is missing.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-unit test-notebooks reproduce bench lock clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required; set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

reproduce: $(STAMP)
	@echo "No notebooks yet."

bench: $(STAMP)
	$(PY) benchmarks/empirical_ntk.py
	$(PY) benchmarks/analytic_kernels.py

# Re-resolve the full pin set from requirements.in (needs the package registry).
lock:
	rm -rf /tmp/ntk-repro-lock && $(PYTHON) -m venv /tmp/ntk-repro-lock
	/tmp/ntk-repro-lock/bin/pip install --quiet -r requirements.in
	( echo "# Fully resolved pins for Python 3.11 (generated from requirements.in by \`make lock\`)."; \
	  /tmp/ntk-repro-lock/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' ) > requirements.txt

clean:
	rm -rf $(VENV) outputs .pytest_cache
