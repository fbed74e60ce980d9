# Sen: the two commands of the README.
#   make demo  -- install, write the sample collection, ingest it, serve the portal
#   make test  -- install everything the tests need and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SEN := $(BIN)/sen
export SEN_DATA_DIR ?= sen-data

.PHONY: install demo test test-fast lint browser-deps clean

install: $(VENV)/.installed node_modules/.installed repository/web/translations/.compiled

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

repository/web/translations/.compiled: $(VENV)/.installed $(wildcard repository/web/translations/*/LC_MESSAGES/messages.po)
	$(BIN)/pybabel compile --use-fuzzy -d repository/web/translations >/dev/null
	touch $@

demo: install
	$(SEN) init
	$(SEN) sample $(SEN_DATA_DIR)/sample
	$(SEN) ingest $(SEN_DATA_DIR)/sample
	$(SEN) serve

# Debian's Chromium drives the browser tests (a test tool's own browser download
# cannot work on this network).
browser-deps:
	@command -v chromium >/dev/null || { \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check repository iiif_server ingest opendata tests

# The real servers (PostgreSQL, Redis, S3, Solr) are started by services/up and stopped
# afterwards, whatever the tests' outcome.
test: install browser-deps lint
	services/up || { services/down; exit 1; }
	eval "$$(services/env)"; $(BIN)/pytest -m '' -p no:cacheprovider; rc=$$?; \
	  services/down; exit $$rc

test-fast: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) node_modules sen-data
