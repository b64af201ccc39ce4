"""Scrapy settings for qmcrawler (alphabetical within each group; QMC_* are our own).

Every QMC_* setting is documented in README.md ("Settings"); tests check that.
"""

import os

from qmcrawler.crawl.fetchoptions import USER_AGENT_BASE

BOT_NAME = "qmcrawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "qmcrawler.commands"

ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.extract.ExtractPipeline": 200,
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.attachments.AttachmentsPipeline": 350,
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
# Pages over 4 MB (10,000-row tables) are skipped and logged as failed "too_large"; attachments
# have their own cap (QMC_MAX_ATTACHMENT_BYTES).
DOWNLOAD_MAXSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Fault tolerance (spiders/politeness.py): robots.txt policy with Crawl-delay, a contact User-Agent
# (QMC_CONTACT), retries of timeouts and 5xx with exponential backoff (QMC_RETRY_BACKOFF).
# The site boundary (spiders/boundary.py) replaces Scrapy's offsite filter: it also holds for
# dont_filter requests and their redirects, and keeps every request off internal addresses.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.boundary.SiteBoundaryMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.politeness.RobotsPolicyMiddleware": 100,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "spiders.politeness.ContactUserAgentMiddleware": 500,
    "spiders.politeness.RetryBackoffMiddleware": 560,
}
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = True
RETRY_TIMES = 2
ROBOTSTXT_USER_AGENT = "qmcrawler"
ROBOTSTXT_OBEY = True
USER_AGENT = USER_AGENT_BASE

# Off: a cache hides real changes; the remote-control and telnet consoles are attack surface.
HTTPCACHE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy imports every key of EXTENSIONS to match it, even one set to None, and the remote-control
# module imports aiohttp (0.2 s of CPU per crawl process, most of a crawl's start-up above a bare
# spider's): so the base list is Scrapy's own without the two consoles, which are off anyway.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.memdebug.MemoryDebugger": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.spiderstate.SpiderState": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
# Ctrl-C and SIGTERM: requests waiting in the downloader's slots are not sent (spiders/stopping.py).
EXTENSIONS = {"spiders.stopping.QueuedRequestsStop": 100}

# Per response, Scrapy runs the callback's output through CONCURRENT_ITEMS asyncio tasks (100 by
# default: about 1 ms of CPU per response, a sixth of a 304's cost) and, while no request holds
# the same callback, parses the callback's source to warn about `return value` in a generator
# (4 ms each time). Our callbacks yield one item or a list page's requests, and ruff/mypy and
# the tests check them: one task per response, no source parsing (issue 16).
CONCURRENT_ITEMS = 1
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy stops taking new requests while the responses in its pipelines exceed this many bytes
# (5 MB by default: about 230 of our pages, each also held decoded twice, ~25 MB of the crawl's
# peak). The pipelines are the slow side of a first crawl; 45 pages waiting keep them busy.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000

FEED_EXPORT_ENCODING = "utf-8"
# The stats go to runs.stats; the crawl ends with one line of its own instead (pipelines/store.py).
STATS_DUMP = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# qmcrawler's own settings (README "Settings" documents each; tests/test_docs.py checks that).
QMC_ATTACHMENTS = True
QMC_BATCH_SECONDS = 1.0
QMC_BATCH_SIZE = 100
QMC_BROWSER_CONTEXTS = 1
QMC_BROWSER_PAGES = 4
QMC_CHROMIUM = ""
QMC_CONDITIONAL = True
QMC_CONTACT = ""
QMC_DB = os.environ.get("QMC_DB", "qm.db")
QMC_EXTRACT_WORKERS = 1
QMC_MAX_ARTICLES_PER_SITE = 5000
QMC_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
QMC_MAX_ATTACHMENTS = 20
QMC_MAX_PAGE_NUMBER = 500
QMC_MIN_TEXT_CHARS = 20
QMC_NOW = ""
QMC_RETRY_BACKOFF = 2.0
QMC_RUN_PER_SITE = False
QMC_SITES = os.environ.get("QMC_SITES", "sites.toml")
