"""Workers and the dispatcher on a real PostgreSQL (its own server: one test restarts it), real processes and signals.

Small sites (a list page and a few articles each) are served by MiniWeb on 127.0.0.1; workers
are `python -m qmcrawler worker` subprocesses, the dispatcher is `schedule.py --db postgresql://…`.
What is checked is read back from the database: the queue's jobs and the store's `runs`,
`versions` and `changes`.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from bench.schedstart import make_sites
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT
from tests.changedb import receiver
from tests.pgserver import PgServer, start_server

pytestmark = pytest.mark.timeout(600)

#: a worker silent this long is dead (short, so the tests do not wait a minute)
STALLED_AFTER = "4"


class Fleet:
    """The processes of one test (workers, dispatchers) with their logs; all stopped at the end."""

    def __init__(self, tmp: Path, url: str, config: Path) -> None:
        self.tmp, self.url, self.config = tmp, url, config
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((proc, log))
        return proc

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        settings = [a for k, v in {**LOCAL_SETTINGS, "QMC_BATCH_SIZE": "1"}.items() for a in ("-s", f"{k}={v}")]
        argv = [sys.executable, "-m", "qmcrawler", "worker", "--db", self.url, "--config", str(self.config)]
        return self.start(name, [*argv, "--stalled-after", STALLED_AFTER, "--stop-grace", "20", *settings, *extra])

    def dispatcher(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "schedule.py", "--db", self.url, "--config", str(self.config), "--sites-per-crawl", "1"]
        return self.start(name, [*argv, *extra])

    def enqueue(self, *sites: str) -> str:
        argv = [sys.executable, "-m", "qmcrawler", "enqueue", "--db", self.url, "--config", str(self.config), *sites]
        done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for _, log in self.procs)

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    """A PostgreSQL server of this module's own (the restart test must not disturb the other tests)."""
    srv = start_server()
    yield srv
    srv.close()


@pytest.fixture
def fleet(tmp_path: Path, server: PgServer) -> Iterator[tuple[Fleet, MiniWeb]]:
    """Sites s0…s2 (three articles each) on MiniWeb, a fresh database, and the test's processes."""
    root = tmp_path / "web"
    root.mkdir()
    with MiniWeb([root]) as web:
        config = tmp_path / "sites.toml"
        config.write_text(make_sites(root, 3, 3, web.base), encoding="utf-8")
        fleet = Fleet(tmp_path, server.new_database(), config)
        try:
            yield fleet, web
        finally:
            fleet.stop()


def rows(url: str, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    for _ in range(60):  # the restart test reads while the server comes back
        try:
            with psycopg.connect(url) as conn:
                return conn.execute(sql, params or []).fetchall()  # type: ignore[arg-type]
        except psycopg.OperationalError:
            time.sleep(0.5)
    raise AssertionError("database unreachable")


def wait_for(what: str, check: Callable[[], bool], fleet: Fleet, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{fleet.logs()}")


def jobs_done(url: str) -> bool:
    """Every job has ended (none waiting or running)."""
    return not rows(url, "SELECT id FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")


def assert_no_overlap(url: str) -> None:
    """No two runs of one site overlapped in time (each site was crawled by one worker at a time)."""
    runs: dict[str, list[tuple[datetime, datetime]]] = {}
    for site, started, finished in rows(url, "SELECT sites, started_at, finished_at FROM runs ORDER BY started_at"):
        assert finished, f"a run of {site} never ended"
        runs.setdefault(str(site), []).append(
            (datetime.fromisoformat(str(started)), datetime.fromisoformat(str(finished)))
        )
    for site, spans in runs.items():
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"two runs of {site} overlap: {spans}"


def assert_consistent(url: str, sites: int, pages: int) -> None:
    """Every page stored once, with one version and one change: nothing lost or duplicated."""
    per_page = rows(
        url,
        "SELECT p.url, (SELECT count(*) FROM versions v WHERE v.page_id = p.id), "
        "(SELECT count(*) FROM changes c WHERE c.page_id = p.id) FROM pages p",
    )
    articles = [r for r in per_page if "/art/" in str(r[0])]
    assert len(articles) == sites * pages, per_page
    assert all(r[1] == 1 and r[2] == 1 for r in articles), per_page


def test_workers_crawl_each_due_site_once_per_tick_and_never_one_site_twice_at_once(
    fleet: tuple[Fleet, MiniWeb],
) -> None:
    f, web = fleet
    web.routes["/s0/art/p0.htm"] = {"delay": 4}  # s0 is still being crawled when it is asked for again
    for name in ("w1", "w2", "w3"):
        f.worker(name)
    every = 45
    # two dispatchers on the same schedule (one is restarted half-way): each tick is queued once
    d1 = f.dispatcher("d1", "--every", str(every))
    d2 = f.dispatcher("d2", "--every", str(every))
    wait_for("the first tick's crawls to start", lambda: crawl_pid(f.url, "s0") is not None, f)
    first = int(str(rows(f.url, "SELECT min((args->>'timestamp')::bigint) FROM procrastinate_jobs")[0][0]))
    assert "s0: queued as job" in f.enqueue("s0")  # on demand while its tick's crawl runs: waits for it
    time.sleep(max(0.0, first + every / 2 - time.time()))
    d1.send_signal(signal.SIGTERM)
    assert d1.wait(30) == 0
    d3 = f.dispatcher("d1-again", "--every", str(every))
    time.sleep(max(0.0, first + every - time.time()) + 3)
    for d in (d2, d3):
        d.send_signal(signal.SIGTERM)
        assert d.wait(30) == 0
    wait_for("the ticks' crawls", lambda: jobs_done(f.url), f)
    jobs = rows(f.url, "SELECT args->>'sites', args->>'timestamp', status FROM procrastinate_jobs")
    ticks = sorted({int(str(t)) for _, t, _ in jobs if t is not None})
    assert ticks == [first, first + every], jobs
    for tick in ticks:
        assert sorted(str(s) for s, t, _ in jobs if t == str(tick)) == ['["s0"]', '["s1"]', '["s2"]'], jobs
    assert {status for *_, status in jobs} == {"succeeded"}, jobs
    runs = rows(f.url, "SELECT sites, status FROM runs")
    for site in ("s0", "s1", "s2"):  # one crawl per job: per tick, and the on-demand ones
        assert sum(1 for s, _ in runs if s == site) == sum(1 for s, *_ in jobs if s == f'["{site}"]'), (runs, jobs)
    assert {status for _, status in runs} == {"finished"}, runs
    assert len({w for (w,) in rows(f.url, "SELECT DISTINCT worker_id FROM procrastinate_jobs")}) >= 2
    assert_no_overlap(f.url)


def test_a_queued_site_is_not_queued_again(fleet: tuple[Fleet, MiniWeb]) -> None:
    f, _ = fleet
    assert f.enqueue("s0", "s1") == "s0: queued as job 1\ns1: queued as job 2\n"
    assert f.enqueue("s1") == "s1: already queued\n"
    for name in ("once", "once-again"):  # the dispatcher restarted while its jobs still wait
        assert f.dispatcher(name, "--once").wait(120) == 0
    assert rows(f.url, "SELECT args->>'sites' FROM procrastinate_jobs ORDER BY id") == [
        ('["s0"]',),
        ('["s1"]',),
        ('["s2"]',),
    ]
    assert "s2: queued" in f.logs()
    assert "s0: already queued" in f.logs()


def crawl_pid(url: str, site: str) -> int | None:
    found = rows(url, "SELECT pid FROM runs WHERE sites = %s AND status = 'running'", [site])
    return int(str(found[0][0])) if found else None


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_kill_9_of_a_worker_mid_crawl_retries_the_job_elsewhere_and_the_data_stays_consistent(
    fleet: tuple[Fleet, MiniWeb],
) -> None:
    f, web = fleet
    for i, delay in enumerate((1, 15, 15)):  # the first article is stored, the others take a while
        web.routes[f"/s0/art/p{i}.htm"] = {"delay": delay}
    workers = {w.pid: w for w in (f.worker("w1"), f.worker("w2"))}
    f.enqueue("s0")
    wait_for("the crawl to store a page", lambda: bool(rows(f.url, "SELECT id FROM fetches")), f)
    time.sleep(1)
    pid = crawl_pid(f.url, "s0")
    assert pid is not None, rows(f.url, "SELECT * FROM runs")
    victim = workers.pop(parent_of(pid))
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    wait_for("the killed worker's crawl to die with it", lambda: not Path(f"/proc/{pid}").exists(), f, 30)
    wait_for("the retry to finish", lambda: jobs_done(f.url) and crawl_pid(f.url, "s0") is None, f)
    runs = rows(f.url, "SELECT status, pid FROM runs ORDER BY id")
    assert [status for status, _ in runs] == ["killed", "finished"], runs
    assert rows(f.url, "SELECT status FROM procrastinate_jobs") == [("succeeded",)]
    assert_consistent(f.url, 1, 3)
    assert_no_overlap(f.url)


def test_sigterm_stops_the_crawl_and_puts_the_job_back(fleet: tuple[Fleet, MiniWeb]) -> None:
    f, web = fleet
    web.routes["/s0/art/p2.htm"] = {"delay": 30}
    first = f.worker("w1")
    f.enqueue("s0")
    wait_for("the crawl to start", lambda: crawl_pid(f.url, "s0") is not None, f)
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0
    assert rows(f.url, "SELECT status FROM runs") == [("stopped",)]
    assert rows(f.url, "SELECT status FROM procrastinate_jobs") == [("todo",)]
    web.routes.clear()
    f.worker("w2")
    wait_for("another worker to crawl it", lambda: jobs_done(f.url), f)
    assert rows(f.url, "SELECT status FROM runs ORDER BY id") == [("stopped",), ("finished",)]
    assert_consistent(f.url, 1, 3)


def test_sigterm_with_drain_lets_the_crawl_finish(fleet: tuple[Fleet, MiniWeb]) -> None:
    f, web = fleet
    web.routes["/s0/art/p2.htm"] = {"delay": 5}
    worker = f.worker("w1", "--drain")
    f.enqueue("s0")
    wait_for("the crawl to start", lambda: crawl_pid(f.url, "s0") is not None, f)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(120) == 0
    assert rows(f.url, "SELECT status FROM runs") == [("finished",)]
    assert rows(f.url, "SELECT status FROM procrastinate_jobs") == [("succeeded",)]
    assert_consistent(f.url, 1, 3)


def test_workers_carry_on_after_a_postgresql_restart(fleet: tuple[Fleet, MiniWeb], server: PgServer) -> None:
    f, web = fleet
    web.routes["/s0/art/p1.htm"] = {"delay": 8}  # s0 is being crawled when the server restarts
    workers = [f.worker("w1"), f.worker("w2")]
    f.enqueue("s0")
    wait_for("the crawl to store a page", lambda: bool(rows(f.url, "SELECT id FROM fetches")), f)
    server.restart()
    f.enqueue("s1", "s2")
    wait_for("the crawls after the restart", lambda: jobs_done(f.url), f)
    assert all(w.poll() is None for w in workers), f.logs()
    assert "database unreachable" in f.logs()
    runs = rows(f.url, "SELECT sites, status FROM runs ORDER BY id")
    assert ("s1", "finished") in runs, runs
    assert ("s2", "finished") in runs, runs
    assert {status for _, status in runs} <= {"finished", "failed"}, runs  # the crawl through the restart ended
    if ("s0", "finished") not in runs:  # it lost its open batch: the next crawl fetches what is missing
        web.routes.clear()
        f.enqueue("s0")
        wait_for("the next crawl of s0", lambda: jobs_done(f.url), f)
    assert rows(f.url, "SELECT status FROM procrastinate_jobs WHERE status <> 'succeeded'") == []
    assert_consistent(f.url, 3, 3)


def test_the_dispatcher_sends_the_digest_of_what_the_workers_found(fleet: tuple[Fleet, MiniWeb]) -> None:
    f, _ = fleet
    with receiver() as hook:
        text = f.config.read_text(encoding="utf-8")
        f.config.write_text(f'[notify]\nurls = ["{hook.url}"]\nmin_change = "new"\nonly_relevant = false\n' + text)
        f.worker("w1")
        f.dispatcher("d1", "--every", "15")
        f.dispatcher("d2", "--every", "15")  # a second dispatcher sends nothing twice
        wait_for("a digest", lambda: bool(hook.posts), f)
        time.sleep(35)  # more rounds of both dispatchers
        f.stop()
    assert hook.posts[0]["title"].startswith("qmcrawler: "), hook.posts
    deliveries = rows(f.url, "SELECT change_id, status, attempts FROM notifications")
    assert deliveries, hook.posts
    assert {(status, attempts) for _, status, attempts in deliveries} == {("sent", 1)}, deliveries  # each change once


def test_the_worker_needs_postgresql(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "qmcrawler", "worker", "--db", str(tmp_path / "qm.db")]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "the job queue needs a PostgreSQL database" in done.stderr
    assert os.linesep.join(done.stderr.strip().splitlines()).count("\n") == 0
