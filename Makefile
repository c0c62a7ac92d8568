# Two commands on a fresh machine:
#   make build   set up .venv, build the warehouse (dbt build on DuckDB), print a summary
#   make test    set up .venv, lint, build with every data and unit test, check the
#                conventions (dbt-bouncer, on the demo and each CRM adapter), run pytest
# Then make report writes the dashboard beside the warehouse.
# The other engines, each on a server the target starts and stops itself:
#   make test-postgres   a throw-away PostgreSQL cluster (Debian's packages)
#   make test-spark      Spark in session mode (local pyspark, Java 17)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.9

export PATH := $(BIN):$(PATH)
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# The warehouse BI tools read: WAREHOUSE=, else env PIPELINE_DUCKDB_PATH (as
# the publisher and Dagster read it), else warehouse/pipeline.duckdb. Tests
# build into their own file under target/.
TEST_WAREHOUSE := $(CURDIR)/target/test_warehouse.duckdb

.PHONY: setup build report metrics test lint docs conventions conventions-adapters demo-data lock clean manifest dagster bench \
	setup-browser setup-postgres setup-spark test-postgres test-spark test-engines bench-engines

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	touch $@

setup: $(VENV)/.installed

# The engine adapters are optional installs on top of the main set.
$(VENV)/.installed-%: requirements-%.lock $(VENV)/.installed
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock -r $<
	touch $@

setup-postgres: $(VENV)/.installed-postgres
setup-spark: $(VENV)/.installed-spark

# Builds a copy of the warehouse and swaps it in only when every model and
# test passed: BI readers never see a half-built or failed build. A team's
# own data: make build RAW_PATH=/data/exports CONFIG_PATH=/data/pipeline_config
# (RAW_FORMAT=parquet, VARS='{input_timestamp_format: "%d/%m/%Y"}' as needed);
# with other inputs than the published build's it rebuilds from scratch.
# The values reach the commands as they were typed, through the
# environment ("$$ARG_VARS"): never expanded by make ($(value ...)) nor
# pasted into the recipe's shell text, so a quote, $ or ; in them is data.
RAW_PATH ?=
RAW_FORMAT ?=
CONFIG_PATH ?=
VARS ?=
ifeq ($(origin WAREHOUSE),undefined)
export ARG_WAREHOUSE := $(or $(value PIPELINE_DUCKDB_PATH),warehouse/pipeline.duckdb)
else
export ARG_WAREHOUSE := $(value WAREHOUSE)
endif
export ARG_RAW_PATH := $(value RAW_PATH)
export ARG_RAW_FORMAT := $(value RAW_FORMAT)
export ARG_CONFIG_PATH := $(value CONFIG_PATH)
export ARG_VARS := $(value VARS)
build: setup
	python -m sales_pipeline.publish --warehouse "$$ARG_WAREHOUSE" \
		$${ARG_RAW_PATH:+--raw-path "$$ARG_RAW_PATH"} \
		$${ARG_RAW_FORMAT:+--raw-format "$$ARG_RAW_FORMAT"} \
		$${ARG_CONFIG_PATH:+--config-path "$$ARG_CONFIG_PATH"} \
		$${ARG_VARS:+--vars "$$ARG_VARS"}
	python scripts/print_summary.py "$$ARG_WAREHOUSE"

# The pipeline dashboard from the published marts, written beside the
# warehouse (warehouse/pipeline_report.html); it opens offline.
report: setup
	python -m sales_pipeline.dashboard --warehouse "$$ARG_WAREHOUSE"

# MetricFlow's metrics on the published warehouse, opened read-only as BI
# tools open it (profiles.yml's target metricflow): it answers while BI
# tools hold the file open and while a refresh publishes. With no METRICS,
# the list of metrics. Other mf commands: python -m sales_pipeline.semantic_layer.
#   make metrics METRICS=stage_conversion_rate,old_leads GROUP_BY=stage
#   make metrics METRICS=leads_needed GROUP_BY=metric_time__month,stage CSV=plan.csv
#   make metrics METRICS=old_leads GROUP_BY=stage WHERE="{{ Entity('stage') }} = 'discovery'"
METRICS ?=
GROUP_BY ?=
WHERE ?=
CSV ?=
export ARG_METRICS := $(value METRICS)
export ARG_GROUP_BY := $(value GROUP_BY)
export ARG_WHERE := $(value WHERE)
export ARG_CSV := $(value CSV)
metrics: $(VENV)/.compiled
	if [ -z "$$ARG_METRICS" ]; then \
		python -m sales_pipeline.semantic_layer --warehouse "$$ARG_WAREHOUSE" list metrics; \
	else \
		python -m sales_pipeline.semantic_layer --warehouse "$$ARG_WAREHOUSE" query \
			--metrics "$$ARG_METRICS" \
			$${ARG_GROUP_BY:+--group-by "$$ARG_GROUP_BY"} \
			$${ARG_WHERE:+--where "$$ARG_WHERE"} \
			$${ARG_CSV:+--csv "$$ARG_CSV"}; \
	fi

# The venv's modules compiled to bytecode, once (under a minute): an mf
# process imports some 2,000 modules of dbt and MetricFlow, which Python
# compiles again at every start when it cannot keep their bytecode
# (PYTHONDONTWRITEBYTECODE set, a venv it cannot write): a query takes
# about 3 s instead of 5 (docs/dashboard-and-semantic-layer.md). Only a
# speed-up: a module that does not compile is compiled at import, as before.
$(VENV)/.compiled: $(VENV)/.installed
	python -m compileall -qq -j 0 $(VENV)/lib || true
	touch $@

# Debian's chromium, for the dashboard's browser test (as root, or with sudo).
setup-browser:
	@command -v chromium >/dev/null || { \
		echo "setup-browser: installing Debian's chromium (apt-get)"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	}

lint: setup
	ruff check scripts tests/python tests/engines orchestration sales_pipeline benchmarks
	ruff format --check scripts tests/python tests/engines orchestration sales_pipeline benchmarks
	sqlfluff lint models tests/singular
	# A CRM adapter's models are built (and linted) only with the var crm set to it.
	for crm in salesforce hubspot pipedrive; do \
		PIPELINE_CRM=$$crm PIPELINE_CRM_SCHEMA=$$crm sqlfluff lint models/staging/$$crm; \
	done

# The dbt docs site of the published warehouse (make build first), with its
# column types: generated on a copy, so BI readers of the published file
# are never locked out; one self-contained page, target/static_index.html.
DOCS_WAREHOUSE := $(CURDIR)/target/docs_warehouse.duckdb
docs: setup
	@test -e "$$ARG_WAREHOUSE" || { echo "make docs: no warehouse at $$ARG_WAREHOUSE: run make build first" >&2; exit 2; }
	mkdir -p target
	cp -L "$$ARG_WAREHOUSE" $(DOCS_WAREHOUSE)
	PIPELINE_DUCKDB_PATH=$(DOCS_WAREHOUSE) dbt docs generate --static
	rm -f $(DOCS_WAREHOUSE)
	@echo "make docs: open target/static_index.html (or run dbt docs serve)"

# The project's conventions (dbt-bouncer.yml, under a second) on what the last
# dbt build and dbt docs generate left in target/ (make test runs it).
conventions: setup
	dbt-bouncer --config-file dbt-bouncer.yml

# The same conventions on each CRM adapter's models (models/staging/<crm>/),
# which the demo build leaves disabled: dbt parse with PIPELINE_CRM set, no
# build and no CRM tables, and the catalog the last dbt docs generate left
# in target/ (make test runs it).
conventions-adapters: setup
	python scripts/check_adapter_conventions.py

test: lint setup-browser
	mkdir -p target
	rm -f $(TEST_WAREHOUSE)
	PIPELINE_DUCKDB_PATH=$(TEST_WAREHOUSE) dbt build
	PIPELINE_DUCKDB_PATH=$(TEST_WAREHOUSE) dbt docs generate
	dbt-bouncer --config-file dbt-bouncer.yml
	python scripts/check_adapter_conventions.py
	python -m pytest -n auto --dist loadscope --no-loadscope-reorder

# The models on PostgreSQL and Spark against the reference (tests/engines).
test-postgres: setup-postgres
	python scripts/throwaway_postgres.py -- \
		env PIPELINE_TEST_TARGET=postgres python -m pytest tests/engines

test-spark: setup-spark
	PIPELINE_TEST_TARGET=spark SPARK_LOCAL_IP=127.0.0.1 python -m pytest tests/engines

# Everything CI runs: make test, then both engines.
test-engines: test-postgres test-spark

# Build times on PostgreSQL and Spark: the demo and ~100k transitions.
bench-engines: setup-postgres setup-spark
	python scripts/throwaway_postgres.py -- python benchmarks/engines.py --target postgres
	SPARK_LOCAL_IP=127.0.0.1 python benchmarks/engines.py --target spark

# Regenerate the demo seeds (deterministic: the committed files come out byte-identical).
demo-data: setup
	python scripts/generate_demo_data.py --leads 2000 --seed 42 --out seeds/raw \
		--stages seeds/config/pipeline_stages.csv --quiet

# The current lock constrains the new one: adding a package keeps every
# other pin (delete a line of the lock to let that package move).
lock: setup
	uv pip compile requirements.in -c requirements.lock -o requirements.lock \
		--python-version 3.11 --quiet
	for engine in postgres spark; do \
		uv pip compile requirements-$$engine.in -c requirements.lock \
			-o requirements-$$engine.lock --python-version 3.11 --quiet; \
	done

clean:
	rm -rf target logs $(VENV) warehouse/*.duckdb warehouse/*.wal warehouse/*_report.html \
		warehouse/.*.builds warehouse/.*.current warehouse/.*.lock warehouse/.*.failed \
		warehouse/marts warehouse/.*_marts.*

# Dagster UI and daemon on http://127.0.0.1:3000 (DAGSTER_PORT to change),
# with the instance in .dagster_home/ (ignored) and telemetry off: dg dev, the
# project pyproject.toml's [tool.dg] names, in the venv (VIRTUAL_ENV, or dg
# warns that the active environment is not the project's .venv).
DAGSTER_HOME_DIR := $(CURDIR)/.dagster_home
DAGSTER_PORT ?= 3000

# The manifest Dagster loads, parsed with the deployment's inputs (PIPELINE_* env vars).
manifest: setup
	python -m orchestration.project

dagster: manifest
	mkdir -p $(DAGSTER_HOME_DIR)
	cp orchestration/dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) VIRTUAL_ENV=$(CURDIR)/$(VENV) dg dev -h 127.0.0.1 -p $(DAGSTER_PORT)

# Full build, 0.1 % refresh, the one-statement DuckDB floor, Polars and pandas peers
# at 100k, 1M and 10M transitions (BENCH_SIZES to choose): benchmarks/RESULTS.md.
BENCH_SIZES ?= 100k,1M,10M
bench: setup
	python benchmarks/run.py --sizes $(BENCH_SIZES) --out benchmarks/RESULTS.md
