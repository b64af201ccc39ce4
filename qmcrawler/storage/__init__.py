"""Storage: the one place that talks to the database (SQLite via sqlite-utils, or PostgreSQL).

Pipelines, the CLI and the scheduler call these functions and never write SQL themselves.
`open_db` takes a path (or `sqlite:///path`) for SQLite and a `postgresql://` URL for
PostgreSQL (`qmcrawler.storage.pgdb`); both answer `query`, `execute`, `atomic` and `begin`,
and the statements are the same on both except where `dialect_of(db)` says otherwise.

Several crawl processes (and the scheduler, and the CLI) write one database at once. In WAL
mode a deferred transaction that reads and then writes fails with SQLITE_BUSY at once when
another process committed in between, without waiting for the busy timeout. So every write
transaction here starts with `BEGIN IMMEDIATE` (`QmDatabase.atomic`, and implicit transactions
through `isolation_level`): it takes the write lock first, waiting up to the busy timeout.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from qmcrawler.storage import pgschema
from qmcrawler.storage.dialects import db_errors, dialect_of, is_postgres_url, safe_url
from qmcrawler.storage.schema import newer_migrations, upgrade

if TYPE_CHECKING:
    from qmcrawler.storage.pgdb import PgDatabase

__all__ = ["NewerDatabase", "QmDatabase", "StoreError", "db_errors", "dialect_of", "open_db"]

DEFAULT_DB = "qm.db"
#: how long a writer waits for another process's write transaction (seconds)
BUSY_TIMEOUT = 60


class StoreError(Exception):
    """The database cannot be opened or is not a qmcrawler database; one-line message."""


class NewerDatabase(StoreError):
    """The database was written by a newer qmcrawler (a migration this version does not know)."""


def __getattr__(name: str) -> Any:
    """`DB_ERRORS`: both drivers' errors (imports psycopg; crawl code uses `db_errors()` instead)."""
    if name == "DB_ERRORS":
        import psycopg

        return (sqlite3.Error, psycopg.Error)
    raise AttributeError(name)


class QmDatabase(Database):
    """A sqlite-utils Database whose transactions take the write lock first (BEGIN IMMEDIATE)."""

    dialect = "sqlite"

    def begin(self) -> None:
        """Open a transaction that lasts until `conn.commit()` (a crawl's batch), write lock first."""
        if not self.conn.in_transaction:
            self.execute("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction (a savepoint when nested) that starts with BEGIN IMMEDIATE."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise
        try:
            self.conn.commit()
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise


def db_path(path: str | os.PathLike[str] | None = None) -> str:
    """The database to use: the argument, else env `QMC_DB`, else ./qm.db (`sqlite:///` dropped)."""
    p = str(path or os.environ.get("QMC_DB") or DEFAULT_DB)
    return p.removeprefix("sqlite:///") if p.startswith("sqlite:///") else p


def open_db(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Any:
    """Open (and create/upgrade) a qmcrawler database in WAL mode.

    With `create=False` a missing file is an error (read-only commands should not invent an
    empty database and report "no changes"), and so is a file that holds no qmcrawler database
    (an empty file, another program's tables): nothing is written to it. A database with a
    migration this version does not know is refused (NewerDatabase) before anything is written
    to it. A database in a folder
    that does not exist is refused too: the folder is not made (a typo in `--db` or `QMC_DB`
    would otherwise crawl into a new empty database and report every page as new).
    """
    p = db_path(path)
    if is_postgres_url(p):
        return open_postgres(p)
    if p != ":memory:":
        if not create and not Path(p).exists():
            raise StoreError(f"{p}: database not found")
        parent = Path(p).parent
        if not parent.is_dir():  # a mistyped path is an error, never a new empty database somewhere
            if not create:
                raise StoreError(f"{p}: database not found")
            raise StoreError(f"{p}: folder {parent} does not exist (create it first, or check the path)")
    try:
        conn = sqlite3.connect(p, timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level="IMMEDIATE")
        db = QmDatabase(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT * 1000}")
        if not create and p != ":memory:" and not _is_qmcrawler(conn):
            conn.close()
            raise StoreError(f"{p}: not a qmcrawler database (crawl into it first): the file was not changed")
        newer = newer_migrations(db) or [r for r in [pgschema.newer_revision(db)] if r]
        if newer:
            conn.close()
            raise NewerDatabase(
                f"{p}: written by a newer qmcrawler (unknown migration {newer[0]!r}): "
                "upgrade qmcrawler to use it; the file was not changed"
            )
        if p != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        upgrade(db)
        pgschema.stamp_sqlite(db)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{p}: cannot use database: {e}") from None
    return db


def _is_qmcrawler(conn: sqlite3.Connection) -> bool:
    """Does the file hold a qmcrawler database (its migrations, or its two main tables)?

    A read-only command given an empty file or another program's database would otherwise
    create every qmcrawler table in it and answer "no changes".
    """
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "_sqlite_migrations" in names:
        sql = "SELECT 1 FROM _sqlite_migrations WHERE migration_set = 'qmcrawler' LIMIT 1"
        if conn.execute(sql).fetchone() is not None:
            return True
    return {"pages", "versions"} <= names


def open_postgres(url: str) -> PgDatabase:
    """Connect to a qmcrawler database on PostgreSQL, creating or upgrading its schema (Alembic)."""
    import psycopg

    from qmcrawler.storage.pgdb import PgDatabase

    shown = safe_url(url)
    try:
        db = PgDatabase(url)
    except psycopg.Error as e:
        raise StoreError(f"{shown}: cannot connect: {str(e).strip().splitlines()[0]}") from None
    try:
        pgschema.check_locale(db, url)
        newer = pgschema.newer_revision(db)
        if newer:
            raise NewerDatabase(
                f"{shown}: written by a newer qmcrawler (unknown revision {newer!r}): "
                "upgrade qmcrawler to use it; the database was not changed"
            )
        pgschema.upgrade_postgres(db, url)
    except pgschema.LocaleError as e:
        db.close()
        raise StoreError(str(e)) from None
    except psycopg.Error as e:
        db.close()
        raise StoreError(f"{shown}: cannot use database: {str(e).strip().splitlines()[0]}") from None
    return db
