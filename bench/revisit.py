"""Revisit scheduling: months of daily runs (QMC_NOW) against re-checking every known page each run.

    .venv/bin/python bench/revisit.py [--days 180] [--per-day 3] [--seed 1]

A generated regulator column (bench/sitegen.py pages, served by bench/fastweb.py on 127.0.0.1)
publishes `--per-day` articles a day; its two list pages show the newest 40. Articles are
edited the way regulator sites edit them: 30 % get a correction in their first week (most in
the first three days), 5 % a late edit 8-150 days after publication, 2 % are deleted 3-120
days after publication (a 404; they leave the list). No edit or deletion is planned for the
last 31 days, so every one of them can be found within `revisit_max` (30 days).

Two policies crawl the same site day by day, each into its own database, in one run:

- **frontier**: the shipped defaults (`revisit_min = "1d"`, `revisit_max = "30d"`,
  `max_fetches_per_run = 500`);
- **re-check everything** (what every run did before the frontier): the same spider with
  `revisit_min = revisit_max = "1s"` and an unreachable budget, so every known page is due
  every run.

Per policy: page fetches per run (Scrapy's `downloader/request_count`) at day 30/90/180, the
delay between an edit and the run whose `changed` change covers it (in runs), edits never
detected, deletions confirmed and the checks each took, and the crawl's peak memory (PSS of
the crawl process tree) at day 30/90/180. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fastweb, sitegen  # noqa: E402
from bench.crawlrun import crawl  # noqa: E402

DAY0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
LIST_SIZE, LISTS = 20, 2
#: runs crawled as `scrapy crawl` subprocesses, for their peak memory
MEASURED = (30, 90, 180)
POLICIES = {
    "frontier": "",
    "re-check everything": 'revisit_min = "1s"\nrevisit_max = "1s"\nmax_fetches_per_run = 1000000\n',
}


@dataclass
class Plan:
    """What happens to the site on which day: publications, edits, deletions."""

    days: int
    per_day: int = 3
    seed: int = 1
    published: dict[int, list[int]] = field(default_factory=dict)  # day → article ids
    edits: dict[int, list[int]] = field(default_factory=dict)  # day → article ids edited that day
    deletions: dict[int, list[int]] = field(default_factory=dict)
    edit_log: list[tuple[int, int, int]] = field(default_factory=list)  # (article, day, age in days)


def make_plan(days: int, per_day: int, seed: int) -> Plan:
    rng = random.Random(seed)
    plan = Plan(days, per_day, seed)
    last = days - 31  # edits and deletions only where revisit_max still fits before the end
    for day in range(days):
        ids = list(range(day * per_day, (day + 1) * per_day))
        plan.published[day] = ids
        for i in ids:
            deleted = day + rng.randint(3, 120) if rng.random() < 0.02 else None
            when = []
            if rng.random() < 0.30:
                when.append(day + rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6)))
            if rng.random() < 0.05:
                when.append(day + rng.randint(8, 150))
            for d in when:
                if d <= last and (deleted is None or d < deleted):
                    plan.edits.setdefault(d, []).append(i)
                    plan.edit_log.append((i, d, d - day))
            if deleted is not None and deleted <= last:
                plan.deletions.setdefault(deleted, []).append(i)
    return plan


def apply_day(root: Path, plan: Plan, day: int, alive: list[int], rounds: dict[int, int]) -> None:
    """Bring the served tree to `day`: publish, edit, delete, rewrite the list pages."""
    for i in plan.published[day]:
        path = root / sitegen.article_path(i).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sitegen.article_html(i), encoding="utf-8")
        alive.append(i)
    for i in plan.edits.get(day, []):
        rounds[i] = rounds.get(i, 0) + 1
        _, paragraphs = sitegen.article_text(i)
        for r in range(1, rounds[i] + 1):
            k = (i + r) % len(paragraphs)
            paragraphs[k] = f"（第{r}次更正）" + paragraphs[k]
        (root / sitegen.article_path(i).lstrip("/")).write_text(sitegen.article_html(i, paragraphs), encoding="utf-8")
    for i in plan.deletions.get(day, []):
        (root / sitegen.article_path(i).lstrip("/")).unlink()
        alive.remove(i)
    newest = alive[::-1][: LIST_SIZE * LISTS]
    for n in range(LISTS):
        items = "".join(
            f'<li><a href="{sitegen.article_path(i)}">{sitegen.article_text(i)[0]}</a></li>'
            for i in newest[n * LIST_SIZE : (n + 1) * LIST_SIZE]
        )
        pager = "".join(f'<a href="{sitegen.list_path(k)}">{k + 1}</a>' for k in range(LISTS))
        html = f'<html><head><meta charset="utf-8"><title>新闻</title></head><body><ul class="list">{items}</ul>'
        html += f'<div class="pager">{pager}</div></body></html>'
        path = root / sitegen.list_path(n).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")


@dataclass
class Result:
    fetches: dict[int, int] = field(default_factory=dict)  # run → page fetches
    memory: dict[int, int] = field(default_factory=dict)  # run → peak PSS bytes (the measured runs)
    seconds: float = 0.0


#: settings of every run (both policies): local server, extraction in-process (no worker to fork)
RUN_SETTINGS = {"LOG_LEVEL": "WARNING", "QMC_EXTRACT_WORKERS": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def _load_state(work: Path) -> tuple[list[int], dict[int, int]]:
    state = json.loads((work / "state.json").read_text()) if (work / "state.json").exists() else {}
    return list(state.get("alive", [])), {int(k): v for k, v in state.get("rounds", {}).items()}


def _save_state(work: Path, alive: list[int], rounds: dict[int, int]) -> None:
    (work / "state.json").write_text(json.dumps({"alive": alive, "rounds": rounds}))


def _now(day: int) -> str:
    return (DAY0 + timedelta(days=day)).isoformat()


def run_days(work: Path, base: str, plan: Plan, first: int, stop: int) -> None:
    """Days [first, stop) in this process, one crawl after another in one reactor (`--worker`).

    Starting a Python process with Scrapy costs seconds, more than most days' crawls; these
    runs are the same spider and pipelines as `scrapy crawl site`, each with its own settings
    (and QMC_NOW), one after the other as Scrapy's CrawlerProcess allows.
    """
    import urllib.request

    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    base_settings = get_project_settings()
    install_reactor(base_settings["TWISTED_REACTOR"])
    from twisted.internet import defer, reactor

    from qmcrawler.run.runner import LOCAL_SETTINGS
    from spiders.site import SiteSpider

    alive, rounds = _load_state(work)
    base_settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    process = CrawlerProcess(base_settings)

    @defer.inlineCallbacks
    def days():  # type: ignore[no-untyped-def]
        for day in range(first, stop):
            if day:
                apply_day(work / "web", plan, day, alive, rounds)
                urllib.request.urlopen(base + "/__reload").read()
            settings = base_settings.copy()
            values = {**LOCAL_SETTINGS, **RUN_SETTINGS, "QMC_NOW": _now(day), "QMC_DB": str(work / "qm.db")}
            for key, value in values.items():
                settings.set(key, value, priority="cmdline")
            yield process.crawl(Crawler(SiteSpider, settings), config=str(work / "sites.toml"))
        _save_state(work, alive, rounds)

    failures: list[object] = []
    done = days()
    done.addErrback(failures.append)
    done.addBoth(lambda _: reactor.stop())  # type: ignore[attr-defined]
    process.start(stop_after_crawl=False)
    if failures:
        raise SystemExit(str(failures[0]))


def simulate(name: str, plan: Plan, work: Path, results: dict[str, Result], measured: tuple[int, ...]) -> None:
    """Run every day of the plan under one policy: in-process segments, the measured days as `scrapy crawl`."""
    root, db = work / "web", work / "qm.db"
    root.mkdir(parents=True)
    result = Result()
    start = time.perf_counter()
    alive: list[int] = []
    rounds: dict[int, int] = {}
    apply_day(root, plan, 0, alive, rounds)
    _save_state(work, alive, rounds)
    with fastweb.FastWeb(root) as web:
        config = work / "sites.toml"
        config.write_text(sitegen.CONFIG.format(base=web.base, lists=LISTS) + POLICIES[name], encoding="utf-8")
        day = 0
        for mark in [m - 1 for m in measured] + [plan.days]:
            if mark > day:
                proc = subprocess.run(
                    [sys.executable, __file__, "--worker", str(work), web.base, str(day), str(mark),
                     "--days", str(plan.days), "--per-day", str(plan.per_day), "--seed", str(plan.seed)],
                    cwd=ROOT, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if proc.returncode != 0:
                    raise SystemExit(f"{name}: days {day}-{mark} failed:\n{proc.stderr[-3000:]}")
            if mark >= plan.days:
                break
            alive, rounds = _load_state(work)
            if mark:
                apply_day(root, plan, mark, alive, rounds)
                web.reload()
            _save_state(work, alive, rounds)
            run = crawl(config, db, {**RUN_SETTINGS, "QMC_NOW": _now(mark)})
            result.memory[mark + 1] = run.peak_rss
            day = mark + 1
    result.seconds = time.perf_counter() - start
    conn = sqlite3.connect(db)
    for n, (stats,) in enumerate(conn.execute("SELECT stats FROM runs ORDER BY id"), start=1):
        result.fetches[n] = int(json.loads(stats).get("downloader/request_count", 0))
    conn.close()
    results[name] = result


def detection(db: Path, plan: Plan) -> dict[str, object]:
    """Edit delays (in runs), missed edits, deletions confirmed and the checks they took."""
    conn = sqlite3.connect(db)

    def day_of(stamp: str) -> int:
        return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - DAY0 + timedelta(hours=1)).days

    found: dict[str, list[int]] = {}
    for url, stamp in conn.execute(
        "SELECT p.url, c.detected_at FROM changes c JOIN pages p ON p.id = c.page_id WHERE c.kind = 'changed'"
    ):
        found.setdefault(url.split("/", 3)[3], []).append(day_of(stamp))
    delays, young, missed = [], [], 0
    for i, day, age in plan.edit_log:
        later = [d for d in found.get(sitegen.article_path(i).lstrip("/"), []) if d >= day]
        if not later:
            missed += 1
            continue
        delays.append(min(later) - day)
        if age <= 7:
            young.append(min(later) - day)
    checks, confirmed = [], 0
    for day, ids in plan.deletions.items():
        for i in ids:
            path = "%" + sitegen.article_path(i)
            rows = conn.execute(
                "SELECT f.fetched_at, f.id FROM fetches f JOIN pages p ON p.id = f.page_id WHERE p.url LIKE ? "
                "ORDER BY f.id",
                (path,),
            ).fetchall()
            removed = conn.execute(
                "SELECT min(c.detected_at) FROM changes c JOIN pages p ON p.id = c.page_id "
                "WHERE p.url LIKE ? AND c.kind = 'removed'",
                (path,),
            ).fetchone()[0]
            if removed:
                confirmed += 1
                checks.append(sum(1 for stamp, _ in rows if day <= day_of(stamp) <= day_of(removed)))
    conn.close()
    return {"delays": delays, "young": young, "missed": missed, "confirmed": confirmed, "checks": checks}


def pct(values: list[int], q: float) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return str(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def table(plan: Plan, results: dict[str, Result], works: dict[str, Path], marks: tuple[int, ...]) -> str:
    deletions = sum(len(v) for v in plan.deletions.values())
    head = (
        "| policy | "
        + " | ".join(f"fetches, day {d}" for d in marks)
        + " | fetches ÷ re-check everything, last day | all fetches | edits | median delay, first week (runs)"
        " | median / p95 / max delay, all edits (runs) | edits missed | deletions confirmed"
        " | checks to confirm (max) | " + " | ".join(f"peak MB, day {d}" for d in marks) + " | seconds |"
    )
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    base = results["re-check everything"].fetches[plan.days]
    for name, r in results.items():
        d = detection(works[name] / "qm.db", plan)
        delays = d["delays"]
        young = d["young"]
        assert isinstance(delays, list)
        assert isinstance(young, list)
        checks = d["checks"]
        assert isinstance(checks, list)
        out.append(
            f"| {name} | "
            + " | ".join(str(r.fetches[m]) for m in marks)
            + f" | {r.fetches[plan.days] / base:.2f} | {sum(r.fetches.values())} | {len(plan.edit_log)}"
            f" | {statistics.median(young) if young else '–'}"
            f" | {statistics.median(delays) if delays else '–'} / {pct(delays, 0.95)} / {max(delays, default=0)}"
            f" | {d['missed']} | {d['confirmed']} of {deletions} | {max(checks, default=0)} | "
            + " | ".join(f"{r.memory[m] / 2**20:.0f}" for m in marks)
            + f" | {r.seconds:.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=180, help="daily runs (default 180)")
    parser.add_argument("--per-day", type=int, default=3, help="articles published a day (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", nargs=4, metavar=("WORK", "BASE", "FIRST", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plan = make_plan(args.days, args.per_day, args.seed)
    if args.worker:
        work, base, first, stop = args.worker
        run_days(Path(work), base, plan, int(first), int(stop))
        return 0
    results: dict[str, Result] = {}
    tmp = Path(tempfile.mkdtemp(prefix="qmc-revisit-"))
    works = {name: tmp / str(n) for n, name in enumerate(POLICIES)}
    try:
        started = time.perf_counter()
        marks = tuple(m for m in MEASURED if m <= args.days) or (args.days,)
        threads = [threading.Thread(target=simulate, args=(n, plan, works[n], results, marks)) for n in POLICIES]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if len(results) != len(POLICIES):
            return 1
        print(
            f"{args.days} daily runs, {args.per_day} articles a day, seed {args.seed}: "
            f"{time.perf_counter() - started:.0f} s\n"
        )
        print(table(plan, {n: results[n] for n in POLICIES}, works, marks))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
