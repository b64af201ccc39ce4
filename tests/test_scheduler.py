"""The scheduler: jobs run and never overlap, every run ends as a `runs` row, locks hold across processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.config import load_config
from qmcrawler.run.locks import LockBusy, SiteLock
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT
from qmcrawler.run.scheduler import TZ, CrawlScheduler, SchedulerError, _crontab_dow, cron_trigger
from qmcrawler.run.supervisor import CrawlOptions, CrawlResult, Supervisor
from qmcrawler.storage import open_db, queries
from tests.changedb import receiver
from tests.conftest import Site

SITES = """
[sites.demo]
start_urls = ["http://127.0.0.1:1/news/index.html"]
articles = ['/news/a\\d+\\.html$']
schedule = "30 6 * * 1-5"
"""
# A stand-in for `scrapy crawl`: logs start/end, writes its runs row like the store pipeline,
# then sleeps MODE seconds, or crashes ("crash": after opening its run, "early": before).
FAKE = """
import os, sys, time
db, site, mode, log = sys.argv[1:5]
with open(log, "a") as f:
    f.write(f"start {time.monotonic()}\\n")
if mode == "early":
    sys.exit(5)
from qmcrawler.storage import open_db
from qmcrawler.storage.writer import Store
store = Store(open_db(db))
run = store.begin_run("site", site)
if mode == "crash":
    os._exit(3)
time.sleep(float(mode))
with open(log, "a") as f:
    f.write(f"end {time.monotonic()}\\n")
store.finish_run(run, "finished", {"fake": 1})
"""


def fake_supervisor(tmp_path: Path, mode: str, timeout: float = 30) -> Supervisor:
    db, log = str(tmp_path / "qm.db"), str(tmp_path / "crawl.log")
    open_db(db).close()
    options = CrawlOptions(config=tmp_path / "sites.toml", db=db, timeout=timeout, stop_grace=5)
    return Supervisor(options, command=lambda site: [sys.executable, "-c", FAKE, db, site, mode, log])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(SITES, encoding="utf-8")
    return path


def runs(db: str | Path) -> list[dict[str, object]]:
    conn = open_db(db)
    try:
        return list(reversed(queries.runs(conn, limit=100)))
    finally:
        conn.close()


def test_jobs_run_repeatedly_and_never_overlap(tmp_path: Path, config: Path) -> None:
    supervisor = fake_supervisor(tmp_path, "0.5")
    results: list[CrawlResult] = []
    three = threading.Event()

    class Counting(CrawlScheduler):
        def run_sites(self, sites: Sequence[str]) -> list[CrawlResult]:
            done = super().run_sites(sites)
            results.extend(done)
            if len(results) >= 3:
                three.set()
            return done

    sched = Counting(
        load_config(config), supervisor, trigger=lambda site: IntervalTrigger(seconds=0.2), window=0, jitter=0
    )
    stop = threading.Event()
    thread = threading.Thread(target=sched.run_forever, args=(stop,))
    thread.start()
    assert three.wait(30)
    stop.set()
    thread.join(30)
    assert all(r.status == "finished" for r in results)
    events = (tmp_path / "crawl.log").read_text().split()
    kinds = events[0::2]
    assert kinds[: 2 * len(results)] == ["start", "end"] * len(results)  # one at a time
    times = [float(t) for t in events[1::2]]
    assert times == sorted(times)
    assert [r["status"] for r in runs(tmp_path / "qm.db")][: len(results)] == ["finished"] * len(results)


def test_crashed_crawls_are_recorded_as_failed(tmp_path: Path) -> None:
    result = fake_supervisor(tmp_path, "crash").crawl("demo")
    assert (result.status, result.returncode, result.ok) == ("failed", 3, False)
    early = fake_supervisor(tmp_path, "early").crawl("demo")
    assert (early.status, early.returncode) == ("failed", 5)
    rows = runs(tmp_path / "qm.db")
    assert [(r["id"], r["status"], r["sites"]) for r in rows] == [
        (result.run_id, "failed", "demo"),
        (early.run_id, "failed", "demo"),
    ]
    assert all(r["finished_at"] for r in rows)
    stats = json.loads(str(rows[0]["stats"]))
    assert stats["qmcrawler/scheduler/exit_code"] == 3
    assert json.loads(str(rows[1]["stats"]))["qmcrawler/scheduler/error"] == "crawl exited with status 5"


def test_time_limit_stops_the_crawl(tmp_path: Path) -> None:
    started = time.monotonic()
    result = fake_supervisor(tmp_path, "30", timeout=1.5).crawl("demo")
    assert result.status == "timeout"
    assert time.monotonic() - started < 10
    assert [r["status"] for r in runs(tmp_path / "qm.db")] == ["timeout"]


# A stand-in for `scrapy crawl` that writes down each SIGTERM it gets, and stops a second after the first.
COUNT_TERMS = """
import signal, sys, time
log = sys.argv[1]
def on_term(signum, frame):
    with open(log, "a") as f:
        f.write("term\\n")
signal.signal(signal.SIGTERM, on_term)
with open(log, "a") as f:
    f.write("start\\n")
while "term" not in open(log).read():
    time.sleep(0.05)
time.sleep(1)
"""


def test_a_stop_requested_twice_signals_each_crawl_once(tmp_path: Path) -> None:
    """schedule.py asks twice (its signal handler, then run_forever once it wakes): Scrapy reads a
    second SIGTERM as 'forcing unclean shutdown', so each crawl must be told once."""
    db, log = str(tmp_path / "qm.db"), tmp_path / "crawl.log"
    open_db(db).close()
    options = CrawlOptions(config=tmp_path / "sites.toml", db=db, timeout=30, stop_grace=10)
    supervisor = Supervisor(options, command=lambda site: [sys.executable, "-c", COUNT_TERMS, str(log)])
    results: list[CrawlResult] = []
    crawl = threading.Thread(target=lambda: results.append(supervisor.crawl("demo")))
    crawl.start()
    deadline = time.monotonic() + 20
    while not (log.exists() and "start" in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    supervisor.request_stop()
    supervisor.request_stop()
    crawl.join(timeout=20)
    assert results, "the crawl did not end"
    assert log.read_text().split() == ["start", "term"]
    assert results[0].status == "stopped"


HOLD = """
import sys
from qmcrawler.run.locks import SiteLock
with SiteLock.for_site(sys.argv[1], "demo"):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_lock_holds_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "qm.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(LockBusy, match=f"already being crawled \\(pid {holder.pid}\\)"):
            SiteLock.for_site(db, "demo").acquire()
        skipped = fake_supervisor(tmp_path, "0").crawl("demo")
        assert (skipped.status, skipped.ok) == ("skipped", True)
        assert not (tmp_path / "crawl.log").exists()  # never started
    finally:
        holder.communicate("", timeout=10)
    with SiteLock.for_site(db, "demo"):  # released when the holder exited
        pass


def test_crawl_subprocess_keeps_the_lock(tmp_path: Path) -> None:
    supervisor = fake_supervisor(tmp_path, "crash")
    lock = SiteLock.for_site(supervisor.options.db, "demo")
    lock.acquire()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=[lock.fileno])
    try:
        os.close(lock.fileno)  # the parent (a killed scheduler) lets go; the crawl's copy still holds it
        lock._fd = None
        with pytest.raises(LockBusy):
            SiteLock.for_site(supervisor.options.db, "demo").acquire()
    finally:
        proc.kill()
        proc.wait()
    with SiteLock.for_site(supervisor.options.db, "demo"):
        pass


def schedule(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    settings = [f"--set={k}={v}" for k, v in LOCAL_SETTINGS.items()]
    return subprocess.run(
        [sys.executable, "schedule.py", *settings, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_once_crawls_notifies_and_exits_zero(site: Site) -> None:
    with receiver() as hook:
        text = site.config.read_text(encoding="utf-8")
        site.config.write_text(
            f'[notify]\nurls = ["{hook.url}"]\nmin_change = "new"\nonly_relevant = false\n' + text, encoding="utf-8"
        )
        result = schedule("--once", "--config", str(site.config), "--db", str(site.db))
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == "demo: finished"
        assert len(hook.posts) == 1
        assert hook.posts[0]["title"].startswith("qmcrawler: 5 changes (5 new)")
    assert [r["status"] for r in runs(site.db)] == ["finished"]


def test_a_bad_set_value_is_one_line_and_exit_2_before_any_crawl(site: Site) -> None:
    """Found by a walkthrough: every site's crawl failed on it, and --once exited 1 with a failed run per site."""
    bad = schedule("--once", "--set=QMC_BATCH_SIZE=abc", "--config", str(site.config), "--db", str(site.db))
    assert bad.returncode == 2, bad.stderr[-2000:]
    assert bad.stderr.strip().splitlines() == ["error: QMC_BATCH_SIZE must be a whole number, not 'abc'"]
    assert not site.db.exists()


def test_once_exit_codes_on_failure(site: Site) -> None:
    timed_out = schedule("--once", "--timeout", "0.3", "--config", str(site.config), "--db", str(site.db))
    assert timed_out.returncode == 1
    assert "demo: timeout (time limit of 0.3 s reached)" in timed_out.stdout
    assert [r["status"] for r in runs(site.db)] == ["timeout"]
    bad = schedule("--once", "--config", str(site.root / "missing.toml"), "--db", str(site.db))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"error: {site.root / 'missing.toml'}: config file not found"]


def test_sigterm_stops_the_running_crawl_cleanly(site: Site) -> None:
    site.route("/news/index.html", delay=30)
    settings = [f"--set={k}={v}" for k, v in LOCAL_SETTINGS.items()]
    proc = subprocess.Popen(
        [
            sys.executable,
            "schedule.py",
            *settings,
            "--once",
            "--stop-grace",
            "5",
            "--config",
            str(site.config),
            "--db",
            str(site.db),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while "/news/index.html" not in site.web.requests:  # the crawl is under way
        assert time.monotonic() < deadline
        assert proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1, err[-3000:]
    assert time.monotonic() - started < 15
    assert "demo: stopped" in out
    assert [r["status"] for r in runs(site.db)] == ["stopped"]


def test_list_prints_jobs_and_next_runs(config: Path, tmp_path: Path) -> None:
    result = schedule("--list", "--config", str(config), "--db", str(tmp_path / "qm.db"), timeout=30)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("crawl:demo")
    assert " 30 6 * * 1-5 " in line
    assert re.search(r"next run \d{4}-\d\d-\d\d 06:30:00 \+08:00  last run never$", line), line


def test_list_into_a_closed_pipe_is_quiet(config: Path, tmp_path: Path) -> None:
    """`schedule.py --list | head -1`: the reader is gone; no traceback, exit 1 (as `qmcrawler` does)."""
    read, write = os.pipe()
    os.close(read)  # the reader stopped before anything was written
    argv = [sys.executable, "schedule.py", "--list", "--config", str(config), "--db", str(tmp_path / "qm.db")]
    try:
        proc = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 1
    assert proc.stderr == ""


def test_once_logs_change_counts_in_local_time_and_list_shows_the_last_run(site: Site) -> None:
    """Issue 13: the daemon log has one zone (Beijing time) and each crawl's change count; --list the last run."""
    site.route("/news/a3.html", status=503)  # one failed download (after retries)
    result = schedule("--once", "--config", str(site.config), "--db", str(site.db), "--set=RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr[-3000:]
    finished = [line for line in result.stderr.splitlines() if "crawl demo: finished" in line]
    assert len(finished) == 1, result.stderr[-3000:]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 INFO ", finished[0]), finished[0]
    assert finished[0].endswith(", 4 changes)")
    listed = schedule("--list", "--config", str(site.config), "--db", str(site.db), timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert re.search(
        r"last run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 finished, 1 failed fetch, 4 changes$", listed.stdout
    )
    utc = schedule("--list", "--tz", "UTC", "--config", str(site.config), "--db", str(site.db), timeout=30)
    assert "+00:00 finished" in utc.stdout
    out = CliRunner().invoke(cli, ["sites", "--config", str(site.config), "--db", str(site.db)])
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "demo" in line)
    assert "finished" in row
    assert "+08:00" in out.output


def test_crontab_weekdays_and_bad_schedules() -> None:
    assert _crontab_dow("1-5") == "mon-fri"
    assert _crontab_dow("0,6") == "sun,sat"
    assert _crontab_dow("7") == "sun"
    assert _crontab_dow("0-6") == "*"
    assert _crontab_dow("*") == "*"
    trigger = cron_trigger("0 6 * * 0")
    nxt = trigger.get_next_fire_time(None, datetime(2024, 9, 2, tzinfo=TZ))  # a Monday
    assert nxt is not None
    assert nxt.strftime("%A %H:%M") == "Sunday 06:00"
    with pytest.raises(SchedulerError, match="site 'x' key 'schedule'"):
        cron_trigger("0 25 * * *", site="x")


ADOPT = """
import sys
from qmcrawler.run.locks import SiteLock
SiteLock.for_site(sys.argv[1], "demo").acquire_for_crawl()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_crawl_that_adopts_the_schedulers_lock_is_the_pid_a_busy_message_names(tmp_path: Path) -> None:
    """Found by a walkthrough: after `kill -9` of the scheduler, a second crawl named the dead scheduler's pid."""
    db = tmp_path / "qm.db"
    lock = SiteLock.for_site(db, "demo")
    lock.acquire()
    crawl = subprocess.Popen(
        [sys.executable, "-c", ADOPT, str(db)],
        cwd=PROJECT_ROOT,
        pass_fds=[lock.fileno],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert crawl.stdout is not None
        assert crawl.stdout.readline() == "held\n"
        os.close(lock.fileno)  # the scheduler dies; the crawl holds the lock alone
        lock._fd = None
        with pytest.raises(LockBusy, match=rf"demo: already being crawled \(pid {crawl.pid}\)"):
            SiteLock.for_site(db, "demo").acquire()
    finally:
        crawl.communicate("", timeout=10)
