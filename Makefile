# The two commands a new user needs: `make build` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export CES_DUCKDB_PATH ?= warehouse/ces.duckdb
# demo data size (product-event rows)
EVENTS ?= 400000
CUSTOMERS ?= 2000
SEED ?= 42
# where `make test` builds its own demo warehouse (never your warehouse file)
TEST_DB := warehouse/test/ces_test.duckdb

.PHONY: help setup build demo-data dbt-build summary lint test test-dbt pytest bench weights-impact clean

help:
	@echo "make build                  set up .venv, load demo data if the warehouse is empty, dbt build, print a summary"
	@echo "make test                   set up, lint (sqlfluff + ruff), dbt build on fresh demo data, pytest"
	@echo "make demo-data EVENTS=<n>   regenerate the demo raw data at that size"
	@echo "make weights-impact         report what a weight change does (BASE=v1 COMPARE=v2 to choose versions)"
	@echo "make bench                  benchmark full/incremental builds against the hand-written floor (writes bench/results.md)"

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

setup: $(VENV)/.installed

build: setup
	$(BIN)/python -m cestools.demo_data --if-empty --events $(EVENTS) --customers $(CUSTOMERS) --seed $(SEED)
	$(MAKE) --no-print-directory dbt-build
	$(BIN)/python -m cestools.summary

dbt-build: setup
	$(BIN)/dbt build

summary: setup
	$(BIN)/python -m cestools.summary

demo-data: setup
	$(BIN)/python -m cestools.demo_data --events $(EVENTS) --customers $(CUSTOMERS) --seed $(SEED)

lint: setup
	$(BIN)/sqlfluff lint models tests/singular
	$(BIN)/ruff check cestools tests

test-dbt: setup
	rm -rf $(dir $(TEST_DB)) && mkdir -p $(dir $(TEST_DB))
	$(BIN)/python -m cestools.demo_data --path $(TEST_DB) --quiet --seed $(SEED)
	CES_DUCKDB_PATH=$(TEST_DB) $(BIN)/dbt build --target-path target/test

pytest: setup
	$(BIN)/pytest

test: setup lint test-dbt pytest

# BASE= and COMPARE= choose the two weights versions (default: previous vs in force)
weights-impact: setup
	$(BIN)/python -m cestools.demo_data --if-empty --events $(EVENTS) --customers $(CUSTOMERS) --seed $(SEED)
	$(BIN)/dbt build --select +fct_weights_change_impact_segment --indirect-selection cautious --quiet \
		--vars '{ces_impact_base_version: $(if $(BASE),"$(BASE)",null), ces_impact_compare_version: $(if $(COMPARE),"$(COMPARE)",null)}'
	$(BIN)/python -m cestools.weights_impact

bench: setup
	$(BIN)/python -m cestools.bench $(BENCH_ARGS)

clean:
	rm -rf target logs warehouse/test
