"""`python -m qmcrawler.demo`: serve the sample sites, crawl, apply the next-day edits, recrawl.

Crawl 1 sees day 1; crawls 2 and 3 see the "next day" overlay (a correction, a new notice, a
removed page, and three noise-only edits). The crawls run one simulated day apart (`QMC_NOW`,
the last one today), so the pages stored the day before are due again. It prints what each crawl found, then the changes
with their diffs, and leaves the database for `qmcrawler`, sqlite-utils or Datasette.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qmcrawler.cli.common import console
from qmcrawler.cli.lookup import print_change
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.outputs.report import write_report
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db, queries

HERE = Path(__file__).resolve().parent
DAY1 = [HERE / "site"]
NEXT_DAY = [HERE / "site", HERE / "nextday"]
CRAWLS = (("day 1", DAY1), ("next day", NEXT_DAY), ("next day, again", NEXT_DAY))


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m qmcrawler.demo", description=__doc__)
    parser.add_argument("--db", default="demo.db", help="database to (re)create (default: demo.db)")
    parser.add_argument(
        "--report", default="demo-report.html", help="HTML change report to write (default: demo-report.html)"
    )
    args = parser.parse_args(argv)
    db_path = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    out = console()
    with tempfile.TemporaryDirectory() as tmp, MiniWeb(DAY1) as web:
        config = Path(tmp) / "sites.toml"
        config.write_text(
            (HERE / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), encoding="utf-8"
        )
        out.print(f"serving the sample sites on {web.base}/ ; database {db_path}")
        first_day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=len(CRAWLS) - 1)
        for n, (label, layers) in enumerate(CRAWLS, start=1):
            web.set_layers(layers)
            started = time.monotonic()
            now = (first_day + timedelta(days=n - 1)).isoformat()
            result = run_crawl(config, db_path, settings={**LOCAL_SETTINGS, "QMC_NOW": now}, timeout=300)
            if result.returncode != 0:
                print(result.stderr[-4000:], file=sys.stderr)
                print(f"error: crawl {n} failed (exit {result.returncode})", file=sys.stderr)
                return 1
            db = open_db(db_path, create=False)
            run_id = queries.runs(db, limit=1)[0]["id"]
            outcomes = ", ".join(f"{v} {k}" for k, v in queries.run_outcomes(db, run_id).items())
            found = queries.changes(db, run_id=run_id, limit=None)
            out.print(
                f"[{n}/3] crawl of {label}: {time.monotonic() - started:.1f} s; downloads: {outcomes}; "
                f"changes: {len(found)}"
            )
            db.close()
    db = open_db(db_path, create=False)
    out.print("\nChanges after day 1 (newest first):\n")
    first_run = queries.runs(db, limit=3)[-1]["id"]
    for row in queries.changes(db, limit=None):
        if row["run_id"] != first_run:
            print_change(out, row)
    new = queries.changes(db, run_id=first_run, kinds=["new"], limit=None)
    out.print(f"Crawl 1 found {len(new)} new pages ({sum(r['is_relevant'] for r in new)} about 质量月). Try:")
    out.print(f"  .venv/bin/python -m qmcrawler changes --db {db_path} --relevant --no-diff")
    out.print(f"  .venv/bin/python -m qmcrawler search 质量强国 --db {db_path}")
    query = "'select kind, count(*) from changes group by kind'"
    out.print(f"  .venv/bin/sqlite-utils {db_path} {query} --table")
    n = write_report(db, args.report)
    out.print(f"Wrote {args.report} ({n} changes, side-by-side diffs): open it in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
