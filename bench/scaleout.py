"""Scale-out: N small sites behind a slow server, crawled by 1, 2 and 4 workers, and SQLite vs PostgreSQL.

    .venv/bin/python bench/scaleout.py [--sites 200] [--pages 4] [--delay 0.2] [--workers 1,2,4]
                                       [--sites-per-job 50] [--json [FILE]]

A generated web of `--sites` sites (a list page and `--pages` articles each) is served from memory
on 127.0.0.1 by a server in its own process that answers every request after `--delay` seconds
(a distant government server). Every crawl process is polite: one request at a time
(CONCURRENT_REQUESTS=1), so it fetches at most 1/delay pages per second and the work is
latency-bound; a job is `--sites-per-job` sites, so start-up is paid once per job.

In one run, each on a fresh database:
- **PostgreSQL, N workers** for each N of `--workers`: N `python -m qmcrawler worker` processes
  (concurrency 1) on a real PostgreSQL (tests/pgserver.py, fsync off), then one `enqueue` of every
  site, `--sites-per-job` sites per job; timed from the enqueue until every job has ended.
- **SQLite, one process**: `schedule.py --once --workers 1 --sites-per-crawl K` over the same
  sites (the single-machine path), timed from start to exit.

Reported: sites/minute, pages/s, the ratio to one PostgreSQL worker, CPU per page of the workers'
process trees (the crawls included; os.wait4) and of the PostgreSQL server (postmaster and
backends, from /proc), peak PSS of one worker's process tree, how busy the machine's CPUs were
(/proc/stat: other processes count too), the share of the latency bound reached (workers ×
1/delay pages/s; pages = the requests the server answered), duplicate crawls (run rows beyond
one per site, versions beyond one per page), and what saturates first: the server's latency
when the crawls reach 80 % of the bound, else the CPU when the machine was over 90 % busy, else
the crawl processes' start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.crawlrun import measured, process_env, tree_pss  # noqa: E402
from bench.fastweb import Server  # noqa: E402
from bench.schedstart import make_sites  # noqa: E402
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT  # noqa: E402
from tests.pgserver import PgServer, start_server  # noqa: E402

#: polite crawls: one request at a time per crawl process, no extra delay (the server is slow enough)
SETTINGS = {**LOCAL_SETTINGS, "CONCURRENT_REQUESTS": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


class SlowServer(Server):
    """bench/fastweb.py's in-memory server, each answer sent after `delay` seconds (`.htm` as HTML)."""

    def __init__(self, root: Path, delay: float) -> None:
        super().__init__(root, validators=True)
        self.delay = delay

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.decode("latin-1").split("\r\n")[0].split(" ")[1].split("?")[0]
                await asyncio.sleep(self.delay)
                answer = self.answer(path, None)
                if path.endswith(".htm"):
                    answer = answer.replace(b"application/octet-stream", b"text/html; charset=utf-8", 1)
                writer.write(answer)
                await writer.drain()
        writer.close()


async def _serve(root: Path, delay: float) -> None:
    listener = await asyncio.start_server(SlowServer(root, delay).handle, "127.0.0.1", 0, backlog=1024)
    print(listener.sockets[0].getsockname()[1], flush=True)
    async with listener:
        await listener.serve_forever()


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def pg_cpu(server: PgServer) -> float:
    """CPU seconds of the server so far: the postmaster, its reaped children and its live backends."""
    tick = os.sysconf("SC_CLK_TCK")
    master = int((server.data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, IndexError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(entry.name) == master:
                total += sum(float(x) for x in stat[11:15])  # utime stime cutime cstime
            elif int(stat[1]) == master:
                total += float(stat[11]) + float(stat[12])
    return total / tick


class Worker:
    """One `python -m qmcrawler worker` process with its peak PSS sampled and its CPU from os.wait4."""

    def __init__(self, url: str, config: Path, log: Path) -> None:
        settings = [a for k, v in SETTINGS.items() for a in ("-s", f"{k}={v}")]
        argv = [sys.executable, "-m", "qmcrawler", "worker", "--db", url, "--config", str(config), "--log-level"]
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [*argv, "WARNING", *settings], cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, env=process_env()
            )
        self.peak = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_pss(self.proc.pid))

    def stop(self) -> float:
        """Stop the worker (SIGTERM); the CPU seconds of its process tree."""
        self.proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._stop.set()
        self._sampler.join()
        return usage.ru_utime + usage.ru_stime


def one_value(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


def answered(config: Path) -> int:
    """Requests the slow server answered since the last call (bench/fastweb.py's /__stats)."""
    base = config.read_text(encoding="utf-8").split('start_urls = ["', 1)[1].split("/s0/", 1)[0]
    with urllib.request.urlopen(base + "/__stats", timeout=60) as answer:
        return sum(int(v) for v in json.loads(answer.read()).values())


def run_postgres(server: PgServer, config: Path, tmp: Path, workers: int, per_job: int, sites: int) -> dict[str, Any]:
    """N workers over a fresh PostgreSQL database: one enqueue of every site, until every job ended."""
    url = server.new_database()
    procs = [Worker(url, config, tmp / f"pg{workers}-w{i}.log") for i in range(workers)]
    try:
        deadline = time.monotonic() + 300
        while (one_value(url, "SELECT count(*) FROM procrastinate_workers") if _has_queue(url) else 0) < workers:
            if time.monotonic() > deadline or any(p.proc.poll() is not None for p in procs):
                raise SystemExit(f"error: the workers did not start (logs in {tmp})")
            time.sleep(0.2)
        pg0, busy0, _ = pg_cpu(server), cpu_busy(), answered(config)
        start = time.perf_counter()
        argv = [sys.executable, "-m", "qmcrawler", "enqueue", "--db", url, "--config", str(config)]
        argv += ["--sites-per-job", str(per_job), *[f"s{i}" for i in range(sites)]]
        subprocess.run(argv, cwd=PROJECT_ROOT, check=True, capture_output=True, env=process_env())
        while one_value(url, "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"):
            time.sleep(0.2)
        wall = time.perf_counter() - start
        pg, busy, requests = pg_cpu(server) - pg0, cpu_busy(), answered(config)
    finally:
        cpu = sum(p.stop() for p in procs)
    with psycopg.connect(url) as conn:
        counts = _counts(lambda sql: conn.execute(sql).fetchone()[0])  # type: ignore[arg-type, index]
        failed = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'").fetchone()
    return {
        "setup": "PostgreSQL",
        "workers": workers,
        "wall": wall,
        "cpu": cpu,
        "pg_cpu": pg,
        "peak": max(p.peak for p in procs),
        "busy": (busy[0] - busy0[0]) / (busy[1] - busy0[1]),
        "failed_jobs": failed[0] if failed else 0,
        "requests": requests,
        **counts,
    }


def run_sqlite(config: Path, tmp: Path, per_job: int) -> dict[str, Any]:
    """`schedule.py --once` with one crawl process at a time on a fresh SQLite database."""
    db = tmp / "qm.db"
    argv = [sys.executable, "schedule.py", "--once", "--workers", "1", "--sites-per-crawl", str(per_job)]
    argv += ["--config", str(config), "--db", str(db), "--log-level", "WARNING"]
    argv += [f"--set={k}={v}" for k, v in SETTINGS.items()]
    busy0, _ = cpu_busy(), answered(config)
    with (tmp / "sqlite.log").open("w") as log:
        run = measured(argv, PROJECT_ROOT, stdout=log, stderr=log)
    busy, requests = cpu_busy(), answered(config)
    if run.returncode != 0:
        raise SystemExit(f"error: schedule.py --once exited {run.returncode} (log in {tmp / 'sqlite.log'})")
    conn = sqlite3.connect(db)
    try:
        counts = _counts(lambda sql: conn.execute(sql).fetchone()[0])
    finally:
        conn.close()
    return {
        "setup": "SQLite",
        "workers": 1,
        "wall": run.wall,
        "cpu": run.cpu,
        "pg_cpu": 0.0,
        "peak": run.peak_pss,
        "busy": (busy[0] - busy0[0]) / (busy[1] - busy0[1]),
        "failed_jobs": 0,
        "requests": requests,
        **counts,
    }


def _has_queue(url: str) -> bool:
    return bool(one_value(url, "SELECT to_regclass('procrastinate_workers') IS NOT NULL"))


def _counts(value: Any) -> dict[str, int]:
    return {
        "fetches": int(value("SELECT count(*) FROM fetches")),
        "runs": int(value("SELECT count(*) FROM runs")),
        "unfinished": int(value("SELECT count(*) FROM runs WHERE status <> 'finished'")),
        "run_sites": int(value("SELECT count(DISTINCT sites) FROM runs")),
        "extra_versions": int(value("SELECT count(*) - count(DISTINCT page_id) FROM versions")),
    }


def table(results: list[dict[str, Any]], sites: int, delay: float) -> str:
    base = next(r for r in results if r["setup"] == "PostgreSQL" and r["workers"] == 1)
    lines = [
        "| setup | workers | sites/min | pages/s | × one PG worker | CPU ms/page (workers) | CPU ms/page (PostgreSQL) "
        "| peak MB/worker | machine CPU busy | latency bound | duplicate crawls | saturates first |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rate = r["requests"] / r["wall"]
        bound = rate / (r["workers"] / delay)
        dupes = (r["runs"] - r["run_sites"]) + r["extra_versions"] + (sites - r["run_sites"])
        first = "server latency" if bound >= 0.8 else "CPU (machine)" if r["busy"] > 0.9 else "start-up"
        lines.append(
            f"| {r['setup']} | {r['workers']} | {sites / r['wall'] * 60:.0f} | {rate:.1f} "
            f"| {rate / (base['requests'] / base['wall']):.2f}× | {r['cpu'] / r['requests'] * 1000:.0f} "
            f"| {r['pg_cpu'] / r['requests'] * 1000:.1f} | {r['peak'] / 2**20:.0f} | {r['busy']:.0%} | {bound:.0%} "
            f"| {dupes} | {first} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--pages", type=int, default=4, help="articles per site (plus its list page)")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the server waits before each answer")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run (comma-separated; 1 is needed)")
    parser.add_argument("--sites-per-job", type=int, default=50)
    parser.add_argument("--json", nargs="?", const="-", help="also write the results as JSON (to FILE or stdout)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        with suppress(KeyboardInterrupt):
            asyncio.run(_serve(args.serve, args.delay))
        return
    counts = sorted({int(n) for n in args.workers.split(",")} | {1})
    with tempfile.TemporaryDirectory(prefix="qmc-bench-scaleout-") as tmp_name:
        tmp = Path(tmp_name)
        web = tmp / "web"
        web.mkdir()
        sites_toml = make_sites(web, args.sites, args.pages, "{base}")  # the links are relative: only the config
        server = start_server()  # needs the server's port
        slow = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(web), "--delay", str(args.delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert slow.stdout is not None
            config = tmp / "sites.toml"
            config.write_text(sites_toml.replace("{base}", f"http://127.0.0.1:{slow.stdout.readline().strip()}"))
            results = [run_postgres(server, config, tmp, n, args.sites_per_job, args.sites) for n in counts]
            results.append(run_sqlite(config, tmp, args.sites_per_job))
        finally:
            slow.terminate()
            slow.wait()
            server.close()
    print(
        f"{args.sites} sites × ({args.pages} articles + a list page) on 127.0.0.1, each answer after {args.delay:g} s; "
        f"one request at a time per crawl process; {args.sites_per_job} sites per job; {os.cpu_count()} CPUs"
    )
    print(table(results, args.sites, args.delay))
    if args.json:
        text = json.dumps(results, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
