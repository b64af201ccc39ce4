# qmcrawler: every target builds on .venv (the project, editable, with all its dependencies).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv

.PHONY: demo test lint crawl schedule bench clean

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

test: $(VENV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

lint: $(VENV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

crawl: $(VENV)
	$(PY) -m scrapy crawl site -s QMC_DB=qm.db

schedule: $(VENV)
	$(PY) schedule.py

bench: $(VENV)
	$(PY) bench/extraction.py ../shared/eval/dev/zh

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo-report.html
