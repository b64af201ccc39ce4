"""Which database a target names (SQLite path or PostgreSQL URL) and the errors each raises.

Kept free of database drivers: a crawl into SQLite never imports psycopg (about 0.2 s of start-up).
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres_url(target: str) -> bool:
    return str(target).startswith(_PREFIXES)


def libpq_url(target: str) -> str:
    """The URL psycopg reads (`postgresql+psycopg://` is SQLAlchemy's spelling)."""
    return "postgresql://" + target.split("://", 1)[1] if target.startswith("postgresql+") else target


def dialect_of(db: Any) -> str:
    """ "postgresql" or "sqlite": the one question callers ask where the databases differ."""
    return str(getattr(db, "dialect", "sqlite"))


def safe_url(url: str) -> str:
    """A target as shown in messages: a URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}@{host}"


def db_errors() -> tuple[type[Exception], ...]:
    """What a failing database raises: sqlite3's errors, and psycopg's once PostgreSQL is in use.

    For `except db_errors() as e:` (evaluated when an exception is matched, so psycopg is only
    named when it was imported, i.e. when a PostgreSQL database was opened).
    """
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error, psycopg.Error) if psycopg is not None else (sqlite3.Error,)
