"""Stage 2: boilerplate stripping and metadata (qmcrawler.extraction), off the reactor thread.

Extraction is pure Python (≈5 ms for a 20 KB page) and would stall downloads while it runs,
so with `QMC_EXTRACT_WORKERS` ≥ 1 it runs in a process pool: the reactor keeps fetching and
several items are extracted at once. The workers are forked when the spider opens (before any
download, from a process that has already imported the extractor, so they start in
milliseconds). If a worker dies, the stage falls back to extracting on the reactor thread.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

from qmcrawler.crawl.perf import PerfOptions
from qmcrawler.extraction import extract
from qmcrawler.extraction.article import Article
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import CONTENT
from qmcrawler.monitor.content import content_fields
from qmcrawler.monitor.copies import fingerprint_text, simhash
from qmcrawler.run import locks

#: how often an extraction worker checks that the crawl process is still alive
PARENT_POLL_SECONDS = 1.0


def _ready() -> bool:
    return True


def _worker_init() -> None:
    """Workers leave Ctrl-C to the crawl process, and exit when it dies (SIGKILL, a crash)."""
    locks.forget_in_child()  # the crawl's site locks must not outlive the crawl in a worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not Scrapy's shutdown handler, inherited by the fork
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A forked worker keeps the pool's pipes open itself, so it would never see EOF: poll instead."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def extract_and_fingerprint(html: str, url: str, more: tuple[str, ...] = ()) -> tuple[Article, int | None]:
    """Extract, and compute the SimHash of the content fields the store will hash (in the worker).

    `more` holds the HTML of a multi-page article's continuation pages: their bodies are joined to
    page 1's into one article (`Article.joined`). The fingerprint (7 ms for a 20 KB page, pure
    Python) used to be computed on the store's writer thread, where it held the GIL against the
    reactor; here it runs beside extraction.
    """
    article = extract(html, url).joined(tuple(extract(page, url) for page in more))
    fields = content_fields(article)
    return article, simhash(fingerprint_text(fields["title"], fields["text"]))


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
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, PerfOptions.from_settings(crawler.settings))

    def open_spider(self) -> None:
        if self.perf.extract_workers > 0:
            self.pool = ProcessPoolExecutor(
                self.perf.extract_workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init
            )
            self.pool.submit(_ready).result()  # fork now, before the downloader starts threads

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, PageItem) and item.kind == CONTENT and "short_circuit" not in item.flags:
            item.article, item.fingerprint = await self._extract(item.html, item.final_url, tuple(item.more_html))
            if item.article.errors:
                self._count("field_errors")
        return item

    async def _extract(self, html: str, url: str, more: tuple[str, ...]) -> tuple[Article, int | None]:
        if self.pool is not None:
            try:
                future = self.pool.submit(extract_and_fingerprint, html, url, more)
                result: tuple[Article, int | None] = await maybe_deferred_to_future(to_deferred(future))
                return result
            except BrokenProcessPool:
                self._count("pool_broken")
                self.pool = None
        return extract_and_fingerprint(html, url, more)

    def _count(self, event: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/extract/{event}")
