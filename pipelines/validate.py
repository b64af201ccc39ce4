"""Stage 1: classify each download (content / gone / blocked / failed) before any extraction."""

from __future__ import annotations

from scrapy.crawler import Crawler

from pipelines import site_of
from qmcrawler.crawl.classify import classify
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import CONTENT, FAILED
from qmcrawler.monitor.content import raw_hash

#: the status a redirect without one counts as (meta refresh: temporary)
CLIENT_REDIRECT_STATUS = 302


class ValidatePipeline:
    """Set `item.kind`, `item.reason` and `item.moved_to` from status, headers and body.

    Content whose raw bytes equal the last stored download is marked `short_circuit`: the
    later stages skip extraction and the store records `unchanged` (servers without validators).
    """

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
        statuses = tuple(int(r) if str(r).isdigit() else CLIENT_REDIRECT_STATUS for r in item.redirect_reasons)
        verdict = classify(
            item.status,
            item.html,
            content_type=item.headers.get("Content-Type", "text/html"),
            redirect_statuses=statuses,
            final_is_article=site.is_article(item.final_url) if site else True,
            final_url=item.final_url,
            is_article=site.is_article if site else None,
            sniffed_type=item.sniffed_type,
        )
        item.kind, item.reason, item.moved_to = verdict.kind, verdict.reason, verdict.moved_to
        if verdict.reason == "not_html":
            item.reason = f"not_html:{item.sniffed_type}"
        if item.kind == CONTENT and "undecodable" in item.flags:  # no codec gives plausible text
            item.kind, item.reason = FAILED, "undecodable"
        if (
            item.kind == CONTENT
            and item.known_content_hash
            and item.body
            and raw_hash(item.body) == item.known_raw_hash
            and not item.moved_to
        ):
            item.content_hash = item.known_content_hash
            item.flags.append("short_circuit")
            self._count("short_circuit")
        self._count(verdict.kind)
        return item

    def _count(self, kind: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/validate/{kind}")
