# Convenor: `make demo` and `make test` are all a new machine needs.
# Both create .venv when it is missing and install what the project needs.

VENV      ?= .venv
PYTHON    ?= python3
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DATA      ?= data
PORT      ?= 8000
MEMBERS   ?= 500
PG_URL    ?= postgres://postgres@127.0.0.1:5432/test
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CONVENOR_DATA_DIR ?= $(abspath $(DATA))
# The charter's detector model; the test runs below reuse it even with a fresh data folder.
export CONVENOR_CHARTER_MODEL ?= $(CONVENOR_DATA_DIR)/charter-model.joblib

.PHONY: setup chromium charter-model demo serve test lint typecheck test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The map's browser bundle (sigma.js + graphology from npm, bundled by esbuild; never a CDN),
# rebuilt when missing or older than its sources. The bundle is not committed.
MAP_BUNDLE := convenor/web/static/convenor/map/map.js
$(MAP_BUNDLE): frontend/package.json frontend/package-lock.json $(wildcard frontend/src/*.js)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

setup: $(STAMP) $(MAP_BUNDLE)

# Debian's chromium for the browser tests (with an emoji font, so screenshots show
# reactions); never a browser downloaded by a test tool.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/noto ]; } || { \
	  echo "Installing Debian's chromium and fonts for the browser tests..."; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    chromium fonts-noto-color-emoji >/dev/null; }

# Builds the promotional-content detector from the corpus when its model file is missing or
# older than the corpus
# (deterministic, about 30 s); `convenor charter train` rebuilds it on demand.
charter-model: setup
	@{ test -f "$(CONVENOR_CHARTER_MODEL)" && \
	   [ -z "$$(find convenor/charter/corpus -name '*.jsonl' -newer "$(CONVENOR_CHARTER_MODEL)")" ]; } || \
	  $(BIN)/convenor charter train

demo: setup charter-model
	$(BIN)/convenor demo --members $(MEMBERS)
	@echo ""
	@echo "  Convenor demo: http://127.0.0.1:$(PORT)/"
	@echo "  Log in as admin@northwind.example with password: convenor-demo"
	@echo "  (the other demo logins, same password, are listed above)"
	@echo ""
	$(BIN)/convenor serve --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy convenor bench

test-sqlite: setup chromium charter-model
	env -u DATABASE_URL CONVENOR_DATA_DIR=$$(mktemp -d) $(BIN)/pytest

# On PostgreSQL when it answers; with CI=true a missing PostgreSQL fails the run.
test-postgres: setup chromium charter-model
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "Running the suite on PostgreSQL"; \
	  DATABASE_URL=$(PG_URL) CONVENOR_DATA_DIR=$$(mktemp -d) $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL at $(PG_URL) is not reachable, and CI needs it" >&2; exit 1; \
	else \
	  echo "PostgreSQL not reachable at $(PG_URL): skipped the PostgreSQL run"; \
	fi

test: lint typecheck test-sqlite test-postgres

bench: setup chromium charter-model
	$(BIN)/python bench/demo_scale.py --sizes 10000,100000
	$(BIN)/python bench/web.py
	$(BIN)/python bench/charter.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/map.py
	$(BIN)/python bench/hotgroups.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
