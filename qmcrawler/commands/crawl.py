"""`scrapy crawl` that checks sites.toml, the site ids and the database before starting.

Scrapy would otherwise report a bad config from inside the reactor with a traceback, after its
start-up banner; here the check runs while the options are processed, before any logging is
set up, so a bad config is one line on stderr and exit status 2, as the contract asks.

The crawl also takes the per-site lock of every site it crawls (qmcrawler.run.locks), however
it was started, so two crawls of one site never run at once: a site another process is
crawling is skipped with one line, and when that leaves nothing to crawl the exit status is 75.
On PostgreSQL the locks are the database's (qmcrawler.storage.sitelocks), so they hold across
machines.
A crawl whose store failed (disk full, an unwritable database) exits 1 with one line, and so
does one that SIGTERM or Ctrl-C stopped before it finished (its runs are closed as `shutdown`):
a stopped crawl must not read as a finished one to cron or a shell's `&&`.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from qmcrawler.commands.startlog import quiet_startup
from qmcrawler.config import ConfigError, load_config
from qmcrawler.crawl.settingcheck import check_settings
from qmcrawler.options import Options, OptionsError
from qmcrawler.run.locks import EXIT_LOCKED, LockBusy, SiteLock
from qmcrawler.storage import StoreError, open_db
from qmcrawler.storage.dialects import is_postgres_url
from qmcrawler.storage.records import set_clock
from qmcrawler.storage.runs import STOPPED_STAT, STORE_ERROR_STAT
from qmcrawler.storage.sitelocks import PgSiteLock

#: what `-a NAME=VALUE` the `site` spider takes
SPIDER_ARGUMENTS = frozenset({"config", "sites"})


class Command(ScrapyCrawl):
    """Run a spider; for `site`, validate its config and database and lock its sites first."""

    locks: list[SiteLock | PgSiteLock]

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        quiet_startup()  # before Scrapy's crawler process logs its versions and settings
        self.locks = []
        if args and args[0] == "site":
            error = self._preflight(opts)
            if error:
                print(f"error: {error}", file=sys.stderr)
                sys.exit(2)
            self._lock_sites(opts)

    def _preflight(self, opts: argparse.Namespace) -> str | None:
        """The one-line problem with the config, the site selection or the database, if any."""
        try:
            spargs = dict(opts.spargs)
            unknown = sorted(set(spargs) - SPIDER_ARGUMENTS)
            if unknown:  # `-a site=samr` would crawl every site
                return f"unknown -a argument {unknown[0]!r} (known: {', '.join(sorted(SPIDER_ARGUMENTS))})"
            default = self.settings.get("QMC_SITES") if self.settings is not None else None
            config = load_config(spargs.get("config") or default)
            self.selected = [s.id for s in config.select(spargs.get("sites"))]
            options = check_settings(self.settings) if self.settings is not None else Options()
            self.db = options.db
            set_clock(options.now)  # the upgrade below (the frontier's spread) runs on the crawl's clock
            if options.db:
                open_db(options.db).close()
        except (ConfigError, OptionsError, StoreError) as e:
            return str(e)
        return None

    def _lock_sites(self, opts: argparse.Namespace) -> None:
        """Lock each selected site (held until this process exits); skip the ones being crawled."""
        if not self.db:
            return  # a dry run stores nothing, so it cannot collide
        free, busy = [], []
        for site in self.selected:
            wait = 3.0  # a killed crawl's lock is free once the process is gone
            lock: SiteLock | PgSiteLock = (
                PgSiteLock(self.db, site, wait) if is_postgres_url(self.db) else SiteLock.for_site(self.db, site, wait)
            )
            try:
                lock.acquire_for_crawl()
            except LockBusy as e:
                busy.append(str(e))
                continue
            self.locks.append(lock)
            free.append(site)
        if busy and not free:
            print(f"error: {'; '.join(busy)}: not crawling", file=sys.stderr)
            sys.exit(EXIT_LOCKED)
        for line in busy:
            print(f"warning: {line}: skipping it", file=sys.stderr)
        if busy:
            opts.spargs["sites"] = ",".join(free)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or args[0] != "site":
            super().run(args, opts)
            return
        if self.crawler_process is None:
            raise UsageError("no crawler process")
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        try:
            stats = crawler.stats
        except RuntimeError:  # Scrapy's "not set yet": the crawl never started
            stats = None
        error = stats.get_value(STORE_ERROR_STAT) if stats is not None else None
        stopped = stats.get_value(STOPPED_STAT) if stats is not None else None
        if error:
            print(f"error: {error}", file=sys.stderr)
            self.exitcode = 1
        elif stopped:
            line = f"stopped before it finished ({stopped} closed as shutdown; the next crawl goes on)"
            print(f"error: {line}", file=sys.stderr)
            self.exitcode = 1
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
