"""Speed settings (extraction workers, write batches), read once and checked at start-up.

Why these exist (README "Benchmarks", bench/crawl.py): on the reactor thread, extraction
(≈5 ms of pure Python per 20 KB page) and one SQLite commit per download (the FTS5 trigram
index, zlib, the commit itself) cost five times what Scrapy spends fetching the page. So
extraction runs in a process pool (`QMC_EXTRACT_WORKERS`), and the store writes on one
writer thread (sqlite3 and zstd release the GIL) into transactions of up to
`QMC_BATCH_SIZE` downloads or `QMC_BATCH_SECONDS` seconds, whichever comes first. Every
download still goes into its own savepoint, so a crash loses at most the last open batch and
never half of a download: the next run simply fetches those pages again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from qmcrawler.options import OptionsError, SettingsLike, setting_number


@dataclass(frozen=True)
class PerfOptions:
    """QMC_EXTRACT_WORKERS: extraction processes (0: on the reactor thread);
    QMC_BATCH_SIZE: downloads per write transaction (1: one commit per download, no writer thread);
    QMC_BATCH_SECONDS: the longest an open batch waits before it is committed."""

    extract_workers: int = 1
    batch_size: int = 100
    batch_seconds: float = 1.0

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> PerfOptions:
        """Read and validate the speed settings."""
        workers = int(setting_number(settings, "QMC_EXTRACT_WORKERS", cls.extract_workers, int))
        size = int(setting_number(settings, "QMC_BATCH_SIZE", cls.batch_size, int))
        seconds = setting_number(settings, "QMC_BATCH_SECONDS", cls.batch_seconds, float)
        if size < 1:
            raise OptionsError("QMC_BATCH_SIZE must be >= 1 (1 = commit every download)")
        if seconds <= 0:
            raise OptionsError("QMC_BATCH_SECONDS must be > 0")
        return cls(extract_workers=workers, batch_size=size, batch_seconds=seconds)

    @property
    def batched(self) -> bool:
        """True when downloads are grouped into write transactions on a writer thread."""
        return self.batch_size > 1


@dataclass
class Batch:
    """When to commit an open write transaction: after `size` downloads or `seconds` seconds."""

    size: int
    seconds: float
    pending: int = 0
    opened_at: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def _now(self) -> float:
        return self.clock()

    def added(self) -> bool:
        """Count one download written into the open batch; True when the batch is full."""
        if self.opened_at is None:
            self.opened_at = self._now()
        self.pending += 1
        return self.pending >= self.size

    def due(self) -> bool:
        """True when the open batch is older than `seconds` (the periodic flush)."""
        return self.opened_at is not None and self._now() - self.opened_at >= self.seconds

    def committed(self) -> None:
        """The batch was committed: start counting again."""
        self.pending, self.opened_at = 0, None
