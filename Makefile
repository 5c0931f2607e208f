# HousePoints: `make run` serves the demo family on the embedded default; `make test` runs everything CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test test-unit test-e2e lint setup assets services clean translations-update

run: setup
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask db upgrade
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask families upgrade --all
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask seed demo
	@echo "Serving on http://localhost:$(PORT)/ and http://demo.localhost:$(PORT)/ (Ctrl-C stops)"
	BASE_DOMAIN=localhost:$(PORT) GUNICORN_BIND=127.0.0.1:$(PORT) $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

test: setup services lint
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest e2e

# Style, types and the areas' import contracts (configured in pyproject.toml); `make test` runs it first.
lint: $(VENV)/.installed
	$(BIN)/ruff check app tests
	$(BIN)/mypy --strict app
	PYTHONPATH=. $(BIN)/lint-imports

setup: $(VENV)/.installed assets

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Compiled catalogs (.mo) are built from the committed .po files, never committed themselves.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -l $*

# Re-extract every translatable string into messages.pot and merge it into each language (then translate the new ones).
translations-update: $(VENV)/.installed
	PYTHONPATH=. $(BIN)/pybabel extract -F babel.cfg -k translatable -k phrase -k plural_phrase:1,2 -k _t -k _l --no-location --sort-output -o translations/messages.pot app templates
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-location --omit-header --ignore-obsolete

# htmx and its SSE extension come from npm at the versions package-lock.json pins; never committed.
assets: static/vendor/htmx.min.js static/vendor/sse.min.js $(CATALOGS)

static/vendor/htmx.min.js static/vendor/sse.min.js: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 18+) is required to fetch htmx"; exit 1; }
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/

services:
	bash scripts/ensure-test-services.sh

clean:
	rm -rf $(VENV) node_modules static/vendor instance
