"""The Atom feed of changes (`python -m qmcrawler feed -o changes.atom`), built with ElementTree.

Entry ids are tag URIs keyed by the feed id and the change id, so a reader never sees the same
change twice; the content is the stored diff as plain text, escaped by the XML serializer.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from qmcrawler.outputs.clock import local
from qmcrawler.outputs.notify import diff_excerpt
from qmcrawler.storage import queries

ATOM = "http://www.w3.org/2005/Atom"
#: default feed id: change it (`--id`) when you publish feeds of several databases
DEFAULT_ID = "tag:qmcrawler,2024:changes"
#: characters of the diff kept in each entry
CONTENT_CHARS = 2000
# XML 1.0 forbids most control characters; page text can contain them.
_BAD_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def _clean(text: str) -> str:
    return text.translate(_BAD_XML)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = _clean(text)
    return el


def entry(parent: ET.Element, row: dict[str, Any], feed_id: str, tz: tzinfo | None = None) -> None:
    """Append one change as an Atom `<entry>` (`updated` in UTC, as Atom wants; the text in local time)."""
    e = _sub(parent, "entry")
    _sub(e, "id", f"{feed_id}:change:{int(row['id'])}")
    _sub(e, "title", f"[{row['kind']}] {row.get('title') or '（无标题）'}")
    _sub(e, "updated", row["detected_at"])
    _sub(e, "link", href=_clean(row["url"]), rel="alternate")
    _sub(e, "category", term=row["kind"])
    _sub(e, "category", term=row["site"], label="site")
    fields = ", ".join(row["fields"])
    summary = f"{row['site']} · {row['kind']} · {local(row['detected_at'], tz)}" + (f" · {fields}" if fields else "")
    _sub(e, "summary", summary)
    body = diff_excerpt(row.get("diff") or "", CONTENT_CHARS) if row["kind"] != "new" else ""
    _sub(e, "content", f"{summary}\n{row['url']}\n\n{body}".rstrip(), type="text")


def render(
    rows: Sequence[dict[str, Any]],
    title: str = "qmcrawler: changes",
    feed_id: str = DEFAULT_ID,
    self_url: str | None = None,
    tz: tzinfo | None = None,
) -> bytes:
    """The Atom document (UTF-8 bytes) for these change rows, newest first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    updated = rows[0]["detected_at"] if rows else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _sub(feed, "updated", updated)
    _sub(_sub(feed, "author"), "name", "qmcrawler")
    _sub(feed, "generator", "qmcrawler")
    if self_url:
        _sub(feed, "link", href=self_url, rel="self")
    for row in rows:
        entry(feed, row, feed_id, tz)
    ET.indent(feed)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def write_feed(
    db: Database,
    path: str | Path,
    since: str | None = None,
    site: str | None = None,
    relevant_only: bool = False,
    limit: int | None = 100,
    feed_id: str = DEFAULT_ID,
    self_url: str | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Write the feed of the matching changes to `path` (`-`: standard output); return how many entries."""
    rows = queries.changes(db, since=since, site=site, relevant_only=relevant_only, limit=limit)
    title = "qmcrawler: changes" + (f" on {site}" if site else "")
    document = render(rows, title, feed_id, self_url, tz)
    if str(path) == "-":
        sys.stdout.buffer.write(document + b"\n")
        sys.stdout.buffer.flush()
    else:
        Path(path).write_bytes(document)
    return len(rows)
