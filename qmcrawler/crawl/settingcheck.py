"""Every setting a crawl reads as it starts, checked before it starts (`scrapy crawl`, the scheduler).

A bad `-s NAME=VALUE` used to fail inside the reactor, as a traceback and exit 1 after the
crawl had begun (or, from the scheduler, as a failed run of every site). Each component still
reads its own settings; this reads them all first, so a bad one is one line naming it and exit 2.
Scrapy's own settings are read the way Scrapy reads them (`Settings.getfloat`, `getint`,
`getbool`), without importing Scrapy: the scheduler checks its `--set` values with it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qmcrawler.crawl.fetchoptions import FetchOptions
from qmcrawler.crawl.perf import PerfOptions
from qmcrawler.options import Options, OptionsError, SettingsLike, setting_bool, setting_number


def _scrapy_bool(value: Any) -> bool:
    """`scrapy.settings.BaseSettings.getbool`: 1/0, True/False, true/false."""
    try:
        return bool(int(value))
    except ValueError:
        if value in ("True", "true"):
            return True
        if value in ("False", "false"):
            return False
        raise


#: Scrapy's own settings an operator sets with `-s`, and how Scrapy reads each
SCRAPY_TYPED: dict[str, tuple[tuple[str, ...], Callable[[Any], Any], str]] = {
    "float": (
        (
            "DOWNLOAD_DELAY",
            "DOWNLOAD_TIMEOUT",
            "CLOSESPIDER_TIMEOUT",
            "AUTOTHROTTLE_START_DELAY",
            "AUTOTHROTTLE_MAX_DELAY",
            "AUTOTHROTTLE_TARGET_CONCURRENCY",
        ),
        float,
        "a number",
    ),
    "int": (
        (
            "CONCURRENT_REQUESTS",
            "CONCURRENT_REQUESTS_PER_DOMAIN",
            "RETRY_TIMES",
            "REDIRECT_MAX_TIMES",
            "DOWNLOAD_MAXSIZE",
            "DOWNLOAD_WARNSIZE",
            "CLOSESPIDER_ITEMCOUNT",
            "CLOSESPIDER_PAGECOUNT",
        ),
        int,
        "a whole number",
    ),
    "bool": (
        ("ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED", "RETRY_ENABLED", "COOKIES_ENABLED"),
        _scrapy_bool,
        "true or false",
    ),
}


def check_settings(settings: SettingsLike) -> Options:
    """Read every setting a crawl reads as it starts; OptionsError names the first bad one.

    Returns the crawl's `Options` (read here anyway), for the caller that needs them.
    """
    options = Options.from_settings(settings)
    FetchOptions.from_settings(settings)
    PerfOptions.from_settings(settings)
    setting_bool(settings, "QMC_RUN_PER_SITE", False)
    setting_number(settings, "QMC_RETRY_BACKOFF", 2.0, float)
    for name in ("QMC_BROWSER_CONTEXTS", "QMC_BROWSER_PAGES"):
        setting_number(settings, name, 1, int, minimum=1)
    for names, read, kind in SCRAPY_TYPED.values():
        for name in names:
            value = settings.get(name)
            if value is None:
                continue
            try:
                read(value)
            except (TypeError, ValueError):
                raise OptionsError(f"{name} must be {kind}, not {value!r}") from None
    return options
