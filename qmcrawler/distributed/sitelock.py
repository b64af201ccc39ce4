"""Per-site locks held in PostgreSQL while a worker crawls a site, on any machine.

Procrastinate's job `lock` keeps a worker from starting a site's job while another job of that
site runs; this lock is the database's own word on it, for every case the queue cannot see (a
batch and a single-site job sharing a site, a job retried while its old worker still runs).
It is a session advisory lock on a connection of its own: it ends with the connection, so a
worker killed with `kill -9` (or a machine that died: the server's TCP keepalives notice
within a minute) leaves no lock behind.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import psycopg

log = logging.getLogger(__name__)

#: first key of the advisory locks of site crawls (the second is the site id's hash)
SITE_LOCKS = 0x716D6373  # "qmcs"
#: the server drops a lock of a silent peer after about idle + interval × count seconds
KEEPALIVE_SQL = "SET tcp_keepalives_idle = 20; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3"


class SiteLocks:
    """The sites this worker crawls now, locked on one connection; `acquire` returns the ones it got."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: psycopg.Connection[Any] | None = None
        self.held: list[str] = []

    def acquire(self, sites: Sequence[str]) -> list[str]:
        """Lock the sites no other worker is crawling; return them (in order)."""
        self.conn = psycopg.connect(self.url, autocommit=True, application_name="qmcrawler site lock")
        with contextlib.suppress(psycopg.Error):  # a server that refuses keepalive settings still locks
            self.conn.execute(KEEPALIVE_SQL)
        for site in sites:
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [SITE_LOCKS, site]).fetchone()
            if row and row[0]:
                self.held.append(site)
        return list(self.held)

    def alive(self) -> bool:
        """True while the locking connection is up (a restarted server dropped the locks)."""
        return self.conn is not None and not self.conn.closed and not self.conn.broken

    def release(self) -> None:
        """Drop the locks (closing the connection drops them on the server)."""
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None
        self.held = []

    def __enter__(self) -> SiteLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
