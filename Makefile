# Hacho: two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
CONFIG ?= config/ceuta

.PHONY: run test install install-dev lint typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml package-lock.json
	$(BIN)/pip install -q -e .
	bash scripts/vendor-leaflet.sh
	touch $@

$(DEVSTAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	bash scripts/setup-test-deps.sh
	touch $@

install: $(STAMP)

install-dev: $(DEVSTAMP)

run: $(STAMP)
	$(BIN)/hacho run -c $(CONFIG)

test: $(DEVSTAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check hub integrations automations frontend bench tests
	$(BIN)/mypy hub automations integrations frontend

bench: $(STAMP)
	$(BIN)/python -m bench.core

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
