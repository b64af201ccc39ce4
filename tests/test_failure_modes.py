"""Failure must look like failure: killed runs, a full disk, a newer database, a site-wide 404.

Real crawl processes against a local server on 127.0.0.1, real SQLite files, a real tmpfs; the
killed run and the site outage also on PostgreSQL (a full disk and a newer SQLite file are
SQLite's own failures).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmcrawler.run.runner import PROJECT_ROOT, crawl_command, run_crawl
from qmcrawler.storage import open_db
from tests.conftest import db_target
from tests.consistency import check_consistent
from tests.dbtools import count, rows
from tests.faultweb import FAULT_SETTINGS, serve
from tests.test_fault_runs import SITES, make_site


def query(db: Path | str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in rows(db, sql, list(params))]


def stored_fetches(db: Path | str) -> int:
    """Fetch rows a running crawl has committed (0 while an SQLite file is not created or migrated yet)."""
    if isinstance(db, str):
        return count(db, "fetches")
    if not db.exists():  # sqlite3, not open_db: the test must not create or migrate it under the crawl
        return 0
    conn = sqlite3.connect(db)
    try:
        if not conn.execute("SELECT name FROM sqlite_master WHERE name = 'fetches'").fetchall():
            return 0
        return int(conn.execute("SELECT count(*) FROM fetches").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.both_backends
@pytest.mark.timeout(300)  # several crawls or commands, each its own process
def test_a_sigkilled_crawl_is_marked_killed_by_the_next_crawl(tmp_path: Path, backend: str) -> None:
    routes = {f"/art/p{i}.htm": {"delay": 2.0} for i in range(30)}  # the crawl outlasts a poll on a loaded machine
    root = make_site(tmp_path / "web", 30, routes)
    with serve(tmp_path, [root], SITES, db=db_target(backend, tmp_path)) as site:
        proc = subprocess.Popen(  # a direct crawl (cron, a shell), not the scheduler
            crawl_command(site.config, site.db, settings=FAULT_SETTINGS),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill it once it has stored something
            if stored_fetches(site.db):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert query(site.db, "SELECT id, status FROM runs") == [(1, "running")]
        result = site.crawl()
    assert "marked killed" in result.stderr
    runs = query(site.db, "SELECT id, status, finished_at IS NOT NULL FROM runs ORDER BY id")
    assert runs == [(1, "killed", 1), (2, "finished", 1)]
    check_consistent(site.db)


NEWER = "0099_written_by_a_newer_qmcrawler"


@pytest.fixture
def newer_db(tmp_path: Path) -> Path:
    """A database a newer qmcrawler wrote: one migration this version does not know."""
    path = tmp_path / "data" / "qm.db"
    path.parent.mkdir()
    db = open_db(path)
    db.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('qmcrawler', ?, '2030-01-01')",
        [NEWER],
    )
    db.execute("ALTER TABLE runs RENAME COLUMN sites TO site_list")  # what a newer schema might do
    db.conn.commit()
    db.close()
    return path


def _commands(db: Path, config: Path) -> list[list[str]]:
    scrapy = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"config={config}", "-s", f"QMC_DB={db}"]
    schedule = [sys.executable, "schedule.py", "--config", str(config), "--db", str(db)]
    cli = [sys.executable, "-m", "qmcrawler"]
    url = "http://127.0.0.1:1/art/p1.htm"
    return [
        scrapy,
        [*schedule, "--once"],
        schedule,  # the daemon
        *(
            [*cli, *args, "--db", str(db)]
            for args in (
                ["changes"],
                ["history", url],
                ["diff", url],
                ["search", "质量月活动"],
                ["reprocess"],
                ["sites", "--config", str(config)],
                ["report", "-o", str(db.parent.parent / "r.html")],
                ["feed", "-o", str(db.parent.parent / "f.atom")],
                ["notify", "--dry-run", "--config", str(config)],
            )
        ),
    ]


@pytest.mark.timeout(400)  # several crawls or commands, each its own process
def test_every_command_refuses_a_newer_database_and_leaves_it_untouched(newer_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(SITES.replace("{base}", "http://127.0.0.1:1"), encoding="utf-8")
    before = newer_db.read_bytes()
    files = sorted(p.name for p in newer_db.parent.iterdir())
    for argv in _commands(newer_db, config):
        result = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2, (argv, result.stderr)
        assert len(lines) == 1, (argv, result.stderr)
        assert NEWER in lines[0], (argv, result.stderr)
        assert "newer qmcrawler" in lines[0]
        assert newer_db.read_bytes() == before, argv
        assert sorted(p.name for p in newer_db.parent.iterdir()) == files, argv
    assert not (tmp_path / "r.html").exists()


FULL_SIZE = "2m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (the disk that fills up during a crawl)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root and mount(8): cannot simulate a full disk here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FULL_SIZE}", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {done.stderr.decode()[:200]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.timeout(400)  # several crawls or commands, each its own process
def test_a_full_disk_fails_the_run_with_one_line(tmp_path: Path, small_disk: Path) -> None:
    root = make_site(tmp_path / "web", 300)
    for i in range(300):  # bigger pages, so 300 of them cannot fit in 2 MB
        page = root / "art" / f"p{i}.htm"
        extra = "".join(f"<p>第{i}号通知第{k}段：{os.urandom(24).hex()}</p>" for k in range(12))
        page.write_text(page.read_text(encoding="utf-8").replace("</div></div>", extra + "</div></div>"), "utf-8")
    db = small_disk / "qm.db"
    with serve(tmp_path, [root], SITES) as site:
        result = run_crawl(site.config, db, settings=FAULT_SETTINGS, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "database or disk is full" in errors[0]
    assert "crawl stopped" in errors[0]
    runs = query(db, "SELECT status, stats FROM runs")
    assert len(runs) == 1
    status, stats = runs[0]
    assert status == "failed"
    assert "database or disk is full" in json.loads(str(stats))["qmcrawler/store/error"]
    stored = check_consistent(db)
    assert 0 < stored < 300  # what was committed before the disk filled is intact


OUTAGE_PAGES = 10


def _gone(root: Path, pages: range, list_status: int | None = None) -> None:
    routes: dict[str, object] = {f"/art/p{i}.htm": {"status": 404, "body": "<html>页面不存在</html>"} for i in pages}
    if list_status is not None:
        routes["/list/index.htm"] = {"status": list_status, "body": "<html>Not Found</html>"}
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")


@pytest.mark.both_backends
@pytest.mark.timeout(400)  # several crawls or commands, each its own process
def test_a_site_answering_404_everywhere_is_an_outage_not_deletions(tmp_path: Path, backend: str) -> None:
    root = make_site(tmp_path / "web", OUTAGE_PAGES)
    with serve(tmp_path, [root], SITES, db=db_target(backend, tmp_path)) as site:
        site.crawl()
        _gone(root, range(OUTAGE_PAGES), list_status=404)  # a site migration: everything 404, list pages too
        site.day(root)
        second, third = site.crawl(), site.crawl()
        assert "site outage: 10 of 10 known pages" in second.stderr
        assert "site outage" in third.stderr
        assert site.rows("SELECT kind, count(*) AS n FROM changes GROUP BY kind") == [
            {"kind": "new", "n": OUTAGE_PAGES}
        ]
        assert site.rows("SELECT DISTINCT status FROM pages") == [{"status": "blocked"}]
        assert site.rows(
            "SELECT DISTINCT outcome, reason, http_status FROM fetches WHERE run_id > 1 AND page_id IS NOT NULL"
        ) == [{"outcome": "blocked", "reason": "site_outage", "http_status": 404}]
        (root / "_routes.json").write_text("{}", encoding="utf-8")  # the site is back
        site.day(root)
        site.crawl()
    assert site.rows("SELECT kind, count(*) AS n FROM changes GROUP BY kind") == [{"kind": "new", "n": OUTAGE_PAGES}]
    assert site.rows("SELECT DISTINCT status FROM pages") == [{"status": "live"}]


@pytest.mark.both_backends
@pytest.mark.timeout(300)  # several crawls or commands, each its own process
def test_a_few_deleted_pages_are_still_removed(tmp_path: Path, backend: str) -> None:
    root = make_site(tmp_path / "web", OUTAGE_PAGES)
    with serve(tmp_path, [root], SITES, db=db_target(backend, tmp_path)) as site:
        site.crawl()
        _gone(root, range(4))  # 4 of 10: below the outage rule's 5 pages
        site.day(root)
        second, third = site.crawl(), site.crawl()
    assert "site outage" not in second.stderr + third.stderr
    removed = site.rows("SELECT p.url, c.run_id FROM changes c JOIN pages p ON p.id = c.page_id WHERE kind = 'removed'")
    assert sorted(Path(str(r["url"])).name for r in removed) == [f"p{i}.htm" for i in range(4)]
    assert {r["run_id"] for r in removed} == {3}  # confirmed by the second run that saw them gone


@pytest.mark.timeout(300)  # two crawls, each its own process
def test_a_store_failing_as_the_spider_closes_fails_the_run_with_one_line(tmp_path: Path) -> None:
    """The crawl's last write (the search index of its versions, as the spider closes) fails: one
    line, a failed run, nothing half-written, and the next crawl stores and indexes it all."""
    db = tmp_path / "qm.db"
    conn = open_db(db)  # migrated, so the trigger below has its table
    conn.execute(  # the end-of-crawl indexing claims the search queue with a DELETE: make it fail
        "CREATE TRIGGER fail_index BEFORE DELETE ON search_queue"
        " BEGIN SELECT RAISE(ABORT, 'injected index failure'); END"
    )
    conn.close()
    root = make_site(tmp_path / "web", 10)  # fewer than a batch of the index lag: all indexed at the end
    with serve(tmp_path, [root], SITES) as site:
        result = run_crawl(site.config, db, settings=FAULT_SETTINGS, timeout=200)
        assert result.returncode == 1, result.stderr[-3000:]
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert "Spider not opened" not in result.stderr, result.stderr[-3000:]
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr[-3000:]
        assert "injected index failure" in errors[0]
        assert query(db, "SELECT status FROM runs") == [("failed",)]
        with sqlite3.connect(db) as raw:
            raw.execute("DROP TRIGGER fail_index")
        assert check_consistent(db) == 0  # the crawl's last batch went with its index rows: all or nothing
        again = run_crawl(site.config, db, settings=FAULT_SETTINGS, timeout=200)
    assert again.returncode == 0, again.stderr[-3000:]
    assert check_consistent(db) == 10
    assert query(db, "SELECT count(*) FROM search_queue") == [(0,)]  # all indexed at the crawl's end


@pytest.mark.timeout(120)
def test_a_stop_asked_while_the_spider_closes_is_no_traceback(tmp_path: Path) -> None:
    """The engine closes the spider before the store's stop gets to run: nothing to close, no
    'Spider not opened' traceback (it failed the full-disk test above now and then)."""
    root = make_site(tmp_path / "web", 3)
    race = {"EXTENSIONS": json.dumps({"tests.closerace.StopWhileClosing": 900})}
    with serve(tmp_path, [root], SITES) as site:
        result = run_crawl(site.config, site.db, settings={**FAULT_SETTINGS, **race}, timeout=100)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Spider not opened" not in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert query(site.db, "SELECT status FROM runs") == [("finished",)]
