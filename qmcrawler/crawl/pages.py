"""Multi-page articles: the article's own continuation pages (`…_2.html`, people.com.cn `…-2.html`).

A long article split over pages is one document: page 1 links its continuations, all on the same
host, named after page 1 plus a page number (`t20240903_123.html` → `t20240903_123_2.html`,
`c1004-30264070.html` → `c1004-30264070-2.html`). Only links of that shape count, so list
pagination, related articles and `index_2.html` are never joined; at most `MAX_PAGES` pages.
The spider fetches them in order and the extract stage joins the pages' bodies into one version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

#: An article never has more pages than this (a trap or a forum thread otherwise).
MAX_PAGES = 10
#: Separator between the raw pages of one article in the stored raw body (an HTML comment).
PAGE_MARK = b"\n<!-- qmcrawler: next page -->\n"
_STEM = re.compile(r"^(?P<stem>.+?)(?P<ext>\.[A-Za-z]{2,5})?$")


def _shape(url: str) -> tuple[str, str, str, str] | None:
    """(scheme-less host, directory, file stem, extension) of an article URL without a query."""
    parts = urlsplit(url)
    if parts.query or not parts.path or parts.path.endswith("/"):
        return None
    directory, _, name = parts.path.rpartition("/")
    m = _STEM.match(name)
    if m is None:
        return None
    return parts.netloc.lower(), directory, m["stem"], m["ext"] or ""


def may_continue(page_url: str, html: str, base_url: str | None = None) -> bool:
    """False when `html` cannot link a continuation page of `page_url`: its file stem followed by
    `_` or `-` (or a character reference) occurs nowhere in it.

    A continuation link's file name is the stem plus `_N` or `-N` as written in its href, so
    when that text is absent the page need not be parsed for links at all (most pages). Links
    are resolved against `base_url` (where redirects ended): when it is another URL, an empty
    or `#` href could name a continuation page without spelling it, so the page is parsed.
    """
    base = _shape(page_url)
    if base is None:
        return False
    if base_url is not None and base_url.split("#", 1)[0] != page_url:
        return True
    stem = base[2]
    return any(stem + sep in html for sep in ("_", "-", "&"))


def continuation_urls(page_url: str, links: Iterable[str], max_pages: int = MAX_PAGES) -> list[str]:
    """The links among `links` that are pages 2…`max_pages` of the article at `page_url`, in page order."""
    base = _shape(page_url)
    if base is None:
        return []
    host, directory, stem, ext = base
    pattern = re.compile(rf"^{re.escape(stem)}[_-](?P<n>[1-9]\d?)$")
    found: dict[int, str] = {}
    for link in links:
        shape = _shape(link.split("#", 1)[0])
        if shape is None or shape[0] != host or shape[1] != directory or shape[3] != ext:
            continue
        m = pattern.match(shape[2])
        if m and 2 <= int(m["n"]) <= max_pages:
            found.setdefault(int(m["n"]), link.split("#", 1)[0])
    return [found[n] for n in sorted(found)]
