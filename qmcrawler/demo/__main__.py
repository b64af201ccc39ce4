"""`python -m qmcrawler.demo`: serve the sample sites, crawl, apply the next-day edits, recrawl.

Crawl 1 sees day 1; crawls 2 and 3 see the "next day" overlay (a correction, a new notice, a
removed page, and three noise-only edits). The crawls run one simulated day apart (`QMC_NOW`,
the last one today), so the pages stored the day before are due again. It prints what each crawl found, then the changes
with their diffs, and leaves the database for `qmcrawler`, sqlite-utils or Datasette.

`python -m qmcrawler.demo --serve [--next-day] [--port N]` only serves the sample sites and
writes their sites.toml (`{base}` filled in), to crawl them by hand until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qmcrawler.cli.common import console
from qmcrawler.cli.lookup import print_change
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.outputs.report import write_report
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db, queries
from qmcrawler.storage.dialects import is_postgres_url
from qmcrawler.storage.lastrun import summary

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
    parser.add_argument("--serve", action="store_true", help="only serve the sample sites (Ctrl-C stops)")
    parser.add_argument("--next-day", action="store_true", help="with --serve: serve the next-day edits")
    parser.add_argument("--port", type=int, default=8000, help="with --serve: port on 127.0.0.1 (default 8000)")
    parser.add_argument(
        "--sites-out", default="demo-sites.toml", help="with --serve: sites file to write (default demo-sites.toml)"
    )
    args = parser.parse_args(argv)
    if args.serve:
        return serve(NEXT_DAY if args.next_day else DAY1, args.port, Path(args.sites_out))
    db_path: str | Path = args.db  # a PostgreSQL database (a URL) is used as it is: give a new one
    if not is_postgres_url(args.db):
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
            out.print(f"[{n}/3] crawl of {label}: {time.monotonic() - started:.1f} s; {summary(db, run_id)}")
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
    out.print("  .venv/bin/python -m qmcrawler.demo --serve    # keep the sample sites up, crawl them yourself")
    n = write_report(db, args.report)
    out.print(f"Wrote {args.report} ({n} changes, side-by-side diffs): open it in a browser.")
    return 0


def serve(layers: list[Path], port: int, sites_out: Path, db: str = "mine.db") -> int:
    """Serve the sample sites until Ctrl-C or SIGTERM, with their sites file written to `sites_out`."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        web = MiniWeb(layers, port=port)
    except OSError as e:
        print(
            f"error: cannot serve on 127.0.0.1:{port}: {e.strerror} (try --port 0 for any free port)", file=sys.stderr
        )
        return 2
    with web:
        text = (HERE / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base)
        sites_out.write_text(text, encoding="utf-8")
        next_day = layers == NEXT_DAY
        # a known page is rechecked once its revisit interval (at least a day) has passed: the next
        # day's crawl runs on a clock a day on (QMC_NOW), as `make demo` does, or it finds no edits
        print(
            f"serving the sample sites ({'the next day' if next_day else 'day 1'}) on {web.base}/ ; wrote {sites_out}"
        )
        print("crawl them (another terminal, from the repository root):")
        crawl = f".venv/bin/python -m scrapy crawl site -a config={sites_out} -s QMC_DB={db} -s DOWNLOAD_DELAY=0"
        if next_day:
            crawl += f" -s QMC_NOW={(datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()}"
        print(f"  {crawl}")
        print(f"  .venv/bin/python -m qmcrawler changes --db {db}")
        if next_day:
            print("QMC_NOW sets the crawl's clock a day on: known pages are rechecked once a day. Ctrl-C stops.")
        else:
            print("then restart with --next-day for the edits, and crawl again as it says. Ctrl-C stops.")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
