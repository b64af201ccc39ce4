"""Sites due together are crawled by one process (issue 16), and every site keeps its own run.

Real `schedule.py` and crawl subprocesses against fixture sites on 127.0.0.1: one process for
the sites of a tick, one `runs` row, status and log line per site; a site another process is
crawling is skipped while the others crawl; a site that cannot be read fails alone; killing
the shared process (SIGKILL, SIGTERM) leaves every site's run closed and the next run continues.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.batcher import Batcher
from qmcrawler.run.locks import SiteLock
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, run_crawl
from tests.conftest import db_target
from tests.consistency import check_consistent
from tests.dbtools import rows as dict_rows
from tests.test_concurrency import SITES, edit_every_site, make_web, rows, write_config

#: the supervisor's line when a site's crawl has ended
ENDED = re.compile(r"crawl (s\d): (\w+) \(run (\d+), exit (-?\d+), [\d.]+ s, (\d+) changes?\)")


def schedule(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    settings = [f"--set={k}={v}" for k, v in {**LOCAL_SETTINGS, "RETRY_TIMES": "0"}.items()]
    return subprocess.run(
        [sys.executable, "schedule.py", "--once", *settings, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def site_runs(db: Path, after: int = 0) -> dict[str, dict[str, object]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT * FROM runs WHERE id > ? ORDER BY id", [after]).fetchall()
        return {str(r["sites"]): dict(r) for r in found}
    finally:
        conn.close()


@pytest.mark.timeout(400)  # a few crawls, each its own process, on a shared 2-core machine
def test_sites_due_together_are_crawled_by_one_process_each_with_its_own_run(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=4, delay=0)
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        first = schedule("--config", str(config), "--db", str(db))
        assert first.returncode == 0, first.stderr[-3000:]
        assert first.stdout.split("\n")[:SITES] == [f"s{s}: finished" for s in range(SITES)]
        runs = site_runs(db)
        assert sorted(runs) == [f"s{s}" for s in range(SITES)]  # one row per site
        assert len({r["pid"] for r in runs.values()}) == 1  # ... written by one crawl process
        starting = [line for line in first.stderr.splitlines() if ": starting (pid" in line]
        assert len(starting) == 1, first.stderr[-3000:]
        assert "crawl s0, s1, s2, s3: starting" in starting[0]
        ended = ENDED.findall(first.stderr)
        assert sorted((site, status, changes) for site, status, _, _, changes in ended) == [
            (f"s{s}", "finished", "4") for s in range(SITES)
        ]
        for run in runs.values():
            assert run["status"] == "finished"
            stats = json.loads(str(run["stats"]))
            assert stats["qmcrawler/store/new"] == 4, stats  # its own downloads, not the process's 16
            assert stats["qmcrawler/process/sites"] == "s0,s1,s2,s3"
            assert stats["qmcrawler/revisit/lists"] == 1
        owners = rows(
            db,
            "SELECT DISTINCT r.sites, p.site FROM fetches f JOIN pages p ON p.id = f.page_id "
            "JOIN runs r ON r.id = f.run_id ORDER BY p.site",
        )
        assert owners == [(f"s{s}", f"s{s}") for s in range(SITES)]  # each download is its own site's run's
        edit_every_site(root)
        tomorrow = (datetime.now(UTC) + timedelta(days=1, hours=1)).isoformat()  # known pages are due again
        second = schedule(
            "--config", str(config), "--db", str(db), "--sites-per-crawl", "2", f"--set=QMC_NOW={tomorrow}"
        )
        assert second.returncode == 0, second.stderr[-3000:]
    again = site_runs(db, after=max(int(str(r["id"])) for r in runs.values()))
    assert sorted(again) == [f"s{s}" for s in range(SITES)]
    assert len({r["pid"] for r in again.values()}) == 2  # the cap: two processes of two sites
    assert sorted((site, status, changes) for site, status, _, _, changes in ENDED.findall(second.stderr)) == [
        (f"s{s}", "finished", "1") for s in range(SITES)
    ]  # each site's own edit, counted for that site
    assert check_consistent(db) == SITES * 4 + SITES


@pytest.mark.timeout(300)
def test_a_site_locked_by_another_process_is_skipped_while_the_others_crawl(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=2, delay=0)
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web, SiteLock.for_site(db, "s1"):  # another process is crawling s1
        config = write_config(tmp_path / "sites.toml", web.base)
        result = schedule("--config", str(config), "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]  # a skipped site is not a failure
    lines = result.stdout.strip().splitlines()
    assert lines == [
        "s0: finished",
        f"s1: skipped (s1: already being crawled (pid {os.getpid()}))",
        "s2: finished",
        "s3: finished",
    ]
    assert f"skipping s1: s1: already being crawled (pid {os.getpid()})" in result.stderr
    runs = site_runs(db)
    assert sorted(runs) == ["s0", "s2", "s3"]
    assert len({r["pid"] for r in runs.values()}) == 1
    assert rows(db, "SELECT DISTINCT site FROM pages ORDER BY site") == [("s0",), ("s2",), ("s3",)]


@pytest.mark.timeout(300)
def test_a_site_that_cannot_be_read_fails_alone(tmp_path: Path) -> None:
    root = make_web(tmp_path / "web", pages=2, delay=0)
    routes = json.loads((root / "_routes.json").read_text(encoding="utf-8"))
    (root / "_routes.json").write_text(json.dumps({**routes, "/s1/index.htm": {"status": 500}}), encoding="utf-8")
    db = tmp_path / "qm.db"
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        text = config.read_text(encoding="utf-8")  # s3: nothing listens there (connection refused)
        config.write_text(text.replace(f"{web.base}/s3/", "http://127.0.0.1:9/s3/"), encoding="utf-8")
        result = schedule("--config", str(config), "--db", str(db))
    assert result.returncode == 1, result.stderr[-3000:]  # --once: a failed site is a failed run
    out = result.stdout.strip().splitlines()
    assert [out[0], out[2]] == ["s0: finished", "s2: finished"], result.stdout
    assert out[1].startswith("s1: failed (s1: none of its 1 download succeeded (first: "), out[1]
    assert out[1].endswith("/s1/index.htm: http_500))"), out[1]
    assert out[3].startswith("s3: failed (s3: none of its 1 download succeeded"), out[3]
    runs = site_runs(db)
    assert {site: r["status"] for site, r in runs.items()} == {
        "s0": "finished",
        "s1": "failed",
        "s2": "finished",
        "s3": "failed",
    }
    assert len({r["pid"] for r in runs.values()}) == 1
    assert json.loads(str(runs["s1"]["stats"]))["qmcrawler/site/error"].startswith("s1: none of its 1 download")
    assert "qmcrawler/site/error" not in json.loads(str(runs["s0"]["stats"]))
    assert rows(db, "SELECT site, count(*) FROM pages GROUP BY site ORDER BY site") == [("s0", 2), ("s2", 2)]


@pytest.mark.both_backends
@pytest.mark.timeout(300)
def test_one_crawl_process_with_a_run_per_site_closes_each_site_alone(tmp_path: Path, backend: str) -> None:
    """The crawl side of a batch (what the scheduler or a queue's worker starts): a runs row per site."""
    root = make_web(tmp_path / "web", pages=2, delay=0)
    routes = json.loads((root / "_routes.json").read_text(encoding="utf-8"))
    (root / "_routes.json").write_text(json.dumps({**routes, "/s1/index.htm": {"status": 500}}), encoding="utf-8")
    db = db_target(backend, tmp_path)
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        settings = {**LOCAL_SETTINGS, "RETRY_TIMES": "0", "QMC_RUN_PER_SITE": "true"}
        result = run_crawl(config, db, settings=settings, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]  # the crawl ran; one of its sites failed
    runs = {str(r["sites"]): r for r in dict_rows(db, "SELECT * FROM runs ORDER BY id")}
    assert {site: r["status"] for site, r in runs.items()} == {
        "s0": "finished",
        "s1": "failed",
        "s2": "finished",
        "s3": "finished",
    }
    assert len({r["pid"] for r in runs.values()}) == 1
    assert json.loads(str(runs["s1"]["stats"]))["qmcrawler/site/error"].startswith("s1: none of its 1 download")
    for site in ("s0", "s2", "s3"):
        assert json.loads(str(runs[site]["stats"]))["qmcrawler/store/new"] == 2
    owners = rows(
        db,
        "SELECT DISTINCT r.sites, p.site FROM fetches f JOIN pages p ON p.id = f.page_id "
        "JOIN runs r ON r.id = f.run_id ORDER BY p.site",
    )
    assert owners == [("s0", "s0"), ("s2", "s2"), ("s3", "s3")]  # each download is its own site's run's
    assert check_consistent(db) == 6


def _running(db: Path, after: int, web: MiniWeb, served: int, deadline: float) -> list[int]:
    """Wait until SITES runs newer than `after` are `running` and pages are being served; their pids."""
    while time.monotonic() < deadline:
        try:
            found = rows(db, f"SELECT pid FROM runs WHERE status = 'running' AND id > {after}")  # noqa: S608
        except sqlite3.OperationalError:  # no database, or not migrated yet
            found = []
        if len(found) == SITES and len(web.requests) >= served + 3:
            return sorted({int(str(pid)) for (pid,) in found})
        time.sleep(0.1)
    raise AssertionError("the crawl did not get going")


@pytest.mark.timeout(500)  # four crawls of four slow sites
def test_killing_the_shared_process_leaves_every_site_run_closed_and_the_next_run_continues(tmp_path: Path) -> None:
    pages = 12
    root = make_web(tmp_path / "web", pages=pages, delay=1.0)  # one host, 2 at a time: ~24 s a crawl
    db = tmp_path / "qm.db"
    settings = [f"--set={k}={v}" for k, v in {**LOCAL_SETTINGS, "LOG_LEVEL": "ERROR"}.items()]
    with MiniWeb([root]) as web:
        config = write_config(tmp_path / "sites.toml", web.base)
        argv = [sys.executable, "schedule.py", "--once", *settings, "--config", str(config), "--db", str(db)]
        outcomes = []
        for kill in ("everything", "SIGKILL", "SIGTERM"):
            before = max([int(str(r[0])) for r in rows(db, "SELECT id FROM runs")], default=0) if db.exists() else 0
            proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            (pid,) = _running(db, before, web, len(web.requests), time.monotonic() + 120)  # one process, four sites
            if kill == "everything":  # the scheduler and the crawl die: nobody closes the runs
                proc.kill()
                os.kill(pid, signal.SIGKILL)
            else:
                os.kill(pid, getattr(signal, kill))
            out, err = proc.communicate(timeout=120)
            outcomes.append((kill, proc.returncode, out))
            check_consistent(db)
            statuses = {str(r["sites"]): r["status"] for r in site_runs(db, before).values()}
            expected = {"everything": "running", "SIGKILL": "failed", "SIGTERM": "shutdown"}[kill]
            assert statuses == {f"s{s}": expected for s in range(SITES)}, (kill, statuses, err[-2000:])
            if kill == "SIGKILL":
                killed = rows(db, f"SELECT status FROM runs ORDER BY id LIMIT {SITES}")  # noqa: S608
                assert killed == [("killed",)] * SITES  # the runs the first kill left open, closed by this crawl
                assert [line.split(" (")[0] for line in out.splitlines()] == [f"s{s}: failed" for s in range(SITES)]
                assert all("(crawl exited with status -9" in line for line in out.splitlines()), out
        final = schedule("--config", str(config), "--db", str(db))
    assert final.returncode == 0, final.stderr[-3000:]
    assert [code for _, code, _ in outcomes[1:]] == [1, 1]
    assert rows(db, "SELECT status, count(*) FROM runs GROUP BY status ORDER BY status") == [
        ("failed", SITES),
        ("finished", SITES),
        ("killed", SITES),
        ("shutdown", SITES),
    ]
    assert check_consistent(db) == SITES * pages  # every page once: nothing lost, nothing doubled
    assert rows(db, "SELECT count(*) FROM changes WHERE kind != 'new'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM search_queue") == [(0,)]  # what the kills left queued is indexed


def test_the_batcher_groups_sites_due_within_the_window_and_caps_each_batch() -> None:
    batches: list[list[str]] = []
    release = threading.Event()

    def run(sites: list[str]) -> None:
        batches.append(sites)
        release.wait(10)

    batcher = Batcher(run, window=0.5, cap=3, workers=2)
    try:
        for site in ("a", "b"):
            assert batcher.add(site)
        time.sleep(0.1)
        assert batcher.add("c")  # due a little later: still the same batch
        assert batcher.add("d")  # the cap: a, b, c started at once, d opens the next batch
        assert not batcher.add("a")  # still being crawled: not queued twice
        deadline = time.monotonic() + 10
        while len(batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert batches == [["a", "b", "c"], ["d"]]
    finally:
        release.set()
        batcher.close()
    assert not batcher.add("e")  # closed: no new batches
