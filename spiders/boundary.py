"""The site boundary as a downloader middleware: no request leaves `allowed_domains` or reaches internal addresses.

Replaces Scrapy's OffsiteMiddleware, which lets through every request with `dont_filter=True`
(article requests carry it, so a redirect loop reaches REDIRECT_MAX_TIMES) and which the
redirect middleware copies onto the redirected request: a 302 or a meta refresh from an article
went anywhere. This one ignores `dont_filter` and `allow_offsite`, runs before robots.txt (so a
foreign host's robots.txt is not fetched either) and sees every request the engine downloads:
start requests, redirects (RedirectMiddleware and MetaRefreshMiddleware return new requests
that pass through all middlewares again), attachments and robots.txt. The rules are in
qmcrawler/crawl/addresses.py.

Rendered sites (`render = "playwright"`) load pages in Chromium, whose own redirects and
subresource requests never pass through Scrapy's middlewares: `browser_guard` is installed as
scrapy-playwright's PLAYWRIGHT_ABORT_REQUEST and aborts, inside the browser, every request to a
forbidden or internal address and every main-frame navigation off the sites' domains
(subresources may come from other public hosts, as in any browser).

A refused request fails with `BoundaryRefused` (an IgnoreRequest); the spider records a refused
redirect of an article as a redirect to a non-article (it is one), anything else as a failed
fetch with reason `offsite`, `internal_address` or `forbidden_address`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from qmcrawler.crawl.addresses import blocked_reason

logger = logging.getLogger(__name__)


class BoundaryRefused(IgnoreRequest):
    """A request outside the site boundary; `reason` is the short reason."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"refused ({reason}): {url}")
        self.reason = reason


class SiteBoundaryMiddleware:
    """Refuse requests outside the site's `allowed_domains` and to internal or forbidden addresses."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteBoundaryMiddleware:
        return cls(crawler)

    def _domains(self, request: Request) -> tuple[str, ...]:
        spider: Any = self.crawler.spider
        sites = getattr(spider, "sites_by_id", {})
        site = sites.get(request.meta.get("qmc_site"))
        if site is not None:
            return tuple(site.allowed_domains)
        return tuple(getattr(spider, "allowed_domains", None) or ())  # robots.txt and its redirects

    def process_request(self, request: Request, spider: Any = None) -> None:
        attachment = bool(request.meta.get("qmc_attachment"))
        reason = blocked_reason(request.url, self._domains(request), check_domain=not attachment)
        if reason is None:
            return
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(f"qmcrawler/boundary/{reason}")
        host = urlparse_cached(request).hostname or request.url
        if host not in self.logged:  # one line per host, not per request
            self.logged.add(host)
            via = request.meta.get("redirect_urls", [])
            logger.warning(
                "refused request to %s (%s)%s", request.url, reason, f", redirected from {via[0]}" if via else ""
            )
        raise BoundaryRefused(reason, request.url)


def browser_guard(domains: tuple[str, ...]) -> Callable[[Any], bool]:
    """A PLAYWRIGHT_ABORT_REQUEST predicate: True (abort) for what the boundary refuses."""

    def abort(request: Any) -> bool:
        url = str(request.url)
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return False  # data:, blob:, about: stay inside the browser
        try:
            navigation = bool(request.is_navigation_request()) and request.frame.parent_frame is None
        except Exception:  # a service worker's request has no frame
            navigation = False
        reason = blocked_reason(url, domains, check_domain=navigation)
        if reason is not None:
            logger.warning("browser: refused request to %s (%s)", url, reason)
        return reason is not None

    return abort
