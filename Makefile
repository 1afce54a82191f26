# fieldpunch: `make demo` and `make test` work on a fresh machine with Python ≥ 3.11, Node.js and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench serve clean web web-test browser fonts api-snapshot screenshot

# The field app (web/) and the manager console (web/console/): npm ci from the lockfile, then
# vite build into src/fieldpunch/web/dist/ (mounted at /app/) and src/fieldpunch/web/console/dist/
# (mounted at /console/) by `fieldpunch serve`.
WEB := web
NODE_STAMP := $(WEB)/node_modules/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

web: $(NODE_STAMP)
	cd $(WEB) && npm run --silent build

web-test: $(NODE_STAMP)
	cd $(WEB) && npx vitest run

# A browser for the end-to-end tests: Debian's Chromium (as root), else Playwright's download.
# Neither possible: the e2e tests skip (and fail with FIELDPUNCH_REQUIRE_SERVICES=1).
browser: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "make: apt-get could not install chromium"; \
	else \
	  $(BIN)/playwright install chromium || echo "make: no browser: the e2e tests will skip"; \
	fi

demo: $(STAMP) web
	$(BIN)/fieldpunch demo

serve: $(STAMP) web
	$(BIN)/fieldpunch serve

test: $(STAMP) web browser fonts
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	cd $(WEB) && npx vitest run
	$(BIN)/pytest

# After an API change: refresh web/openapi.json and the TypeScript types generated from it.
api-snapshot: $(STAMP) $(NODE_STAMP)
	$(BIN)/python $(WEB)/scripts/snapshot_openapi.py
	cd $(WEB) && npm run --silent gen:api

# Chinese text in screenshots (the tests' and the README's) needs a CJK font, else it shows as boxes.
fonts:
	@if fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's fonts-noto-cjk for the screenshots"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null \
	    || echo "make: apt-get could not install fonts-noto-cjk"; \
	else echo "make: no CJK font: Chinese shows as boxes in the screenshot"; fi

# Refresh the README pictures in docs/img/ (punch, out of range, manager queue) from the browser tests.
screenshot: $(STAMP) web browser fonts
	FIELDPUNCH_UPDATE_SCREENSHOT=1 $(BIN)/pytest -q tests/e2e \
	  -k "screenshot or out_of_range_shows or manager_approves"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP)
	$(BIN)/fieldpunch bench geofence
	$(BIN)/fieldpunch bench ingest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis $(WEB)/node_modules src/fieldpunch/web/dist \
	  src/fieldpunch/web/console/dist
