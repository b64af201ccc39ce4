"""A crawl database is consistent: no half-written downloads, on either backend (tests.dbtools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qmcrawler.storage import dialect_of, grams
from qmcrawler.storage.searchindex import comparison_rows
from tests.dbtools import count, opened


def check_consistent(target: Path | str) -> int:
    """Every current version exists, every version has its change and index row (or waits in the
    search queue); returns the number of versions.

    On SQLite also the file's integrity and foreign keys (PostgreSQL enforces its constraints
    on every statement, and has no equivalent of the integrity check).
    """
    with opened(target) as db:
        if dialect_of(db) == "sqlite":
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = count(
            db,
            "pages p LEFT JOIN versions v ON v.id = p.current_version",
            "p.current_version IS NOT NULL AND v.id IS NULL",
        )
        assert orphans == 0
        unlogged = count(db, "versions v LEFT JOIN changes c ON c.to_version = v.id", "c.id IS NULL")
        assert unlogged == 0  # every version has its change: written in one transaction
        check_index(db)
        return count(db, "versions")


def check_index(db: Any) -> None:
    """Every version that has bigrams is indexed once (or waits in the queue), and nothing else is."""
    indexed, queued, wanted = indexed_versions(db), queued_versions(db), versions_to_index(db)
    assert not indexed & queued  # a version is indexed once: queued (qmcrawler.storage.indexlag) or in the index
    assert indexed | (queued & wanted) == wanted  # and nothing else
    assert queued <= {int(r[0]) for r in db.execute("SELECT id FROM versions").fetchall()}


def queued_versions(db: Any) -> set[int]:
    """The versions stored but not indexed yet (SQLite's `search_queue`; PostgreSQL indexes at once)."""
    if dialect_of(db) == "postgresql":
        return set()
    return {int(r[0]) for r in db.execute("SELECT version_id FROM search_queue").fetchall()}


def indexed_versions(db: Any) -> set[int]:
    """The versions the search index holds rows for."""
    if dialect_of(db) == "postgresql":
        return {int(r["version_id"]) for r in db.query("SELECT version_id FROM version_search")}
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.qmc_grams USING fts5vocab(main, search_grams, 'instance')")
    return {int(r[0]) for r in db.execute("SELECT DISTINCT doc FROM temp.qmc_grams").fetchall()}


def versions_to_index(db: Any) -> set[int]:
    """The versions that should have index rows: all (PostgreSQL), those with a bigram (SQLite)."""
    found = db.execute("SELECT id, title, text, flags FROM versions").fetchall()
    if dialect_of(db) == "postgresql":
        return {int(r[0]) for r in found}
    return {vid for vid, title, text in comparison_rows(found) if grams.document(grams.body_of(title, text))}
