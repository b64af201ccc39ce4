"""Stage 5: one transaction per download: fetch log, page, version if changed, change + diff.

With `QMC_BATCH_SIZE` > 1 (the default) the writes run on one writer thread (sqlite3 and zlib
release the GIL, so the reactor keeps fetching) and downloads are grouped into transactions of
up to `QMC_BATCH_SIZE` downloads or `QMC_BATCH_SECONDS` seconds. Each download is still written
in its own savepoint (all or nothing), so a crash loses at most the open batch, never half of a
download; the run row is committed at once when the crawl starts and when it ends.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from qmcrawler.config import site_ids
from qmcrawler.crawl.perf import Batch, PerfOptions
from qmcrawler.extraction import EXTRACTOR_VERSION
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import FAILED
from qmcrawler.monitor.revisit import Policy
from qmcrawler.options import Options
from qmcrawler.storage import memo, open_db
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store

#: outcomes after which the page's validators describe content we hold
STORED_OUTCOMES = ("new", "changed", "unchanged", "noise_only")


class StorePipeline:
    """Write items to the database named by QMC_DB (empty QMC_DB: dry run, stage disabled)."""

    def __init__(self, crawler: Crawler, options: Options, perf: PerfOptions | None = None) -> None:
        self.crawler = crawler
        self.options = options
        self.perf = perf or PerfOptions()
        self.store: Store | None = None
        self.run_id: int | None = None
        self.batch = Batch(self.perf.batch_size, self.perf.batch_seconds)
        self.writer: ThreadPool | None = None
        self.flusher: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        options = Options.from_settings(crawler.settings)
        if not options.db:
            raise NotConfigured("QMC_DB is empty: dry run, nothing is stored")
        pipeline = cls(crawler, options, PerfOptions.from_settings(crawler.settings))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        site_list = getattr(spider, "site_list", [])
        revisit = {s.id: Policy(s.revisit_min, s.revisit_max) for s in site_list}
        self.store = Store(open_db(self.options.db), revisit)
        sites = site_ids(site_list)
        self.run_id = self.store.begin_run(spider.name if spider else "site", sites)
        if self.perf.batched:
            self.writer = ThreadPool(minthreads=1, maxthreads=1, name="qmc-store")
            self.writer.start()
            self.flusher = LoopingCall(self._flush_due)
            self.flusher.start(self.perf.batch_seconds, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None or self.run_id is None:
            return
        self._stop_writer()
        self._commit()
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.store.finish_run(self.run_id, "finished" if reason == "finished" else reason, stats)
        self.store.db.close()
        self.store = None

    async def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if self.store is None:
            return item
        if self.writer is None:
            outcome = self._write(item)
        else:
            from twisted.internet import reactor  # the installed one

            outcome = await maybe_deferred_to_future(deferToThreadPool(reactor, self.writer, self._write, item))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/store/{outcome}")
        return item

    def _write(self, item: PageItem | FetchFailure) -> str:
        """Record one download (on the writer thread when batched); commit a full batch."""
        assert self.store is not None  # noqa: S101 - set in open_spider
        db = self.store.db
        if self.writer is not None and not db.conn.in_transaction:
            db.execute("BEGIN")
        with db.atomic():  # the fetch, its validators and its files: all or nothing (a savepoint in a batch)
            outcome = self.store.record(to_record(item), self.run_id)
            if isinstance(item, PageItem):
                remember(self.store, item, outcome)
        if self.writer is not None and self.batch.added():
            self._commit()
        return outcome

    def _commit(self) -> None:
        if self.store is not None and self.store.db.conn.in_transaction:
            self.store.db.conn.commit()
        self.batch.committed()

    def _commit_if_due(self) -> None:
        if self.batch.due():
            self._commit()

    def _flush_due(self) -> None:
        """Every QMC_BATCH_SECONDS: commit the open batch if it is that old (on the writer thread)."""
        if self.writer is not None:
            self.writer.callInThread(self._commit_if_due)

    def _stop_writer(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        if self.flusher is not None and self.flusher.running:
            self.flusher.stop()
        self.flusher = None
        if self.writer is not None:
            self.writer.stop()
            self.writer = None


def remember(store: Store, item: PageItem, outcome: str) -> None:
    """Save what lets the next run fetch less: validators of stored content, attachment files."""
    for row in item.files:
        memo.save_file(store.db, row)
    if outcome in STORED_OUTCOMES:
        memo.save_validators(
            store.db,
            item.moved_to or item.url,
            item.headers.get("Etag") or item.headers.get("ETag"),
            item.headers.get("Last-Modified"),
        )


def to_record(item: PageItem | FetchFailure) -> FetchRecord:
    """Translate a pipeline item into the store's FetchRecord."""
    if isinstance(item, FetchFailure):
        return FetchRecord(
            url=item.url,
            site=item.site,
            kind=FAILED,
            fetched_at=item.fetched_at,
            http_status=item.http_status,
            reason=item.reason,
        )
    article = item.article
    version = None
    if item.fields is not None and article is not None:
        version = {
            **item.fields,
            "editor": article.editor,
            "doc_date": article.doc_date,
            "is_relevant": item.is_relevant,
            "flags": list(article.flags),
            "extractor_version": EXTRACTOR_VERSION,
        }
    return FetchRecord(
        url=item.url,
        site=item.site,
        kind=item.kind,
        fetched_at=item.fetched_at,
        http_status=item.status,
        reason=item.reason,
        final_url=item.final_url,
        moved_to=item.moved_to,
        raw=item.body if item.body else None,
        encoding=item.encoding,
        version=version,
        content_hash=item.content_hash,
        views=article.views if article else None,
        flags=tuple(dict.fromkeys([*item.flags, *(article.flags if article else ())])),
        declared_encoding=item.declared_encoding,
        fingerprint=item.fingerprint,
    )
