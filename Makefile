# fedicoop — two commands on a fresh machine with Python 3.11+ and make:
#   make run    create .venv, install, migrate, start a node on SQLite at http://127.0.0.1:8000
#   make test   install the test extra and run the whole suite (SQLite and PostgreSQL)
#   make bench  run the inbox and fan-out benchmarks (bench/README.md)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck migrations clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/fedicoop migrate
	FEDICOOP_BASE_URL="$${FEDICOOP_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/fedicoop serve --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 3 --dist loadgroup

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# Both benchmarks, with their ratios (bench/README.md); BENCH_ARGS="--database postgres" for PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate migrations after a model change (developers only; the result is committed).
migrations: $(TEST_STAMP)
	$(BIN)/python -m fedicoop.dev.makemigrations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
