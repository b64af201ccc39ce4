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
from qmcrawler.monitor.content import content_fields, content_hash
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
        keywords = sites[version["site"]].keywords if sites and version["site"] in sites else ("质量月",)
        record = {
            **fields,
            "editor": article.editor,
            "doc_date": article.doc_date,
            **_relevance(version["url"], fields, keywords, article.flags),
            "flags": list(article.flags),
            "extractor_version": EXTRACTOR_VERSION,
        }
        if store.record_reextraction(version["page_id"], record, content_hash(fields)):
            changed += 1
    return ReprocessResult(pages=pages, changed=changed, skipped=skipped)


def _relevance(url: str, fields: dict[str, Any], keywords: tuple[str, ...], flags: tuple[str, ...]) -> dict[str, Any]:
    """The relevance columns of a re-extracted version (as pipelines/relevance.py sets them)."""
    result = score(fields["title"], fields["text"], keywords, fields.get("publish_time"))
    return {
        "is_relevant": result.is_relevant,
        "relevance": result.score,
        "year": result.year,
        "likely_mirror": bool(mirror_reasons(url, fields["title"], fields["text"], flags)),
    }
