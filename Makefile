# One command to run, one to test: each creates the virtual environment and installs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
E2E_DIR := tests/e2e_server
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-find-links --no-emit-index-url \
	$(if $(filter 1,$(UPGRADE)),--upgrade,)

.PHONY: install run console demo test lint lock bench locales clean

# Installs exactly what the lock files say (with their hashes), then the project itself without
# resolving anything. Re-runs whenever pyproject.toml or a lock changes.
$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PartnerBot needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.txt
	@$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) compile-locales

.PHONY: compile-locales

# Compiled catalogs are build output (not committed); compile whenever a .po is newer.
compile-locales: $(STAMP)
	@out=$$($(BIN)/pybabel compile -d locales -D messages 2>&1) || { echo "$$out"; exit 1; }

run: install
	@$(BIN)/partnerbot run

console: install
	@$(BIN)/partnerbot console

# A whole partnership day, scripted (docs/demo-day.txt), on a fresh demo database of its own.
demo: install
	@rm -rf .demo && mkdir -p .demo
	@DATABASE_URL=sqlite:///.demo/demo.db CONSOLE_FILES_DIR=.demo/files $(BIN)/partnerbot console < docs/demo-day.txt

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

test: install lint browser
	@if [ -f $(E2E_DIR)/package-lock.json ] && command -v npm >/dev/null 2>&1; then \
		(cd $(E2E_DIR) && npm ci --silent --no-audit --no-fund >/dev/null); fi
	@$(BIN)/python -m pytest

# The Mini App's browser tests drive Debian's chromium through Playwright (a browser download cannot work here).
.PHONY: browser
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: apt-get install chromium (the browser tests will skip)"; fi; fi

bench: install browser
	@$(BIN)/python -m benchmarks

# Regenerate the lock files from pyproject.toml's ranges: new or changed requirements are resolved,
# everything else keeps its pin. `make lock UPGRADE=1` moves every pin to the newest release in range.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/pip-compile || $(BIN)/python -m pip install -q pip-tools
	@$(PIP_COMPILE) -o requirements.txt pyproject.toml
	@$(PIP_COMPILE) --extra test --extra dev -o requirements-dev.txt pyproject.toml

# Extract every translatable string into locales/messages.pot and merge it into each catalog.
locales: $(STAMP)
	@$(BIN)/pybabel extract -F babel.cfg -k t -k N_ -k describe:3 -k ngettext:1,2 --sort-by-file \
		--project=PartnerBot -o locales/messages.pot bot.py core handlers directory plans storage webapp >/dev/null 2>&1
	@$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages >/dev/null 2>&1

clean:
	rm -rf $(VENV) .pytest_cache console-files .demo
