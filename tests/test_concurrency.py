"""Concurrent crawls on one database (SQLite file or PostgreSQL): real crawl processes, 127.0.0.1.

Writers wait for each other (SQLite: BEGIN IMMEDIATE + the busy timeout; PostgreSQL: row locks)
instead of failing; a second crawl of a site that is being crawled exits with one line and
status 75, however it was started (lock files beside SQLite, advisory locks in PostgreSQL).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.locks import SiteLock
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command, run_crawl
from qmcrawler.storage.sitelocks import PgSiteLock
from tests.conftest import db_target, pg_server
from tests.consistency import check_consistent
from tests.dbtools import rows as dict_rows
from tests.test_fault_runs import ARTICLE

SITES = 4
PAGES = 8
#: exit status of a crawl whose site is already being crawled (README, "Crawling the real sites")
LOCKED = 75
#: the daemon's log line when a supervised crawl has ended (its process exited, its run row written)
ENDED = re.compile(r"qmcrawler\.run\.supervisor: crawl s\d: (\w+) \(run")


def make_web(root: Path, pages: int = PAGES, delay: float = 0.4) -> Path:
    """SITES sites under /sN/, each a list page linking `pages` articles that answer a little slowly."""
    routes: dict[str, object] = {}
    for s in range(SITES):
        (root / f"s{s}" / "art").mkdir(parents=True)
        links = "".join(f'<li><a href="/s{s}/art/p{i}.htm">通知{i}</a></li>' for i in range(pages))
        (root / f"s{s}" / "index.htm").write_text(f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
        for i in range(pages):
            page = ARTICLE.replace("带会话参数的通知", f"站{s}第{i}号质量月通知").replace("一系列活动", f"{s}{i}项活动")
            (root / f"s{s}" / "art" / f"p{i}.htm").write_text(page, encoding="utf-8")
            routes[f"/s{s}/art/p{i}.htm"] = {"delay": delay}
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    return root


def write_config(path: Path, base: str, schedule: str = "0 6 * * *") -> Path:
    path.write_text(
        "".join(
            f'[sites.s{s}]\nstart_urls = ["{base}/s{s}/index.htm"]\n'
            f"articles = ['/s{s}/art/p\\d+\\.htm$']\nschedule = \"{schedule}\"\n\n"
            for s in range(SITES)
        ),
        encoding="utf-8",
    )
    return path


def edit_every_site(root: Path) -> None:
    """One real edit per site (page p3), which the next crawl of that site must report as `changed`."""
    for s in range(SITES):
        file = root / f"s{s}" / "art" / "p3.htm"
        file.write_text(file.read_text(encoding="utf-8").replace("质量提升专项行动", "质量提升三年行动"), "utf-8")


def rows(db: Path | str, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in dict_rows(db, sql)]


def yesterday() -> str:
    """QMC_NOW a day back: a crawl "the day before", whose pages are due again now (revisit_min 1d)."""
    return (datetime.now(UTC) - timedelta(days=1)).isoformat()


def start(config: Path, db: Path | str, site: str | None, out: Path, now: str) -> subprocess.Popen[bytes]:
    argv = crawl_command(config, db, site, {**LOCAL_SETTINGS, "LOG_LEVEL": "ERROR", "QMC_NOW": now})
    return subprocess.Popen(
        argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=out.open("wb"), start_new_session=True
    )


@pytest.mark.both_backends
@pytest.mark.timeout(400)  # several crawl processes at once, on a shared 2-core machine
def test_four_sites_and_a_second_crawl_of_one_at_once(tmp_path: Path, backend: str) -> None:
    # Slow articles: a crawl of s0 holds its lock for over 5 s, longer than the other crawl of s0
    # waits for it (3 s). At 0.4 s a page, a fast machine finished the first crawl within the wait,
    # and the second then took the free lock and crawled too (both exited 0).
    root = make_web(tmp_path / "web", delay=5.0)
    # a database without its schema yet: five processes race to create it (PostgreSQL: Alembic's lock)
    db = tmp_path / "qm.db" if backend == "sqlite" else pg_server().empty_database(f"race{os.getpid()}")
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        for round_ in (1, 2):  # round 1 also races the creation and migration of a new database
            if round_ == 2:
                edit_every_site(root)
            jobs = [(f"s{s}", tmp_path / f"r{round_}-s{s}.err") for s in range(SITES)]
            jobs.append(("s0", tmp_path / f"r{round_}-s0-again.err"))
            now = yesterday() if round_ == 1 else datetime.now(UTC).isoformat()
            procs = [start(config, db, site, out, now) for site, out in jobs]
            codes = [p.wait(timeout=240) for p in procs]
            errors = {out.name: out.read_text(encoding="utf-8", errors="replace") for _, out in jobs}
            s0 = sorted([codes[0], codes[-1]])
            assert codes[1:SITES] == [0] * (SITES - 1), errors
            assert s0 == [0, LOCKED], errors  # one crawl of s0 ran, the other found it locked
            loser = errors[jobs[0][1].name] if codes[0] == LOCKED else errors[jobs[-1][1].name]
            lines = [line for line in loser.splitlines() if line.strip()]
            assert len(lines) == 1, loser
            assert "s0" in lines[0], loser
            assert "already being crawled" in lines[0], loser
            assert not any("Traceback" in text or "locked" in text.lower() for text in errors.values() if text != loser)
    assert check_consistent(db) == SITES * PAGES + SITES  # every page once, plus one edited version per site
    runs = rows(db, "SELECT sites, status FROM runs ORDER BY id")
    assert sorted(runs) == sorted([(f"s{s}", "finished") for s in range(SITES)] * 2)
    changed = rows(
        db,
        "SELECT p.site, p.url FROM changes c JOIN pages p ON p.id = c.page_id WHERE c.kind = 'changed' ORDER BY p.site",
    )
    assert [(site, Path(str(url)).name) for site, url in changed] == [(f"s{s}", "p3.htm") for s in range(SITES)]


# SQLite only: schedule.py runs the crawls itself on SQLite; on PostgreSQL it is the dispatcher of
# a job queue whose workers run them (tested with the queue)
@pytest.mark.timeout(500)  # several crawl processes at once, on a shared 2-core machine
def test_the_daemon_with_two_workers_and_every_site_due_at_once(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=40, delay=0.05)  # writes all through each crawl
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base, schedule="* * * * *")
        first = subprocess.run(  # the day before: one crawl of everything
            crawl_command(config, db, None, {**LOCAL_SETTINGS, "QMC_NOW": yesterday()}),
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=False,
        )
        assert first.returncode == 0, first.stderr[-2000:]
        edit_every_site(root)
        settings = [arg for key, value in LOCAL_SETTINGS.items() for arg in ("-s", f"{key}={value}")]
        log = (tmp_path / "daemon.log").open("wb")
        daemon = subprocess.Popen(
            [sys.executable, "schedule.py", "--config", str(config), "--db", str(db), "--jitter", "0",
             "--batch-window", "2", "--sites-per-crawl", "2", "--workers", "2", *settings],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 200  # the next minute starts all four jobs at once
            while time.monotonic() < deadline and len(ENDED.findall((tmp_path / "daemon.log").read_text())) < SITES:
                time.sleep(1)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=60)
    output = (tmp_path / "daemon.log").read_text(encoding="utf-8", errors="replace")
    assert "database is locked" not in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    runs = rows(db, "SELECT sites, status, pid FROM runs WHERE id > 1 ORDER BY id")
    assert sorted(r[:2] for r in runs[:SITES]) == [(f"s{s}", "finished") for s in range(SITES)], (runs, output[-3000:])
    pids = [r[2] for r in runs[:SITES]]
    assert sorted(pids.count(pid) for pid in set(pids)) == [2, 2], runs  # due together: two sites per process
    changed = rows(
        db,
        "SELECT p.site, p.url FROM changes c JOIN pages p ON p.id = c.page_id WHERE c.kind = 'changed' ORDER BY p.site",
    )
    assert [(site, Path(str(url)).name) for site, url in changed] == [(f"s{s}", "p3.htm") for s in range(SITES)]


@pytest.mark.both_backends
@pytest.mark.timeout(300)  # several crawl processes at once, on a shared 2-core machine
def test_a_crawl_of_several_sites_skips_the_one_being_crawled(tmp_path: Path, backend: str) -> None:
    root = make_web(tmp_path / "web", pages=2, delay=0)
    db = db_target(backend, tmp_path)
    held = SiteLock.for_site(db, "s0") if isinstance(db, Path) else PgSiteLock(db, "s0")
    with MiniWeb([root]) as web, held:  # another process is crawling s0
        config = write_config(tmp_path / "sites.toml", web.base)
        result = run_crawl(config, db, settings={**LOCAL_SETTINGS, "LOG_LEVEL": "ERROR"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"warning: s0: already being crawled (pid {os.getpid()}): skipping it"
    ]
    assert rows(db, "SELECT sites, status FROM runs") == [("s1,s2,s3", "finished")]
    assert rows(db, "SELECT DISTINCT site FROM pages ORDER BY site") == [("s1",), ("s2",), ("s3",)]
    assert not list(PROJECT_ROOT.glob("postgresql:*"))  # no lock files named after a URL
