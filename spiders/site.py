"""The generic, config-driven spider: list pages and pagination → article pages → items.

    python -m scrapy crawl site [-a sites=ID,ID] [-a config=PATH] [-s QMC_DB=PATH]

It fetches and never extracts. Every run starts from each site's `start_urls`, follows list
pages matching `follow` (at most `max_list_pages` per site), and requests article pages
matching `articles`; it also re-checks every article already in the database, because a
deleted article usually disappears from its list too. Every article response becomes a
`PageItem` (also 404s and 5xx: they are data); every request that fails without a response
becomes a `FetchFailure`, so nothing is silently lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from qmcrawler.config import Site, load_config
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.options import Options
from qmcrawler.storage import open_db, queries
from qmcrawler.storage.writer import utcnow

#: short reasons for the exceptions an errback sees (class name → fetches.reason)
FAILURE_REASONS = {
    "TimeoutError": "timeout", "TCPTimedOutError": "timeout", "DownloadTimeoutError": "timeout", "DNSLookupError": "dns_error",
    "ConnectionRefusedError": "connection_refused", "ConnectionLost": "connection_lost",
    "ResponseNeverReceived": "no_response", "IgnoreRequest": "ignored",
}
#: statuses that reach the article callback instead of the errback (3xx still redirect)
ARTICLE_STATUSES = list(range(400, 600))


class SiteSpider(scrapy.Spider):
    """Crawl the sites of a sites.toml."""

    name = "site"

    def __init__(self, sites: str | None = None, config: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = load_config(config)
        self.site_list: list[Site] = self.config.select(sites)
        self.sites_by_id = {s.id: s for s in self.site_list}
        self.allowed_domains = sorted({d for s in self.site_list for d in s.allowed_domains})
        self.list_pages: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        """Use the QMC_SITES setting when no `-a config=` was given."""
        if not kwargs.get("config"):
            kwargs["config"] = crawler.settings.get("QMC_SITES") or None
        spider: SiteSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """Start pages of every selected site, then the articles the database already knows."""
        known = self._known_urls()
        for site in self.site_list:
            for url in site.start_urls:
                if site.is_article(url):
                    yield self.article_request(site, url)
                else:
                    self.list_pages[site.id] += 1
                    yield self.list_request(site, url)
            for url in known.get(site.id, []):
                yield self.article_request(site, url)

    def _known_urls(self) -> dict[str, list[str]]:
        options = Options.from_settings(self.settings)
        if not options.db:
            return {}
        db = open_db(options.db)
        try:
            return {s.id: queries.known_urls(db, s.id) for s in self.site_list}
        finally:
            db.close()

    def list_request(self, site: Site, url: str) -> Request:
        """A request for a list or pagination page."""
        return Request(url, callback=self.parse_list, errback=self.failed,
                       meta={"qmc_site": site.id, "qmc_article": False})

    def article_request(self, site: Site, url: str) -> Request:
        """A request for a monitored page; error statuses reach `parse_article` as data."""
        return Request(url, callback=self.parse_article, errback=self.failed, priority=1,
                       meta={"qmc_site": site.id, "qmc_article": True,
                             "handle_httpstatus_list": ARTICLE_STATUSES})

    def parse_list(self, response: Response) -> Iterator[Request]:
        """Follow pagination (bounded) and queue article pages."""
        site = self.sites_by_id[response.meta["qmc_site"]]
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if site.is_article(url):
                yield self.article_request(site, url)
            elif site.is_list(url) and self.list_pages[site.id] < site.max_list_pages:
                self.list_pages[site.id] += 1
                yield self.list_request(site, url)

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        """Wrap the response, whatever its status, into a PageItem."""
        request_url = response.meta.get("redirect_urls", [response.url])[0]
        yield PageItem(
            url=request_url,
            site=response.meta["qmc_site"],
            status=response.status,
            final_url=response.url,
            fetched_at=utcnow(),
            body=response.body,
            html=response.text if isinstance(response, TextResponse) else "",
            encoding=response.encoding if isinstance(response, TextResponse) else None,
            headers=_headers(response),
            redirect_urls=list(response.meta.get("redirect_urls", [])),
            redirect_reasons=list(response.meta.get("redirect_reasons", [])),
        )

    def failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """Turn a failed request into a FetchFailure item (timeouts, DNS, refused, redirect loops)."""
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        response = getattr(failure.value, "response", None)
        name = type(failure.value).__name__
        reason = FAILURE_REASONS.get(name, name)
        status = response.status if response is not None else None
        if status is not None:
            reason = f"http_{status}"
        self.logger.info("fetch failed: %s (%s)", request.url, reason)
        yield FetchFailure(url=request.url, site=request.meta["qmc_site"], reason=reason,
                           fetched_at=utcnow(), http_status=status,
                           is_article=bool(request.meta.get("qmc_article")))


def _headers(response: Response) -> dict[str, str]:
    """Response headers as a plain str dict (multiple values joined with ", ")."""
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
