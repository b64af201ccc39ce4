"""Running one crawl in a subprocess (`python -m scrapy crawl site ...`).

Twisted's reactor cannot restart inside one process, so the demo, the scheduler and the
end-to-end tests all start crawls through here. The subprocess runs from the project root
(where scrapy.cfg is) so our `spiders` and `pipelines` packages are the ones imported.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: settings for crawling the local mini-web: no politeness delay against 127.0.0.1
LOCAL_SETTINGS: Mapping[str, str] = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ROBOTSTXT_OBEY": "False",
    "LOG_LEVEL": "WARNING",
}


def crawl_command(
    config: str | Path,
    db: str | Path,
    sites: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv of one crawl."""
    argv = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"config={config}", "-s", f"QMC_DB={db}"]
    if sites:
        argv += ["-a", f"sites={sites}"]
    for key, value in (settings or {}).items():
        argv += ["-s", f"{key}={value}"]
    return argv


def start_crawl(
    argv: Sequence[str],
    log: IO[bytes] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start one crawl (`argv` from `crawl_command`) in its own session; output goes to `log`.

    The crawl gets its own session so a terminal's Ctrl-C reaches only the caller, which then
    tells the crawl to stop (SIGTERM: Scrapy closes the spider and the store writes the run).
    """
    return subprocess.Popen(  # noqa: S603 - argv built from our own values, no shell
        list(argv),
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )


def run_crawl(
    config: str | Path,
    db: str | Path,
    sites: str | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one crawl to completion and return the finished process."""
    return subprocess.run(  # noqa: S603 - argv built from our own values, no shell
        crawl_command(config, db, sites, settings),
        cwd=PROJECT_ROOT,
        capture_output=capture,
        text=True,
        timeout=timeout,
        check=False,
    )
