# One source, one pipeline: definitions -> build -> lint/check -> test.
# `make build` and `make test` are the only set-up commands a newcomer needs (see README).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help build check lint test clean

help:  ## List the targets.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@test -x $(PY) || ./scripts/make-venv $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

build: $(STAMP)  ## Create .venv, install the project, write provisioning/.
	$(PY) build.py build

check: $(STAMP)  ## Lint the definitions; fail if provisioning/ is stale.
	$(PY) build.py check

lint: $(STAMP)  ## ruff and mypy (strict on the machinery).
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: $(STAMP) lint check  ## The whole suite: lint, check, pytest.
	$(PY) -m pytest

clean:  ## Remove the virtualenv and caches (provisioning/ is committed and kept).
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
