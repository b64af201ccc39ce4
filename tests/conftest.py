"""Shared fixtures: the mini-web on 127.0.0.1, crawls in a subprocess, a database on either backend.

`backend` is "sqlite" unless a module is marked `pytest.mark.both_backends` (storage, change
semantics, search and CLI tests): then each of its tests runs twice, on SQLite and on a real
PostgreSQL server (tests/pgserver.py, one per pytest worker, started on first use). The `site`
and `memdb` fixtures follow `backend`; `db_target(backend, tmp_path)` gives a fresh database's
path or URL to tests that open their own.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db
from tests.pgserver import PgServer, start_server

FIXTURES = Path(__file__).parent / "fixtures"


def daily(start: datetime, crawls: int) -> str:
    """QMC_NOW of the n-th crawl (from 0) of a series run one day apart, as daily runs are.

    Known pages are due again a day after their check (revisit_min defaults to 1d), so tests
    that edit a site and crawl again see the "next day" as the scheduler would run it.
    """
    return (start + timedelta(days=crawls)).isoformat()


@dataclass
class Site:
    """A copy of tests/fixtures/web served on 127.0.0.1, with its sites.toml and database."""

    root: Path
    web: MiniWeb
    config: Path
    db: Path | str  # a path (SQLite) or a postgresql:// URL
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    crawls: int = 0

    def crawl(self, **settings: str) -> subprocess.CompletedProcess[str]:
        """Crawl the site into `db` (fast local settings); fail the test if the crawl failed.

        Each crawl runs one day after the one before (`QMC_NOW`), as daily runs do, so the
        pages it stored are due again (revisit_min defaults to 1d); pass QMC_NOW to choose.
        """
        now = daily(self.start, self.crawls)
        self.crawls += 1
        merged = {**LOCAL_SETTINGS, "QMC_NOW": now, **settings}
        result = run_crawl(self.config, self.db, settings=merged, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def edit(self, path: str, old: str, new: str) -> None:
        """Replace text in a served UTF-8 file (the page as it looks "the next day")."""
        file = self.root / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new), encoding="utf-8")

    def route(self, path: str, **route: object) -> None:
        """Override one path (status, headers, body, delay) through _routes.json."""
        import json

        routes_file = self.root / "_routes.json"
        routes = json.loads(routes_file.read_text(encoding="utf-8")) if routes_file.exists() else {}
        routes[path] = route
        routes_file.write_text(json.dumps(routes, ensure_ascii=False), encoding="utf-8")
        self.web.set_layers([self.root])

    def url(self, path: str) -> str:
        return self.web.url(path)

    def open_db(self) -> Database:
        return open_db(self.db)


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run each test on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS)


_server: PgServer | None = None


def pg_server() -> PgServer:
    """This pytest worker's PostgreSQL server (started on first use, stopped at exit)."""
    global _server
    if _server is None:
        import atexit

        _server = start_server()
        atexit.register(_server.close)
    return _server


@pytest.fixture(name="pg_server")
def pg_server_fixture() -> PgServer:
    return pg_server()


@pytest.fixture
def backend() -> str:
    """The database backend of this test: "sqlite" unless the module is marked both_backends."""
    return "sqlite"


def db_target(backend: str, tmp_path: Path, name: str = "qm.db") -> Path | str:
    """A new database for this test: a path in tmp_path (SQLite) or a fresh PostgreSQL database's URL."""
    if backend == "postgresql":
        return pg_server().new_database()
    return tmp_path / name


@contextlib.contextmanager
def serve_site(tmp_path: Path, db: Path | str) -> Iterator[Site]:
    """A copy of the fixture mini-web (tests/fixtures/web) in tmp_path, served while the block runs."""
    root = tmp_path / "web"
    shutil.copytree(FIXTURES / "web", root)
    with MiniWeb([root]) as web:
        config = tmp_path / "sites.toml"
        config.write_text(
            (root / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), encoding="utf-8"
        )
        yield Site(root=root, web=web, config=config, db=db)


@pytest.fixture
def site(tmp_path: Path, backend: str) -> Iterator[Site]:
    """The fixture mini-web (tests/fixtures/web), copied so tests can edit it between crawls."""
    with serve_site(tmp_path, db_target(backend, tmp_path)) as served:
        yield served


@pytest.fixture
def memdb(backend: str) -> Iterator[Database]:
    """A fresh, migrated database: in memory (SQLite) or a new PostgreSQL database."""
    db = open_db(":memory:" if backend == "sqlite" else pg_server().new_database())
    yield db
    db.close()
