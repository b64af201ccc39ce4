"""Live check of a site's configuration (`qmcrawler sites --check`): does it still parse?

A command, never a test: it fetches the real start pages (tests point it at fixture copies on
127.0.0.1). Per site it fetches robots.txt and obeys it, reads the start pages the way the crawl
does (the site's `list` strategy from qmcrawler.crawl.listing: the JPaaS API, the JCMS datastore, TRS
pagination), counts the article links the `articles` regexes accept, extracts the first article
and says what to do: `ok`, or which setting to change (`list = "jpaas"`, `render = "playwright"`,
the regexes) when the layout moved on.
"""

from __future__ import annotations

import time
import urllib.request
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit

import lxml.html

from qmcrawler.config import Site
from qmcrawler.crawl.listing import hanweb_store, jpaas_html, jpaas_query
from qmcrawler.crawl.urls import trs_pages
from qmcrawler.extraction import extract
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.settings import ROBOTSTXT_USER_AGENT, USER_AGENT

TIMEOUT = 20
MAX_CRAWL_DELAY = 10.0
#: statuses that mean "an anti-bot wall answered", not "the page is gone" (DOMAIN.md §9)
BLOCKED = {403, 412, 429, 521}
PLAYWRIGHT = 'needs render = "playwright"'
#: a fetch: URL → (status, decoded text)
Fetcher = Callable[[str], tuple[int, str]]


@dataclass(frozen=True)
class CheckResult:
    """One row of the live check."""

    reachable: str
    items: int
    title: str | None
    date: str | None
    verdict: str
    article_url: str | None = None
    notes: tuple[str, ...] = field(default=())


def fetch(url: str) -> tuple[int, str]:
    """GET a page with the crawler's User-Agent; return (status, decoded text). HTTP errors are statuses."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, decode_html(response.read(), response.headers.get("Content-Type")).text
    except HTTPError as e:
        return e.code, ""


class Robots:
    """robots.txt per host, fetched once with the crawler's User-Agent (4xx: no rules; 5xx: disallow all)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.parsers: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.last: dict[str, float] = {}

    def parser(self, url: str) -> urllib.robotparser.RobotFileParser:
        """The parsed robots.txt of `url`'s origin."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.parsers:
            rp = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                status, text = self.fetcher(origin + "/robots.txt")
            except (URLError, OSError, ValueError):
                status, text = 404, ""  # unreachable: the page fetches fail on their own
            if status >= 500:
                rp.parse(["User-agent: *", "Disallow: /"])
            elif 200 <= status < 300 and not text.lstrip().startswith("<"):  # an HTML page means no rules
                rp.parse(text.splitlines())
            else:
                rp.parse([])
            self.parsers[origin] = rp
        return self.parsers[origin]

    def allowed(self, url: str) -> bool:
        """True if robots.txt lets the crawler fetch `url`; waits out the host's Crawl-delay (bounded)."""
        rp = self.parser(url)
        if not rp.can_fetch(ROBOTSTXT_USER_AGENT, url):
            return False
        delay = min(float(rp.crawl_delay(ROBOTSTXT_USER_AGENT) or 0), MAX_CRAWL_DELAY)
        host = urlsplit(url).netloc
        wait = self.last.get(host, 0.0) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last[host] = time.monotonic()
        return True


def _links(html: str, base: str) -> list[str]:
    if not html.strip():
        return []
    doc = lxml.html.fromstring(html)
    return [urljoin(base, str(href).strip()) for href in doc.xpath("//a/@href")]


def list_links(site: Site, html: str, url: str, get: Fetcher) -> tuple[list[str], list[str]]:
    """Article URLs of one start page read with the site's list strategy, and notes on how."""
    notes: list[str] = []
    links = _links(html, url)
    if site.list_strategy == "jpaas" and (query := jpaas_query(html, url)):
        status, body = get(query.page_url(1))
        notes.append(f"jpaas API {status}")
        links += _links(jpaas_html(body), url)
    elif site.list_strategy == "hanweb" and (store := hanweb_store(html, url)):
        notes.append(f"hanweb datastore: {len(store.records)} records, {store.total} in all")
        links += _links(store.html, url)
    pages = [u for u in trs_pages(html, url) if site.is_list(u)]
    if pages:
        notes.append(f"trs pager: {len(pages)} more pages")
    return list(dict.fromkeys(u for u in links if site.is_article(u))), notes


def diagnose_empty(site: Site, html: str, url: str) -> str:
    """Why a reachable list page gave no article links, as an instruction."""
    if site.list_strategy != "jpaas" and jpaas_query(html, url):
        return 'no items: the list is a JPaaS shell, set list = "jpaas"'
    if site.list_strategy != "hanweb" and hanweb_store(html, url):
        return 'no items: the list is in a Hanweb datastore, set list = "hanweb"'
    if site.list_strategy in ("jpaas", "hanweb"):
        return f"no items from the {site.list_strategy} list: {PLAYWRIGHT}, or the list moved"
    if len(_links(html, url)) < 5 or "<script" in html.lower():
        return f"no items: list built by JavaScript, {PLAYWRIGHT} (or the layout changed: check `articles`)"
    return "no items: no link matches `articles` (the layout or URL scheme changed)"


def check_site(site: Site, get: Fetcher = fetch) -> CheckResult:
    """Fetch the start pages and the first article found; never raises on network errors."""
    robots = Robots(get)
    links: list[str] = []
    statuses: list[str] = []
    notes: list[str] = []
    empty: list[str] = []
    for url in site.start_urls:
        if not robots.allowed(url):
            statuses.append("robots.txt disallows")
            continue
        try:
            status, html = get(url)
        except (URLError, OSError, ValueError) as e:
            statuses.append(f"error: {getattr(e, 'reason', e)}")
            continue
        statuses.append(str(status))
        if not 200 <= status < 300:
            continue
        found, how = list_links(site, html, url, get)
        notes += how
        if site.is_article(url):
            found = [url, *found]
        if not found:
            empty.append(diagnose_empty(site, html, url))
        links += [u for u in found if u not in links]
    reachable = ", ".join(statuses)
    codes = {int(s) for s in statuses if s.isdigit()}
    if not any(s.startswith("2") for s in statuses):
        if codes & BLOCKED:
            return CheckResult(reachable, 0, None, None, "blocked: anti-bot answer (try later or another network)")
        if "robots.txt disallows" in statuses:
            return CheckResult(reachable, 0, None, None, "robots.txt disallows the start pages")
        return CheckResult(reachable, 0, None, None, "unreachable", notes=tuple(notes))
    if not links:
        return CheckResult(reachable, 0, None, None, empty[0] if empty else "no items", notes=tuple(notes))
    return _check_article(site, reachable, links, robots, get, tuple(notes))


def _check_article(
    site: Site, reachable: str, links: list[str], robots: Robots, get: Fetcher, notes: tuple[str, ...]
) -> CheckResult:
    url = links[0]
    if not robots.allowed(url):
        return CheckResult(reachable, len(links), None, None, "robots.txt disallows the articles", url, notes)
    try:
        status, html = get(url)
    except (URLError, OSError, ValueError) as e:
        return CheckResult(reachable, len(links), None, None, f"article unreachable: {e}", url, notes)
    if status in BLOCKED:
        return CheckResult(reachable, len(links), None, None, f"article blocked: HTTP {status}", url, notes)
    article = extract(html, url)
    if "js_required" in article.flags and site.render != "playwright":
        return CheckResult(
            reachable,
            len(links),
            article.title,
            article.publish_time,
            f"article body built by JavaScript: {PLAYWRIGHT}",
            url,
            notes,
        )
    if not article.title or not article.text:
        return CheckResult(
            reachable,
            len(links),
            article.title,
            article.publish_time,
            "article does not parse (title or body empty)",
            url,
            notes,
        )
    verdict = "ok" if article.publish_time else "ok, but no publish date found"
    return CheckResult(reachable, len(links), article.title, article.publish_time, verdict, url, notes)
