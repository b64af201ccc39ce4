"""Live check of a site's configuration (`qmcrawler sites --check`): does it still parse?

A command, never a test: it fetches the real start pages. Per site it reports whether the start
pages answer, how many article links the `articles` regexes find on them, and the title and
date extracted from the first article, then a verdict a person can act on.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin

import lxml.html

from qmcrawler.config import Site
from qmcrawler.extraction import extract
from qmcrawler.settings import USER_AGENT

TIMEOUT = 20


@dataclass(frozen=True)
class CheckResult:
    """One row of the live check."""

    reachable: str
    items: int
    title: str | None
    date: str | None
    verdict: str


def fetch(url: str) -> tuple[int, str]:
    """GET a page with the crawler's User-Agent; return (status, decoded text)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read()
            charset = response.headers.get_content_charset() or _meta_charset(body) or "utf-8"
            if charset.lower() in ("gb2312", "gbk"):
                charset = "gb18030"
            return response.status, body.decode(charset, errors="replace")
    except HTTPError as e:
        return e.code, ""


def _meta_charset(body: bytes) -> str | None:
    head = body[:4096].decode("ascii", errors="ignore").lower()
    at = head.find("charset=")
    if at < 0:
        return None
    value = head[at + 8:].lstrip("\"' ")
    return value.split('"')[0].split("'")[0].split(";")[0].split(">")[0].strip() or None


def article_links(site: Site, html: str, base: str) -> list[str]:
    """Absolute article URLs linked from a page, in order, without duplicates."""
    if not html.strip():
        return []
    doc = lxml.html.fromstring(html)
    urls = (urljoin(base, href.strip()) for href in doc.xpath("//a/@href"))
    return list(dict.fromkeys(u for u in urls if site.is_article(u)))


def check_site(site: Site) -> CheckResult:
    """Fetch the start pages and the first article found; never raises on network errors."""
    links: list[str] = []
    statuses = []
    for url in site.start_urls:
        try:
            status, html = fetch(url)
        except (URLError, OSError, ValueError) as e:
            statuses.append(f"error: {getattr(e, 'reason', e)}")
            continue
        statuses.append(str(status))
        links += [u for u in article_links(site, html, url) if u not in links]
    reachable = ", ".join(statuses)
    if not any(s.startswith("2") for s in statuses):
        return CheckResult(reachable, 0, None, None, "unreachable")
    if not links:
        verdict = "no articles found: list built by JavaScript, or the layout changed"
        return CheckResult(reachable, 0, None, None, verdict)
    try:
        status, html = fetch(links[0])
    except (URLError, OSError, ValueError) as e:
        return CheckResult(reachable, len(links), None, None, f"article unreachable: {e}")
    article = extract(html, links[0])
    if not article.title or not article.text:
        return CheckResult(reachable, len(links), article.title, article.publish_time,
                           "article does not parse (title or body empty)")
    return CheckResult(reachable, len(links), article.title, article.publish_time, "ok")
