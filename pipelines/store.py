"""Stage 5: one transaction per download: fetch log, page, version if changed, change + diff."""

from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from qmcrawler.changes import FAILED
from qmcrawler.config import site_ids
from qmcrawler.extraction import EXTRACTOR_VERSION
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.options import Options
from qmcrawler.storage import memo, open_db
from qmcrawler.storage.writer import FetchRecord, Store

#: outcomes after which the page's validators describe content we hold
STORED_OUTCOMES = ("new", "changed", "unchanged", "noise_only")


class StorePipeline:
    """Write items to the database named by QMC_DB (empty QMC_DB: dry run, stage disabled)."""

    def __init__(self, crawler: Crawler, options: Options) -> None:
        self.crawler = crawler
        self.options = options
        self.store: Store | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        options = Options.from_settings(crawler.settings)
        if not options.db:
            raise NotConfigured("QMC_DB is empty: dry run, nothing is stored")
        pipeline = cls(crawler, options)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.store = Store(open_db(self.options.db))
        spider = self.crawler.spider
        sites = site_ids(getattr(spider, "site_list", []))
        self.run_id = self.store.begin_run(spider.name if spider else "site", sites)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None or self.run_id is None:
            return
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.store.finish_run(self.run_id, "finished" if reason == "finished" else reason, stats)
        self.store.db.close()
        self.store = None

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if self.store is None:
            return item
        with self.store.db.atomic():  # the fetch, its validators and its files: all or nothing
            outcome = self.store.record(to_record(item), self.run_id)
            if isinstance(item, PageItem):
                remember(self.store, item, outcome)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/store/{outcome}")
        return item


def remember(store: Store, item: PageItem, outcome: str) -> None:
    """Save what lets the next run fetch less: validators of stored content, attachment files."""
    for row in item.files:
        memo.save_file(store.db, row)
    if outcome in STORED_OUTCOMES:
        memo.save_validators(store.db, item.moved_to or item.url, item.headers.get("Etag") or
                             item.headers.get("ETag"), item.headers.get("Last-Modified"))


def to_record(item: PageItem | FetchFailure) -> FetchRecord:
    """Translate a pipeline item into the store's FetchRecord."""
    if isinstance(item, FetchFailure):
        return FetchRecord(url=item.url, site=item.site, kind=FAILED, fetched_at=item.fetched_at,
                           http_status=item.http_status, reason=item.reason)
    article = item.article
    version = None
    if item.fields is not None and article is not None:
        version = {**item.fields, "editor": article.editor, "doc_date": article.doc_date,
                   "is_relevant": item.is_relevant, "flags": list(article.flags),
                   "extractor_version": EXTRACTOR_VERSION}
    return FetchRecord(
        url=item.url, site=item.site, kind=item.kind, fetched_at=item.fetched_at,
        http_status=item.status, reason=item.reason, final_url=item.final_url, moved_to=item.moved_to,
        raw=item.body if item.body else None, encoding=item.encoding, version=version,
        content_hash=item.content_hash, views=article.views if article else None,
        flags=tuple(dict.fromkeys([*item.flags, *(article.flags if article else ())])),
        declared_encoding=item.declared_encoding,
    )
