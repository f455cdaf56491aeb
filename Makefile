# One source, one pipeline: definitions -> build -> lint/check -> test.
# `make build` and `make test` are the only set-up commands a newcomer needs (see README).
# `build` and `check` need only the checkers they run (npm packages, promtool): a minute on a fresh
# machine. The programs built from Go modules (about 12 minutes the first time, cached by pin after)
# come with `tools`, which `test` and `stack` need.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

# `make mutation`: empty MUTATE means pyproject's [tool.mutmut] subset (the pure modules and their fast
# tests); MUTATE=dashboards_as_code/ (files or directories under dashboards_as_code/) mutates those against the whole suite,
# or MUTATION_TESTS. MUTATION_JOBS mutants are tested at once, niced: the machine is shared.
MUTATE         ?=
MUTATION_TESTS ?=
MUTATION_JOBS  ?= 2
# pytest workers for `make test` (pytest-xdist): a test file runs whole on one worker (--dist loadfile), so
# a module's fixtures (a real Prometheus, the local stack) start once. Much of the suite waits on
# subprocesses and servers, so two workers on two cores took 17.6 min where one took 30.4 (same load).
TEST_JOBS      ?= 2

# `make stack`: STACK_PORTS=compose (the compose file's published ports on 127.0.0.1) or free.
STACK_PORTS ?= compose

.PHONY: help build checkers tools check lint test clean demo stack mutation

help:  ## List the targets.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The project's own dependencies (what build, check, push and doctor import), then the dev extra
# (pytest, ruff, mypy, the checkers of the tests, opentelemetry-proto for the stand-ins) for lint,
# test and stack: `make build` does not wait for the second.
$(STAMP): pyproject.toml
	@test -x $(PY) || ./scripts/make-venv $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(DEV): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

build: $(STAMP) checkers  ## Create .venv, install the project and the checkers build runs, write provisioning/.
	$(PY) build.py build

checkers:  ## What build and check run: the LogQL grammar and Grafana's schema (npm ci); promtool (Debian's, as root).
	./scripts/install-tools checkers

tools: checkers  ## Also the demo's npm packages, and the Collector, Prometheus 3, Jaeger v2, Alertmanager and Cortex from Go modules (cached by pin).
	./scripts/install-tools demo
	./scripts/build-otelcol
	./scripts/build-gotools

check: $(STAMP) checkers  ## Lint the definitions (PromQL, LogQL, layout...); fail if provisioning/ is stale.
	$(PY) build.py check

lint: $(DEV)  ## ruff, mypy (strict) and the layer contracts (lint-imports).
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test: $(DEV) tools lint check  ## The whole suite: lint, check, pytest on TEST_JOBS workers (real Prometheus included).
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

mutation: $(DEV)  ## Mutation testing (mutmut) of the engine's pure modules; MUTATE=dashboards_as_code/ widens it (hours). Not in `test`.
	nice -n 10 $(PY) -m bench.mutation --survivors --jobs $(MUTATION_JOBS) $(MUTATE) $(if $(MUTATION_TESTS),--tests $(MUTATION_TESTS))

demo:  ## Run the demo backend against a running stack (DEMO_TENANTS, DEMO_RPS, DEMO_DURATION... pass through).
	@command -v node >/dev/null || { echo "make demo needs Node.js 20 or later (the compose demo runs 26, the Active LTS): sudo apt-get install nodejs npm" >&2; exit 2; }
	@./scripts/install-tools demo
	@test -d monitoring/demo/node_modules || { echo "npm ci in monitoring/demo failed; see the message above" >&2; exit 2; }
	node monitoring/demo/demo.js

stack: $(DEV) tools  ## The stack on 127.0.0.1 without Docker: Collector, Prometheus, Jaeger, stand-ins, demo; Ctrl-C stops it (STACK_PORTS=free).
	$(PY) -m monitoring.local_stack --ports $(STACK_PORTS)

clean:  ## Remove the virtualenv and caches (provisioning/ is committed and kept).
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
