"""Sites that become due at about the same time are crawled together, in one crawl process.

Each site's APScheduler job only hands its site to the batcher. The first site of a batch
opens it; the batch starts `window` seconds later plus a random jitter (up to `jitter` s),
and every site that becomes due meanwhile joins it, up to `cap` sites (a full batch starts at
once; the next site opens a new one). Batches run on `workers` threads, one crawl process each.
A site that is still waiting or being crawled when its job fires again is not queued twice:
its run is skipped with a log line (what APScheduler's `max_instances = 1` did for one job).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class Batcher:
    """Collects due sites into batches and runs each batch with `run(sites)` on a worker thread."""

    def __init__(
        self,
        run: Callable[[list[str]], object],
        window: float = 60.0,
        cap: int = 8,
        workers: int = 2,
        jitter: float = 0.0,
    ) -> None:
        self.run = run
        self.window = window
        self.cap = max(1, cap)
        self.jitter = jitter
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="qmc-crawl")
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._busy: set[str] = set()  # waiting in a batch or being crawled
        self._timer: threading.Timer | None = None
        self._closed = False

    def add(self, site: str) -> bool:
        """A site is due: put it in the open batch (opening one if needed). False if not queued."""
        with self._lock:
            if self._closed:
                return False
            if site in self._busy:
                log.warning("crawl %s: still waiting or running from its last run, this run is skipped", site)
                return False
            self._busy.add(site)
            self._pending.append(site)
            if len(self._pending) >= self.cap:
                self._flush()
            elif self._timer is None:
                delay = self.window + (random.uniform(0, self.jitter) if self.jitter > 0 else 0.0)  # noqa: S311
                self._timer = threading.Timer(delay, self.flush)
                self._timer.daemon = True
                self._timer.start()
        return True

    def flush(self) -> None:
        """Start the open batch now."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending and not self._closed:
            batch, self._pending = self._pending[: self.cap], self._pending[self.cap :]
            log.info("batch of %d site%s due: %s", len(batch), "" if len(batch) == 1 else "s", ", ".join(batch))
            self._pool.submit(self._crawl, batch)

    def _crawl(self, batch: list[str]) -> None:
        try:
            self.run(batch)
        except Exception:
            log.exception("crawl of %s failed", ", ".join(batch))
        finally:
            with self._lock:
                self._busy.difference_update(batch)

    def close(self, wait: bool = True) -> None:
        """Start no more batches (waiting sites are dropped); wait for the running ones if `wait`."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._busy.difference_update(self._pending)
            self._pending = []
        self._pool.shutdown(wait=wait)
