"""Per-site crawl locks shared by every process on the machine (flock on small lock files).

On PostgreSQL the same locks are session-level advisory locks in the database (`PgSiteLock`),
so they hold across machines. The server drops an advisory lock when the session that took it
ends, including when its process is killed (the connection closes; TCP keepalives bound how long
a vanished machine can hold it). Such a lock cannot be handed to a subprocess: a crawl takes its
sites' locks itself. The holder is named by its session's `application_name` (host and pid).

A cron `schedule.py --once` and the scheduler daemon take the same lock before crawling a
site, so they never crawl it at the same time. `flock` locks belong to the open file: the
kernel drops them when the last process holding the file exits, so a crash never leaves a
stale lock behind. The crawl subprocess inherits the descriptor (`fileno` for `pass_fds`), so
the lock holds as long as the crawl runs, even if the scheduler itself was killed.

    with SiteLock.for_site("qm.db", "samr"):
        ...  # crawl samr
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from qmcrawler.storage.dialects import is_postgres_url, libpq_url

#: exit status of a crawl whose sites are all being crawled by another process (README)
EXIT_LOCKED = 75  # EX_TEMPFAIL in sysexits.h: try again later
#: descriptors of the locks this process took to crawl (closed, not unlocked, in forked workers)
HELD: set[int] = set()
#: name of the notification lock (one digest sender at a time)
NOTIFY = "_notify"
_SAFE_RE = re.compile(r"[^A-Za-z0-9_.-]")


class LockBusy(Exception):
    """Another process holds the lock; the message names the lock and the holder's pid."""


def lock_dir(db: str | os.PathLike[str]) -> Path:
    """The directory of lock files for a database: `qm.db` → `qm.db-locks/`."""
    path = Path(db).resolve()
    return path.with_name(path.name + "-locks")


class SiteLock:
    """An exclusive, non-blocking (or briefly waiting) lock on one name, held while open."""

    #: a crawl subprocess can inherit it (`fileno` for `pass_fds`)
    inheritable = True

    def __init__(self, path: Path, wait: float = 0.0) -> None:
        self.path = path
        self.wait = wait
        self._fd: int | None = None

    @classmethod
    def for_site(cls, db: str | os.PathLike[str], site: str, wait: float = 0.0) -> SiteLock:
        """The lock for one site of one database (on PostgreSQL an advisory lock: every machine sees it)."""
        if is_postgres_url(str(db)):
            return PgSiteLock(str(db), site, wait)
        return cls(lock_dir(db) / f"{_SAFE_RE.sub('_', site)}.lock", wait)

    @property
    def fileno(self) -> int:
        """The locked descriptor (pass it to a subprocess to keep the lock while it runs)."""
        if self._fd is None:
            raise RuntimeError(f"{self.path}: lock not held")
        return self._fd

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait` seconds; raise LockBusy if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read(fd)
                    os.close(fd)
                    raise LockBusy(f"{self.path.stem}: already being crawled (pid {holder or '?'})") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def acquire_for_crawl(self) -> None:
        """Take the lock for this crawl process, or adopt the one it inherited from the scheduler.

        `schedule.py` takes a site's lock and passes the descriptor to the crawl subprocess
        (`pass_fds`); the crawl finds it among its own descriptors (same file) and keeps it,
        since a fresh `open` + `flock` of the same file would conflict with it. Only for a
        fresh crawl process: any descriptor of the file it has was inherited.
        """
        fd = _inherited(self.path)
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours already: a no-op
                self._fd = fd
            except BlockingIOError:
                pass
        if self._fd is None:
            self.acquire()
        assert self._fd is not None  # noqa: S101 - acquire raised otherwise
        HELD.add(self._fd)

    def release(self) -> None:
        """Drop the lock (a no-op when not held)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> SiteLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


#: seconds without an answer before the server drops a dead holder's session (keepalive)
KEEPALIVE_IDLE = 10


def lock_key(name: str) -> int:
    """The advisory lock key of a site (signed 64-bit, stable across machines and versions)."""
    digest = hashlib.blake2b(f"qmcrawler site {name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PgSiteLock(SiteLock):
    """The lock of one site of one PostgreSQL database, held while its connection is open."""

    inheritable = False

    def __init__(self, url: str, site: str, wait: float = 0.0) -> None:
        super().__init__(path=Path(site), wait=wait)
        self.url = url
        self.site = site
        self._conn: Any = None

    @property
    def fileno(self) -> int:
        raise RuntimeError(f"{self.site}: a PostgreSQL lock cannot be inherited")

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> None:
        import psycopg

        conn = psycopg.connect(
            libpq_url(self.url),
            autocommit=True,
            application_name=f"qmcrawler {socket.gethostname()} pid {os.getpid()}"[:63],
            keepalives=1,
            keepalives_idle=KEEPALIVE_IDLE,
            keepalives_interval=5,
            keepalives_count=3,
        )
        key = lock_key(self.site)
        deadline = time.monotonic() + self.wait
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
            if row is not None and row[0]:
                break
            if time.monotonic() >= deadline:
                holder = _holder(conn, key)
                conn.close()
                raise LockBusy(f"{self.site}: already being crawled ({holder or 'another process'})")
            time.sleep(0.1)
        self._conn = conn

    def acquire_for_crawl(self) -> None:
        self.acquire()

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # the session's advisory locks go with it
            finally:
                self._conn = None


def _holder(conn: Any, key: int) -> str:
    """The application name of the session holding the lock (host and pid), if visible."""
    row = conn.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid::bigint = ((%s::bigint >> 32) & 4294967295) AND l.objid::bigint = (%s::bigint & 4294967295)",
        [key, key],
    ).fetchone()
    return str(row[0]).removeprefix("qmcrawler ") if row and row[0] else ""


def forget_in_child() -> None:
    """In a forked worker: close the inherited lock descriptors (never unlock: the parent holds them)."""
    for fd in list(HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    HELD.clear()


def _inherited(path: Path) -> int | None:
    """A descriptor of this process open on `path` (inherited from the process that started it)."""
    try:
        target = path.stat()
        fds = [int(entry.name) for entry in Path("/proc/self/fd").iterdir()]
    except OSError:
        return None
    for fd in fds:
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            return fd
    return None


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return ""
