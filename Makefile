# The two commands a new user needs: `make build` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)/profiles
# TARGET=postgres: the same build on PostgreSQL (CES_PG_* say where; docs/engines.md);
# TARGET=spark: on a local Spark session (CES_SPARK_DIR, default warehouse/spark; docs/engines.md);
# TARGET=spark_thrift: on a Spark cluster's Thrift server (CES_SPARK_HOST, CES_SPARK_PORT; make spark-cluster)
TARGET ?= $(or $(CES_TARGET),duckdb)
export CES_TARGET := $(TARGET)
# PostgreSQL's JIT adds 1-3 s to each query over the chain of views: off for our sessions only
export PGOPTIONS ?= -c jit=off
export CES_DUCKDB_PATH ?= warehouse/ces.duckdb
# what BI tools read: written only by the publish step, after dbt build passed
export CES_SERVING_PATH ?= warehouse/serving.duckdb
# demo data size (product-event rows)
EVENTS ?= 400000
CUSTOMERS ?= 2000
SEED ?= 42
# DEFECTS=1: the demo data also gets every catalogued defect (docs/data-quality.md)
DEFECTS ?=
# FORCE=1: make demo-data may replace raw.customers/product_events/support_tickets that it did not write
FORCE ?=
# VARS='{ces_window_days: 14}': dbt vars for the build (and the publish step)
VARS ?=
DEMO_ARGS = --events $(EVENTS) --customers $(CUSTOMERS) --seed $(SEED) $(if $(DEFECTS),--defects) $(PY_VARS)
DBT_VARS = $(if $(VARS),--vars '$(VARS)')
PY_VARS = $(if $(VARS),--vars '$(VARS)')
# where `make test` builds its own demo warehouse (never your warehouse file)
TEST_DB := warehouse/test/ces_test.duckdb

# make suggest-weights OUTCOME=churned: the outcome to fit (seeds/ces_outcomes.csv); NONNEG=1 keeps
# every weight but the friction ones >= 0; MIN_POSITIVES= the fewest positives it fits on (30)
OUTCOME ?=
NONNEG ?=
MIN_POSITIVES ?= 30
# make calibrate OUTCOME=churned: fit the outcome's probability on the backtest (MIN_POSITIVES as above)
# make suggest-thresholds PRECISION=0.5: the highest recall at that precision instead of the best F1
PRECISION ?=

.PHONY: help setup build spark-cluster spark-cluster-stop demo-data dbt-build publish summary docs metrics dashboard lint test test-fast test-dbt pytest system-deps bench weights-impact backtest suggest-weights suggest-thresholds calibrate clean

help:
	@echo "make build                  set up .venv, load demo data into a file with no raw tables, dbt build, publish, print a summary"
	@echo "make build TARGET=postgres  the same on PostgreSQL (CES_PG_* say where): publishes the schema serving for the role ces_bi"
	@echo "make build TARGET=spark     the same on a local Spark session (warehouse/spark/): publishes the views of the database serving"
	@echo "make build TARGET=spark_thrift  the same through a Spark Thrift server (CES_SPARK_HOST, CES_SPARK_PORT; make spark-cluster)"
	@echo "make test                   set up (Java, PostgreSQL, Chromium too, as root), lint, dbt build on demo data, every test"
	@echo "make test-fast              lint, dbt build on small demo data, the tests not marked slow (the inner loop)"
	@echo "make demo-data EVENTS=<n>   regenerate the demo raw data (CUSTOMERS=, SEED=, DEFECTS=1; FORCE=1 to replace raw tables it did not write)"
	@echo "make weights-impact         report what a weight change does (default: version in force vs newest; BASE=v1 COMPARE=v2)"
	@echo "make backtest               how well each weights version's score predicted the outcomes, and each flag (after make build)"
	@echo "make suggest-weights OUTCOME=churned  fit weights on the backtest; writes a candidate version to target/suggestions/"
	@echo "make calibrate OUTCOME=churned  fit the outcome's probability on the backtest; writes a candidate calibration to target/suggestions/"
	@echo "make suggest-thresholds     the flag thresholds with the best F1 on the backtest (PRECISION=0.5: best recall at that precision)"
	@echo "make publish                copy the marts to the serving files, only after a whole dbt build of this file passed"
	@echo "make summary                print the summary of the last build again"
	@echo "make docs                   build the dbt docs site as one static file (target/static_index.html)"
	@echo "make metrics                the segment comparison through the semantic layer (MetricFlow), on the published data"
	@echo "make dashboard              the dashboard on http://127.0.0.1:8501/ (PORT=), reading the published data read-only"
	@echo "make dbt-build              dbt build only (VARS='{name: value}' for dbt vars)"
	@echo "make spark-cluster          a Spark master, worker and Thrift server on 127.0.0.1 (CES_SPARK_PORT, default 10000)"
	@echo "make spark-cluster-stop     stop them (the warehouse stays in warehouse/spark-cluster/)"
	@echo "make lint                   sqlfluff + ruff + the import layers of cestools (lint-imports)"
	@echo "make pytest                 the pytest suite alone"
	@echo "make bench                  benchmark full/incremental builds against the hand-written floor (writes bench/results.md)"
	@echo "make setup                  create .venv with the pinned requirements"
	@echo "make clean                  remove dbt's target/ and logs/ and the test warehouse"

# the pinned requirements, then this repository installed in place (pyproject.toml): the `ces`
# command that every step below runs, and that a host project runs with --project-dir
$(VENV)/.installed: requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

setup: $(VENV)/.installed

# write (dbt run) and audit (dbt tests) in the build file; publish only if both passed
build: setup
	$(BIN)/ces demo-data --if-empty $(DEMO_ARGS)
	$(MAKE) --no-print-directory dbt-build
	$(MAKE) --no-print-directory publish
	$(BIN)/ces summary

dbt-build: setup
	@$(BIN)/ces preflight $(PY_VARS)
	$(BIN)/dbt build $(DBT_VARS)

publish: setup
	$(BIN)/ces publish $(if $(VARS),--vars '$(VARS)')

summary: setup
	$(BIN)/ces summary

# one self-contained HTML file (manifest and catalog inside): open it from disk, no server needed
docs: setup
	@$(BIN)/ces preflight --built $(PY_VARS)
	$(BIN)/dbt docs generate --static $(DBT_VARS)
	@echo "docs: $(CURDIR)/target/static_index.html (open it in a browser; no server needed)"

# MetricFlow reads the published serving file through the profile target `serving`
# (cestools/serving_catalog.py): the same numbers BI tools read, never the build file
metrics: setup
	@test -f target/semantic_manifest.json || { echo "no semantic manifest in target/: run make build first"; exit 1; }
	@echo "segment comparison (MetricFlow saved query segment_comparison, on $(CES_SERVING_PATH)):"
	@CES_TARGET=serving $(BIN)/mf query --saved-query segment_comparison --decimals 2 --quiet

# PORT=8501: where it listens (127.0.0.1 only)
PORT ?= 8501
dashboard: setup
	$(BIN)/ces dashboard --port $(PORT)

# a Spark standalone cluster and its Thrift server on this machine, from the pinned pyspark
# (CES_SPARK_CLUSTER_DIR, default warehouse/spark-cluster; docs/engines.md)
spark-cluster: setup
	$(BIN)/ces spark-cluster start

spark-cluster-stop: setup
	$(BIN)/ces spark-cluster stop

demo-data: setup
	$(BIN)/ces demo-data $(DEMO_ARGS) $(if $(FORCE),--force)

lint: setup
	$(BIN)/sqlfluff lint models tests/singular
	$(BIN)/ruff check cestools devtools tests
	$(BIN)/lint-imports

# TEST_EVENTS=: the size of the test build's demo data (make test-fast uses a small one)
TEST_EVENTS ?= 400000
TEST_CUSTOMERS ?= 2000
test-dbt: setup
	rm -rf $(dir $(TEST_DB)) && mkdir -p $(dir $(TEST_DB))
	$(BIN)/ces demo-data --path $(TEST_DB) --quiet --seed $(SEED) --defects \
		--events $(TEST_EVENTS) --customers $(TEST_CUSTOMERS)
	CES_DUCKDB_PATH=$(TEST_DB) $(BIN)/dbt build --target-path target/test

# two workers, each test module on one (its fixtures stay in one process); conftest.py puts
# the long, JVM-bound Spark tests first, so they run beside all the others
PYTEST_WORKERS ?= 2
pytest: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# what pip cannot install (Java 17, the PostgreSQL server, Chromium): installed from the OS
# packages when missing and run as root; otherwise it stops and prints the command to run
system-deps:
	@bash scripts/system-deps.sh

# the whole suite: what CI runs (.ci/run). Its dbt build of a default-size demo with every defect
# (every data and unit test) is pytest's demo_db fixture, which runs beside the other tests
test: setup system-deps lint pytest

# the inner loop: lint, dbt build on small demo data, and the tests not marked slow (no server,
# no browser, no JVM); a few minutes on 2 cores
test-fast: setup lint
	$(MAKE) --no-print-directory test-dbt TEST_EVENTS=40000 TEST_CUSTOMERS=300
	$(BIN)/pytest -m "not slow" -p no:xdist

# BASE= and COMPARE= choose the two weights versions (default: in force vs newest, docs/weights.md)
weights-impact: setup
	$(BIN)/ces demo-data --if-empty $(DEMO_ARGS)
	$(BIN)/ces weights-impact $(if $(BASE),--base '$(BASE)') $(if $(COMPARE),--compare '$(COMPARE)') $(PY_VARS)

# the backtest reads what make build built; it changes nothing in the warehouse
backtest: setup
	$(BIN)/ces backtest

suggest-weights: setup
	$(BIN)/ces suggest-weights --outcome '$(OUTCOME)' --min-positives $(MIN_POSITIVES) $(if $(NONNEG),--non-negative)

calibrate: setup
	$(BIN)/ces calibrate --outcome '$(OUTCOME)' --min-positives $(MIN_POSITIVES)

suggest-thresholds: setup
	$(BIN)/ces suggest-thresholds $(if $(PRECISION),--precision $(PRECISION)) $(PY_VARS)

bench: setup
	$(BIN)/python -m devtools.bench $(BENCH_ARGS)

clean:
	rm -rf target logs warehouse/test
