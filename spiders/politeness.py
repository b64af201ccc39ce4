"""Downloader middlewares for politeness: robots.txt policy with Crawl-delay, and a contact User-Agent.

robots.txt policy (RFC 9309 §2.3.1), per host and per crawl:

- 2xx with rules: obeyed (`Disallow`, `Allow`, and `Crawl-delay` raised into the host's download slot);
- 2xx that is an HTML page (a CMS serving its home page for every path): no rules;
- 4xx (404, 410, 403...): no rules (the RFC's "unavailable");
- 5xx: "unreachable", so everything on the host is disallowed for this crawl; the pages are
  logged as `failed` with reason `robots_unreachable` and are never counted as removed;
- no response (timeout, DNS, refused): Scrapy's default, no rules (said in one WARNING line, not
  Scrapy's traceback); the page requests then fail on their own and are logged as `failed`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from qmcrawler.crawl.fetchoptions import FetchOptions
from qmcrawler.crawl.files import sniff_type
from spiders.stopping import STOP_POLL, crawl_stopping

logger = logging.getLogger(__name__)

#: longest wait between two tries of one request, in seconds
BACKOFF_CAP = 60.0

#: message of the IgnoreRequest of a retry not sent because the crawl is stopping
RETRY_STOPPED = "crawl stopping: retry not sent"

#: message of the IgnoreRequest raised for hosts whose robots.txt answered 5xx
ROBOTS_UNREACHABLE = "robots.txt unreachable (5xx): host disallowed for this crawl"


class _DisallowAll:
    """A robots parser that allows nothing (robots.txt answered 5xx)."""

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        return None


class _OneLineDownloadErrors(logging.Filter):
    """Scrapy's robots.txt middleware logs a failed download of robots.txt (a host that refuses,
    times out, has no DNS) at ERROR with a 60-line traceback of its own code: it is the site's
    state, not a bug, and the page requests report the same failure in one line each. So: one
    WARNING line, `robots.txt of HOST not downloaded (ExceptionName: message): no rules`. Any other
    exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or type(error).__module__.split(".")[0] not in ("scrapy", "twisted"):
            return True
        request = record.args.get("request") if isinstance(record.args, dict) else None
        host = urlparse_cached(request).netloc if isinstance(request, Request) else "a host"
        reason = f"{type(error).__name__}: {str(error).strip() or 'no message'}"
        record.msg, record.args = "robots.txt of %s not downloaded (%s): no rules", (host, reason)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_ONE_LINE = _OneLineDownloadErrors()


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware plus the policy above and Crawl-delay."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawl_delays: dict[str, float] = {}
        logging.getLogger(RobotsTxtMiddleware.__module__).addFilter(_ONE_LINE)  # once: addFilter checks

    async def robot_parser(self, request: Request) -> Any:
        """The host's parser as stored once robots.txt is in.

        Works around a fan-out problem: several requests awaiting the same Deferred receive the
        parser only in the first waiter (the next ones get the first waiter's return value,
        None, which Scrapy reads as "no rules"), so with concurrent start requests Disallow
        was ignored. Re-reading the stored parser fixes that.
        """
        parser = await super().robot_parser(request)
        stored = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if hasattr(stored, "addCallback") else stored

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        body = response.body
        if response.status >= 500:
            self._stats.inc_value("qmcrawler/robots/unreachable")
            logger.warning("robots.txt of %s answered %s: host disallowed for this crawl", netloc, response.status)
            self._set_parser(netloc, _DisallowAll())
            return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        if response.status >= 400 or sniff_type(body[:512], "", content_type) == "html":
            self._stats.inc_value("qmcrawler/robots/no_rules")
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)
        parser: Any = self._parsers.get(netloc)
        delay = parser.crawl_delay(self._robotstxt_useragent or "*") if hasattr(parser, "crawl_delay") else None
        if delay:
            self._apply_delay(request, float(delay))

    def _set_parser(self, netloc: str, parser: Any) -> None:
        waiting: Any = self._parsers[netloc]
        self._parsers[netloc] = parser
        if hasattr(waiting, "callback"):
            waiting.callback(parser)

    def _apply_delay(self, request: Request, delay: float) -> None:
        """Make the host's download slot wait at least `delay` seconds between requests."""
        engine = self.crawler.engine
        if engine is None:
            return
        downloader = engine.downloader
        key = urlparse_cached(request).hostname or ""
        self.crawl_delays[key] = delay
        # a minimum, so no random jitter below it
        downloader.per_slot_settings.setdefault(key, {}).update({"delay": delay, "jitter": 0.0})
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay, slot.jitter = max(slot.delay, delay), 0.0
        self._stats.set_value("qmcrawler/robots/crawl_delay", delay)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        await super().process_request(request)
        host = urlparse_cached(request).hostname or ""
        if host in self.crawl_delays:  # AutoThrottle must not lower a delay the site asked for
            request.meta["autothrottle_dont_adjust_delay"] = True

    def process_request_2(self, rp: Any, request: Request) -> None:
        if isinstance(rp, _DisallowAll):
            self._stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest(ROBOTS_UNREACHABLE)
        super().process_request_2(rp, request)


class ContactUserAgentMiddleware(UserAgentMiddleware):
    """USER_AGENT with the QMC_CONTACT appended: `qmcrawler/0.1 (...; contact: mailto:ops@example.org)`."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        options = FetchOptions.from_settings(crawler.settings)
        agent = str(crawler.settings.get("USER_AGENT") or options.user_agent)
        if options.contact and options.contact not in agent:
            agent = (
                f"{agent[:-1]}; contact: {options.contact})"
                if agent.endswith(")")
                else f"{agent} (contact: {options.contact})"
            )
        return cls(agent)


class RetryBackoffMiddleware:
    """Waits before a retried request (Scrapy's RetryMiddleware sets `retry_times`).

    The wait is QMC_RETRY_BACKOFF × 2^(retry_times − 1) seconds, capped at 60, so a server
    answering 5xx or timing out gets breathing room instead of an immediate second hit.
    A crawl told to stop (Ctrl-C, SIGTERM) ends the wait and sends no retry (IgnoreRequest,
    fetch reason `stopped`): the engine's shutdown waits for every request in the downloader,
    so it used to sit out the whole backoff and then download the page once more.
    """

    def __init__(self, backoff: float, crawler: Crawler | None = None) -> None:
        self.backoff = backoff
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        return cls(max(0.0, crawler.settings.getfloat("QMC_RETRY_BACKOFF", 2.0)), crawler)

    async def process_request(self, request: Request) -> None:
        tries = int(request.meta.get("retry_times", 0))
        if tries and self.backoff:
            await self._wait(min(BACKOFF_CAP, self.backoff * 2 ** (tries - 1)))

    async def _wait(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self._stopping():
            if (left := end - loop.time()) <= 0:
                return
            await asyncio.sleep(min(left, STOP_POLL))
        raise IgnoreRequest(RETRY_STOPPED)

    def _stopping(self) -> bool:
        return crawl_stopping(self.crawler)
