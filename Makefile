# LeadFollow: `make run` serves the demo, `make test` runs the suite. Needs only Python 3.11+.
# With DATABASE_URL / REDIS_URL set, the same targets use PostgreSQL and Redis.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# pytest-xdist workers; `make test XDIST=0` runs in one process.
XDIST ?= 2

.PHONY: run test lint venv migrate seed security

venv: $(STAMP)

# Reinstall only when requirements.txt is newer than the stamp.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "LeadFollow needs Python 3.11 or newer (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server on http://127.0.0.1:8000 plus a Celery worker and beat (Procfile, via honcho).
# On Ctrl-C honcho SIGKILLs whatever still runs after 5 s (honcho.manager.KILL_WAIT, no option for
# it); the worker's warm shutdown lets the tasks it runs finish and takes longer than that even when
# idle (the filesystem broker's polling, then the pool), so honcho waits up to 60 s here.
HONCHO := $(BIN)/python -c 'import honcho.command, honcho.manager; honcho.manager.KILL_WAIT = 60; honcho.command.main()'
run: seed
	LOG_QUIET_TICKS=1 PATH="$(CURDIR)/$(BIN):$$PATH" $(HONCHO) start --procfile Procfile --app-root $(CURDIR)

test: $(STAMP)
	$(BIN)/pytest -q $(if $(filter-out 0,$(XDIST)),-n $(XDIST)) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# README's pictures (docs/screenshots/*.png) from the demo data in headless Chromium: a fresh SQLite
# database in a temporary directory, seed_demo, the dev server on a free port (docs/screenshots.py).
.PHONY: screenshots
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

# The security suite alone: permission matrix, CSRF, login throttling, history, bandit, API fuzzing, bad input.
security: $(STAMP)
	$(BIN)/pytest -q $(if $(filter-out 0,$(XDIST)),-n $(XDIST)) tests/security $(PYTEST_ARGS)

# Benchmarks on real PostgreSQL (127.0.0.1, user postgres), Redis db 13, gunicorn and 2 Celery workers:
# one table on stdout and in bench/results/latest.md (+ .json). Scale with BENCH_* (see bench/run.py).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The fault and load scenarios of tests/reliability, longer and bigger (SOAK=1): more worker kills,
# Redis restarts and touches, two beats for 2 minutes, 50 clients for 5 minutes. Like CI, it needs
# PostgreSQL (DATABASE_URL) and Redis, and fails rather than skips without them.
.PHONY: soak
soak: $(STAMP)
	SOAK=1 REQUIRE_SERVICES=1 $(BIN)/pytest -q -p no:cacheprovider tests/reliability $(PYTEST_ARGS)
