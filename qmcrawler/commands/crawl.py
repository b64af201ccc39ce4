"""`scrapy crawl` that checks sites.toml, the site ids and the database before starting.

Scrapy would otherwise report a bad config from inside the reactor with a traceback, after its
start-up banner; here the check runs while the options are processed, before any logging is
set up, so a bad config is one line on stderr and exit status 2, as the contract asks.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from qmcrawler.config import ConfigError, load_config
from qmcrawler.options import Options, OptionsError
from qmcrawler.storage import StoreError, open_db
from qmcrawler.storage.records import set_clock


class Command(ScrapyCrawl):
    """Run a spider; for `site`, validate its config and database first."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args and args[0] == "site":
            error = self._preflight(opts)
            if error:
                print(f"error: {error}", file=sys.stderr)
                sys.exit(2)

    def _preflight(self, opts: argparse.Namespace) -> str | None:
        """The one-line problem with the config, the site selection or the database, if any."""
        try:
            spargs = dict(opts.spargs)
            default = self.settings.get("QMC_SITES") if self.settings is not None else None
            config = load_config(spargs.get("config") or default)
            config.select(spargs.get("sites"))
            options = Options.from_settings(self.settings) if self.settings is not None else Options()
            set_clock(options.now)  # the upgrade below (the frontier's spread) runs on the crawl's clock
            if options.db:
                open_db(options.db).close()
        except (ConfigError, OptionsError, StoreError) as e:
            return str(e)
        return None
