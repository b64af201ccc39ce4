"""Reading responses and failures for the spider: links, headers, canonical links, failure reasons."""

from __future__ import annotations

import codecs
import re
from typing import Any
from urllib.parse import urljoin

from scrapy.http import HtmlResponse, Request, Response
from scrapy.selector import Selector

from spiders.politeness import RETRY_STOPPED, ROBOTS_UNREACHABLE
from spiders.stopping import QUEUED_STOPPED

#: short reasons for the exceptions an errback sees (class name → fetches.reason)
FAILURE_REASONS = {
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "DNSLookupError": "dns_error",
    "ConnectionRefusedError": "connection_refused",
    "ConnectionLost": "connection_lost",
    "ResponseNeverReceived": "no_response",
    # Scrapy 2.19's download handlers wrap Twisted's errors in these (scrapy.utils._download_handlers)
    "DownloadConnectionRefusedError": "connection_refused",
    "CannotResolveHostError": "dns_error",
    "DownloadFailedError": "no_response",
    "ResponseDataLossError": "connection_lost",
    "UnsupportedURLSchemeError": "unsupported_scheme",
    "IgnoreRequest": "ignored",
    "DownloadCancelledError": "too_large",
    "CancelledError": "too_large",
    "Error": "browser_error",
    "TargetClosedError": "browser_error",
}
#: IgnoreRequest messages → reasons
IGNORE_REASONS = {
    "max redirections reached": "redirect_loop",
    "Forbidden by robots.txt": "robots_disallowed",
    ROBOTS_UNREACHABLE: "robots_unreachable",
    RETRY_STOPPED: "stopped",
    QUEUED_STOPPED: "stopped",
}
_CANONICAL_LINK = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical["']?[^>]*>""", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.I)


def failure_reason(error: Any, request: Request) -> tuple[str, int | None]:
    """(fetches.reason, HTTP status) for the exception an errback received."""
    name = type(error).__name__
    reason = FAILURE_REASONS.get(name, name)
    if name == "IgnoreRequest":
        reason = IGNORE_REASONS.get(str(error), reason)
        if reason == "redirect_loop" and request.url not in request.meta.get("redirect_urls", []):
            reason = "too_many_redirects"
    response = getattr(error, "response", None)
    status = response.status if response is not None else None
    return (f"http_{status}" if status is not None else reason), status


def canonical_href(html: str) -> str | None:
    """The href of a `<link rel=canonical>` near the top of a page, as written."""
    tag = _CANONICAL_LINK.search(html[:20_000])
    href = _HREF.search(tag.group(0)) if tag else None
    return href.group(1) if href else None


def response_join(base: str, href: str) -> str:
    """`href` resolved against `base` (an HTML attribute value, entities not decoded)."""
    return urljoin(base, href.replace("&amp;", "&"))


def headers_of(response: Response) -> dict[str, str]:
    """Response headers as a plain str dict (multiple values joined with ", ")."""
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}


def links_of(html: str, base: str) -> list[str]:
    """Absolute URLs of the `<a href>` links of an HTML page or fragment."""
    if not html.strip():
        return []
    return [urljoin(base, h.strip()) for h in Selector(text=html).css("a::attr(href)").getall()]


def utf8_text(response: Response) -> str | None:
    """Scrapy's decoding of an HTML page it reads as UTF-8 (`response.text`, which its meta-refresh
    check already decoded), for `decode_html` to take instead of decoding the body again; else None."""
    if not isinstance(response, HtmlResponse):
        return None
    try:
        if codecs.lookup(response.encoding).name != "utf-8":
            return None
    except LookupError:
        return None
    return response.text
