"""In-process crawl under the asyncio reactor (pytest-twisted): items as they leave the pipelines."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.test import get_crawler

import qmcrawler.settings
from qmcrawler.items import PageItem
from qmcrawler.run.runner import LOCAL_SETTINGS
from qmcrawler.storage.records import set_clock
from spiders.site import SiteSpider
from tests.conftest import Site, daily


def project_settings(**overrides: Any) -> dict[str, Any]:
    """qmcrawler/settings.py plus overrides (get_crawler does not read the project's settings)."""
    ours = {k: getattr(qmcrawler.settings, k) for k in dir(qmcrawler.settings) if k.isupper()}
    return {**ours, **LOCAL_SETTINGS, **overrides}


@pytest_twisted.inlineCallbacks
def test_pipeline_stages_fill_the_item(site: Site) -> Any:
    crawler = get_crawler(SiteSpider, project_settings(QMC_DB=str(site.db)))
    items: list[PageItem] = []

    def scraped(item: PageItem) -> None:
        items.append(item)

    crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    yield deferred_from_coro(crawler.crawl_async(config=str(site.config)))
    by_url = {i.url.rsplit("/", 1)[1]: i for i in items}
    assert sorted(by_url) == ["a1.html", "a2.html", "a3.html", "a4.html", "a5.html"]
    a1 = by_url["a1.html"]
    assert a1.kind == "content"
    assert a1.article is not None
    assert a1.article.title == "关于开展2018年全国“质量月”活动的通知"
    assert a1.article.publish_time == "2018-08-31T16:40:00+08:00"
    assert a1.article.views == 100
    assert a1.is_relevant is True
    assert a1.fields is not None
    assert "浏览次数" not in a1.fields["text"]
    assert "京ICP备" not in a1.fields["text"]
    assert "相关新闻" not in a1.fields["text"]
    assert by_url["a3.html"].is_relevant is False
    assert by_url["a5.html"].encoding == "gb18030"
    assert crawler.stats is not None
    assert crawler.stats.get_value("qmcrawler/store/new") == 5


@pytest_twisted.inlineCallbacks
def test_known_articles_a_list_links_are_checked_with_their_validators(site: Site) -> Any:
    """Regression: a list page links known articles; they are the frontier's, never requested as
    new pages without validators (a race once made a recrawl mostly 200s instead of 304s)."""
    site.crawl()  # day 0 of the fixture's series; the next day every page is due
    db = site.open_db()
    db.execute("UPDATE pages SET etag = '\"e1\"' WHERE url LIKE '%a1.html'")
    db.conn.commit()
    db.close()
    next_day = daily(site.start, 1)
    crawler = get_crawler(SiteSpider, project_settings(QMC_DB=str(site.db), QMC_NOW=next_day))
    try:
        spider = crawler._create_spider(config=str(site.config))
        crawler.spider = spider
        first = yield deferred_from_coro(spider.start().__anext__())
        assert first.url.endswith("/news/index.html")  # the list page comes first...
        a1 = site.url("/news/a1.html")
        demo = spider.sites_by_id["demo"]
        assert spider.new_links([a1]) == []  # ...the known article it links is not a new page...
        requests = {r.url: r for r in spider._due_requests(demo)}  # ...but due: checked with validators
        assert sorted(requests) == sorted(site.url(f"/news/a{i}.html") for i in range(1, 6))
        assert requests[a1].headers.get("If-None-Match") == b'"e1"'
        spider.close_memory()
    finally:
        set_clock(None)  # the spider set this process's clock from QMC_NOW
