"""Storage growth: bytes the database grows per crawl ÷ bytes of text that changed.

    .venv/bin/python bench/storage.py [--pages 2000] [--crawls 30] [--edit 0.01]

Crawls a generated site (bench/sitegen.py, served with validators by bench/fastweb.py) once,
then `--crawls` − 1 more times, editing `--edit` of the articles before each recrawl. After
every crawl the WAL is checkpointed and the bytes in use taken (pages minus free pages: SQLite
reuses free pages, so the file size alone can hide growth). "Changed text" is the UTF-8 size
of the title and body of every edited article (what a new version has to hold). Prints the
ratio and where the growth went, per table and index (SQLite's `dbstat`).
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
from bench.crawlrun import crawl  # noqa: E402


def measure(db: Path) -> tuple[int, int, dict[str, int]]:
    """After a WAL checkpoint: file size, bytes in use (file minus free pages), bytes per table/index."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        used = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        try:
            parts = {str(n): int(s) for n, s in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")}
        except sqlite3.OperationalError:  # SQLite built without dbstat
            parts = {}
    finally:
        conn.close()
    return db.stat().st_size, used * page_size, parts


def main(argv: list[str] | None = None) -> int:
    """Run the crawls and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--crawls", type=int, default=30)
    parser.add_argument("--edit", type=float, default=0.01)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="qmc-bench-storage-"))
    try:
        web_root = tmp / "web"
        lists = sitegen.build(web_root, args.pages)
        db = tmp / "growth.db"
        rng = random.Random(1978)
        changed = 0
        with fastweb.FastWeb(web_root) as web:
            config = tmp / "sites.toml"
            config.write_text(sitegen.CONFIG.format(base=web.base, lists=lists) + sitegen.WHOLE_SITE, encoding="utf-8")
            crawl(config, db)
            first_file, first_size, first_parts = measure(db)
            for n in range(2, args.crawls + 1):
                ids = rng.sample(range(args.pages), max(1, round(args.pages * args.edit)))
                changed += sitegen.edit(web_root, ids, n)
                web.reload()
                crawl(config, db)
            last_file, last_size, last_parts = measure(db)
        recrawls = args.crawls - 1
        growth = (last_size - first_size) / recrawls
        per_crawl = changed / recrawls
        file_growth = (last_file - first_file) / recrawls
        print(
            f"| pages | crawls | edited per crawl | first crawl (MB) | growth per crawl (KB) | file growth per "
            f"crawl (KB) | changed text per crawl (KB) | growth ÷ changed text |\n|---|---|---|---|---|---|---|---|\n"
            f"| {args.pages} | {args.crawls} | "
            f"{max(1, round(args.pages * args.edit))} | {first_size / 2**20:.1f} | {growth / 1024:.1f} | "
            f"{file_growth / 1024:.1f} | {per_crawl / 1024:.1f} | {growth / per_crawl:.2f} |"
        )
        print()
        print("| table or index | growth per crawl (KB) | share |\n|---|---|---|")
        deltas = {k: last_parts.get(k, 0) - first_parts.get(k, 0) for k in set(last_parts) | set(first_parts)}
        total = sum(deltas.values()) or 1
        for name, delta in sorted(deltas.items(), key=lambda kv: -kv[1])[:10]:
            print(f"| {name} | {delta / recrawls / 1024:.1f} | {delta / total:.0%} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
