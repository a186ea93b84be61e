# The two set-up-free commands: `make report` (main job) and `make test`.
# Each bootstraps .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: report test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[fast,test]'
	touch $@

report: $(VENV)/.installed
	$(PY) scripts/main_job.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bbpe tests scripts
	$(VENV)/bin/ruff format --check bbpe tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis
