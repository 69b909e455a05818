# core-alerts: the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PORT ?= 8080

.PHONY: run test lint typecheck imports unit bench lock clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.runtime: $(BIN)/uv pyproject.toml requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(VENV)/.test: $(BIN)/uv pyproject.toml requirements-test.lock
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-test.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@ $(VENV)/.runtime

## Start the service on the embedded default (SQLite under ./var, http://127.0.0.1:$(PORT));
## the field-encryption master key is made once in var/master.key unless ALERTS_ENCRYPTION_KEY is set.
run: $(VENV)/.runtime
	mkdir -p var
	test -s var/master.key || (umask 077 && $(BIN)/python -c \
	  "from core_alerts.crypto import generate_master_key; print(generate_master_key())" \
	  > var/master.key)
	ALERTS_ENCRYPTION_KEY="$${ALERTS_ENCRYPTION_KEY:-$$(cat var/master.key)}" \
	  $(BIN)/core-alerts serve --port $(PORT)

## Lint, type check, import layers, then every test (services required in CI).
test: $(VENV)/.test lint typecheck imports unit

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/bandit --quiet --recursive src --severity-level high

typecheck: $(VENV)/.test
	$(BIN)/mypy

imports: $(VENV)/.test
	$(BIN)/lint-imports

unit: $(VENV)/.test
	$(BIN)/pytest

## Load benchmark against Alertmanager (see docs/performance.md).
bench: $(VENV)/.test
	bench/run

## Re-resolve the lock files after changing dependencies in pyproject.toml.
lock: $(BIN)/uv
	$(UV) pip compile --quiet --python-version 3.11 pyproject.toml -o requirements.lock
	$(UV) pip compile --quiet --python-version 3.11 --extra test pyproject.toml -o requirements-test.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
