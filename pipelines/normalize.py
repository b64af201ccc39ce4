"""Stage 3: content fields and hash; thin or script-only bodies become `js_required` failures
(`too_deep` when the page nests deeper than the HTML parser follows)."""

from __future__ import annotations

from scrapy.crawler import Crawler

from qmcrawler.extraction.depth import too_deep
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import CONTENT, FAILED
from qmcrawler.monitor.content import content_forms
from qmcrawler.options import Options


class NormalizePipeline:
    """Set `item.fields` and `item.content_hash`; downgrade empty extractions to failures.

    The extraction worker computed both with the article (`item.content`): they are taken from there.

    An empty body is never stored as a version: it would read as "the article was deleted"
    when the page merely needs JavaScript or the extractor missed it.
    """

    def __init__(self, crawler: Crawler, options: Options) -> None:
        self.crawler = crawler
        self.options = options

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler, Options.from_settings(crawler.settings))

    def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if not isinstance(item, PageItem) or item.kind != CONTENT or item.article is None:
            return item
        article = item.article
        if "js_required" in article.flags or len(article.text) < self.options.min_text_chars:
            if too_deep(item.html):
                reason = "too_deep"  # the parser gave up
            elif "no_body" in article.flags:
                reason = "no_body"  # text but no article found
            else:
                reason = "js_required"
            item.kind, item.reason = FAILED, reason
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value(f"qmcrawler/normalize/{reason}")
            return item
        content = item.content if item.content is not None else content_forms(article)  # the worker's
        item.fields, item.content_hash = content.fields, content.hash
        return item
