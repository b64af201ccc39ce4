"""Attachment links (pdf, doc, xls, wps, ofd, zip, …) inside the article body."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

from qmcrawler.extraction.article import Attachment
from qmcrawler.extraction.vocab import ATTACHMENT_EXTS
from qmcrawler.textnorm import normalize_line

_MAX_ATTACHMENTS = 200


def attachment_ext(href: str, text: str = "") -> str | None:
    """The attachment extension (without dot) of a link's path or, failing that, of its text."""
    try:
        path = unquote(urlsplit(href.strip()).path).lower()
    except ValueError:
        path = ""
    for candidate in (path, text.strip().lower()):
        ext = posixpath.splitext(candidate)[1]
        if ext in ATTACHMENT_EXTS:
            return ext[1:]
    return None


def find_attachments(container: lxml.html.HtmlElement | None, url: str | None) -> tuple[Attachment, ...]:
    """Attachment links under `container`, absolute when `url` is known, deduplicated by URL."""
    if container is None:
        return ()
    out: list[Attachment] = []
    seen: set[str] = set()
    for a in container.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        text = normalize_line(a.text_content())
        ext = attachment_ext(href, text)
        if ext is None:
            continue
        try:
            full = urljoin(url, href) if url else href
        except ValueError:
            full = href
        if full in seen:
            continue
        seen.add(full)
        name = text or posixpath.basename(unquote(urlsplit(full).path))
        out.append(Attachment(url=full, name=name, ext=ext))
        if len(out) >= _MAX_ATTACHMENTS:
            break
    return tuple(out)
