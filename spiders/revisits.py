"""The spider's revisit side: a per-site fetch budget and the frontier's due pages (mixin of SiteSpider).

A run first reads its sites' lists and requests the articles they newly link (known articles
a list links are left to the frontier); when the crawl goes idle, discovery is over and the
rest of each site's budget goes to the pages the frontier says are due (removal confirmations
first, then the most overdue), claimed with one indexed query. Only those pages' memos
(validators, hashes) are loaded, so memory and start-up follow the budget, not the history.
The run's stats say how much was due and how much was left over (`qmcrawler/revisit/...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from sqlite_utils import Database

from qmcrawler.config import Site
from qmcrawler.crawl.budget import Budget
from qmcrawler.options import Options
from qmcrawler.storage import frontier, memo, open_db
from qmcrawler.storage.records import set_clock, utcnow


class Revisits:
    """Budget and frontier for SiteSpider (which provides the attributes used here)."""

    site_list: list[Site]
    memos: dict[str, memo.PageMemo]
    seen: set[str]
    crawler: Any
    settings: Any
    budgets: dict[str, Budget]
    memory: Database | None
    revisits_scheduled: bool

    def article_request(self, site: Site, url: str, known: bool = False) -> Request | None:
        raise NotImplementedError

    def _count(self, event: str) -> None:
        raise NotImplementedError

    def setup_revisits(self, crawler: Any) -> None:
        """Set the crawl's clock (QMC_NOW) and wait for the idle signal (end of discovery)."""
        set_clock(Options.from_settings(crawler.settings).now)
        crawler.signals.connect(self.schedule_due, signal=signals.spider_idle)
        crawler.signals.connect(self.close_memory, signal=signals.spider_closed)

    def open_memory(self) -> None:
        """The read connection for the frontier and the known-URL lookups (none in a dry run)."""
        options = Options.from_settings(self.settings)
        self.memory = open_db(options.db) if options.db else None

    def close_memory(self) -> None:
        if self.memory is not None:
            self.memory.close()
            self.memory = None

    def known(self, urls: Iterable[str]) -> set[str]:
        """Which of these URLs the database already has (the frontier schedules them)."""
        return memo.known_urls(self.memory, urls) if self.memory is not None else set()

    def new_links(self, urls: list[str]) -> list[str]:
        """Article URLs of a list page that are new: not requested yet in this run, not in the database."""
        fresh = [u for u in dict.fromkeys(urls) if u not in self.seen and u not in self.memos]
        known = self.known(fresh)
        for _ in known:
            self._count("revisit/linked_not_due")
        return [u for u in fresh if u not in known]

    def schedule_due(self) -> None:
        """On the first idle: request each site's due pages within what is left of its budget."""
        if self.revisits_scheduled:
            return
        self.revisits_scheduled = True
        requests = [r for site in self.site_list for r in self._due_requests(site)]
        self._stats()
        engine = self.crawler.engine
        for request in requests:
            engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def _due_requests(self, site: Site) -> list[Request]:
        budget = self.budgets[site.id]
        if self.memory is None:
            return []
        now = utcnow()
        due = frontier.count_due(self.memory, site.id, now)
        pages = memo.due_pages(self.memory, frontier.due(self.memory, site.id, now, budget.known_room()))
        self.memos.update(pages)
        requests = [r for url in pages if (r := self.article_request(site, url, known=True)) is not None]
        budget.took_known(due, len(requests))
        return requests

    def _stats(self) -> None:
        stats = self.crawler.stats
        if stats is None:
            return
        totals: dict[str, int] = {}
        for site_id, budget in self.budgets.items():
            for key, value in budget.stats().items():
                stats.set_value(f"qmcrawler/revisit/{site_id}/{key}", value)
                totals[key] = totals.get(key, 0) + value
        for key, value in totals.items():
            stats.set_value(f"qmcrawler/revisit/{key}", value)
