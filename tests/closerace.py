"""A test extension: asks the store to stop the crawl while Scrapy is closing the spider.

That is the window in which a write failing at a crawl's end asks for the stop (from the writer
thread, so a loop iteration or more later): the store's close task may take its first step only
after the engine has finished its own close. The extension asks once in each of the loop
iterations that follow the spider_closed signal, so one of them lands in that window whatever
the number of steps Scrapy's close takes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from pipelines.store import StorePipeline

ITERATIONS = 10


class StopWhileClosing:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopWhileClosing:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        engine: Any = self.crawler.engine
        for stage in engine.scraper.itemproc.middlewares:
            if isinstance(stage, StorePipeline):
                self._ask(stage, ITERATIONS)

    def _ask(self, store: StorePipeline, left: int) -> None:
        store._stop_crawl()  # what the store's failure handler calls
        if left:
            asyncio.get_running_loop().call_soon(self._ask, store, left - 1)
