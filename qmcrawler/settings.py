"""Scrapy settings for qmcrawler (alphabetical within each group; QMC_* are our own).

Every QMC_* setting is documented in README.md ("Settings"); tests check that.
"""

import os

BOT_NAME = "qmcrawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "qmcrawler.commands"

ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.extract.ExtractPipeline": 200,
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.relevance.RelevancePipeline": 400,
    "pipelines.store.StorePipeline": 900,
}

# Politeness: small government servers; AutoThrottle adapts the delay to their latency.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
ROBOTSTXT_OBEY = True
USER_AGENT = "qmcrawler/0.1 (change monitor for public notices; +https://pypi.org/project/scrapy/)"

# Off: a cache hides real changes; the remote-control and telnet consoles are attack surface.
HTTPCACHE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# qmcrawler's own settings (see README "Settings").
QMC_DB = os.environ.get("QMC_DB", "qm.db")
QMC_MIN_TEXT_CHARS = 20
QMC_SITES = os.environ.get("QMC_SITES", "sites.toml")
