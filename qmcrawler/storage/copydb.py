"""`copy-db`: a whole qmcrawler database from SQLite to PostgreSQL or back, ids kept, verified.

The source is opened read-only inside one snapshot (SQLite `mode=ro`, PostgreSQL a REPEATABLE
READ READ ONLY transaction), so a crawl writing to it meanwhile neither disturbs the copy nor
is disturbed, and the source is never written (no migration, no WAL switch). The target is
opened as every command opens it (created, migrated, the PostgreSQL locale checked) and written
in one transaction: every table of the contract (`TABLES`) in foreign-key order, in batches;
PostgreSQL rows go in through COPY. Then identity sequences start past the highest id (on
PostgreSQL), the search index is built from the copied versions (`qmcrawler.storage.searchindex`:
SQLite's bigrams, PostgreSQL's `version_search`; the two differ, so neither is copied), and
each table is read back and compared with the source by row count and an order-independent
content hash (`qmcrawler.storage.tablehash`). The transaction commits only when every table
matches; otherwise the target is left as it was.

Not copied: the search index (built), the schema's history (`_sqlite_migrations`,
`alembic_version`: the target has its own), and the job queue's tables (jobs are not history).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlite_utils import Database

from qmcrawler.storage import DB_ERRORS, NewerDatabase, StoreError, db_path, open_db, pgschema, searchindex
from qmcrawler.storage.dialects import is_postgres_url, libpq_url, safe_url
from qmcrawler.storage.schema import migrations, newer_migrations
from qmcrawler.storage.tablehash import TableDigest

#: every table of the contract, parents before children, with the key its rows are read in
TABLES: tuple[tuple[str, str], ...] = (
    ("runs", "id"),
    ("pages", "id"),
    ("raw", "hash"),
    ("versions", "id"),
    ("changes", "id"),
    ("fetches", "id"),
    ("files", "url"),
    ("notifications", "id"),
    ("notify_targets", "target"),
    ("simhash_bands", ""),
    ("frontier", "page_id"),
)
#: rows per batch (a `raw` row is a compressed page: tens of kilobytes)
BATCH = 500

#: progress(step, table, rows done, rows in the table); step is "copy" or "verify"
Progress = Callable[[str, str, int, int], None]
Batches = Iterator[list[tuple[Any, ...]]]


class CopyError(StoreError):
    """The copy cannot start or failed; the target was not changed (one-line message)."""


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and content hash on both sides."""

    table: str
    source: TableDigest
    target: TableDigest

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class CopyResult:
    """What `copy_database` did: one check per table; committed only when all matched."""

    checks: list[TableCheck]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def rows(self) -> int:
        return sum(c.source.rows for c in self.checks)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(table: str, columns: list[str], order: str) -> str:
    cols = ", ".join(_q(c) for c in columns)
    return f"SELECT {cols} FROM {_q(table)}" + (f" ORDER BY {order}" if order else "")  # noqa: S608 - names from TABLES


class SqliteSide:
    """Reading and writing the contract tables through a sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self.conn.execute(f"PRAGMA table_info({_q(table)})")]

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0])  # noqa: S608

    def batches(self, table: str, columns: list[str], order: str) -> Batches:
        cur = self.conn.execute(_select(table, columns, order))
        while rows := cur.fetchmany(BATCH):
            yield rows

    def prepare(self, tables: list[str]) -> None:
        """Empty the tables (children first) and the search index (built again at the end)."""
        for table in reversed(tables):
            self.conn.execute(f"DELETE FROM {_q(table)}")  # noqa: S608
        self.conn.execute("INSERT INTO search_grams (search_grams) VALUES ('delete-all')")
        self.conn.execute("DELETE FROM search_queue")

    def write(self, table: str, columns: list[str], batches: Batches) -> None:
        sql = f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        for rows in batches:
            self.conn.executemany(sql, rows)

    def finish(self, tables: list[str]) -> None:
        """Index every copied version for search."""
        searchindex.build(Database(self.conn, execute_plugins=False))


class PgSide:
    """Reading and writing the contract tables through a psycopg connection (COPY in, named cursors out)."""

    def __init__(self, conn: psycopg.Connection[Any], db: Any = None) -> None:
        self.conn = conn
        self.db = db  # the target's PgDatabase (same connection): the search index is built through it
        self._indexes: list[str] = []

    def columns(self, table: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def count(self, table: str) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()  # noqa: S608
        return int(row[0]) if row else 0

    def batches(self, table: str, columns: list[str], order: str) -> Batches:
        with self.conn.cursor(name=f"qmc_copy_{table}") as cur:
            cur.itersize = BATCH
            cur.execute(_select(table, columns, order))
            while rows := cur.fetchmany(BATCH):
                yield rows

    def prepare(self, tables: list[str]) -> None:
        """Empty the tables; drop their indexes (but keys) to build them once the rows are in.

        Maintaining the trigram index row by row made the search index most of a copy's time;
        built at the end with more memory than the default 64 MB, it takes a fraction of it.
        """
        self.conn.execute("TRUNCATE " + ", ".join(_q(t) for t in [*tables, "version_search"]))
        found = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            [[*tables, "version_search"]],
        ).fetchall()
        for name, definition in found:
            self.conn.execute(f"DROP INDEX {_q(name)}")
            self._indexes.append(str(definition))

    def write(self, table: str, columns: list[str], batches: Batches) -> None:
        cols = ", ".join(_q(c) for c in columns)
        with self.conn.cursor() as cur, cur.copy(f"COPY {_q(table)} ({cols}) FROM STDIN") as copy:
            for rows in batches:
                for row in rows:
                    copy.write_row(row)

    def finish(self, tables: list[str]) -> None:
        """The search index; the indexes again; identity sequences continue after the highest id copied."""
        if self.db is not None:
            searchindex.build(self.db)
        if self._indexes:
            self.conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in self._indexes:
            self.conn.execute(definition)
        identities = self.conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall()
        for table, column in identities:
            if table in tables:
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({_q(column)}), 0) + 1, false) "  # noqa: S608
                    f"FROM {_q(table)}",
                    [table, column],
                )


Side = SqliteSide | PgSide


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def open_source(target: str) -> tuple[Side, Callable[[], None]]:
    """The source, read-only in one snapshot, after checking it is a qmcrawler database this version knows."""
    if is_postgres_url(target):
        return _open_pg_source(target)
    path = db_path(target)
    if not Path(path).is_file():
        raise CopyError(f"{path}: database not found")
    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
        conn.execute("BEGIN")  # one snapshot: rows committed meanwhile are not half copied
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise CopyError(f"{path}: not a qmcrawler database ({_first_line(e)})") from None
    if not {"pages", "_sqlite_migrations"} <= tables:
        conn.close()
        raise CopyError(f"{path}: not a qmcrawler database (no pages table or no migrations)")
    db = Database(conn, recursive_triggers=False, execute_plugins=False)
    newer = newer_migrations(db)
    revision = pgschema.current_revision(db)
    if newer or (revision is not None and revision not in pgschema.KNOWN):
        conn.close()
        raise NewerDatabase(
            f"{path}: written by a newer qmcrawler (unknown migration {newer[0] if newer else revision!r}): "
            "upgrade qmcrawler to copy it"
        )
    if migrations.pending(db) or revision not in (None, pgschema.SQLITE_REVISION):
        conn.close()
        raise CopyError(
            f"{path}: written by an older qmcrawler: upgrade it first by opening it once "
            f"(`python -m qmcrawler changes --db {path}`), then copy it"
        )
    return SqliteSide(conn), conn.close


def _open_pg_source(url: str) -> tuple[Side, Callable[[], None]]:
    shown = safe_url(url)
    try:
        conn = psycopg.connect(libpq_url(url), connect_timeout=10)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        found = conn.execute("SELECT to_regclass('pages') IS NOT NULL, to_regclass('alembic_version') IS NOT NULL")
        pages, stamped = found.fetchone() or (False, False)
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone() if stamped else None
    except psycopg.Error as e:
        raise CopyError(f"{shown}: cannot read: {_first_line(e)}") from None
    revision = str(row[0]) if row else None
    if not (pages and revision):
        conn.close()
        raise CopyError(f"{shown}: not a qmcrawler database (no pages table or no schema revision)")
    if revision not in pgschema.KNOWN:
        conn.close()
        raise NewerDatabase(
            f"{shown}: written by a newer qmcrawler (unknown revision {revision!r}): upgrade qmcrawler to copy it"
        )
    if revision != pgschema.HEAD:
        conn.close()
        raise CopyError(
            f"{shown}: written by an older qmcrawler: open it once with this version to upgrade it, then copy it"
        )
    return PgSide(conn), conn.close


def _same(source: str, target: str) -> bool:
    if is_postgres_url(source) or is_postgres_url(target):
        return libpq_url(source).rstrip("/") == libpq_url(target).rstrip("/")
    return Path(db_path(source)).resolve() == Path(db_path(target)).resolve()


def _target_side(db: Any) -> Side:
    return PgSide(db.raw, db) if getattr(db, "dialect", "sqlite") == "postgresql" else SqliteSide(db.conn)


def _refuse_filled(side: Side, shown: str) -> None:
    filled = {t: side.count(t) for t, _ in TABLES}
    filled = {t: n for t, n in filled.items() if n}
    if filled:
        what = f"{filled['pages']} pages" if "pages" in filled else ", ".join(f"{n} {t}" for t, n in filled.items())
        raise CopyError(f"{shown}: already holds data ({what}): pass --replace to overwrite it")


def copy_database(source: str, target: str, *, replace: bool = False, progress: Progress | None = None) -> CopyResult:
    """Copy every contract table from `source` to `target` (paths or URLs), ids kept, verified.

    Commits only when every table's row count and content hash match; raises CopyError (the
    target unchanged) when it cannot start or a row is refused, NewerDatabase for a source
    this version does not know.
    """
    note = progress or (lambda step, table, done, total: None)
    shown = safe_url(target) if is_postgres_url(target) else db_path(target)
    if _same(source, target):
        raise CopyError(f"{shown}: source and target are the same database")
    src, close_source = open_source(source)
    try:
        db = open_db(target)
        try:
            return _copy(src, db, shown, replace, note)
        finally:
            db.close()
    finally:
        close_source()


def _copy(src: Side, db: Any, shown: str, replace: bool, note: Progress) -> CopyResult:
    dst = _target_side(db)
    names = [t for t, _ in TABLES]
    if not replace:
        _refuse_filled(dst, shown)
    db.begin()
    dst = _target_side(db)  # after begin(): a connection the server dropped is a new one now
    table = ""
    try:
        dst.prepare(names)
        digests: dict[str, tuple[list[str], TableDigest]] = {}
        for table, order in TABLES:
            columns = sorted(src.columns(table))
            if columns != sorted(dst.columns(table)):
                raise CopyError(f"{table}: the source's columns differ from the target's: {columns}")
            digest = TableDigest()
            digests[table] = (columns, digest)
            rows = _tracked(src.batches(table, columns, order), digest, table, src.count(table), note)
            dst.write(table, columns, rows)
        table = ""
        dst.finish(names)
        checks = []
        for table, (columns, digest) in digests.items():
            back = TableDigest()
            for _ in _tracked(dst.batches(table, columns, ""), back, table, digest.rows, note, "verify"):
                pass
            checks.append(TableCheck(table, digest, back))
    except DB_ERRORS as e:
        db.conn.rollback()
        where = f"{table}: " if table else ""
        raise CopyError(f"{shown}: {where}cannot copy ({_first_line(e)}); the target was not changed") from None
    except BaseException:
        db.conn.rollback()
        raise
    result = CopyResult(checks)
    if result.ok:
        db.conn.commit()
    else:
        db.conn.rollback()
    return result


def _tracked(
    batches: Batches, digest: TableDigest, table: str, total: int, note: Progress, step: str = "copy"
) -> Batches:
    """The batches, added to `digest` on the way and reported to `note`."""
    note(step, table, 0, total)
    for rows in batches:
        digest.add(rows)
        note(step, table, digest.rows, total)
        yield rows
