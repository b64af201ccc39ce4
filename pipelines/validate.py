"""Stage 1: classify each download (content / gone / blocked / failed) before any extraction."""

from __future__ import annotations

from scrapy.crawler import Crawler

from pipelines import site_of
from qmcrawler.classify import classify
from qmcrawler.items import FetchFailure, PageItem


class ValidatePipeline:
    """Set `item.kind`, `item.reason` and `item.moved_to` from status, headers and body."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, FetchFailure):
            self._count("failed")
            return item
        site = site_of(self.crawler, item.site)
        statuses = tuple(int(r) for r in item.redirect_reasons if str(r).isdigit())
        verdict = classify(
            item.status,
            item.html,
            content_type=item.headers.get("Content-Type", "text/html"),
            redirect_statuses=statuses,
            final_is_article=site.is_article(item.final_url) if site else True,
            final_url=item.final_url,
        )
        item.kind, item.reason, item.moved_to = verdict.kind, verdict.reason, verdict.moved_to
        self._count(verdict.kind)
        return item

    def _count(self, kind: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/validate/{kind}")
