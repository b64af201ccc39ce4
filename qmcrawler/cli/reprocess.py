"""Re-extraction of stored raw HTML, for when the extractor improves (`qmcrawler reprocess`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from qmcrawler.config import Site
from qmcrawler.crawl.pages import PAGE_MARK
from qmcrawler.extraction import EXTRACTOR_VERSION, extract
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.monitor.content import content_fields, content_hash, stored_text
from qmcrawler.monitor.copies import mirror_reasons
from qmcrawler.monitor.relevance import score
from qmcrawler.storage import queries
from qmcrawler.storage.writer import Store

PROGRESS_EVERY = 200


@dataclass(frozen=True)
class ReprocessResult:
    """Counts of one reprocess pass."""

    pages: int
    changed: int
    skipped: int


def reprocess_db(
    db: Database,
    site: str | None = None,
    sites: dict[str, Site] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReprocessResult:
    """Re-extract every page's current raw HTML; store differing results as extractor changes."""
    store = Store(db)
    pages = changed = skipped = 0
    for version in list(queries.current_versions(db, site)):
        pages += 1
        if progress and pages % PROGRESS_EVERY == 0:
            progress(pages)
        raw = queries.raw_document(db, version["raw_hash"]) if version["raw_hash"] else None
        if raw is None:
            skipped += 1
            continue
        first, *more = raw[0].split(PAGE_MARK)  # a multi-page article's pages (qmcrawler.crawl.pages)
        article = extract(first.decode(raw[1], errors="replace"), version["url"])
        article = article.joined(tuple(extract(decode_html(page).text, version["url"]) for page in more))
        fields = content_fields(article)
        fields["attachments"] = carry_attachments(fields["attachments"], version["attachments"])
        keywords = sites[version["site"]].keywords if sites and version["site"] in sites else ("质量月",)
        record = {
            **fields,
            **stored_text(article, fields),
            "editor": article.editor,
            "doc_date": article.doc_date,
            **_relevance(version["url"], fields, keywords, article.flags),
            "flags": list(article.flags),
            "extractor_version": EXTRACTOR_VERSION,
        }
        if store.record_reextraction(version["page_id"], record, content_hash(fields)):
            changed += 1
    return ReprocessResult(pages=pages, changed=changed, skipped=skipped)


def carry_attachments(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The re-extracted attachment links with what the crawl learnt by downloading them.

    Extraction sees only links; the crawl added each file's sha256 (and its name from the
    download when the link had none). Reprocess never downloads, so it keeps those facts from
    the stored version for the same URL: without them every page with attachments would read as
    `changed [attachments]` twice (by reprocess, then by the next crawl).
    """
    known = {str(a.get("url")): a for a in old}
    out = []
    for link in new:
        before = known.get(str(link["url"]))
        if before is None:
            out.append(link)
            continue
        carried = {**link, "name": link.get("name") or before.get("name") or ""}
        if "sha256" in before:  # absent when the crawl ran with QMC_ATTACHMENTS=false
            carried["sha256"] = before["sha256"]
        out.append(carried)
    return out


def _relevance(url: str, fields: dict[str, Any], keywords: tuple[str, ...], flags: tuple[str, ...]) -> dict[str, Any]:
    """The relevance columns of a re-extracted version (as pipelines/relevance.py sets them)."""
    result = score(fields["title"], fields["text"], keywords, fields.get("publish_time"))
    return {
        "is_relevant": result.is_relevant,
        "relevance": result.score,
        "year": result.year,
        "likely_mirror": bool(mirror_reasons(url, fields["title"], fields["text"], flags)),
    }
