"""Running one benchmark crawl: wall time, Scrapy's elapsed time, peak RSS of the process tree.

Crawls run as `python -m scrapy crawl site` subprocesses (qmcrawler.run.runner), like every real
crawl. Peak memory is sampled from /proc every 50 ms as the PSS (proportional set size: RSS with
shared pages split among the processes sharing them) of the crawl process and all its
descendants, so a process pool can neither hide its memory nor count forked pages twice.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command

#: raised equally for the bare and the full crawl
CONCURRENCY = "16"
#: the bare baseline: the same spider and settings, no item pipelines (items are dropped)
BARE = {"ITEM_PIPELINES": "{}"}
_ELAPSED = re.compile(r"'elapsed_time_seconds': ([\d.]+)")
#: crawls so far into each database: each one runs a simulated day after the one before
_CRAWLS: dict[Path, int] = {}
_START = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class CrawlResult:
    """What one crawl cost."""

    wall: float  # seconds, process start to exit
    elapsed: float  # Scrapy's elapsed_time_seconds (engine start to close)
    peak_rss: int  # bytes, PSS of the whole process tree
    cpu: float  # seconds of CPU (user + system) of the crawl and its workers
    log: str


def _memory(pid: int) -> int:
    """Proportional set size of one process (shared pages split among their users), in bytes."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_pss(root: int) -> int:
    """PSS of `root` and all its descendants (from /proc): a forked worker counts only what it owns."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _memory(pid)
        todo += children.get(pid, [])
    return total


@dataclass(frozen=True)
class Measured:
    """What one process tree cost, from start to exit."""

    returncode: int
    wall: float  # seconds
    peak_pss: int  # bytes, the process and its descendants, sampled every 50 ms
    cpu: float  # seconds, user + system of the process and the descendants it waited for


#: where the measured processes keep their bytecode (git-ignored, kept between runs)
PYCACHE = PROJECT_ROOT / ".bench-venvs" / "pycache"


def process_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured process: `env` (default ours) with bytecode caching on.

    An installed program runs from compiled bytecode (pip writes it at install, Python at the
    first run). With PYTHONDONTWRITEBYTECODE set, as on some CI machines, every run would compile
    every module it imports from source again, and the tool importing the most would look slowest
    to start. So the caches are kept under PYCACHE (PYTHONPYCACHEPREFIX: the source trees and the
    venvs stay untouched), and bench/peers.py runs each tool once before measuring.
    """
    out = dict(os.environ if env is None else env)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return out


def measured(
    argv: list[str],
    cwd: Path,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Measured:
    """Run argv to its end (environment: `process_env(env)`), sampling the PSS of its process tree;
    CPU from os.wait4's rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout or subprocess.DEVNULL,
        stderr=stderr or subprocess.DEVNULL,
        env=process_env(env),
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.05):
            peak = max(peak, tree_pss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # usage includes the waited-for children (workers)
    finally:
        stop.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return Measured(proc.returncode, wall, peak, usage.ru_utime + usage.ru_stime)


def crawl(config: Path, db: Path, settings: Mapping[str, str] | None = None) -> CrawlResult:
    """Run one crawl of `config` into `db` with the local settings; raise if it fails."""
    n = _CRAWLS[db] = _CRAWLS.get(db, -1) + 1  # a recrawl is the next day: every known page is due again
    merged = {
        **LOCAL_SETTINGS,
        "LOG_LEVEL": "INFO",
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "QMC_NOW": (_START + timedelta(days=n)).isoformat(),
        **(settings or {}),
    }
    argv = crawl_command(config, db, settings=merged)
    with tempfile.TemporaryFile("w+") as log:
        run = measured(argv, PROJECT_ROOT, stderr=log)
        log.seek(0)
        text = log.read()
    if run.returncode != 0:
        raise SystemExit(f"crawl failed ({run.returncode}):\n{text[-3000:]}")
    found = _ELAPSED.search(text)
    return CrawlResult(run.wall, float(found.group(1)) if found else run.wall, run.peak_pss, run.cpu, text)
