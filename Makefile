# `make run` starts the whole system on embedded defaults; `make test` runs the suite on MariaDB and Redis.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export REMBG_HOME ?= $(CURDIR)/var/rembg

.PHONY: run test test-fast install sysdeps services browser models lint bench clean

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

sysdeps:
	@scripts/ensure-sysdeps

# Reinstall only when a requirements file changed.
$(VENV)/.installed: requirements/base.txt requirements/production.txt requirements/local.txt | $(PY)
	@$(MAKE) --no-print-directory sysdeps
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/local.txt
	@touch $@

install: $(VENV)/.installed

models: install
	$(PY) manage.py fetch_models

run: install models
	@scripts/run-local

services:
	@scripts/ensure-services

browser:
	@scripts/ensure-browser

test: install services browser
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py fetch_models
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the slow end-to-end and browser tests.
test-fast: install services
	$(PY) -m pytest -m "not e2e and not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install services
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var media test-artifacts
