"""Helpers for the fault tests: serve tests/fixtures/faults day by day and query the crawl database."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db
from tests.conftest import daily

FAULTS = Path(__file__).parent / "fixtures" / "faults"
#: the fault crawls obey robots.txt and never wait between retries
FAULT_SETTINGS = {**LOCAL_SETTINGS, "ROBOTSTXT_OBEY": "True", "QMC_RETRY_BACKOFF": "0"}


@dataclass
class FaultWeb:
    """A MiniWeb over fixture layers, a sites.toml pointing at it, and a database path."""

    web: MiniWeb
    config: Path
    db: Path | str  # a path (SQLite) or a postgresql:// URL
    extra: list[Path] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    crawls: int = 0

    def day(self, *layers: Path) -> None:
        self.web.set_layers([*layers, *self.extra])

    def crawl(self, **settings: str) -> subprocess.CompletedProcess[str]:
        """One crawl, a day after the one before (QMC_NOW: see tests.conftest.daily)."""
        now, self.crawls = daily(self.start, self.crawls), self.crawls + 1
        result = run_crawl(self.config, self.db, settings={**FAULT_SETTINGS, "QMC_NOW": now, **settings}, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def url(self, path: str) -> str:
        return self.web.url(path)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        db = open_db(self.db)
        try:
            return [dict(r) for r in db.query(sql, list(params))]
        finally:
            db.close()


@contextmanager
def serve(
    tmp: Path, layers: Sequence[Path], sites_toml: str, validators: bool = False, db: Path | str | None = None
) -> Iterator[FaultWeb]:
    """Serve `layers`; `sites_toml` may contain `{base}`; the database is `db` (default tmp/qm.db)."""
    with MiniWeb(list(layers), validators=validators) as web:
        config = tmp / "sites.toml"
        config.write_text(sites_toml.replace("{base}", web.base), encoding="utf-8")
        yield FaultWeb(web, config, db if db is not None else tmp / "qm.db")
