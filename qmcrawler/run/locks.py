"""Per-site crawl locks shared by every process on the machine (flock on small lock files).

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
import os
import re
import tempfile
import time
from pathlib import Path
from types import TracebackType

from qmcrawler.storage.dialects import is_postgres_url

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
    """The directory of lock files for a database: `qm.db` → `qm.db-locks/`.

    A PostgreSQL database (a URL) has its locks in the temp dir, one directory per server and
    database (`/tmp/qmcrawler-locks/127.0.0.1_5432_qm/`): they keep the processes of one machine
    apart; across machines the job queue's per-site locks do.
    """
    if is_postgres_url(str(db)):
        where = str(db).split("://", 1)[1].rsplit("@", 1)[-1].split("?", 1)[0]
        return Path(tempfile.gettempdir()) / "qmcrawler-locks" / _SAFE_RE.sub("_", where)
    path = Path(db).resolve()
    return path.with_name(path.name + "-locks")


class SiteLock:
    """An exclusive, non-blocking (or briefly waiting) lock on one name, held while open."""

    def __init__(self, path: Path, wait: float = 0.0) -> None:
        self.path = path
        self.wait = wait
        self._fd: int | None = None

    @classmethod
    def for_site(cls, db: str | os.PathLike[str], site: str, wait: float = 0.0) -> SiteLock:
        """The lock for one site of one database."""
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
        _write_pid(fd)
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
                _write_pid(fd)  # the crawl holds it now: a busy message names it, not the scheduler
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


def forget_in_child() -> None:
    """In a forked worker: close the inherited lock descriptors (never unlock: the parent holds them)."""
    for fd in list(HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    HELD.clear()


def _write_pid(fd: int) -> None:
    """Record this process as the lock's holder (what LockBusy's message names)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)


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
