"""The bare-Scrapy baseline of bench/peers.py: a minimal spider, no project, no pipelines.

    scrapy runspider bench/peerspider.py -a start=URL [-s KEY=VALUE ...]

Run from a folder without scrapy.cfg, so none of qmcrawler's settings, middlewares or
pipelines load. It follows the generated site's list pages (`/news/index_N.html`) and yields a
two-field item (URL and <h1>) per article (`/news/art/.../tN.html`); with no pipeline and no
feed the items are dropped. This is what Scrapy itself costs to crawl the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

_LIST = re.compile(r"/news/index(_\d+)?\.html$")
_ARTICLE = re.compile(r"/news/art/\d+/t\d+\.html$")


class PeerSpider(scrapy.Spider):  # type: ignore[misc]
    """List pages → article pages, nothing stored."""

    name = "peer"

    def __init__(self, start: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response: Response) -> Iterator[Any]:
        """A list page: follow its pager and its articles."""
        for href in response.css("a::attr(href)").getall():
            if _ARTICLE.search(href):
                yield response.follow(href, self.parse_article)
            elif _LIST.search(href):
                yield response.follow(href, self.parse)

    def parse_article(self, response: Response) -> Iterator[dict[str, str]]:
        """An article: one small item."""
        yield {"url": response.url, "title": response.css("h1::text").get(default="")}
