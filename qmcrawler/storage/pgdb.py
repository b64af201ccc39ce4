"""PostgreSQL behind the same small interface the store uses on SQLite (`query`, `execute`, `atomic`).

The store's statements are hand-written SQL that both databases read the same way (upserts as
`ON CONFLICT`, new ids through `RETURNING`); SQLite's `?` and `:name` placeholders become
psycopg's `%s` and `%(name)s` here, once per statement text (`translate`). Where the two really
differ (full-text search, pragmas, the schema's history) the callers ask `dialect_of(db)`.

Connections come from psycopg 3 in autocommit mode, with transactions opened explicitly. A
statement that finds the server gone (restarted, failover) outside a transaction reconnects and
runs once more; inside a transaction the error propagates (the server has rolled it back) and
the next transaction starts on a new connection.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import dict_row

from qmcrawler.storage.dialects import dialect_of, is_postgres_url, libpq_url

__all__ = ["PgDatabase", "dialect_of", "is_postgres_url", "translate"]

#: how long to keep trying to reach a server again after losing it (restart, failover), in seconds;
#: the first connection is tried once, so a wrong URL is one line at once
CONNECT_PATIENCE = 30.0
#: how long a statement waits for a row lock held by another worker (milliseconds)
LOCK_TIMEOUT_MS = 60_000

Params = Sequence[Any] | Mapping[str, Any] | None


class _BoolAsInt(Dumper):
    """Python booleans go in as 0/1: the schema keeps SQLite's integer flags."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """SQLite placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`); `%` doubled; quotes kept."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":  # a literal or a quoted name: copied up to its closing quote
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
            continue
        if c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        elif c == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and sql[i - 1 : i] != ":":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _statement(sql: str, params: Params) -> str:
    """The text psycopg runs: translated when there are parameters; as written without (psycopg then
    reads no placeholders, so a doubled `%` would stay doubled)."""
    return translate(sql) if params is not None else sql


def _params(params: Params) -> Any:
    if params is None:
        return None
    if isinstance(params, Mapping):
        return dict(params)
    return list(params)


class PgConnection:
    """The parts of a DB-API connection the store touches (`in_transaction`, `commit`, ...)."""

    def __init__(self, owner: PgDatabase) -> None:
        self._owner = owner

    @property
    def in_transaction(self) -> bool:
        return self._owner.in_transaction

    def commit(self) -> None:
        self._owner.commit()

    def rollback(self) -> None:
        self._owner.rollback()

    def execute(self, sql: str, params: Params = None) -> psycopg.Cursor[Any]:
        return self._owner.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        return self._owner.executemany(sql, rows)

    def close(self) -> None:
        self._owner.close()


class PgDatabase:
    """A qmcrawler database on PostgreSQL: `query` yields dicts, `execute` returns a cursor.

    Outside a transaction every statement commits by itself (as a statement does on SQLite in
    autocommit). `begin()` opens a transaction that lasts until `commit()`/`rollback()` (a crawl's
    batch); `atomic()` is a transaction, or a savepoint inside one.
    """

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._depth = 0  # open transaction (1) and savepoints inside it
        self.raw = self._connect(patience=0.0)
        self.conn = PgConnection(self)

    def _connect(self, patience: float | None = None) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + (CONNECT_PATIENCE if patience is None else patience)
        while True:
            try:
                raw: psycopg.Connection[Any] = psycopg.connect(libpq_url(self.url), connect_timeout=10, autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        raw.adapters.register_dumper(bool, _BoolAsInt)
        raw.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        return raw

    @classmethod
    def within(cls, raw: psycopg.Connection[Any]) -> PgDatabase:
        """The interface over a connection already inside a transaction that its owner commits (an
        Alembic revision's): `atomic()` blocks are savepoints; it never reconnects."""
        db = cls.__new__(cls)
        db.url, db._depth, db.raw = "", 1, raw
        db.conn = PgConnection(db)
        return db

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _usable(self) -> None:
        if self.raw.closed or self.raw.broken:
            self.raw = self._connect()

    def begin(self) -> None:
        """Open a transaction (statements and `atomic` blocks inside it commit with `commit()`)."""
        if self._depth:
            return
        self._run(lambda: self.raw.execute("BEGIN"))  # nothing is open yet: a lost server is reconnected
        self._depth = 1

    def commit(self) -> None:
        if self._depth:
            self._depth = 0
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self._depth:
            self._depth = 0
            if not self.raw.closed and not self.raw.broken:
                self.raw.execute("ROLLBACK")

    def execute(self, sql: str, params: Params = None) -> psycopg.Cursor[Any]:
        return self._run(lambda: self.raw.execute(_statement(sql, params), _params(params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        batch = [list(r) for r in rows]

        def run() -> psycopg.Cursor[Any]:
            cur = self.raw.cursor()
            cur.executemany(translate(sql), batch, returning=False)
            return cur

        return self._run(run)

    def _run(self, statement: Any) -> psycopg.Cursor[Any]:
        if self._depth:
            return statement()  # type: ignore[no-any-return]
        self._usable()
        try:
            return statement()  # type: ignore[no-any-return]
        except psycopg.OperationalError:
            if not (self.raw.closed or self.raw.broken):
                raise
            self.raw = self._connect()  # the server went away between statements: once more
            return statement()  # type: ignore[no-any-return]

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts (as sqlite-utils' `query`); `execute` returns a cursor of tuples (as sqlite3's)."""

        def run() -> psycopg.Cursor[Any]:
            cur = self.raw.cursor(row_factory=dict_row)
            cur.execute(_statement(sql, params), _params(params))
            return cur

        cur = self._run(run)
        if cur.description is None:
            return iter(())
        return iter(cur.fetchall())

    @contextlib.contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        """A transaction (a savepoint when one is open); committed when the block ends without error."""
        if self._depth:
            name = f"qmc_{self._depth}"
            self.raw.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if not self.raw.broken and not self.raw.closed:
                    self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.raw.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self._depth -= 1
            self.raw.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        self._depth = 0
        with contextlib.suppress(psycopg.Error):
            self.raw.close()
