"""The `frontier` command: which known pages are due when, and why (interval, last change).

python -m qmcrawler frontier --site samr --due
python -m qmcrawler frontier --json | jq -r 'select(.due) | .url'
"""

from __future__ import annotations

from typing import Any

import click

from qmcrawler.cli.common import (
    DB_OPTION,
    SITE_OPTION,
    TZ_OPTION,
    check_site,
    display_zone,
    echo_json_lines,
    limit_option,
    one_line_errors,
)
from qmcrawler.cli.timeparse import parse_since
from qmcrawler.monitor.revisit import CONFIRM
from qmcrawler.outputs.clock import local
from qmcrawler.storage import frontier as frontier_rows
from qmcrawler.storage import open_db
from qmcrawler.storage.records import utcnow

#: why a page is due, by the frontier's `reason`
WHY = {
    "new": "new page: checked often at first",
    "changed": "changed at the last check: interval shortened",
    "unchanged": "unchanged at the last check: interval grows, up to revisit_max",
    "gone": "404/410 once: removal confirmation at the next run",
    "failed": "last check failed or blocked: retried at the next run",
    "upgrade": "known before the frontier existed: spread over its revisit window",
}


def span(seconds: float) -> str:
    """A short duration: 45m, 6h, 1.5d."""
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.3g}h"
    return f"{seconds / 86400:.3g}d"


def _count(n: int, noun: str) -> str:
    """`1 check`, `3 checks`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def describe(row: dict[str, Any], now: str) -> dict[str, Any]:
    """One frontier entry as the command shows it."""
    return {
        "url": row["url"],
        "site": row["site"],
        "status": row["status"],
        "next_check_at": row["next_check_at"],
        "due": row["next_check_at"] <= now,
        "priority": "removal confirmation" if row["priority"] == CONFIRM else "revisit",
        "why": WHY.get(row["reason"] or "", row["reason"] or ""),
        "interval_s": row["interval_s"],
        "interval": span(float(row["interval_s"])),
        "checks": row["checks"],
        "changes": row["changes"],
        "last_check_at": row["last_check_at"],
        "last_change_at": row["last_change_at"],
    }


@click.command()
@DB_OPTION
@SITE_OPTION
@click.option("--due", is_flag=True, help="Only pages due now (or at --at), in the order a run checks them.")
@click.option("--at", "at", help="The moment 'now' means (ISO time or a span back like 7d; default: now).")
@limit_option(0)
@TZ_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (times in UTC).")
@one_line_errors
def frontier(
    db_path: str, site: str | None, due: bool, at: str | None, limit: int, tz_name: str | None, as_json: bool
) -> None:
    """Known pages by when they are next checked: interval, checks, changes, why (times in Asia/Shanghai or --tz)."""
    now = parse_since(at) if at else utcnow()
    db = open_db(db_path, create=False)
    check_site(db, site)
    rows = [describe(r, now) for r in frontier_rows.listing(db, site=site, now=now if due else None, limit=limit)]
    known, next_at = frontier_rows.soonest(db, site) if due and not rows and not as_json else (0, None)
    db.close()
    if as_json:
        echo_json_lines(rows)
        return
    tz = display_zone(tz_name)
    for r in rows:
        why = ("removal confirmation; " if r["priority"] != "revisit" else "") + r["why"]
        last = local(r["last_change_at"], tz) if r["last_change_at"] else "-"
        click.echo(
            f"{local(r['next_check_at'], tz)} {'due ' if r['due'] else ''}every {r['interval']}  "
            f"{_count(r['checks'], 'check')}, {_count(r['changes'], 'change')}, last change {last}  {r['url']}\n"
            f"    {why}"
        )
    if due and not rows:  # say when something will be, not only that nothing is
        later = f"; the soonest of {_count(known, 'known page')} is due at {local(next_at, tz)}" if next_at else ""
        click.echo(f"0 pages due at {local(now, tz)}{later or '; no known pages'}")
        return
    click.echo(f"{_count(len(rows), 'page')}, {sum(r['due'] for r in rows)} due at {local(now, tz)}")
