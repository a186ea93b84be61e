# The two set-up-free commands: `make report` (main job) and `make test`.
# Each bootstraps .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: report test lint docs bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[fast,test]'
	touch $@

report: $(VENV)/.installed
	$(PY) scripts/main_job.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bbpe tests scripts docs/hooks
	$(VENV)/bin/ruff format --check bbpe tests scripts docs/hooks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The documentation site (docs/ + mkdocs.yml) into site/; any warning fails the build.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis site
