"""Reading a test's database the same way on SQLite and PostgreSQL (no sqlite3, no sqlite-utils tables)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qmcrawler.storage import open_db


def opened(db: Any) -> Any:
    """An open database from a database, a path or a URL."""
    return open_db(db) if isinstance(db, str | Path | os.PathLike) else db


def rows(db: Any, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Every row of a query, as dicts (`?` placeholders on both backends)."""
    return [dict(r) for r in opened(db).query(sql, params or [])]


def count(db: Any, table: str, where: str = "", params: Any = None) -> int:
    """How many rows a table has (optionally `WHERE …`)."""
    sql = f"SELECT count(*) AS n FROM {table}" + (f" WHERE {where}" if where else "")  # noqa: S608 - test code
    return int(rows(db, sql, params)[0]["n"])
