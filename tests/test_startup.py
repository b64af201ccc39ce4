"""What a crawl process imports: only what it uses (issue 16's start-up target, bench/peers.py).

Python's own import profiler (PYTHONPROFILEIMPORTTIME) lists every module a real crawl imports,
on stderr, including those of its extraction workers (spawned interpreters inherit the variable).
"""

from __future__ import annotations

import os
import re
import subprocess

from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command
from tests.conftest import Site, daily

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def _crawl_imports(site: Site) -> set[str]:
    settings = {**LOCAL_SETTINGS, "QMC_NOW": daily(site.start, site.crawls), "QMC_EXTRACT_WORKERS": "1"}
    site.crawls += 1
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    argv = crawl_command(site.config, site.db, settings=settings)
    proc = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(IMPORTED.findall(proc.stderr))


def test_the_crawl_process_imports_neither_the_extractor_nor_scrapys_remote_console(site: Site) -> None:
    first = _crawl_imports(site)
    assert "qmcrawler.extraction.body" in first  # the worker's (the scorer): new pages were extracted
    assert "scrapy.core.engine" in first  # the profile is the crawl's
    again = _crawl_imports(site)  # nothing new the next day: no worker starts
    assert "scrapy.core.engine" in again
    assert "qmcrawler.extraction.body" not in again  # the main process never extracts
    assert "qmcrawler.extraction.encoding" in again  # it decodes
    # Scrapy imports every key of EXTENSIONS, even one set to None; the remote console's module
    # imports aiohttp (0.2 s): qmcrawler's EXTENSIONS_BASE leaves both consoles out
    assert not {m for m in first | again if m.split(".")[0] == "aiohttp" or m.endswith(("remote_control", ".telnet"))}
