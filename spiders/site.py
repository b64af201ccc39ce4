"""The generic, config-driven spider: list pages and pagination → article pages → items.

    python -m scrapy crawl site [-a sites=ID,ID] [-a config=PATH] [-s QMC_DB=PATH]

It fetches and never extracts. Every run starts from each site's `start_urls`, follows list
pages matching `follow` (at most `max_list_pages` per site), and requests the article pages
matching `articles` that the database does not know yet; then it re-checks the known pages the
frontier says are due (spiders/revisits.py), all within the site's `max_fetches_per_run`
(qmcrawler.crawl.budget). Every article response becomes a
`PageItem` (also 404s and 5xx: they are data); every request that fails without a response
becomes a `FetchFailure`, so nothing is silently lost.

Identity and economy: every URL is canonicalised (qmcrawler.crawl.urls) before it is requested, so
session ids, cache-busters and big5 gateway aliases never make a second page; pages known from
earlier runs are requested with If-None-Match / If-Modified-Since; article requests bypass the
duplicate filter (the spider deduplicates them itself) so a redirect loop runs into
REDIRECT_MAX_TIMES and is logged as a `failed` fetch instead of vanishing.

Lists: per site `list = "html" | "trs" | "jpaas" | "hanweb"` (qmcrawler.crawl.listing) reads list
pages that a browser would build from an API or an embedded datastore; `render = "playwright"`
renders the site's pages in Chromium instead (spiders/rendering.py). A list page that yields no
links at all is logged as a failed fetch with reason `js_required`: an empty list is never read
as "everything was removed".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from qmcrawler.config import Site, load_config
from qmcrawler.crawl.addresses import is_local_host
from qmcrawler.crawl.budget import Budget
from qmcrawler.crawl.fetchoptions import FetchOptions
from qmcrawler.crawl.files import sniff_type
from qmcrawler.crawl.listing import dataproxy_records, hanweb_store, jpaas_html, jpaas_query
from qmcrawler.crawl.pages import MAX_PAGES, PAGE_MARK, continuation_urls, may_continue
from qmcrawler.crawl.urls import canonical_url, page_number, same_site, trs_pages
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.storage import memo
from qmcrawler.storage.records import utcnow
from spiders.boundary import BoundaryRefused
from spiders.rendering import enable_playwright, find_chromium, render_meta
from spiders.responses import canonical_href, failure_reason, headers_of, links_of, response_join, utf8_text
from spiders.revisits import Revisits

#: JPaaS list pages are asked for this many rows each
JPAAS_PAGE_SIZE = 20
#: statuses that reach the article callback instead of the errback (other 3xx still redirect)
ARTICLE_STATUSES = [304, *range(400, 600)]


class SiteSpider(Revisits, scrapy.Spider):
    """Crawl the sites of a sites.toml."""

    name = "site"

    def __init__(self, sites: str | None = None, config: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = load_config(config)
        self.site_list: list[Site] = self.config.select(sites)
        self.sites_by_id = {s.id: s for s in self.site_list}
        self.allowed_domains = sorted({d for s in self.site_list for d in s.allowed_domains})
        self.list_pages: Counter[str] = Counter()
        self.articles: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.memos: dict[str, memo.PageMemo] = {}
        self.fetch_options = FetchOptions()
        self.no_browser: set[str] = set()
        self.budgets = {s.id: Budget.for_site(s.max_fetches_per_run, s.max_list_pages) for s in self.site_list}
        self.memory = None
        self.revisits_scheduled = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        """Use the QMC_SITES setting when no `-a config=` was given."""
        if not kwargs.get("config"):
            kwargs["config"] = crawler.settings.get("QMC_SITES") or None
        spider: SiteSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.fetch_options = FetchOptions.from_settings(crawler.settings)
        remote = sorted({h for s in spider.site_list for h in s.allowed_domains if not is_local_host(h)})
        if remote and not spider.fetch_options.contact:  # once per crawl, before any request
            spider.logger.warning(
                "QMC_CONTACT is not set: the webmasters of %s cannot reach you and may block the crawler "
                "(set -s QMC_CONTACT=mailto:you@example.org)",
                ", ".join(remote[:5]) + (" …" if len(remote) > 5 else ""),
            )
        spider.setup_revisits(crawler)
        rendered = [s.id for s in spider.site_list if s.render == "playwright"]
        if rendered:  # only then: static crawls never start Node or a browser
            chromium = find_chromium(crawler.settings.get("QMC_CHROMIUM") or None)
            if chromium is None:
                spider.no_browser = set(rendered)
                spider.logger.error(
                    "render = playwright but no Chromium found (apt-get install chromium, or set "
                    "QMC_CHROMIUM): not crawling %s",
                    ", ".join(rendered),
                )
            else:
                enable_playwright(crawler.settings, chromium, tuple(spider.allowed_domains))
        return spider

    async def start(self) -> AsyncIterator[Request | FetchFailure]:
        """Start pages of every selected site (known pages follow when discovery is over: `schedule_due`)."""
        self.open_memory()
        for site in self.site_list:
            if site.id in self.no_browser:  # logged as failed fetches; the other sites still run
                for url in site.start_urls:
                    yield FetchFailure(
                        url=url,
                        site=site.id,
                        reason="browser_missing",
                        fetched_at=utcnow(),
                        is_article=site.is_article(url),
                    )
                continue
            new_starts = set(self.new_links([canonical_url(u) for u in site.start_urls if site.is_article(u)]))
            for url in site.start_urls:
                request = None
                if not site.is_article(url):
                    if self.budgets[site.id].take_list():
                        self.list_pages[site.id] += 1
                        request = self.list_request(site, url)
                elif canonical_url(url) in new_starts:  # a known article start page is the frontier's
                    request = self.article_request(site, url)
                if request is not None:
                    yield request

    def list_request(self, site: Site, url: str, callback: Any = None, page: int | None = None) -> Request:
        """A request for a list or pagination page (rendered when the site renders)."""
        meta: dict[str, Any] = {"qmc_site": site.id, "qmc_article": False, "qmc_page": page}
        if site.render == "playwright" and callback is None:
            meta.update(render_meta(site))
        return Request(canonical_url(url), callback=callback or self.parse_list, errback=self.failed, meta=meta)

    def article_request(self, site: Site, url: str, known: bool = False) -> Request | None:
        """A request for a monitored page (None if already requested or over the per-site cap).

        Error statuses and 304 reach `parse_article` as data; known pages carry validators.
        """
        url = canonical_url(url)
        if url in self.seen:
            return None
        known = known or url in self.memos
        if not known and self.articles[site.id] >= self.fetch_options.max_articles_per_site:
            self._count("spider/article_cap")
            return None
        if not known and not self.budgets[site.id].take_new():
            self.seen.add(url)  # counted once: waits for the next run
            return None
        self.seen.add(url)
        self.articles[site.id] += 1
        headers: dict[str, str] = {}
        page = self.memos.get(url)
        if page is not None and self.fetch_options.conditional:
            if page.etag:
                headers["If-None-Match"] = page.etag
            if page.last_modified:
                headers["If-Modified-Since"] = page.last_modified
        meta: dict[str, Any] = {"qmc_site": site.id, "qmc_article": True, "handle_httpstatus_list": ARTICLE_STATUSES}
        if site.render == "playwright":
            meta.update(render_meta(site))
            headers = {}  # a rendered page is always fetched whole
        return Request(
            url,
            callback=self.parse_article,
            errback=self.failed,
            priority=1,
            headers=headers,
            dont_filter=True,
            meta=meta,
        )

    def parse_list(self, response: Response) -> Iterator[Request | FetchFailure]:
        """Follow pagination (bounded), the site's list strategy, and queue article pages."""
        site = self.sites_by_id[response.meta["qmc_site"]]
        if not isinstance(response, TextResponse):
            return
        html = response.text
        links = links_of(html, response.url) + trs_pages(html, response.url)
        extra: list[Request] = []
        budget = self.budgets[site.id]
        if site.list_strategy == "jpaas" and (query := jpaas_query(html, response.url)):
            extra = [
                self.list_request(site, query.page_url(n, JPAAS_PAGE_SIZE), callback=self.parse_jpaas, page=n)
                for n in range(1, max(site.max_list_pages, 1) + 1)
                if budget.take_list(api_page=True)
            ]
        elif site.list_strategy == "hanweb" and (store := hanweb_store(html, response.url)):
            links += links_of(store.html, response.url)
            extra = [
                self.list_request(site, u, callback=self.parse_dataproxy)
                for u in store.page_urls(max(site.max_list_pages, 1))
                if budget.take_list(api_page=True)
            ]
        yield from self._requests(site, links)
        yield from extra
        if not extra and not any(site.is_article(u) or site.is_list(u) for u in links):
            yield from self._empty_list(site, response.url)

    def parse_jpaas(self, response: Response) -> Iterator[Request | FetchFailure]:
        """One page of a JPaaS list API answer: `{"data": {"html": …}}`."""
        site = self.sites_by_id[response.meta["qmc_site"]]
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        links = links_of(jpaas_html(text), response.url)
        yield from self._requests(site, links)
        if response.meta.get("qmc_page") == 1 and not any(site.is_article(u) for u in links):
            yield from self._empty_list(site, response.url)

    def parse_dataproxy(self, response: Response) -> Iterator[Request]:
        """A later page of a Hanweb JCMS list (`dataproxy.jsp?page=N`)."""
        site = self.sites_by_id[response.meta["qmc_site"]]
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        yield from self._requests(site, links_of(dataproxy_records(text), response.url))

    def _requests(self, site: Site, links: list[str]) -> Iterator[Request]:
        """New article and (bounded) pagination requests for absolute links (known articles: the frontier's)."""
        urls = [canonical_url(link) for link in links]
        articles = {u for u in urls if site.is_article(u)}  # each link matched once, not twice
        new = set(self.new_links([u for u in urls if u in articles]))
        for url in urls:
            if url in articles:
                request = self.article_request(site, url) if url in new else None
                if request is not None:
                    yield request
            elif site.is_list(url) and url not in self.seen and self._may_follow(site, url):
                self.seen.add(url)
                self.list_pages[site.id] += 1
                yield self.list_request(site, url)

    def _empty_list(self, site: Site, url: str) -> Iterator[FetchFailure]:
        """A list page with no links: the list is built by JavaScript (or the layout changed)."""
        self._count("spider/empty_list")
        self.logger.warning("%s: no links on list page %s (built by JavaScript? see `list` / `render`)", site.id, url)
        yield FetchFailure(url=url, site=site.id, reason="js_required", fetched_at=utcnow(), is_article=False)

    def _may_follow(self, site: Site, url: str) -> bool:
        """Pagination caps: `max_list_pages` per site and QMC_MAX_PAGE_NUMBER per URL."""
        if self.list_pages[site.id] >= site.max_list_pages:
            return False
        number = page_number(url)
        if number is not None and number > self.fetch_options.max_page_number:
            self._count("spider/page_number_cap")
            return False
        return self.budgets[site.id].take_list()

    def _count(self, event: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/{event}")

    def parse_article(self, response: Response) -> Iterator[PageItem | Request]:
        """Wrap the response, whatever its status, into a PageItem."""
        request_url = canonical_url(response.meta.get("redirect_urls", [response.url])[0])
        site = self.sites_by_id[response.meta["qmc_site"]]
        headers = headers_of(response)
        content_type = headers.get("Content-Type", "")
        kind = sniff_type(response.body[:4096], response.url, content_type)
        html, encoding, declared, flags = "", None, None, []
        if kind in ("html", "bin") and response.body:
            decoded = decode_html(response.body, content_type, utf8_text(response))
            html, encoding, declared, flags = decoded.text, decoded.encoding, decoded.declared, list(decoded.flags)
        elif isinstance(response, TextResponse) and not response.body:
            encoding = response.encoding
        url = self._canonical_link(site, request_url, html, response.url)
        if url != request_url:
            if url in self.seen:  # the canonical page itself was requested in this run
                self._count("spider/duplicate_alias")
                return
            self.seen.add(url)
        known = self.memos.get(url) or self.memos.get(request_url)
        item = PageItem(
            url=url,
            site=site.id,
            status=response.status,
            final_url=response.url,
            fetched_at=utcnow(),
            body=response.body,
            html=html,
            encoding=encoding,
            headers=headers,
            redirect_urls=list(response.meta.get("redirect_urls", [])),
            redirect_reasons=list(response.meta.get("redirect_reasons", [])),
            flags=flags,
            declared_encoding=declared,
            sniffed_type=kind,
            known_raw_hash=known.raw_hash if known else None,
            known_content_hash=known.content_hash if known and not known.has_attachments else None,
        )
        pages = []
        if response.status == 200 and html and may_continue(url, html, response.url):
            pages = continuation_urls(url, links_of(html, response.url))
        pages = [u for u in pages if not site.is_list(u)]
        yield self._page_request(site, item, pages, 1) if pages else item

    def _page_request(self, site: Site, item: PageItem, pages: list[str], done: int) -> Request:
        """The next continuation page of a multi-page article (qmcrawler.crawl.pages), bounded."""
        meta = {"qmc_site": site.id, "qmc_article": True, "qmc_item": item, "qmc_pages": pages, "qmc_done": done}
        return Request(pages[done - 1], callback=self.parse_page, errback=self.page_failed, meta=meta, dont_filter=True)

    def parse_page(self, response: Response) -> Iterator[Request | PageItem]:
        """Join a continuation page to its article; the item goes on once every page has come."""
        item: PageItem = response.meta["qmc_item"]
        pages: list[str] = response.meta["qmc_pages"]
        done: int = response.meta["qmc_done"] + 1
        item.more_html.append(decode_html(response.body, headers_of(response).get("Content-Type", "")).text)
        item.body += PAGE_MARK + response.body  # the raw hash (short-circuit) covers every page
        found = continuation_urls(item.url, links_of(item.more_html[-1], response.url))
        pages += [u for u in found if u not in pages and len(pages) < MAX_PAGES - 1]
        if done <= len(pages):
            yield self._page_request(self.sites_by_id[item.site], item, pages, done)
            return
        for name in ("ETag", "Etag", "Last-Modified"):  # page 1's validators do not cover pages 2…n
            item.headers.pop(name, None)
        self._count("spider/multi_page")
        yield item

    def page_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """A continuation page failed: the article is a failed fetch, never a shorter version."""
        item: PageItem = failure.request.meta["qmc_item"]  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        reason, status = failure_reason(failure.value, failure.request)  # type: ignore[attr-defined]
        yield FetchFailure(item.url, item.site, f"page_incomplete:{reason}", utcnow(), http_status=status)

    def _canonical_link(self, site: Site, url: str, html: str, final_url: str) -> str:
        """The page identity: a same-site `<link rel=canonical>` naming an article, else `url`."""
        href = canonical_href(html)
        if href is None or url in self.memos:
            return url
        target = canonical_url(response_join(final_url, href))
        if target != url and same_site(target, url) and site.is_article(target):
            self._count("spider/canonical_link")
            return target
        return url

    def failed(self, failure: Failure) -> Iterator[FetchFailure | PageItem]:
        """Turn a failed request into a FetchFailure item (timeouts, DNS, refused, redirect loops)."""
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        if isinstance(failure.value, BoundaryRefused) and request.meta.get("redirect_urls"):
            yield self._refused_redirect(request)
            return
        name = type(failure.value).__name__
        reason, status = failure_reason(failure.value, request)
        if isinstance(failure.value, BoundaryRefused):
            reason = failure.value.reason
        self.logger.info("fetch failed: %s (%s)", request.url, reason)
        site_id = request.meta["qmc_site"]
        if reason == "browser_error" and site_id not in self.no_browser:
            self.no_browser.add(site_id)  # one line per site, not one per page
            detail = str(failure.value).strip().splitlines()[0] if str(failure.value).strip() else name
            self.logger.error("%s: the browser failed to render pages (%s): %s", site_id, name, detail[:200])
        url = canonical_url(request.meta.get("redirect_urls", [request.url])[0])
        yield FetchFailure(
            url=url,
            site=request.meta["qmc_site"],
            reason=reason,
            fetched_at=utcnow(),
            http_status=status,
            is_article=bool(request.meta.get("qmc_article")),
        )

    def _refused_redirect(self, request: Request) -> FetchFailure | PageItem:
        """A redirect the boundary refused: for an article, a redirect to a non-article (not requested)."""
        urls, reasons = list(request.meta["redirect_urls"]), list(request.meta.get("redirect_reasons", []))
        site_id = request.meta["qmc_site"]
        if not request.meta.get("qmc_article"):
            return FetchFailure(
                url=urls[0], site=site_id, reason="redirect_refused", fetched_at=utcnow(), is_article=False
            )
        last = reasons[-1] if reasons else 302
        return PageItem(
            url=canonical_url(urls[0]),
            site=site_id,
            status=last if isinstance(last, int) else 200,  # the last answer: a 3xx, or a page with a meta refresh
            final_url=request.url,
            fetched_at=utcnow(),
            redirect_urls=urls,
            redirect_reasons=reasons,
            flags=["redirect_refused"],
            sniffed_type="",
        )
