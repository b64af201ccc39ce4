"""Stage 4: mark versions relevant to Quality Month (the site's keywords in title or body)."""

from __future__ import annotations

from scrapy.crawler import Crawler

from pipelines import site_of
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.relevance import is_relevant


class RelevancePipeline:
    """Set `item.is_relevant` from the site's `keywords`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(crawler)

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, PageItem) and item.fields is not None:
            site = site_of(self.crawler, item.site)
            keywords = site.keywords if site is not None else ("质量月",)
            item.is_relevant = is_relevant(item.fields["title"], item.fields["text"], keywords)
        return item
