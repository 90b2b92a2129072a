# The verbs a newcomer types. Every target installs first, so .venv/bin/pivotal always exists.
# Without DATABASE_URL / REDIS_URL, PostgreSQL and Redis come from PyPI wheels and keep their
# data in .local/ (see devtools/devstack.py): no Docker, no root, no system packages.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: install dev test test-pgbouncer migrate lint bench soak clean

install: $(VENV)/.installed

# The stamp makes `make` skip pip until a pyproject.toml changes. The SDK (sdk/python) is its
# own distribution, installed editable beside the service: its tests and examples import it.
$(VENV)/.installed: pyproject.toml sdk/python/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed: make PYTHON=python3.12 ..." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e ./sdk/python
	touch $@

dev: install
	$(BIN)/pivotal dev

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite again with the service behind PgBouncer in transaction pooling mode, in front of
# DATABASE_URL's server (or the embedded one): needs the system's pgbouncer (Debian: apt-get
# install pgbouncer). The devstack tests start servers of their own: `make test` covers them.
test-pgbouncer: install
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		exports="$$($(BIN)/pivotal stack env --name pgbouncer)"; eval "$$exports"; fi; \
	PIVOTAL_SKIP_DEVSTACK_TESTS=1 $(BIN)/python -m devtools.pgbouncer run -- $(BIN)/pytest $(PYTEST_ARGS)

# `stack env` starts the embedded services when needed and prints their export lines; the
# assignment (not a bare eval) lets a failure stop the recipe.
migrate: install
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		exports="$$($(BIN)/pivotal stack env)"; eval "$$exports"; fi; \
	$(BIN)/pivotal migrate

lint: install
	@if $(BIN)/python -m ruff --version >/dev/null 2>&1; then \
		$(BIN)/python -m ruff check $(wildcard app worker tests sdk examples); \
	else \
		$(BIN)/python -m compileall -q $(wildcard app worker tests sdk examples); \
	fi

# the HTTP scenarios against their two ceilings, webhook latency and throughput, the backfill
# (batch upserts against single POSTs), then PostgreSQL transactions per request and GET/POST
# through PgBouncer beside direct (bench/RESULTS-pooler.md; without pgbouncer, the count only),
# and GET by id with the Prometheus metrics on beside off (bench/RESULTS-metrics.md)
bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.backfill
	$(BIN)/python -m bench.pooler
	$(BIN)/python -m bench.metrics

soak: install
	$(BIN)/python -m bench.soak

# Stops every stack under .local/ (dev, test and any other name) before deleting its data.
clean: install
	@for stack in $(notdir $(wildcard .local/*)); do \
		$(BIN)/pivotal stack down --name "$$stack" >/dev/null; done
	rm -rf .local
