"""Ctrl-C and SIGTERM: the requests still waiting in the downloader's queues are not sent.

Scrapy's graceful shutdown waits until every request the engine handed to the downloader is done,
and the downloader keeps sending the ones waiting in its per-host slots, each after the host's
DOWNLOAD_DELAY or AutoThrottle delay: up to CONCURRENT_REQUESTS (16) more pages were downloaded
after Ctrl-C, 18 s of it at the default delay of 1 s (and more under AutoThrottle, whose delay
grows on a slow server). So once the crawl is told to stop, `QueuedRequestsStop` takes the waiting
requests out of the slots and fails each with IgnoreRequest (`QUEUED_STOPPED`, fetch reason
`stopped`, never a removal), and keeps doing so for any queued later (a redirect of a response
still arriving) until the engine stops. Downloads already on the wire finish or time out as before
(DOWNLOAD_TIMEOUT). Written here because Scrapy has no setting for it: its slots are drained by
the downloader alone.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)

#: message of the IgnoreRequest of a queued request not sent because the crawl is stopping
QUEUED_STOPPED = "crawl stopping: queued request not sent"
#: how often the crawl is looked at for a stop, in seconds
STOP_POLL = 0.25


def crawl_stopping(crawler: Crawler | None) -> bool:
    """Crawler.stop() (Scrapy's Ctrl-C and SIGTERM handler) clears `crawling`, the engine's `running`."""
    if crawler is None:
        return False
    engine = crawler.engine
    return not crawler.crawling or (engine is not None and not engine.running)


def drop_queued(crawler: Crawler) -> int:
    """Fail every request waiting in a downloader slot (not sent yet) with IgnoreRequest; how many."""
    engine = crawler.engine
    if engine is None:
        return 0
    dropped = 0
    for slot in list(engine.downloader.slots.values()):
        while slot.queue:
            _, waiting = slot.queue.popleft()
            waiting.errback(IgnoreRequest(QUEUED_STOPPED))
            dropped += 1
    return dropped


class QueuedRequestsStop:
    """An extension: from the moment the crawl is stopping, no queued request is sent."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._watch: asyncio.Task[None] | None = None
        crawler.signals.connect(self._engine_started, signal=signals.engine_started)
        crawler.signals.connect(self._engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QueuedRequestsStop:
        return cls(crawler)

    def _engine_started(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._watch_for_stop())

    def _engine_stopped(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    async def _watch_for_stop(self) -> None:
        engine = self.crawler.engine
        while engine is not None and not engine.running and self.crawler.crawling:  # still starting
            await asyncio.sleep(STOP_POLL)
        while not crawl_stopping(self.crawler):
            await asyncio.sleep(STOP_POLL)
        total = 0
        while True:  # until engine_stopped cancels it: requests queued later go too
            if dropped := drop_queued(self.crawler):
                total += dropped
                logger.info("crawl stopping: %d queued requests not sent (%d in all)", dropped, total)
            await asyncio.sleep(STOP_POLL)
