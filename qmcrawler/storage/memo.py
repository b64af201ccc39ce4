"""What the crawler remembers between runs to fetch less: HTTP validators, raw hashes, attachment files.

Read for the pages a run checks, never for the whole history: `due_pages` for the pages the
frontier says are due (qmcrawler.storage.frontier), `known_urls` for the links a list page shows,
`files_for` for the attachments of a page being stored. Written inside the store's per-download
transaction (`save_validators`, `save_file`), so a killed crawl never leaves a validator
pointing at content that was not stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


#: SQLite's default limit on host parameters is 999 (3.32+: 32766); stay well below
_CHUNK = 500


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def due_pages(db: Database, page_ids: Iterable[int]) -> dict[str, PageMemo]:
    """What we remember of these pages (the ones a run re-checks), by URL, in the order given."""
    ids = list(page_ids)
    found: dict[int, PageMemo] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        sql = (
            "SELECT p.id, p.url, p.etag, p.last_modified, p.last_raw_hash, v.content_hash, "  # noqa: S608
            "COALESCE(v.attachments, '[]') != '[]' AS has_attachments FROM pages p "
            f"LEFT JOIN versions v ON v.id = p.current_version WHERE p.id IN ({marks}) "
            "AND p.status IN ('live', 'blocked', 'removed')"
        )
        for r in db.query(sql, chunk):
            found[r["id"]] = PageMemo(
                r["url"],
                r["etag"],
                r["last_modified"],
                r["last_raw_hash"],
                r["content_hash"],
                bool(r["has_attachments"]),
            )
    return {found[i].url: found[i] for i in ids if i in found}


def known_urls(db: Database, urls: Iterable[str]) -> set[str]:
    """Which of these URLs are pages the database already has (any status)."""
    known: set[str] = set()
    for chunk in _chunks(dict.fromkeys(urls)):
        marks = ", ".join("?" * len(chunk))
        known.update(r[0] for r in db.execute(f"SELECT url FROM pages WHERE url IN ({marks})", chunk))  # noqa: S608
    return known


def save_validators(db: Database, url: str, etag: str | None, last_modified: str | None) -> None:
    """Remember the validators of a page whose content was just stored (no-op for unknown pages)."""
    db.execute("UPDATE pages SET etag = ?, last_modified = ? WHERE url = ?", [etag, last_modified, url])


def files_for(db: Database, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The attachment files among these URLs that were downloaded before, by URL."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(dict.fromkeys(urls)):
        marks = ", ".join("?" * len(chunk))
        found.update((r["url"], dict(r)) for r in db.query(f"SELECT * FROM files WHERE url IN ({marks})", chunk))  # noqa: S608
    return found


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
