# Hacho: two commands on a fresh machine: `make run` and `make test`.
# `make test PYTEST_ARGS="-k mqtt"` passes arguments to pytest; `make run CONFIG=path` runs another site.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
CONFIG ?= config/ceuta

.PHONY: run test install install-dev lint typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The install is redone when pyproject.toml or package-lock.json change.
$(STAMP): $(BIN)/python pyproject.toml package-lock.json
	$(PIP) install -q -e .
	bash scripts/check-opencv.sh --fix $(BIN)/python
	bash scripts/vendor-leaflet.sh
	bash scripts/setup-video.sh
	bash scripts/setup-anpr-yolo.sh $(BIN)/python
	touch $@

$(DEVSTAMP): $(STAMP)
	$(PIP) install -q -e '.[dev]'
	bash scripts/check-opencv.sh --fix $(BIN)/python
	bash scripts/setup-test-deps.sh
	touch $@

install: $(STAMP)

install-dev: $(DEVSTAMP)

run: $(STAMP)
	$(BIN)/hacho run -c $(CONFIG)

# .ci/run does the same two steps (install-dev, then scripts/run-tests.sh) to keep pytest's exit status.
# scripts/run-tests.sh checks the import contract (.importlinter, lint-imports) before pytest.
test: $(DEVSTAMP)
	VENV=$(VENV) bash scripts/run-tests.sh $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check hacho hub integrations automations frontend bench tests
	$(BIN)/mypy hacho hub automations integrations frontend
	$(BIN)/lint-imports --no-cache --no-logo

bench: $(STAMP)
	$(BIN)/python -m bench.core

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
