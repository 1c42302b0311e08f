# `make run` starts the whole system on embedded defaults; `make test` runs the suite on MariaDB and Redis.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export REMBG_HOME ?= $(CURDIR)/var/rembg

.PHONY: run test test-fast install lock sysdeps services browser models lint bench bench-rembg chaos rehearse clean

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

sysdeps:
	@scripts/ensure-sysdeps

# Reinstall only when a lock changed. The locks pin every package with its hashes, so pip
# installs exactly what was locked (--require-hashes) and checks every download.
$(VENV)/.installed: requirements/production.txt requirements/local.txt | $(PY)
	@$(MAKE) --no-print-directory sysdeps
	$(PIP) install -q --upgrade pip
	$(PIP) install -q --require-hashes -r requirements/local.txt
	@touch $@

install: $(VENV)/.installed

# The locks from the .in files (ranges live there), for CPython 3.11 on x86_64 Linux like the
# image. Pins already in a lock are kept; `make lock LOCK_ARGS=--upgrade` moves them all, or
# LOCK_ARGS="--upgrade-package django" one. local.txt is held to production.txt's pins.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" $(LOCK_ARGS)

lock: install
	$(UV_COMPILE) requirements/production.in -o requirements/production.txt
	$(UV_COMPILE) requirements/local.in -c requirements/production.txt -o requirements/local.txt

models: install
	$(PY) manage.py fetch_models

run: install models
	@scripts/run-local

services:
	@scripts/ensure-services

browser:
	@scripts/ensure-browser

test: install sysdeps services browser
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py fetch_models
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the slow end-to-end and browser tests.
test-fast: install services
	$(PY) -m pytest -m "not e2e and not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: install services
	$(PY) bench/run_all.py

# Background removal: Darkroom end to end vs `rembg s` vs a bare rembg loop, then worker memory,
# then a 12 MP camera photo stage by stage beside `rembg s`.
# Faults against real processes (a private Redis, MariaDB, uvicorn, a supervised worker): one row
# per fault (docs/reliability.md). CHAOS_ARGS=--short for the CI version, or names of faults.
chaos: install services models
	BENCH_DATABASE_NAME=$${BENCH_DATABASE_NAME:-darkroom_chaos} $(PY) bench/chaos.py $(CHAOS_ARGS)

bench-rembg: install services models
	$(PY) bench/rembg_speed.py
	$(PY) bench/processors_rembg_memory.py
	$(PY) bench/rembg_large.py

# The production rehearsal (README, "Rehearsal"): docker-compose.yml's services run natively behind
# nginx with TLS on https://localhost:8443/, a day's work through them, then the faults.
# REHEARSE_ARGS="--keep" leaves it up for a look; the test suite runs the --short version.
rehearse: install sysdeps services browser models
	$(PY) scripts/rehearse.py $(REHEARSE_ARGS)

clean:
	rm -rf $(VENV) var media test-artifacts
