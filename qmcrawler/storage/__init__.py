"""Storage: the one place that talks to the database (SQLite via sqlite-utils).

Pipelines, the CLI and the scheduler call these functions and never write SQL themselves, so
a PostgreSQL backend later replaces this package and nothing else.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from qmcrawler.storage.schema import upgrade

DEFAULT_DB = "qm.db"


class StoreError(Exception):
    """The database cannot be opened or is not a qmcrawler database; one-line message."""


def db_path(path: str | os.PathLike[str] | None = None) -> str:
    """The database to use: the argument, else env `QMC_DB`, else ./qm.db."""
    return str(path or os.environ.get("QMC_DB") or DEFAULT_DB)


def open_db(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Database:
    """Open (and create/upgrade) a qmcrawler database in WAL mode.

    With `create=False` a missing file is an error (read-only commands should not invent an
    empty database and report "no changes").
    """
    p = db_path(path)
    if p != ":memory:":
        if not create and not Path(p).exists():
            raise StoreError(f"{p}: database not found")
        parent = Path(p).parent
        if not parent.exists():
            if not create:
                raise StoreError(f"{p}: database not found")
            parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(p, timeout=30, check_same_thread=False)
        db = Database(conn)
        if p != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        upgrade(db)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{p}: cannot use database: {e}") from None
    return db
