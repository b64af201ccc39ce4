"""Scrapy's start-up listings go to DEBUG: a crawl's INFO log is its own lines, not 70 of set-up.

At INFO, every `scrapy crawl` began with the library versions, the enabled add-ons, extensions,
downloader and spider middlewares and pipelines, and the overridden settings: about 70 of the
80 lines a three-page crawl printed, in every cron mail and `schedule.py` log, the same each run.
They are what the project's settings say. These records are shown at DEBUG instead
(`-s LOG_LEVEL=DEBUG` brings them back); Scrapy's "started" line, the spider's open and close,
and the crawl's own summary stay at INFO. A filter on each of those loggers, because Scrapy has
no setting for the level of these records.
"""

from __future__ import annotations

import logging

#: (logger, start of the message) of the INFO records shown at DEBUG
STARTUP_LISTINGS = (
    ("scrapy.utils.log", "Versions:"),
    ("scrapy.addons", "Enabled addons:"),
    ("scrapy.middleware", "Enabled %(componentname)ss:"),
    ("scrapy.crawler", "Overridden settings:"),
)


class _AtDebug(logging.Filter):
    """Lowers an INFO record whose message starts with `prefix` to DEBUG (handlers at INFO drop it)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and str(record.msg).startswith(self.prefix):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_startup() -> None:
    """Install the filters (once per process)."""
    for name, prefix in STARTUP_LISTINGS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _AtDebug) for f in logger.filters):
            logger.addFilter(_AtDebug(prefix))
