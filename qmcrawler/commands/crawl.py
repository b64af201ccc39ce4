"""`scrapy crawl` that checks sites.toml, the site ids and the database before starting.

Scrapy would otherwise report a bad config from inside the reactor with a traceback; here it
is one line on stderr and exit status 2, as the contract asks.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from qmcrawler.config import ConfigError, load_config
from qmcrawler.options import Options, OptionsError
from qmcrawler.storage import StoreError, open_db


class Command(ScrapyCrawl):
    """Run a spider; for `site`, validate its config and database first."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == "site" and not self._preflight(opts):
            self.exitcode = 2
            return
        super().run(args, opts)

    def _preflight(self, opts: argparse.Namespace) -> bool:
        try:
            spargs = dict(opts.spargs)
            default = self.settings.get("QMC_SITES") if self.settings is not None else None
            config = load_config(spargs.get("config") or default)
            config.select(spargs.get("sites"))
            options = Options.from_settings(self.settings) if self.settings is not None else Options()
            if options.db:
                open_db(options.db).close()
        except (ConfigError, OptionsError, StoreError) as e:
            print(f"error: {e}", file=sys.stderr)
            return False
        return True
