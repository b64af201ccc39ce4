"""Supervised crawls: site locks, one subprocess with a time limit, and a `runs` row per site however it ends.

`crawl_many` crawls several sites in one subprocess (`-a sites=a,b,c -s QMC_RUN_PER_SITE=true`):
start-up (Python, Scrapy, our modules) is paid once instead of once per site, while each site
keeps its own lock, run row, status and log line. A site another process is crawling is skipped
(`skipped`, with the holder's pid) and the others crawl.

The crawl's store pipeline writes the sites' `runs` rows. When the subprocess dies without
closing them (a crash, the time limit, a kill), the supervisor closes each as `failed` /
`timeout` / `stopped`, or inserts a failed row for a site whose row was never written.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from qmcrawler.run.locks import LockBusy, SiteLock
from qmcrawler.run.runner import crawl_command, start_crawl
from qmcrawler.storage import lastrun, open_db, siteruns
from qmcrawler.storage.records import utcnow
from qmcrawler.storage.writer import Store

log = logging.getLogger(__name__)

#: statuses of a crawl that went as planned (a locked site was skipped, which is not a failure)
OK_STATUSES = ("finished", "skipped")


@dataclass(frozen=True)
class CrawlOptions:
    """How the scheduler runs crawls (see README.md, "Scheduling, notifications and reports")."""

    config: Path
    db: str
    timeout: float = 3600.0
    stop_grace: float = 30.0
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CrawlResult:
    """How one supervised crawl ended."""

    site: str
    status: str
    run_id: int | None = None
    returncode: int | None = None
    seconds: float = 0.0
    message: str = ""
    changes: int = 0  # page changes the run found
    pid: int | None = None  # the crawl process (shared by the sites crawled together)

    @property
    def ok(self) -> bool:
        """True unless the crawl failed, timed out or was stopped."""
        return self.status in OK_STATUSES


class Supervisor:
    """Runs crawls (any thread), one per site at a time across processes; `request_stop` ends them."""

    def __init__(self, options: CrawlOptions, command: Callable[[str], list[str]] | None = None) -> None:
        self.options = options
        self.command = command or self._default_command  # gets the comma-separated site ids
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._told: set[subprocess.Popen[bytes]] = set()  # the crawls sent SIGTERM (request_stop)
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def _default_command(self, sites: str) -> list[str]:
        settings = {"QMC_RUN_PER_SITE": "true", **self.options.settings}
        return crawl_command(self.options.config, self.options.db, sites, settings)

    def crawl(self, site: str) -> CrawlResult:
        """Crawl one site now unless another process is crawling it or we are stopping."""
        return self.crawl_many([site])[0]

    def crawl_many(self, sites: Sequence[str]) -> list[CrawlResult]:
        """Crawl these sites together in one subprocess; one result per site, in order.

        A site another process is crawling is skipped (logged, status `skipped`); the others crawl.
        """
        sites = list(dict.fromkeys(sites))
        if self.stopping.is_set():
            return [CrawlResult(site, "skipped", message="stopping") for site in sites]
        locks: dict[str, SiteLock] = {}
        results: dict[str, CrawlResult] = {}
        try:
            for site in sites:
                lock = SiteLock.for_site(self.options.db, site)
                try:
                    lock.acquire()
                except LockBusy as e:
                    log.warning("skipping %s: %s", site, e)
                    results[site] = CrawlResult(site, "skipped", message=str(e))
                    continue
                locks[site] = lock
            if locks:
                results.update(self._run(list(locks), [lock.fileno for lock in locks.values()]))
        finally:
            for lock in locks.values():
                lock.release()
        return [results[site] for site in sites]

    def _run(self, sites: list[str], fds: list[int]) -> dict[str, CrawlResult]:
        started_at, t0 = utcnow(), time.monotonic()
        with tempfile.TemporaryFile() as output:
            proc = start_crawl(self.command(",".join(sites)), output, pass_fds=fds)
            log.info("crawl %s: starting (pid %s)", ", ".join(sites), proc.pid)
            with self._lock:
                self._procs.add(proc)
            try:
                timed_out = self._wait(proc)
            finally:
                with self._lock:
                    self._procs.discard(proc)
                    self._told.discard(proc)
            tail = _tail(output)
        results = self._record(sites, proc, started_at, time.monotonic() - t0, timed_out, tail)
        for result in results.values():
            log.log(
                logging.INFO if result.ok else logging.ERROR,
                "crawl %s: %s (run %s, exit %s, %.1f s, %d change%s)%s",
                result.site,
                result.status,
                result.run_id,
                result.returncode,
                result.seconds,
                result.changes,
                "" if result.changes == 1 else "s",
                f": {result.message}" if result.message else "",
            )
        return results

    def _wait(self, proc: subprocess.Popen[bytes]) -> bool:
        """Wait for the crawl; past the time limit tell it to stop, then kill it. True if timed out."""
        try:
            proc.wait(timeout=self.options.timeout)
            return False
        except subprocess.TimeoutExpired:
            log.warning("crawl pid %s: time limit of %g s reached, stopping it", proc.pid, self.options.timeout)
            _stop(proc, self.options.stop_grace)
            return True

    def _record(
        self,
        sites: list[str],
        proc: subprocess.Popen[bytes],
        started_at: str,
        seconds: float,
        timed_out: bool,
        tail: str,
    ) -> dict[str, CrawlResult]:
        """Make sure every site's run ends as a `runs` row with a final status; return the results."""
        rc = proc.returncode
        db = open_db(self.options.db)
        try:
            rows = siteruns.process_runs(db, proc.pid, started_at)
            closed: dict[object, tuple[int, str, str]] = {}  # a row shared by several sites is closed once
            results = {}
            for site in sites:
                row = next((r for r in reversed(rows) if site in str(r["sites"] or "").split(",")), None)
                key = row["id"] if row else site  # a site without a row gets its own
                if key not in closed:
                    closed[key] = self._close(db, site, row, rc, started_at, seconds, timed_out, tail)
                run_id, status, message = closed[key]
                changes = lastrun.site_changes(db, run_id, site)
                results[site] = CrawlResult(site, status, run_id, rc, seconds, message, changes, proc.pid)
        finally:
            db.close()
        return results

    def _close(
        self,
        db: Any,
        site: str,
        row: dict[str, Any] | None,
        rc: int | None,
        started_at: str,
        seconds: float,
        timed_out: bool,
        tail: str,
    ) -> tuple[int, str, str]:
        """The run id, final status and message of one row; closes or inserts it when the crawl did not."""
        status = row["status"] if row else None
        if timed_out:
            status = "timeout"
        elif self.stopping.is_set() and status in (None, "running", "shutdown"):
            status = "stopped"
        elif (rc != 0 and status != "shutdown") or status in (None, "running"):  # a stopped crawl exits 1
            status = "failed"
        error = json.loads(row["stats"] or "{}").get(siteruns.SITE_ERROR_STAT) if row else None
        message = "" if status == "finished" else error or _message(status, rc, tail, self.options.timeout)
        run_id: int | None = int(row["id"]) if row else None
        if run_id is None or row is None or row["status"] != status:
            stats: dict[str, Any] = {
                "qmcrawler/scheduler/exit_code": rc,
                "qmcrawler/scheduler/seconds": round(seconds, 1),
            }
            if message:
                stats["qmcrawler/scheduler/error"] = message
            run_id = Store(db).fail_run(run_id, status, stats, sites=site, started_at=started_at)
        return run_id, str(status), message

    def request_stop(self) -> None:
        """Start no new crawl; tell running crawls to stop (SIGTERM), kill them after the grace time.

        Safe to call from a signal handler: it never waits.
        """
        self.stopping.set()
        with self._lock:  # each crawl is told once: a second SIGTERM is Scrapy's unclean shutdown
            procs = [proc for proc in self._procs if proc not in self._told]
            self._told.update(procs)
        for proc in procs:
            if proc.poll() is None:
                log.warning("stopping crawl pid %s", proc.pid)
                proc.send_signal(signal.SIGTERM)
                timer = threading.Timer(self.options.stop_grace, _kill_if_running, [proc])
                timer.daemon = True
                timer.start()


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _kill_if_running(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        log.warning("crawl pid %s did not stop in time, killing it", proc.pid)
        proc.kill()


def _tail(output: IO[bytes], limit: int = 4000) -> str:
    """The end of the crawl's log output."""
    output.seek(0, 2)
    size = output.tell()
    output.seek(max(0, size - limit))
    return output.read().decode("utf-8", errors="replace")


def _message(status: str, rc: int | None, tail: str, timeout: float) -> str:
    """One line saying why a crawl did not finish."""
    if status == "timeout":
        return f"time limit of {timeout:g} s reached"
    if status == "stopped":
        return "stopped by the scheduler"
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    last = (errors or lines or [""])[-1][:300]
    return f"crawl exited with status {rc}" + (f": {last}" if last else "")
