# One command to run, one to test: each creates the virtual environment and installs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
E2E_DIR := tests/e2e_server

.PHONY: install run console demo test bench locales clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PartnerBot needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e ".[test]"
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

test: install
	@if [ -f $(E2E_DIR)/package-lock.json ] && command -v npm >/dev/null 2>&1; then \
		(cd $(E2E_DIR) && npm ci --silent --no-audit --no-fund >/dev/null); fi
	@$(BIN)/python -m pytest

bench: install
	@$(BIN)/python -m benchmarks

# Extract every translatable string into locales/messages.pot and merge it into each catalog.
locales: $(STAMP)
	@$(BIN)/pybabel extract -F babel.cfg -k t -k N_ -k describe:3 -k ngettext:1,2 --sort-by-file \
		--project=PartnerBot -o locales/messages.pot bot.py core handlers directory plans storage >/dev/null 2>&1
	@$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages >/dev/null 2>&1

clean:
	rm -rf $(VENV) .pytest_cache console-files .demo
