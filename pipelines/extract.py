"""Stage 2: boilerplate stripping and metadata (qmcrawler.extraction), off the reactor thread.

Extraction is pure Python (≈5 ms for a 20 KB page) and would stall downloads while it runs,
so with `QMC_EXTRACT_WORKERS` ≥ 1 it runs in a process pool (qmcrawler.run.extractpool): the
reactor keeps fetching and several items are extracted at once. The workers are fresh
interpreters started when the first page needs extracting, so a crawl that finds nothing new
starts none. If a worker dies, the stage falls back to extracting on the reactor thread.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

from qmcrawler.crawl.perf import PerfOptions
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import CONTENT
from qmcrawler.run.extractpool import Extracted, ExtractionPool, WorkerDied, extract_and_fingerprint

__all__ = ["ExtractPipeline", "extract_and_fingerprint", "to_deferred"]


def to_deferred(future: Future[Any]) -> defer.Deferred[Any]:
    """A Deferred fired on the reactor thread when a concurrent.futures Future completes."""
    from twisted.internet import reactor  # the installed one (importing it early would install the default)

    d: defer.Deferred[Any] = defer.Deferred()

    def done(f: Future[Any]) -> None:
        error = f.exception()
        if error is None:
            reactor.callFromThread(d.callback, f.result())
        else:
            reactor.callFromThread(d.errback, error)

    future.add_done_callback(done)
    return d


class ExtractPipeline:
    """Set `item.article` for downloads classified as content."""

    def __init__(self, crawler: Crawler, perf: PerfOptions) -> None:
        self.crawler = crawler
        self.perf = perf
        self.pool: ExtractionPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, PerfOptions.from_settings(crawler.settings))

    def open_spider(self) -> None:
        if self.perf.extract_workers > 0:
            self.pool = ExtractionPool(self.perf.extract_workers)  # no process until the first page

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    async def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, PageItem) and item.kind == CONTENT and "short_circuit" not in item.flags:
            item.article, item.fingerprint, item.content = await self._extract(
                item.html, item.final_url, tuple(item.more_html)
            )
            if item.article.errors:
                self._count("field_errors")
        return item

    async def _extract(self, html: str, url: str, more: tuple[str, ...]) -> Extracted:
        if self.pool is not None:
            try:
                if not self.pool.started:
                    self._count("pool_started")  # once per crawl, and only in one that extracts
                future = self.pool.submit(extract_and_fingerprint, html, url, more)
                result: Extracted = await maybe_deferred_to_future(to_deferred(future))
                return result
            except WorkerDied:
                self._count("pool_broken")
                self.pool = None
        return extract_and_fingerprint(html, url, more)

    def _count(self, event: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/extract/{event}")
