"""The write path on PostgreSQL when the server goes away: a lost transaction fails the crawl, the next one
reconnects, and the crawl's site locks are taken again (or the crawl stops if another took them).

These tests restart a server, so they use their own (not the worker's shared one, whose other
tests would see their connections cut).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.locks import LockBusy
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command, run_crawl
from qmcrawler.storage import open_db, sitelocks
from qmcrawler.storage.runs import STORE_ERROR_STAT
from qmcrawler.storage.sitelocks import PgSiteLock
from qmcrawler.storage.writer import Store
from tests.conftest import db_target
from tests.consistency import check_consistent
from tests.dbtools import count, rows
from tests.pgserver import PgServer, start_server
from tests.test_concurrency import make_web, write_config

#: one transaction for the whole crawl: the restart below always lands inside it
ONE_BATCH = {"QMC_BATCH_SIZE": "1000", "QMC_BATCH_SECONDS": "600"}


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.close()


def insert_run(db: object) -> None:
    Store(db).begin_run("site", "demo")  # type: ignore[arg-type]


def test_a_transaction_after_a_server_restart_reconnects(own_server: PgServer) -> None:
    db = open_db(own_server.new_database())
    try:
        insert_run(db)
        own_server.restart()  # the connection is dead, and nothing was open on it
        insert_run(db)  # BEGIN on a new connection
        db.begin()  # a crawl's batch, on a connection that is fine
        insert_run(db)
        db.conn.commit()
        assert count(db, "runs") == 3
    finally:
        db.close()


def test_a_server_lost_inside_a_transaction_raises_and_loses_only_that_transaction(own_server: PgServer) -> None:
    db = open_db(own_server.new_database())
    try:
        insert_run(db)
        db.begin()
        insert_run(db)
        own_server.restart()
        with pytest.raises(psycopg.OperationalError):  # never silently on a new connection, half a batch lost
            insert_run(db)
        db.conn.rollback()
        assert not db.conn.in_transaction
        assert count(db, "runs") == 1  # the next statement reconnects; the open transaction is gone
    finally:
        db.close()


def idle_in_transaction(server: PgServer, database: str) -> bool:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction' "
            "AND now() - xact_start > interval '0.5 seconds'",  # a batch, not a run row's short transaction
            [database],
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.timeout(300)  # two crawls and a server restart, on a shared 2-core machine
def test_a_crawl_whose_server_restarts_mid_batch_fails_and_the_next_crawl_stores_everything(
    own_server: PgServer, tmp_path: Path
) -> None:
    pages = 6
    url = own_server.new_database()
    database = url.rsplit("/", 1)[1]
    with_password = url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it; messages must not show it
    root = make_web(tmp_path / "web", pages=pages, delay=0)
    release = threading.Event()
    last = (root / "s0" / "art" / "p5.htm").read_bytes()

    def held(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        release.wait(timeout=120)  # the last article waits: the batch with the others stays open
        return 200, {"Content-Type": "text/html; charset=utf-8"}, last

    with MiniWeb([root]) as web:
        web.add_handler("/s0/art/p5.htm", held)
        config = write_config(tmp_path / "sites.toml", web.base)
        settings = {**LOCAL_SETTINGS, **ONE_BATCH, "LOG_LEVEL": "CRITICAL"}
        crawl = subprocess.Popen(
            crawl_command(config, with_password, "s0", settings),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not idle_in_transaction(own_server, database):  # the batch is open: downloads wait in it
                assert crawl.poll() is None, crawl.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.1)
            own_server.restart()
        finally:
            release.set()
        _, stderr = crawl.communicate(timeout=180)
        assert crawl.returncode == 1, stderr
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1, stderr  # one line, though PostgreSQL's message has three
        assert lines[0].startswith(f"error: {url}: "), stderr
        assert lines[0].endswith("crawl stopped, run 1 failed"), stderr
        run = rows(url, "SELECT status, stats FROM runs")
        assert [r["status"] for r in run] == ["failed"]  # closed on a new connection
        assert "s3cret" not in json.loads(run[0]["stats"])[STORE_ERROR_STAT]
        assert check_consistent(url) == 0  # the lost batch left nothing half-written

        again = subprocess.run(
            crawl_command(config, url, "s0", {**LOCAL_SETTINGS, **ONE_BATCH}),
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert again.returncode == 0, again.stderr[-3000:]
    assert check_consistent(url) == pages
    assert [r["status"] for r in rows(url, "SELECT status FROM runs ORDER BY id")] == ["failed", "finished"]


@pytest.mark.timeout(200)
def test_a_running_run_of_a_locked_site_is_dead_whatever_its_pid(tmp_path: Path) -> None:
    """Another machine's crawl left a `running` run whose pid exists here too: the site's lock says it is dead."""
    url = str(db_target("postgresql", tmp_path))
    db = open_db(url)
    try:
        db.execute(
            "INSERT INTO runs (spider, sites, started_at, status, stats, pid) VALUES (?, ?, ?, ?, ?, ?)",
            ["site", "s0", "2026-09-01T00:00:00Z", "running", "{}", os.getpid()],  # a live pid on this machine
        )
    finally:
        db.close()
    root = make_web(tmp_path / "web", pages=2, delay=0)
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        result = run_crawl(config, url, sites="s0", settings=dict(LOCAL_SETTINGS), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "marked killed" in result.stderr
    assert [r["status"] for r in rows(url, "SELECT status FROM runs ORDER BY id")] == ["killed", "finished"]


def lock_holders(server: PgServer, database: str) -> int:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s",
            [database],
        ).fetchone()
    return int(row[0]) if row else 0


def test_site_locks_lost_in_a_server_restart_are_taken_again(own_server: PgServer) -> None:
    url = own_server.new_database()
    lock = PgSiteLock(url, "s0")
    lock.acquire()
    try:
        assert lock_holders(own_server, url.rsplit("/", 1)[1]) == 1
        own_server.restart()  # the session ends: the server forgets the lock
        assert lock_holders(own_server, url.rsplit("/", 1)[1]) == 0
        sitelocks.keep(url)  # what the store does before each write transaction
        assert lock_holders(own_server, url.rsplit("/", 1)[1]) == 1
        sitelocks.keep(url)  # the session is fine: nothing to do
        assert sitelocks.held_sites(url) == {"s0"}
    finally:
        lock.release()
    assert sitelocks.held_sites(url) == set()


def test_a_site_taken_by_another_crawl_while_the_session_was_lost_stops_the_writes(own_server: PgServer) -> None:
    url = own_server.new_database()
    lock = PgSiteLock(url, "s1")
    lock.acquire()
    try:
        own_server.restart()
        with psycopg.connect(url, autocommit=True) as other:  # another crawl takes s1 meanwhile
            other.execute("SELECT pg_advisory_lock(%s::bigint)", [sitelocks.site_key("s1")])
            with pytest.raises(LockBusy, match=r"s1: already being crawled"):
                sitelocks.keep(url)
    finally:
        lock.release()
