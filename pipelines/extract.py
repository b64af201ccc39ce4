"""Stage 2: boilerplate stripping and metadata (qmcrawler.extraction) for content downloads."""

from __future__ import annotations

from scrapy.crawler import Crawler

from qmcrawler.changes import CONTENT
from qmcrawler.extraction import extract
from qmcrawler.items import FetchFailure, PageItem


class ExtractPipeline:
    """Set `item.article` for downloads classified as content."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, PageItem) and item.kind == CONTENT and "short_circuit" not in item.flags:
            item.article = extract(item.html, item.final_url)
            if item.article.errors and self.crawler.stats is not None:
                self.crawler.stats.inc_value("qmcrawler/extract/field_errors")
        return item
