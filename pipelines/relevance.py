"""Stage 4: Quality Month score, relevance and campaign year; spam-mirror signs (qmcrawler.monitor.copies)."""

from __future__ import annotations

from scrapy.crawler import Crawler

from pipelines import site_of
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.copies import mirror_reasons
from qmcrawler.monitor.relevance import score


class RelevancePipeline:
    """Set `item.is_relevant` and the `relevance`, `year`, `likely_mirror` fields from the site's `keywords`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(crawler)

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if isinstance(item, PageItem) and item.fields is not None:
            site = site_of(self.crawler, item.site)
            keywords = site.keywords if site is not None else ("质量月",)
            fields = item.fields
            result = score(fields["title"], fields["text"], keywords, fields.get("publish_time"))
            item.is_relevant = result.is_relevant
            flags = item.article.flags if item.article is not None else ()
            fields.update(
                relevance=result.score,
                year=result.year,  # stored as version columns, never hashed
                likely_mirror=bool(mirror_reasons(item.url, fields["title"], fields["text"], flags)),
            )
        return item
