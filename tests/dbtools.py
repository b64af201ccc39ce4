"""Reading a test's database the same way on SQLite and PostgreSQL (no sqlite3, no sqlite-utils tables)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qmcrawler.storage import open_db


@contextlib.contextmanager
def opened(db: Any) -> Iterator[Any]:
    """An open database from a database (left open), a path or a URL (closed after the block)."""
    if not isinstance(db, str | Path | os.PathLike):
        yield db
        return
    conn = open_db(db)
    try:
        yield conn
    finally:
        conn.close()


def rows(db: Any, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Every row of a query, as dicts (`?` placeholders on both backends)."""
    with opened(db) as conn:
        return [dict(r) for r in conn.query(sql, params or [])]


def count(db: Any, table: str, where: str = "", params: Any = None) -> int:
    """How many rows a table has (optionally `WHERE …`)."""
    sql = f"SELECT count(*) AS n FROM {table}" + (f" WHERE {where}" if where else "")  # noqa: S608 - test code
    return int(rows(db, sql, params)[0]["n"])
