"""Throughput, memory and recrawl cost: the full pipeline against bare Scrapy and its own first crawl.

    .venv/bin/python bench/crawl.py [--pages 5000] [--set QMC_EXTRACT_WORKERS=2] [--first-only]

Generates N article pages (bench/sitegen.py, 10-30 KB of Chinese HTML each, behind list pages
of 50 links), serves them from bench/fastweb.py (its own process, ETag/Last-Modified, 304),
and crawls them in one run:

1. a keep-alive load loop against the server alone (it must be far faster than any crawl);
2. bare Scrapy: the same `site` spider and settings with `ITEM_PIPELINES = {}`;
3. the full pipeline into a fresh SQLite database (peak RSS of the process tree sampled);
4. the same site again, unchanged (304 share, versions written, time ÷ first crawl);
5. again after editing 1% of the articles (the changes found must be exactly those pages).

Every figure that depends on the machine is a ratio within this run. Prints two tables.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fastweb, sitegen  # noqa: E402
from bench.crawlrun import BARE, CrawlResult, crawl  # noqa: E402


def _rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _outcomes(db: Path, run: int) -> dict[str, int]:
    return {
        str(k): int(str(n))
        for k, n in _rows(db, "SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY outcome", (run,))
    }


def throughput_table(pages: int, server_rps: float, bare: CrawlResult, full: CrawlResult) -> list[str]:
    """Rows of the throughput and memory table."""
    bare_ps, full_ps = pages / bare.elapsed, pages / full.elapsed
    mb = 1024 * 1024
    return [
        "| crawl | pages | seconds | pages/s | ÷ bare Scrapy | peak memory, PSS (MB) |",
        "|---|---|---|---|---|---|",
        f"| server alone (keep-alive load loop, 8 connections) | {pages} | {pages / server_rps:.2f} | "
        f"{server_rps:.0f} | {server_rps / bare_ps:.1f}x | – |",
        f"| bare Scrapy (same spider, no pipelines) | {pages} | {bare.elapsed:.1f} | {bare_ps:.1f} | 1.00 | "
        f"{bare.peak_rss / mb:.0f} |",
        f"| full pipeline into SQLite | {pages} | {full.elapsed:.1f} | {full_ps:.1f} | {full_ps / bare_ps:.2f} | "
        f"{full.peak_rss / mb:.0f} |",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="article pages (default 5000)")
    parser.add_argument("--edit", type=float, default=0.01, help="share of articles edited (default 0.01)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Scrapy/qmcrawler setting for the full-pipeline crawls, e.g. QMC_EXTRACT_WORKERS=2 (repeatable)",
    )
    parser.add_argument("--first-only", action="store_true", help="skip the recrawls (throughput table only)")
    args = parser.parse_args(argv)
    try:
        extra = dict(item.split("=", 1) for item in args.set)
    except ValueError:
        parser.error("--set expects KEY=VALUE")
    tmp = Path(tempfile.mkdtemp(prefix="qmc-bench-crawl-"))
    try:
        web_root = tmp / "web"
        lists = sitegen.build(web_root, args.pages)
        total = args.pages + lists
        with fastweb.FastWeb(web_root) as web:
            config = tmp / "sites.toml"
            config.write_text(sitegen.CONFIG.format(base=web.base, lists=lists) + sitegen.WHOLE_SITE, encoding="utf-8")
            paths = [sitegen.article_path(i) for i in range(args.pages)]
            server_rps = fastweb.load(web.base, paths)
            bare = crawl(config, tmp / "bare.db", BARE)
            db = tmp / "full.db"
            first = crawl(config, db, extra)
            if args.first_only:
                print("\n".join(throughput_table(total, server_rps, bare, first)))
                return 0
            again = crawl(config, db, extra)
            rng = random.Random(20180901)
            edited = sorted(rng.sample(range(args.pages), max(1, round(args.pages * args.edit))))
            sitegen.edit(web_root, edited, 1)
            web.reload()
            after_edit = crawl(config, db, extra)
        print("\n".join(throughput_table(total, server_rps, bare, first)))
        print()
        print(
            recrawl_table(
                db, total, len(edited), {web.base + sitegen.article_path(i) for i in edited}, first, again, after_edit
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def recrawl_table(
    db: Path,
    total: int,
    n_edited: int,
    edited_urls: set[str],
    first: CrawlResult,
    again: CrawlResult,
    after_edit: CrawlResult,
) -> str:
    """The recrawl table: run 2 unchanged, run 3 with edits."""
    out = [
        "| crawl | pages | seconds | time ÷ first | 304 share | versions written | changes found |",
        "|---|---|---|---|---|---|---|",
    ]
    for run, label, result in (
        (1, "first crawl", first),
        (2, "again, unchanged", again),
        (3, f"again, {n_edited} articles edited", after_edit),
    ):
        outcomes = _outcomes(db, run)
        fetched = sum(outcomes.values())
        versions = _rows(db, "SELECT count(*) FROM versions WHERE run_id = ?", (run,))[0][0]
        found = {
            str(u)
            for (u,) in _rows(
                db,
                "SELECT p.url FROM changes c JOIN pages p ON p.id = c.page_id "
                "WHERE c.run_id = ? AND c.kind = 'changed'",
                (run,),
            )
        }
        share = outcomes.get("not_modified", 0) / total
        verdict = ""
        if run == 3:
            verdict = (
                "exactly the edited pages"
                if found == edited_urls
                else f"{len(found & edited_urls)} of {n_edited} edited, {len(found - edited_urls)} others"
            )
        elif run == 2:
            verdict = f"{len(found)}"
        else:
            verdict = f"{versions} new"
        out.append(
            f"| {label} | {total} ({fetched} article fetches) | {result.elapsed:.1f} | "
            f"{result.elapsed / first.elapsed:.2f} | {share:.1%} | {versions} | {verdict} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
