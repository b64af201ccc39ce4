"""Browser rendering through scrapy-playwright, for sites with `render = "playwright"`.

The Playwright download handler is installed only when a selected site renders, so static
crawls never start Node or a browser. Chromium comes from the OS (Debian's `chromium`
package): Playwright's own browser download is not used.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from scrapy.settings import Settings
from scrapy_playwright.page import PageMethod

from qmcrawler.config import Site
from spiders.boundary import browser_guard

PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: after network idle, wait until the body's text stops growing (checked every 150 ms, ≤ 3 s)
SETTLE_JS = """async () => {
  let last = -1, stable = 0;
  for (let i = 0; i < 20 && stable < 2; i++) {
    const n = document.body ? document.body.innerText.length : 0;
    stable = n === last ? stable + 1 : 0;
    last = n;
    await new Promise(r => setTimeout(r, 150));
  }
  return last;
}"""


def find_chromium(configured: str | None = None) -> str | None:
    """The Chromium binary to launch: QMC_CHROMIUM if set, else Debian's locations, else PATH."""
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def enable_playwright(settings: Settings, chromium: str | None, domains: tuple[str, ...] = ()) -> None:
    """Install the Playwright download handler and launch options (before settings freeze);
    the browser's own requests are held to the site boundary of `domains` (spiders/boundary.py)."""
    settings.set("DOWNLOAD_HANDLERS", {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER}, priority="spider")
    settings.set("PLAYWRIGHT_ABORT_REQUEST", browser_guard(domains), priority="spider")
    launch: dict[str, Any] = {"args": CHROMIUM_ARGS, "headless": True}
    if chromium:
        launch["executable_path"] = chromium
    settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="spider")
    settings.set("PLAYWRIGHT_MAX_CONTEXTS", settings.getint("QMC_BROWSER_CONTEXTS", 1), priority="spider")
    settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", settings.getint("QMC_BROWSER_PAGES", 4), priority="spider")
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 30_000, priority="spider")


def render_meta(site: Site) -> dict[str, Any]:
    """Request meta that renders a page: network idle, then `wait_for` or until the text settles."""
    wait = (
        PageMethod("wait_for_selector", site.wait_for, timeout=15_000)
        if site.wait_for
        else PageMethod("evaluate", SETTLE_JS)
    )
    return {
        "playwright": True,
        "playwright_page_goto_kwargs": {"wait_until": "networkidle"},
        "playwright_page_methods": [wait],
    }
