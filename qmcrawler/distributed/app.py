"""The Procrastinate app on the store's PostgreSQL database, and its schema.

The queue's tables (`procrastinate_jobs`, `procrastinate_workers`, …) are created in the same
database the first time a worker, the dispatcher or `enqueue` connects (`ensure_schema`, under
an advisory lock, so several processes starting at once create them once).
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager

from qmcrawler.distributed.tasks import blueprint
from qmcrawler.storage import StoreError, open_db
from qmcrawler.storage.dialects import is_postgres_url, libpq_url, safe_url

#: advisory lock id under which the queue's schema is created
SCHEMA_LOCK = 0x716D6371  # "qmcq"


class QueueError(Exception):
    """The queue cannot be used (not a PostgreSQL database, cannot connect); one-line message."""


def check_url(url: str | None) -> str:
    """The libpq URL of a PostgreSQL database, or QueueError: the queue lives only on PostgreSQL."""
    if not url or not is_postgres_url(url):
        raise QueueError(
            f"{url or '(no --db)'}: the job queue needs a PostgreSQL database (--db postgresql://user@host/db); "
            "a single machine crawls SQLite with schedule.py"
        )
    return libpq_url(url)


def make_app(url: str, **pool: Any) -> App:
    """A Procrastinate app on this database, with the crawl task registered (not opened yet)."""
    # a connection from the pool is checked before use, so a restarted server costs a reconnect, not an error
    connector = PsycopgConnector(conninfo=libpq_url(url), min_size=1, max_size=pool.pop("max_size", 4), **pool)
    app = App(connector=connector)
    app.add_tasks_from(blueprint, namespace="qmc")
    return app


def ensure_schema(url: str) -> None:
    """Create qmcrawler's schema (Alembic) and the queue's tables in this database if missing."""
    url = check_url(url)
    try:
        open_db(url).close()
    except StoreError as e:
        raise QueueError(str(e)) from None
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if _has_queue(conn):
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
                if not _has_queue(conn):
                    conn.execute(SchemaManager.get_schema())
    except psycopg.Error as e:
        raise QueueError(f"{safe_url(url)}: cannot create the job queue: {str(e).strip().splitlines()[0]}") from None


def _has_queue(conn: psycopg.Connection[Any]) -> bool:
    # a catalog query, not to_regclass(): its cache may not have seen the table another process just created
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'procrastinate_jobs')"
    ).fetchone()
    return bool(row and row[0])
