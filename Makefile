# qmcrawler: every target builds on .venv (the project, editable, with all its dependencies).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv

.PHONY: demo test lint crawl schedule bench clean chromium cjk-font postgresql browse

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "qmcrawler needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { echo "installing python3-venv (Debian)"; apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv
	$(UV) pip install -q --python $(PY) -e '.[dev]'
	@touch $@

$(VENV): $(VENV)/.installed

demo: $(VENV)
	$(PY) -m qmcrawler.demo --db demo.db

# Chromium for the report tests: installed from the OS packages only when no binary is found.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  test -x /usr/lib/chromium/chromium || \
	  { echo "installing chromium (Debian)"; apt-get update -qq && apt-get install -y -qq chromium; }

# A CJK font for the Chromium screenshots (Datasette and report views): without one every Chinese
# character is a tofu box. Installed from the OS packages only when fontconfig knows no Chinese font.
cjk-font:
	@fc-list :lang=zh 2>/dev/null | grep -q . || \
	  { echo "installing fonts-wqy-microhei (Debian)"; apt-get update -qq && apt-get install -y -qq fontconfig fonts-wqy-microhei; }

# PostgreSQL 15 with pg_trgm (contrib) for the PostgreSQL half of the suite: Debian's packages,
# installed only when no initdb is found. The tests start their own cluster as the postgres user.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 || \
	  { echo "installing postgresql (Debian)"; apt-get update -qq && apt-get install -y -qq postgresql postgresql-contrib; }

# the tests' crawl subprocesses reuse compiled bytecode even where the environment sets
# PYTHONDONTWRITEBYTECODE (each would compile Scrapy and the project again: about 2 s a crawl)
test: $(VENV) chromium cjk-font postgresql
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 2 --dist loadfile

lint: $(VENV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

crawl: $(VENV)
	$(PY) -m scrapy crawl site -s QMC_DB=qm.db

# Datasette on 127.0.0.1 with the canned queries in datasette.yaml: make browse [DB=demo.db] [PORT=8001]
DB   ?= qm.db
PORT ?= 8001
browse: $(VENV)
	@case "$(DB)" in postgres*://*) echo "Datasette reads SQLite files only: copy the database into one (qmcrawler copy-db URL qm.db), then make browse"; exit 2;; esac
	@test -f "$(DB)" || { echo "$(DB) not found: run make crawl first, or make demo and then make browse DB=demo.db"; exit 2; }
	$(VENV)/bin/datasette serve $(DB) -m datasette.yaml --host 127.0.0.1 --port $(PORT)

schedule: $(VENV)
	$(PY) schedule.py

bench: $(VENV) chromium postgresql
	$(PY) bench/extraction.py ../shared/eval/dev/zh
	$(PY) bench/extraction_folds.py ../shared/eval/dev
	$(PY) bench/render.py --pages 40
	$(PY) bench/crawl.py --pages 5000
	$(PY) bench/peers.py --pages 1000
	$(PY) bench/storage.py --pages 2000 --crawls 30
	$(PY) bench/queries.py --pages 100000 --versions 1000000
	$(PY) bench/scaleout.py

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo.db-locks demo-report.html
