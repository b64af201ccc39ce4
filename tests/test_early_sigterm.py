"""A SIGTERM while the crawl is still opening ends the process and closes its runs.

Found by a new-user walkthrough: Scrapy stops the reactor without `spider_closed` when the
signal comes while the engine is still opening, so the store's writer thread (not a daemon)
kept the finished process alive for ever, a second SIGTERM did nothing, and the run rows stayed
`running`. A real crawl subprocess is signalled at several moments right after its runs appear.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command
from tests.consistency import check_consistent
from tests.test_concurrency import make_web, write_config


def _running_runs(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=0.1)
        try:
            return int(conn.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created or not migrated yet, or busy
        return 0


@pytest.mark.timeout(400)
def test_sigterm_while_opening_exits_and_closes_the_runs(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=3, delay=0.2)
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        settings = {**LOCAL_SETTINGS, "LOG_LEVEL": "INFO"}
        for attempt, wait in enumerate((0.0, 0.05, 0.1, 0.2, 0.3, 0.5)):
            log = (tmp_path / f"crawl{attempt}.log").open("wb")
            now = f"2026-09-{attempt + 1:02d}T08:00:00+08:00"  # a day later each time: every page is due
            proc = subprocess.Popen(
                crawl_command(config, db, settings={**settings, "QMC_NOW": now}),
                cwd=PROJECT_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            deadline = time.monotonic() + 60
            while _running_runs(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(wait)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"the crawl did not exit within 30 s of a SIGTERM {wait} s after its runs appeared")
            finally:
                log.close()
            assert _running_runs(db) == 0, (tmp_path / f"crawl{attempt}.log").read_text("utf-8")[-3000:]
        check_consistent(db)


def _crawl(config: Path, db: Path) -> subprocess.Popen[str]:
    argv = crawl_command(config, db, settings={**LOCAL_SETTINGS, "LOG_LEVEL": "ERROR"})
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.timeout(300)
def test_a_crawl_stopped_by_sigterm_exits_1_with_one_line(tmp_path: Path) -> None:
    """Found by a walkthrough: a stopped crawl exited 0, so `scrapy crawl site && notify-done` read it as finished."""
    root = make_web(tmp_path / "web", pages=12, delay=1.0)  # ~12 s of downloads: the signal comes mid-crawl
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web:
        proc = _crawl(write_config(tmp_path / "sites.toml", web.base), db)
        deadline = time.monotonic() + 60
        while len(web.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == ["error: stopped before it finished (run 1 closed as shutdown; the next crawl goes on)"], err
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("shutdown",)]
    finally:
        conn.close()
    check_consistent(db)


def test_a_crawl_that_finishes_exits_0_and_prints_no_error(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=2, delay=0)
    with MiniWeb([root]) as web:
        proc = _crawl(write_config(tmp_path / "sites.toml", web.base), tmp_path / "qm.db")
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert "error:" not in err
