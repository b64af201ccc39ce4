"""A real PostgreSQL server for the tests: Debian's binaries, a cluster in a temp dir, 127.0.0.1.

`initdb` refuses to run as root, so when the tests run as root the cluster belongs to the
`postgres` user (Debian's package creates it) and the commands run through `runuser`. The
cluster is created with `--locale=C.UTF-8` (pg_trgm sees Chinese characters only there) and
`fsync=off` (a test server: durability across a power cut is not what is tested).

Each test gets its own database, copied from a template that already has the schema
(`CREATE DATABASE … TEMPLATE`), so a test pays a few milliseconds, not a migration.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "qm_template"


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL server binary (Debian keeps them out of PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(f"{name} not found: install Debian's postgresql package (make test does)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster: `start()`, `stop()`, `restart()`, and `new_database()` for each test."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qmc-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def base(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            pg_bin("initdb"), "-D", str(self.data), "--locale=C.UTF-8", "-E", "UTF8", "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=200"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("immediate")
        self.start()

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def make_template(self) -> None:
        """A database with qmcrawler's schema, the template every test database is copied from."""
        from qmcrawler.storage import open_db

        self.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'")
        open_db(self.url(TEMPLATE)).close()

    def new_database(self, prefix: str = "t") -> str:
        """A new database with the schema; its URL."""
        name = f"{prefix}{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def empty_database(self, name: str, locale: str = "C.UTF-8") -> str:
        """A new database without the schema (to test creating it, or refusing a locale)."""
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE '{locale}'")
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def start_server() -> PgServer:
    server = PgServer()
    server.init()
    server.start()
    server.make_template()
    return server
