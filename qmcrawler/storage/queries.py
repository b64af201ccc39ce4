"""Reading the database: changes, page history, versions, search, known pages, raw HTML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from qmcrawler.monitor.content import unpack_raw
from qmcrawler.storage import changediff, textsearch

FTS_MIN_CHARS = textsearch.FTS_MIN_CHARS

_CHANGE_SELECT = """
SELECT c.id, c.run_id, p.url, p.site, c.kind, c.fields, c.cause,
       COALESCE(vt.title, vf.title) AS title, c.detected_at, c.diff,
       COALESCE(vt.is_relevant, vf.is_relevant, 0) AS is_relevant,
       c.from_version, c.to_version, c.page_id,
       COALESCE(vt.year, vf.year) AS year, COALESCE(vt.relevance, vf.relevance) AS relevance,
       COALESCE(vt.copy_of, vf.copy_of) AS copy_of, cp.url AS copy_of_url,
       COALESCE(vt.likely_mirror, vf.likely_mirror, 0) AS likely_mirror,
       {made} AS _made_on_read, {new_columns}
FROM changes c
JOIN pages p ON p.id = c.page_id
LEFT JOIN versions vt ON vt.id = c.to_version
LEFT JOIN versions vf ON vf.id = c.from_version
LEFT JOIN pages cp ON cp.id = COALESCE(vt.copy_of, vf.copy_of)
"""
#: a `new` change whose diff is made on read, and the columns of its version it is made from (read
#: in the same query, and only for such rows)
_MADE_ON_READ = "c.diff IS NULL AND c.kind = 'new' AND vt.id IS NOT NULL"
_CHANGE_SELECT = _CHANGE_SELECT.format(
    made=_MADE_ON_READ,
    new_columns=", ".join(f"CASE WHEN {_MADE_ON_READ} THEN vt.{c} END AS _new_{c}" for c in changediff.COLUMNS),
)
#: a repost on another site or a mirror is never a new notice of its own: its `new` change exists (with
#: `copy_of`) but is not notified; a site repeating its own text under a new URL still is
_NOT_A_COPY_NOTICE = (
    "NOT (c.kind = 'new' AND cp.id IS NOT NULL AND (cp.site != p.site OR COALESCE(vt.likely_mirror, 0) = 1))"
)


def _change_row(row: dict[str, Any]) -> dict[str, Any]:
    version = {c: row.pop(f"_new_{c}") for c in changediff.COLUMNS}
    if row.pop("_made_on_read"):  # a `new` change: its diff is made from its version
        row["diff"] = changediff.new_diff(version)
    row["fields"] = json.loads(row["fields"] or "[]")
    row["is_relevant"] = bool(row["is_relevant"])
    row["likely_mirror"] = bool(row["likely_mirror"])
    return row


def changes(
    db: Database,
    since: str | None = None,
    site: str | None = None,
    kinds: list[str] | None = None,
    relevant_only: bool = False,
    include_extractor: bool = False,
    limit: int | None = None,
    run_id: int | None = None,
) -> list[dict[str, Any]]:
    """Changes newest first, filtered; `since` is an ISO UTC string compared with detected_at."""
    where, params = _filters(since, site, kinds, relevant_only)
    if run_id is not None:
        where.append("c.run_id = ?")
        params.append(run_id)
    if not include_extractor:
        where.append("COALESCE(c.cause, 'page') = 'page'")
    sql = _CHANGE_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY c.detected_at DESC, c.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_change_row(dict(r)) for r in db.query(sql, params)]


def _filters(
    since: str | None, site: str | None, kinds: list[str] | None, relevant_only: bool
) -> tuple[list[str], list[Any]]:
    """WHERE clauses and parameters shared by the change queries (over _CHANGE_SELECT)."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if since:
        where.append("c.detected_at >= ?")
        params.append(since)
    if site:
        where.append("p.site = ?")
        params.append(site)
    if kinds:
        where.append(f"c.kind IN ({', '.join('?' for _ in kinds)})")
        params.extend(kinds)
    if relevant_only:
        where.append("COALESCE(vt.is_relevant, vf.is_relevant, 0) = 1")
    return where, params


def page(db: Database, url: str) -> dict[str, Any] | None:
    """The `pages` row for a URL (exact match), or None."""
    rows = list(db.query("SELECT * FROM pages WHERE url = ?", [url]))
    return dict(rows[0]) if rows else None


def page_by_id(db: Database, page_id: int) -> dict[str, Any] | None:
    """The `pages` row with this id, or None."""
    rows = list(db.query("SELECT * FROM pages WHERE id = ?", [page_id]))
    return dict(rows[0]) if rows else None


def versions(db: Database, page_id: int) -> list[dict[str, Any]]:
    """All versions of a page, oldest first, numbered from 1 in `n`."""
    rows = db.query("SELECT * FROM versions WHERE page_id = ? ORDER BY id", [page_id])
    out = []
    for n, row in enumerate(rows, start=1):
        item = dict(row)
        item["n"] = n
        item["attachments"] = json.loads(item["attachments"] or "[]")
        item["flags"] = json.loads(item["flags"] or "[]")
        out.append(item)
    return out


def page_changes(db: Database, page_id: int) -> list[dict[str, Any]]:
    """Changes of one page, oldest first."""
    sql = _CHANGE_SELECT + " WHERE c.page_id = ? ORDER BY c.id"
    return [_change_row(dict(r)) for r in db.query(sql, [page_id])]


def page_fetches(db: Database, page_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent downloads of a page, newest first."""
    sql = (
        "SELECT id, run_id, fetched_at, http_status, outcome, reason, views FROM fetches "
        "WHERE page_id = ? ORDER BY id DESC LIMIT ?"
    )
    return [dict(r) for r in db.query(sql, [page_id, limit])]


def search(db: Database, text: str, limit: int = 20, all_versions: bool = False) -> list[dict[str, Any]]:
    """Versions containing every whitespace-separated term of `text` (`qmcrawler.storage.textsearch`)."""
    return textsearch.search(db, text, limit=limit, all_versions=all_versions)


def known_urls(db: Database, site: str) -> list[str]:
    """Article URLs to re-check every run: live, blocked and removed pages (for `restored`)."""
    sql = "SELECT url FROM pages WHERE site = ? AND status IN ('live', 'blocked', 'removed') ORDER BY id"
    return [r["url"] for r in db.query(sql, [site])]


def current_versions(db: Database, site: str | None = None) -> Iterator[dict[str, Any]]:
    """Current version of every page that has one, with its url and site (for reprocess)."""
    sql = (
        "SELECT v.*, p.url, p.site FROM pages p JOIN versions v ON v.id = p.current_version"  # noqa: S608
        + (" WHERE p.site = ?" if site else "")
        + " ORDER BY p.id"
    )
    for row in db.query(sql, [site] if site else []):
        item = dict(row)
        item["attachments"] = json.loads(item["attachments"] or "[]")
        item["flags"] = json.loads(item["flags"] or "[]")
        yield item


def raw_document(db: Database, raw_hash: str) -> tuple[bytes, str] | None:
    """The stored raw download for a content address, decompressed, with the encoding used."""
    rows = list(db.query("SELECT content, encoding FROM raw WHERE hash = ?", [raw_hash]))
    if not rows:
        return None
    return unpack_raw(rows[0]["content"]), rows[0]["encoding"] or "utf-8"


def run_outcomes(db: Database, run_id: int) -> dict[str, int]:
    """How many downloads of a run ended in each `fetches.outcome`."""
    sql = "SELECT outcome, count(*) AS n FROM fetches WHERE run_id = ? GROUP BY outcome ORDER BY outcome"
    return {r["outcome"]: r["n"] for r in db.query(sql, [run_id])}


def runs(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """Recent runs, newest first."""
    return [dict(r) for r in db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])]


def run_by_pid(db: Database, pid: int, started_after: str) -> dict[str, Any] | None:
    """The run a crawl process wrote (runs.pid), started at or after `started_after` (ISO UTC)."""
    rows = list(
        db.query("SELECT * FROM runs WHERE pid = ? AND started_at >= ? ORDER BY id DESC LIMIT 1", [pid, started_after])
    )
    return dict(rows[0]) if rows else None


def version(db: Database, version_id: int | None) -> dict[str, Any] | None:
    """One `versions` row by id (attachments and flags decoded), or None."""
    if version_id is None:
        return None
    rows = list(db.query("SELECT * FROM versions WHERE id = ?", [version_id]))
    if not rows:
        return None
    item = dict(rows[0])
    item["attachments"] = json.loads(item["attachments"] or "[]")
    item["flags"] = json.loads(item["flags"] or "[]")
    return item


def pending_notifications(
    db: Database,
    target: str,
    kinds: list[str],
    relevant_only: bool = True,
    since: str | None = None,
    site: str | None = None,
    after: int = 0,
) -> list[dict[str, Any]]:
    """Page changes of these kinds not yet delivered to `target`, oldest first (never a copy's `new`).

    `after`: only changes with a higher id (where a new notification target starts), and the
    earlier ones a delivery to `target` was already tried for (a `--backfill` that failed: its
    changes were kept for the next digest).
    """
    where, params = _filters(since, site, kinds, relevant_only)
    if after:
        where.append("(c.id > ? OR EXISTS (SELECT 1 FROM notifications n WHERE n.change_id = c.id AND n.target = ?))")
        params += [after, target]
    where += [
        "COALESCE(c.cause, 'page') = 'page'",
        _NOT_A_COPY_NOTICE,
        "NOT EXISTS (SELECT 1 FROM notifications n WHERE n.change_id = c.id AND n.target = ? AND n.status = 'sent')",
    ]
    params.append(target)
    sql = _CHANGE_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY c.id"
    return [_change_row(dict(r)) for r in db.query(sql, params)]


def target_start(db: Database, target: str) -> int | None:
    """The change id a notification target starts after, or None for a target never seen."""
    rows = list(db.query("SELECT from_change FROM notify_targets WHERE target = ?", [target]))
    return int(rows[0]["from_change"]) if rows else None


def last_change_id(db: Database) -> int:
    """The highest change id so far (0 for an empty database)."""
    return int(next(iter(db.query("SELECT COALESCE(MAX(id), 0) AS n FROM changes")))["n"])


def notification_status(db: Database, change_id: int) -> list[dict[str, Any]]:
    """Delivery rows of one change (one per notification target)."""
    sql = "SELECT * FROM notifications WHERE change_id = ? ORDER BY target"
    return [dict(r) for r in db.query(sql, [change_id])]


def site_ids(db: Database) -> list[str]:
    """Site ids the database knows: those of its pages and those its runs crawled."""
    ids = {r["site"] for r in db.query("SELECT DISTINCT site FROM pages")}
    for row in db.query("SELECT DISTINCT sites FROM runs WHERE sites IS NOT NULL"):
        ids.update(s for s in str(row["sites"]).split(",") if s)
    return sorted(ids)
