"""The four tools bench/peers.py measures, each driven the way its users run it.

- bare Scrapy: bench/peerspider.py with `scrapy runspider`, from a folder without scrapy.cfg;
- urlwatch: its command line with a urls.yaml of N `url` jobs, each with the `html2text` filter,
  its cache database (minidb/SQLite) in the work folder, the report on stdout;
- changedetection.io: its own command line in batch mode (`-b`: queue the watches, let its fetch
  workers check them with the plain requests fetcher, exit when the queue is empty), `-u URL`
  per article on the first check, `-r all` on rechecks, its JSON/text datastore in the work folder;
- qmcrawler: `scrapy crawl site` into SQLite, as bench/crawl.py runs it (bench/crawlrun.py).

urlwatch and changedetection.io are installed from the package index, each into its own venv
under `--venvs` (kept between runs: a venv is rebuilt only when its requirement changes).
Every check is one process tree, measured by bench/crawlrun.measured (CPU from os.wait4, PSS
sampled from /proc).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import dbsize
from bench.crawlrun import CONCURRENCY, Measured, crawl, measured
from qmcrawler.run.runner import LOCAL_SETTINGS

HERE = Path(__file__).resolve().parent
URLWATCH = ["urlwatch==2.29", "html2text"]
CHANGEDETECTION = ["changedetection.io>=0.60,<0.61"]


@dataclass
class Site:
    """The generated site as every tool sees it."""

    base: str
    urls: list[str]  # the N article URLs (what urlwatch and changedetection.io watch)
    config: Path  # qmcrawler's sites.toml for the whole site
    startup_config: Path  # qmcrawler's sites.toml for the one empty page
    startup_url: str


@dataclass
class Check:
    """One run of a tool: its cost and the pages it reported changed (None: it does not say)."""

    cost: Measured
    found: set[str] | None = None
    answers: dict[int, int] = field(default_factory=dict)  # the server's answers by status code


def _fail(what: str, text: str) -> SystemExit:
    return SystemExit(f"{what}: " + (text.strip().splitlines() or ["(no output)"])[-1][:300])


def venv(venvs: Path, name: str, requirements: list[str], dist: str) -> tuple[Path, str]:
    """A venv with these requirements (built once, from the package index); (its bin/, dist version)."""
    home = venvs / name
    marker, want = home / ".bench-installed", "\n".join(requirements)
    python = home / "bin" / "python"
    if not (marker.exists() and marker.read_text() == want and python.exists()):
        shutil.rmtree(home, ignore_errors=True)
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        if uv:
            steps = [[uv, "venv", "-q", "--python", sys.executable, str(home)]]
            steps.append([uv, "pip", "install", "-q", "--python", str(python), *requirements])
        else:
            steps = [
                [sys.executable, "-m", "venv", str(home)],
                [str(python), "-m", "pip", "install", "-q", *requirements],
            ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise _fail(f"could not install {' '.join(requirements)} into {home}", done.stderr)
        marker.write_text(want)
    version = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return home / "bin", version


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> tuple[Measured, str]:
    """Run one check; (cost, stdout + stderr); a failure is an error naming the tool."""
    with tempfile.TemporaryFile("w+") as out:
        cost = measured(argv, cwd, stdout=out, stderr=out, env=env)
        out.seek(0)
        text = out.read()
    if cost.returncode != 0:
        raise _fail(f"{what} failed ({cost.returncode})", text)
    return cost, text


def _files(folder: Path) -> tuple[int, int]:
    """(bytes of the files, bytes they take on disk) under a folder."""
    stats = [p.stat() for p in folder.rglob("*") if p.is_file()]
    return sum(s.st_size for s in stats), sum(s.st_blocks * 512 for s in stats)


class Tool:
    """One tool: `start` a fresh state, `check` (first or again), `stored` bytes."""

    key = ""
    label = ""
    rechecks = True

    def install(self, venvs: Path) -> None:
        """Make the tool runnable (a venv from the package index, or nothing)."""

    def start(self, work: Path, site: Site) -> None:
        """A fresh state in `work` (an empty folder)."""
        self.work, self.site = work, site

    def check(self) -> Check:
        """One run over every article."""
        raise NotImplementedError

    def stored(self) -> tuple[int, int]:
        """(bytes stored, bytes on disk) for the site."""
        return 0, 0

    def startup(self, work: Path, site: Site) -> float:
        """CPU seconds of a whole run that checks one empty page."""
        raise NotImplementedError


class BareScrapy(Tool):
    key, label, rechecks = "scrapy", "bare Scrapy (minimal spider, no pipelines)", False

    def _crawl(self, start: str, work: Path) -> Measured:
        settings = {**LOCAL_SETTINGS, "LOG_LEVEL": "INFO", "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY}
        argv = [sys.executable, "-m", "scrapy", "runspider", str(HERE / "peerspider.py"), "-a", f"start={start}"]
        for key, value in settings.items():
            argv += ["-s", f"{key}={value}"]
        return _run(argv, work, "bare Scrapy")[0]

    def check(self) -> Check:
        return Check(self._crawl(self.site.base + "/news/index.html", self.work))

    def startup(self, work: Path, site: Site) -> float:
        return self._crawl(site.startup_url, work).cpu


class Urlwatch(Tool):
    key, label = "urlwatch", "urlwatch (html2text)"

    def install(self, venvs: Path) -> None:
        self.bin, version = venv(venvs, "urlwatch", URLWATCH, "urlwatch")
        self.label = f"urlwatch {version} (html2text)"

    def _files(self, work: Path, urls: list[str]) -> list[str]:
        jobs = [{"url": u, "filter": ["html2text"]} for u in urls]
        (work / "urls.yaml").write_text("\n---\n".join(json.dumps(j) for j in jobs) + "\n")  # JSON is YAML
        (work / "urlwatch.yaml").write_text(json.dumps({"report": {"stdout": {"enabled": True, "color": False}}}))
        files = ("urls", "urls.yaml", "config", "urlwatch.yaml", "cache", "cache.db", "hooks", "hooks.py")
        return [str(self.bin / "urlwatch"), *(f"--{v}" if i % 2 == 0 else str(work / v) for i, v in enumerate(files))]

    def start(self, work: Path, site: Site) -> None:
        super().start(work, site)
        self.argv = self._files(work, site.urls)

    def check(self) -> Check:
        cost, text = _run(self.argv, self.work, "urlwatch")
        states = re.findall(r"^(?:\d+\. )?(NEW|CHANGED|ERROR): (\S+)", text, re.MULTILINE)
        if errors := [u for s, u in states if s == "ERROR"]:
            raise SystemExit(f"urlwatch reported {len(errors)} errors, the first for {errors[0]}")
        return Check(cost, {u for s, u in states if s == "CHANGED"})

    def stored(self) -> tuple[int, int]:
        cache = self.work / "cache.db"
        return dbsize.in_use(cache), cache.stat().st_blocks * 512

    def startup(self, work: Path, site: Site) -> float:
        return _run(self._files(work, [site.startup_url]), work, "urlwatch")[0].cpu


class ChangeDetection(Tool):
    key, label = "changedetection", "changedetection.io (requests fetcher)"

    def install(self, venvs: Path) -> None:
        self.bin, version = venv(venvs, "changedetection", CHANGEDETECTION, "changedetection.io")
        self.label = f"changedetection.io {version} (requests fetcher)"

    def _argv(self, work: Path, *more: str) -> list[str]:
        with socket.socket() as s:  # batch mode insists on a free port, though it serves nothing
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return [str(self.bin / "changedetection.py"), "-C", "-d", str(work / "datastore"), "-b", "-p", str(port), *more]

    def _env(self) -> dict[str, str]:
        import os

        # 127.0.0.1 is refused unless allowed; logging at WARNING, as a quiet deployment would
        return {**os.environ, "ALLOW_IANA_RESTRICTED_ADDRESSES": "true", "LOGGER_LEVEL": "WARNING"}

    def _history(self) -> dict[str, int]:
        """URL → number of snapshots in its history; raises if a watch reports an error."""
        counts = {}
        for watch in (self.work / "datastore").glob("*/watch.json"):
            data = json.loads(watch.read_text())
            if data.get("last_error"):
                raise SystemExit(f"changedetection.io: {data['url']}: {str(data['last_error'])[:200]}")
            history = watch.parent / "history.txt"
            counts[data["url"]] = len(history.read_text().splitlines()) if history.exists() else 0
        return counts

    def check(self) -> Check:
        first = not (self.work / "datastore").exists()
        more = [a for u in self.site.urls for a in ("-u", u)] if first else ["-r", "all"]
        cost, _ = _run(self._argv(self.work, *more), self.work, "changedetection.io", self._env())
        before = {} if first else self.counts
        self.counts = self._history()
        if first:
            settings = json.loads((self.work / "datastore" / "changedetection.json").read_text())
            backend = settings["settings"]["application"].get("fetch_backend")
            if backend != "html_requests" or sorted(self.counts) != sorted(self.site.urls):
                raise SystemExit(f"changedetection.io: {len(self.counts)} watches, fetcher {backend}")
            if min(self.counts.values()) < 1:
                raise SystemExit("changedetection.io: a watch was not checked")
            return Check(cost)
        return Check(cost, {u for u, n in self.counts.items() if n > before.get(u, 0)})

    def stored(self) -> tuple[int, int]:
        return _files(self.work / "datastore")

    def startup(self, work: Path, site: Site) -> float:
        return _run(self._argv(work, "-u", site.startup_url), work, "changedetection.io", self._env())[0].cpu


class Qmcrawler(Tool):
    key, label = "qmcrawler", "qmcrawler"

    def start(self, work: Path, site: Site) -> None:
        super().start(work, site)
        self.db, self.runs = work / "qm.db", 0

    def check(self) -> Check:
        result = crawl(self.site.config, self.db)
        self.runs += 1
        conn = sqlite3.connect(self.db)
        try:
            sql = "SELECT p.url FROM changes c JOIN pages p ON p.id = c.page_id WHERE c.run_id = ? AND c.kind = ?"
            found = {str(u) for (u,) in conn.execute(sql, (self.runs, "changed"))}
        finally:
            conn.close()
        return Check(Measured(0, result.wall, result.peak_rss, result.cpu), found if self.runs > 1 else None)

    def stored(self) -> tuple[int, int]:
        used = dbsize.in_use(self.db)  # checkpoints the WAL first
        return used, sum(p.stat().st_blocks * 512 for p in self.work.glob("qm.db*"))

    def startup(self, work: Path, site: Site) -> float:
        return crawl(site.startup_config, work / "startup.db").cpu


TOOLS: dict[str, type[Tool]] = {t.key: t for t in (BareScrapy, Urlwatch, ChangeDetection, Qmcrawler)}
