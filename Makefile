# The one entry point. `make run` and `make test` are all a newcomer needs.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS  ?= redis://127.0.0.1:6379/0
# The crash test flushes its Redis database: never the one above.
CHAOS_REDIS ?= redis://127.0.0.1:6379/15
# mypy's Django plugin loads the settings: give it a harmless, throw-away environment.
LINT_ENV := SECRET_KEY=lint-only-$$(printf '%064d' 0) DEBUG=true PORTAL_SANDBOX=true DATABASE_URL=
DEV_ENV := DEBUG=true PORTAL_HTTPS=false PORTAL_SANDBOX=true PORTAL_BASE_URL=http://127.0.0.1:$${PORTAL_PORT:-8000}

.PHONY: run test test-pg lint typecheck format bench demo-passwords clean help

help:
	@echo "make run       set up (venv, packages, database, demo users) and start portal + worker + sandbox"
	@echo "make test      the whole test suite on SQLite"
	@echo "make test-pg   the whole test suite on PostgreSQL with Redis as the task broker"
	@echo "make lint      ruff check, format check and mypy (django-stubs)"
	@echo "make bench     benchmarks (figures, not pass/fail)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(DEV_ENV) $(BIN)/python -m portal.devsetup
	$(DEV_ENV) $(BIN)/python -m portal.devrun

demo-passwords: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py seed_demo --reset-passwords

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: $(STAMP)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) CHAOS_REDIS_URL=$(CHAOS_REDIS) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_ENV) $(BIN)/mypy

typecheck: $(STAMP)
	$(LINT_ENV) $(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) staticfiles
