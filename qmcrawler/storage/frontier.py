"""The frontier table: every known page's next check, in the store (SQL side of qmcrawler.monitor.revisit).

One row per page that is re-checked (live, blocked, removed; a moved page leaves it), written in
the same transaction as the download that checked it (qmcrawler.storage.writer), so a killed
crawl never leaves a due time describing a check that was not stored.

Claiming a site's due pages is one query on the index `(site, priority, next_check_at)`: the
`priority IN (0, 1)` list makes SQLite seek one range per priority and read the rows already in
`priority, next_check_at` order, stopping at the limit (no sort, no scan of pages that are not
due; tests/test_revisit.py checks the plan). Distributed workers claim from here in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from qmcrawler.monitor.revisit import CONFIRM, REVISIT, Entry, Policy, after_check, classify, upgraded_entry
from qmcrawler.storage.records import from_z, to_z

_COLUMNS = (
    "page_id, site, next_check_at, priority, interval_s, checks, changes, stable_since, "
    "last_check_at, last_change_at, reason"
)
#: insert or replace one entry (the same statement on SQLite and PostgreSQL)
_SAVE = (
    f"INSERT INTO frontier ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608 - constants
    "ON CONFLICT (page_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.replace(" ", "").split(",")[1:])
)
#: the claim: a site's due pages, removal confirmations first, then the most overdue
DUE_SQL = (
    f"SELECT page_id FROM frontier WHERE site = ? AND priority IN ({CONFIRM}, {REVISIT}) "  # noqa: S608
    "AND next_check_at <= ? ORDER BY priority, next_check_at LIMIT ?"
)
COUNT_DUE_SQL = (
    f"SELECT count(*) FROM frontier WHERE site = ? AND priority IN ({CONFIRM}, {REVISIT}) "  # noqa: S608
    "AND next_check_at <= ?"
)


def _entry(row: Mapping[str, Any]) -> Entry:
    def moment(column: str) -> datetime | None:
        return from_z(row[column]) if row[column] else None

    return Entry(
        next_check_at=from_z(row["next_check_at"]),
        interval=float(row["interval_s"]),
        priority=int(row["priority"]),
        checks=int(row["checks"]),
        changes=int(row["changes"]),
        stable_since=moment("stable_since"),
        last_check_at=moment("last_check_at"),
        last_change_at=moment("last_change_at"),
        reason=row["reason"] or "",
    )


def _z(moment: datetime | None) -> str | None:
    return to_z(moment) if moment is not None else None


def save(db: Database, page_id: int, site: str, e: Entry) -> None:
    """Insert or replace one page's entry."""
    db.execute(
        _SAVE,
        [
            page_id,
            site,
            to_z(e.next_check_at),
            e.priority,
            e.interval,
            e.checks,
            e.changes,
            _z(e.stable_since),
            _z(e.last_check_at),
            _z(e.last_change_at),
            e.reason,
        ],
    )


def entry(db: Database, page_id: int) -> Entry | None:
    """One page's entry, if it has one."""
    row = next(iter(db.query("SELECT * FROM frontier WHERE page_id = ?", [page_id])), None)
    return _entry(row) if row else None


def checked(
    db: Database,
    page: Mapping[str, Any],
    policy: Policy,
    at: str,
    outcome: str,
    status: str | None,
    change_kind: str | None,
) -> None:
    """Reschedule a page after a download at `at` (inside the download's transaction)."""
    old = entry(db, int(page["id"]))
    result = classify(outcome, status, change_kind)
    new = after_check(policy, old, result, from_z(at), str(page["url"]))
    save(db, int(page["id"]), str(page["site"]), new)


def forget(db: Database, page_id: int) -> None:
    """Drop a page from the frontier (it moved: its new URL is checked instead)."""
    db.execute("DELETE FROM frontier WHERE page_id = ?", [page_id])


def due(db: Database, site: str, now: str, limit: int) -> list[int]:
    """Ids of up to `limit` pages of `site` due at `now`, in claim order."""
    if limit <= 0:
        return []
    return [int(r[0]) for r in db.execute(DUE_SQL, [site, now, limit]).fetchall()]


def count_due(db: Database, site: str, now: str) -> int:
    """How many pages of `site` are due at `now`."""
    return int(db.execute(COUNT_DUE_SQL, [site, now]).fetchone()[0])


def listing(db: Database, site: str | None = None, now: str | None = None, limit: int = 0) -> list[dict[str, Any]]:
    """Entries with their page URL and status, soonest due first (only due ones when `now` is given)."""
    where, params = [], []
    if site:
        where.append("f.site = ?")
        params.append(site)
    if now:
        where.append("f.next_check_at <= ?")
        params.append(now)
    sql = (
        "SELECT f.*, p.url, p.status FROM frontier f JOIN pages p ON p.id = f.page_id"  # noqa: S608 - own clauses
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY f.priority, f.next_check_at, f.page_id"
        + (f" LIMIT {int(limit)}" if limit > 0 else "")
    )
    return [dict(r) for r in db.query(sql, params)]


def soonest(db: Database, site: str | None = None) -> tuple[int, str | None]:
    """How many entries there are (of `site`), and the soonest `next_check_at` among them."""
    where, params = ("WHERE site = ?", [site]) if site else ("", [])
    row = db.execute(f"SELECT count(*), min(next_check_at) FROM frontier {where}", params).fetchone()  # noqa: S608
    return int(row[0]), row[1]


def spread_known_pages(db: Database, now: str, policy: Policy | None = None) -> int:
    """Give every re-checked page without an entry one spread over its revisit window (upgrade).

    The policy is the default one: a migration does not read sites.toml, and the first check of
    each page brings it onto its site's bounds. Returns the number of entries written.
    """
    policy = policy or Policy()
    moment = from_z(now)
    rows = db.execute(
        "SELECT p.id, p.url, p.site, p.status, p.first_seen, p.missing_runs, v.fetched_at FROM pages p "
        "LEFT JOIN versions v ON v.id = p.current_version "
        "WHERE p.status IN ('live', 'blocked', 'removed') AND p.id NOT IN (SELECT page_id FROM frontier) "
        "ORDER BY p.id"
    )
    written = 0
    for page_id, url, site, status, first_seen, missing, fetched_at in rows.fetchall():  # read, then write
        since = fetched_at or first_seen
        stable = min(from_z(since), moment) if since else moment
        pending = bool(missing) and status != "removed"
        save(db, page_id, site, upgraded_entry(policy, url, moment, stable, pending))
        written += 1
    return written
