"""Site locks on PostgreSQL: advisory locks that every process (and machine) sees, gone with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib

import pytest

from qmcrawler.run.locks import LockBusy, PgSiteLock, SiteLock
from tests.conftest import Site
from tests.pgserver import PgServer


def test_a_postgresql_target_gets_an_advisory_lock(
    pg_server: PgServer, tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.new_database()
    lock = SiteLock.for_site(url, "samr")
    assert isinstance(lock, PgSiteLock)
    monkeypatch.chdir(tmp_path)
    with lock:
        with pytest.raises(LockBusy, match=r"samr: already being crawled \(.* pid \d+\)"):
            SiteLock.for_site(url, "samr").acquire()
        SiteLock.for_site(url, "cqn").acquire()  # another site is free
    assert not list(os.scandir(tmp_path))  # no lock files (the old code made a "postgresql:" directory)
    with SiteLock.for_site(url, "samr"):  # released
        pass


def test_the_lock_is_per_database(pg_server: PgServer) -> None:
    with SiteLock.for_site(pg_server.new_database(), "samr"), SiteLock.for_site(pg_server.new_database(), "samr"):
        pass


def test_a_killed_holder_leaves_no_lock(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    code = (
        "import sys, time\nfrom qmcrawler.run.locks import SiteLock\n"
        f"lock = SiteLock.for_site({url!r}, 'samr'); lock.acquire(); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy):
            SiteLock.for_site(url, "samr").acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            try:
                SiteLock.for_site(url, "samr").acquire()
                break
            except LockBusy:
                assert time.monotonic() < deadline, "the killed process's lock outlived it"
                time.sleep(0.1)
    finally:
        holder.kill()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_crawl_into_postgresql_of_a_locked_site_exits_75(site: Site) -> None:
    from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl

    sites = list(tomllib.loads(site.config.read_text(encoding="utf-8"))["sites"])
    assert sites == ["demo"]
    with SiteLock.for_site(str(site.db), "demo"):
        result = run_crawl(site.config, site.db, settings=dict(LOCAL_SETTINGS), timeout=120)
    assert result.returncode == 75, result.stderr[-2000:]
    assert "error: demo: already being crawled (" in result.stderr
    assert "not crawling" in result.stderr
    site.crawl()  # free again: the crawl runs
