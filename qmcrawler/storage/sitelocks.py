"""Per-site crawl locks in a PostgreSQL database: session advisory locks, held while the crawl runs.

On SQLite the lock files beside the database (qmcrawler.run.locks) keep two processes of one
machine from crawling a site at once. A PostgreSQL database is shared by processes on many
machines, so its locks live in the server: `pg_try_advisory_lock` on one connection that the
crawl process keeps open for its whole life (all of its sites on the same connection). The
server drops the locks when that session ends, as the kernel drops a flock when its process
dies, so a crash never leaves a stale lock behind.

The connection names its process (`application_name`), so a crawl that finds a site locked can
say which process holds it, as the lock files do.

A server restart ends the session and so drops its locks while the crawl goes on (its store
reconnects between transactions). So the store calls `keep` before each write transaction: a
lost session is opened again and its locks taken again, and when another crawl has taken one
meanwhile the crawl stops (LockBusy) instead of writing a site two crawls now share.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from qmcrawler.run.locks import LockBusy
from qmcrawler.storage.dialects import libpq_url

if TYPE_CHECKING:
    import psycopg

#: the namespace of the lock keys (the Alembic upgrade lock uses a small constant key)
_PREFIX = "qmcrawler site lock:"
#: one session per database for this process: it holds every site lock the process takes
_SESSIONS: dict[str, psycopg.Connection[Any]] = {}
#: the sites this process holds the lock of, by database URL
_HELD: dict[str, set[str]] = {}


def held_sites(url: str) -> set[str]:
    """The sites of this database whose lock this process holds (none for an SQLite path)."""
    return set(_HELD.get(url, ()))


def site_key(site: str) -> int:
    """The advisory lock key of a site: a signed 64-bit hash of its id."""
    digest = hashlib.blake2b((_PREFIX + site).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _name() -> str:
    return f"qmcrawler {os.getpid()} {socket.gethostname()}"[:63]


def _session(url: str) -> psycopg.Connection[Any]:
    import psycopg

    conn = _SESSIONS.get(url)
    if conn is None or conn.closed or conn.broken:
        conn = psycopg.connect(
            libpq_url(url),
            autocommit=True,
            connect_timeout=10,
            application_name=_name(),
            # a machine that vanished (power, network) loses its locks within about 25 s, not hours
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        _SESSIONS[url] = conn
    return conn


def keep(url: str) -> None:
    """Make sure this process still holds its locks on `url` (retake them after a lost session).

    One round trip when locks are held, nothing for an SQLite path. Raises LockBusy when another
    process took one of the sites while this one had lost its session.
    """
    sites = _HELD.get(url)
    if not sites:
        return
    import psycopg

    conn = _SESSIONS.get(url)
    if conn is not None and not conn.closed and not conn.broken:
        try:
            conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if not conn.broken:
                raise
    for site in sorted(sites):  # a new session: the server dropped the old one's locks
        _HELD[url].discard(site)
        PgSiteLock(url, site).acquire()


class PgSiteLock:
    """The lock on one site of one PostgreSQL database (the interface of `qmcrawler.run.locks.SiteLock`)."""

    def __init__(self, url: str, site: str, wait: float = 0.0) -> None:
        self.url = url
        self.site = site
        self.wait = wait
        self.key = site_key(site)
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait` seconds; raise LockBusy naming the holder otherwise."""
        conn = _session(self.url)
        deadline = time.monotonic() + self.wait
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s::bigint)", [self.key]).fetchone()
            if row and row[0]:
                self._held = True
                _HELD.setdefault(self.url, set()).add(self.site)
                return
            if time.monotonic() >= deadline:
                raise LockBusy(f"{self.site}: already being crawled ({self._holder(conn)})")
            time.sleep(0.05)

    def acquire_for_crawl(self) -> None:
        """Take the lock for this crawl process (nothing is inherited: the lock is the session's)."""
        self.acquire()

    def release(self) -> None:
        """Drop the lock (a no-op when not held, or when the session is gone and the server dropped it)."""
        if not self._held:
            return
        self._held = False
        _HELD.get(self.url, set()).discard(self.site)
        conn = _SESSIONS.get(self.url)
        if conn is not None and not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s::bigint)", [self.key])

    def _holder(self, conn: psycopg.Connection[Any]) -> str:
        """`pid N` (`pid N on HOST` from another machine) of the session holding the lock, if visible."""
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid::bigint = %s AND l.objid::bigint = %s",
            [(self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF],
        ).fetchone()
        parts = str(row[0]).split() if row and row[0] else []
        if len(parts) != 3 or parts[0] != "qmcrawler":
            return "pid ?"
        same_host = parts[2] == socket.gethostname()[: len(parts[2])]
        return f"pid {parts[1]}" if same_host else f"pid {parts[1]} on {parts[2]}"

    def __enter__(self) -> PgSiteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
