# HousePoints: `make run` serves the demo family on the embedded default; `make test` runs everything CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run run-pushpin test test-unit test-e2e test-faults lint audit setup assets services clean bench translations-update

# The fault suite alone (its own PostgreSQL cluster and redis-server, broken on purpose; docs/RELIABILITY.md).
test-faults: setup
	$(BIN)/python -m pytest faults

run: setup
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask db upgrade
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask families upgrade --all
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask seed demo
	@echo "Serving on http://localhost:$(PORT)/ and http://demo.localhost:$(PORT)/ (Ctrl-C stops)"
	BASE_DOMAIN=localhost:$(PORT) GUNICORN_BIND=127.0.0.1:$(PORT) $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

# `make run` with Pushpin in front (docs/OPERATIONS.md): browsers use localhost:$(PORT) (Pushpin), which routes every
# request to gunicorn on $(ORIGIN_PORT) and holds the /events streams; the app publishes to Pushpin's port 5561.
ORIGIN_PORT ?= 5001
PUSHPIN_PORT_OFFSET ?= 0
DEV_GRIP_SIG_KEY := dev-grip-sig-key-not-for-production
run-pushpin: setup
	@command -v pushpin >/dev/null 2>&1 || { echo "pushpin is required (Debian: apt-get install -y pushpin)"; exit 1; }
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask db upgrade
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask families upgrade --all
	BASE_DOMAIN=localhost:$(PORT) $(BIN)/flask seed demo
	@echo "Serving on http://localhost:$(PORT)/ and http://demo.localhost:$(PORT)/ through Pushpin (Ctrl-C stops)"
	BASE_DOMAIN=localhost:$(PORT) TRUSTED_PROXIES=1 GUNICORN_BIND=127.0.0.1:$(ORIGIN_PORT) GRIP_SIG_KEY=$(DEV_GRIP_SIG_KEY) \
		PUSH_SERVER_URL=http://127.0.0.1:$$((5561 + $(PUSHPIN_PORT_OFFSET))) \
		$(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app & gunicorn=$$!; \
	trap 'kill $$gunicorn' EXIT INT TERM; \
	PUSHPIN_BIND=127.0.0.1:$(PORT) PUSHPIN_ORIGIN=127.0.0.1:$(ORIGIN_PORT) PUSHPIN_PORT_OFFSET=$(PUSHPIN_PORT_OFFSET) \
		GRIP_SIG_KEY=$(DEV_GRIP_SIG_KEY) bash scripts/run-pushpin.sh

test: setup services lint audit
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest e2e
	$(BIN)/python -m pytest faults

# Style, types and the areas' import contracts (configured in pyproject.toml); `make test` runs it first.
lint: $(VENV)/.installed
	$(BIN)/ruff check app tests faults bench
	$(BIN)/mypy --strict app
	PYTHONPATH=. $(BIN)/lint-imports

# Known vulnerabilities (high and above for npm) in every installed Python package and the two npm packages.
# A reported vulnerability fails the run; packages the registries give no advisory data for are named in a banner
# (this workplace's PyPI and npm mirrors answer 404/405), never passed off as clean; no report at all fails.
audit: $(VENV)/.installed
	$(BIN)/python scripts/audit.py

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
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete -w 120

# htmx and its SSE extension come from npm at the versions package-lock.json pins; never committed.
assets: static/vendor/htmx.min.js static/vendor/sse.min.js $(CATALOGS)

static/vendor/htmx.min.js static/vendor/sse.min.js: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js 18+) is required to fetch htmx"; exit 1; }
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/

services:
	bash scripts/ensure-test-services.sh

# The fleet benchmark (bench/run.py): seeds 10,000 pooled + 300 dedicated families once (reused), refreshes today's
# rows, runs gunicorn (production config) and wrk, and writes docs/PERFORMANCE.md. BENCH_ARGS="--duration 15" etc.
bench: setup services
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "wrk is required (Debian: apt-get install -y wrk)"; exit 1; }
	PYTHONPATH=. $(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor instance
