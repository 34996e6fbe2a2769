# The README's commands. `make run` and `make test` set up everything they need on a fresh
# machine: a virtualenv with the pinned packages, the built frontend, the database.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMPS := .stamps
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) \
	$(wildcard frontend/*.json frontend/*.ts)
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast lint worker scheduler bench services chromium loadgen frontend deps dev-deps clean

run: deps frontend
	$(BIN)/python manage.py migrate -v0
	$(BIN)/python manage.py demo_setup
	@echo "Datagran on http://127.0.0.1:$(PORT)  (Ctrl+C stops it)"
	$(BIN)/daphne -b 127.0.0.1 -p $(PORT) datagran.asgi:application

test: dev-deps frontend chromium services
	cd frontend && npm test --silent
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25
	@echo "== the API and run statistics again on PostgreSQL"
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/datagran $(BIN)/python -m pytest -q \
		tests/api tests/workspaces tests/runs/test_run_history_api.py \
		tests/runs/test_actions.py::test_two_runs_sending_at_once_send_each_record_once

# Day to day: the unit and API tests, in two processes, without what needs more than this
# machine's Python (the markers `services`: PostgreSQL, Redis, RabbitMQ; `live`: a live server;
# `e2e`: Chromium) and without the `slow` ones. `make test` stays the whole suite.
test-fast: dev-deps frontend
	$(BIN)/python -m pytest -q -n 2 -m "not services and not live and not e2e and not slow"

# ruff, mypy (settings in pyproject.toml), TypeScript, and the API types: regenerated from the
# server's schema and compared with the committed frontend/src/api/schema.d.ts.
lint: dev-deps frontend/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/mypy
	cd frontend && npm run typecheck
	cd frontend && npm run check:api

# Production: one or more worker processes per machine (BROKER_URL must be set), forked from
# one parent that replaces any that dies (manage.py runworkers).
worker: deps
	DATAGRAN_WORKER_PROCESS=1 dramatiq_worker_timeout=$${dramatiq_worker_timeout:-100} \
	$(BIN)/python manage.py runworkers --processes $${WORKER_PROCESSES:-2} --threads $${WORKER_THREADS:-4}

scheduler: deps
	$(BIN)/python manage.py scheduler

bench: deps frontend chromium loadgen
	$(BIN)/python bench/run_all.py

services:
	@bash scripts/ensure-services.sh

# wrk: the serving benchmark's load generator (a C client, so the server's cores serve
# rather than run Python clients).
loadgen:
	@command -v wrk >/dev/null || (echo "installing Debian's wrk for bench/serving.py" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

chromium:
	@test -x $(CHROMIUM) || (echo "installing Debian's chromium for the browser tests" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

deps: $(STAMPS)/requirements
dev-deps: $(STAMPS)/requirements-dev
frontend: frontend/dist/.vite/manifest.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The project itself is installed (editable) for its entry points: the operators are found
# through them, so pyproject.toml's changes take effect only once reinstalled.
$(STAMPS)/requirements: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/requirements-dev: requirements-dev.txt requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@mkdir -p $(STAMPS) && touch $(STAMPS)/requirements $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/.vite/manifest.json: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

clean:
	rm -rf $(STAMPS) frontend/dist var
