"""What the crawler remembers between runs to fetch less: HTTP validators, raw hashes, attachment files.

Read at the start of a crawl (`known_pages`, `known_files`) and written inside the store's
per-download transaction (`save_validators`, `save_file`), so a killed crawl never leaves a
validator pointing at content that was not stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class PageMemo:
    """One known page: its validators, the sha256 of its last raw download and its content hash."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    raw_hash: str | None = None
    content_hash: str | None = None
    has_attachments: bool = False


def known_pages(db: Database, site: str) -> dict[str, PageMemo]:
    """Pages to re-check for a site (live, blocked, removed) with what we remember of them."""
    sql = (
        "SELECT p.url, p.etag, p.last_modified, p.last_raw_hash, v.content_hash, "
        "COALESCE(v.attachments, '[]') != '[]' AS has_attachments FROM pages p "
        "LEFT JOIN versions v ON v.id = p.current_version "
        "WHERE p.site = ? AND p.status IN ('live', 'blocked', 'removed') ORDER BY p.id"
    )
    return {
        r["url"]: PageMemo(
            r["url"], r["etag"], r["last_modified"], r["last_raw_hash"], r["content_hash"], bool(r["has_attachments"])
        )
        for r in db.query(sql, [site])
    }


def save_validators(db: Database, url: str, etag: str | None, last_modified: str | None) -> None:
    """Remember the validators of a page whose content was just stored (no-op for unknown pages)."""
    db.execute("UPDATE pages SET etag = ?, last_modified = ? WHERE url = ?", [etag, last_modified, url])


def known_files(db: Database) -> dict[str, dict[str, Any]]:
    """Every attachment file downloaded before, by URL."""
    return {r["url"]: dict(r) for r in db.query("SELECT * FROM files")}


def save_file(db: Database, row: Mapping[str, Any]) -> None:
    """Insert or update one attachment file (keyed by URL); keeps `first_seen`."""
    db.execute(
        "INSERT INTO files (url, sha256, size, type, name, http_status, etag, last_modified, first_seen, "
        "last_seen, truncated) VALUES (:url, :sha256, :size, :type, :name, :http_status, :etag, "
        ":last_modified, :seen, :seen, :truncated) ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, "
        "size = excluded.size, type = excluded.type, name = excluded.name, "
        "http_status = excluded.http_status, etag = excluded.etag, last_modified = excluded.last_modified, "
        "last_seen = excluded.last_seen, truncated = excluded.truncated",
        {
            "url": row["url"],
            "sha256": row.get("sha256"),
            "size": row.get("size"),
            "type": row.get("type"),
            "name": row.get("name"),
            "http_status": row.get("http_status"),
            "etag": row.get("etag"),
            "last_modified": row.get("last_modified"),
            "seen": row.get("seen"),
            "truncated": int(bool(row.get("truncated"))),
        },
    )
