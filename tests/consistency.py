"""A crawl database is consistent: no half-written downloads, on either backend (tests.dbtools)."""

from __future__ import annotations

from pathlib import Path

from qmcrawler.storage import dialect_of
from tests.dbtools import count, opened


def check_consistent(target: Path | str) -> int:
    """Every current version exists and every version has its change; returns the number of versions.

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
        return count(db, "versions")
