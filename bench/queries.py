"""Query latency on a synthetic database: `changes --since`, `history URL`, 3-character search.

    .venv/bin/python bench/queries.py [--pages 100000] [--versions 1000000] [--runs 50]

Builds a database through `open_db` (so every migration and index of the product is there)
with N pages, M versions spread over a year (one `changes` row and one `fetches` row per
version), rebuilds the FTS5 trigram index in one go, then times the library calls behind the
CLI commands, each `--runs` times with varied arguments: `queries.changes(since=last day,
limit=50)` (the `changes --since 1d` default), the four queries of `history URL`, and
`queries.search` with a 3-character term (FTS5 trigram, current versions, limit 20). Prints
p50 and p95 in milliseconds (wall clock in this process; the CLI adds its start-up).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sitegen import sentence  # noqa: E402
from qmcrawler.storage import grams, open_db, queries  # noqa: E402

NOW = datetime(2026, 9, 30, tzinfo=UTC)
TERMS = (
    "质量月",
    "标准化",
    "监督抽查",
    "检验检测",
    "质量强国",
    "食品安全",
    "特种设备",
    "知识产权",
    "品牌建设",
    "安全生产",
)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def url(page: int) -> str:
    """The URL of synthetic page `page`."""
    return f"https://www.example.gov.cn/art/{page % 97}/t{page}.html"


def build(path: Path, pages: int, versions: int) -> None:
    """Fill a fresh database with synthetic pages, versions, changes and fetches."""
    db = open_db(path)
    conn = db.conn
    rng = random.Random(1978)
    triggers = list(
        conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('versions', 'pages')")
    )
    for name, _ in triggers:  # bulk load, then put the triggers back
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute(
        "INSERT INTO runs (id, spider, sites, started_at, status, stats) VALUES (1, 'site', 'bench', ?, "
        "'finished', '{}')",
        [_iso(NOW)],
    )
    conn.executemany(
        "INSERT INTO pages (id, url, site, first_seen, last_seen, status, missing_runs) "
        "VALUES (?, ?, ?, ?, ?, 'live', 0)",
        ((i, url(i), f"site{i % 20}", _iso(NOW), _iso(NOW)) for i in range(1, pages + 1)),
    )
    span = 365 * 24 * 3600
    last: dict[int, int] = {}
    rows_v: list[tuple[object, ...]] = []
    rows_c: list[tuple[object, ...]] = []
    rows_f: list[tuple[object, ...]] = []
    for vid in range(1, versions + 1):
        page = vid if vid <= pages else rng.randint(1, pages)
        at = _iso(NOW - timedelta(seconds=span * (versions - vid) / versions))
        text = sentence(rng) + sentence(rng)
        rows_v.append((vid, page, at, f"{vid:016x}", f"关于第{vid}号{text[:12]}的通知", text))
        rows_c.append((vid, page, "changed" if page in last else "new", last.get(page), vid, at))
        rows_f.append((vid, page, at))
        last[page] = vid
        if len(rows_v) >= 50_000:
            _flush(db, rows_v, rows_c, rows_f)
    _flush(db, rows_v, rows_c, rows_f)
    conn.executemany("UPDATE pages SET current_version = ? WHERE id = ?", ((v, p) for p, v in last.items()))
    conn.execute("INSERT INTO search_grams (search_grams) VALUES ('optimize')")
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    db.close()


def _flush(
    db: Database,
    rows_v: list[tuple[object, ...]],
    rows_c: list[tuple[object, ...]],
    rows_f: list[tuple[object, ...]],
) -> None:
    execute = db.conn.executemany
    execute(
        "INSERT INTO versions (id, page_id, run_id, fetched_at, content_hash, title, text, attachments, "
        "flags, is_relevant) VALUES (?, ?, 1, ?, ?, ?, ?, '[]', '[]', 0)",
        rows_v,
    )
    execute(
        "INSERT INTO changes (id, page_id, run_id, kind, from_version, to_version, fields, diff, detected_at, "
        "cause) VALUES (?1, ?2, 1, ?3, ?4, ?5, '[\"text\"]', "
        # a `new` change stores no diff: it is made from its version when read (qmcrawler.storage.changediff)
        "CASE ?3 WHEN 'new' THEN NULL ELSE '- 旧句子\n+ 新句子' END, ?6, 'page')",
        rows_c,
    )
    execute(
        "INSERT INTO fetches (id, page_id, run_id, fetched_at, http_status, outcome) "
        "VALUES (?, ?, 1, ?, 200, 'changed')",
        rows_f,
    )
    grams.index_versions(db, ((int(str(v[0])), str(v[4]), str(v[5])) for v in rows_v))
    rows_v.clear()
    rows_c.clear()
    rows_f.clear()


def timed(fn: Callable[[int], object], runs: int) -> tuple[float, float]:
    """p50 and p95 of `fn(i)` over `runs` calls, in milliseconds."""
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18]


def main(argv: list[str] | None = None) -> int:
    """Build the database, time the queries, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="qmc-bench-queries-"))
    try:
        path = tmp / "q.db"
        start = time.perf_counter()
        build(path, args.pages, args.versions)
        built = time.perf_counter() - start
        db = open_db(path, create=False)
        rng = random.Random(7)
        since = _iso(NOW - timedelta(days=1))

        def history(_: int) -> None:
            page = queries.page(db, url(rng.randint(1, args.pages)))
            assert page is not None
            queries.versions(db, page["id"])
            queries.page_changes(db, page["id"])
            queries.page_fetches(db, page["id"])

        results = [
            ("`changes --since 1d` (limit 50)", timed(lambda _: queries.changes(db, since=since, limit=50), args.runs)),
            ("`history URL`", timed(history, args.runs)),
            (
                "`search` 3 characters (limit 20)",
                timed(lambda i: queries.search(db, TERMS[i % len(TERMS)][:3]), args.runs),
            ),
        ]
        size = path.stat().st_size / 1024 / 1024
        print(f"database: {args.pages} pages, {args.versions} versions, {size:.0f} MB, built in {built:.0f} s")
        print()
        print("| query | runs | p50 (ms) | p95 (ms) | target p50 < 50, p95 < 200 |")
        print("|---|---|---|---|---|")
        for label, (p50, p95) in results:
            ok = "yes" if p50 < 50 and p95 < 200 else "no"
            print(f"| {label} | {args.runs} | {p50:.1f} | {p95:.1f} | {ok} |")
        db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
