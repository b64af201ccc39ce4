"""Site locks on PostgreSQL: advisory locks that every process (and machine) sees, gone with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from qmcrawler.run.locks import LockBusy
from qmcrawler.storage.sitelocks import PgSiteLock
from tests.conftest import Site
from tests.pgserver import PgServer


def _other_process_holds(url: str, site: str) -> subprocess.Popen[str]:
    code = (
        "import time\nfrom qmcrawler.storage.sitelocks import PgSiteLock\n"
        f"lock = PgSiteLock({url!r}, {site!r}); lock.acquire(); print('held', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_killed_holder_leaves_no_lock(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    holder = _other_process_holds(url, "samr")
    try:
        with pytest.raises(LockBusy, match=r"samr: already being crawled \(pid \d+"):
            PgSiteLock(url, "samr").acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            try:
                PgSiteLock(url, "samr").acquire()
                break
            except LockBusy:
                assert time.monotonic() < deadline, "the killed process's lock outlived it"
                time.sleep(0.1)
    finally:
        holder.kill()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_crawl_into_postgresql_of_a_site_locked_elsewhere_exits_75(site: Site) -> None:
    from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl

    holder = _other_process_holds(str(site.db), "demo")  # the fixture web has one site, "demo"
    try:
        result = run_crawl(site.config, site.db, settings=dict(LOCAL_SETTINGS), timeout=120)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert result.returncode == 75, result.stderr[-2000:]
    assert "error: demo: already being crawled (" in result.stderr
    site.crawl()  # free again: the crawl runs
