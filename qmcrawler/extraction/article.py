"""The extraction result: a frozen `Article` and its attachments (contract: ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

#: Fields whose normalized values make up a version's content hash. `views`, `editor` and
#: `flags` are deliberately absent: they are volatile or describe the download, not the content.
HASHED_FIELDS: tuple[str, ...] = ("title", "text", "publish_time", "source", "author", "attachments")


@dataclass(frozen=True)
class Attachment:
    """A link to a document (pdf, doc, xls, ...) found in the article body."""

    url: str
    name: str
    ext: str

    def to_dict(self) -> dict[str, str]:
        """Return the attachment as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Article:
    """Main content and metadata of one page (ISO dates; comparison forms simplified and width folded).

    `publish_time` is ISO 8601 with `+08:00`, a bare `YYYY-MM-DD` when only the day is known,
    or None. `views` is volatile and never part of the content hash. `flags` name what was
    noticed (`pinyin_artifact`, `t2s_applied`, `js_required`, `likely_mirror`, ...).
    `errors` names fields whose extraction failed (extract never raises).

    `title` and `text` are what the page says, in its own characters and script (full-width
    `（更正）` and `，` kept; on a spam mirror the inserted pinyin is removed and the mirror's
    traditional conversion undone): versions store and show them. `norm_title` and `norm_text`
    are the comparison forms (width folded, OpenCC t2s gated): content hashes, relevance, copies
    and search use them, so a page switching scripts (big5 gateways, 繁/简 editions) or
    punctuation widths is never a change.
    """

    title: str | None = None
    text: str = ""
    publish_time: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    views: int | None = None
    attachments: tuple[Attachment, ...] = ()
    flags: tuple[str, ...] = ()
    doc_date: str | None = None
    keywords: tuple[str, ...] = ()
    original_title: str | None = None
    original_text: str = ""
    norm_title: str | None = None
    norm_text: str = ""
    errors: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the article as JSON-ready data (lists instead of tuples)."""
        data = asdict(self)
        data["attachments"] = [a.to_dict() for a in self.attachments]
        for key in ("flags", "keywords", "errors"):
            data[key] = list(data[key])
        return data

    def joined(self, more: tuple[Article, ...]) -> Article:
        """This page 1 with the bodies of its continuation pages appended, as one article (flag `multi_page`).

        Metadata comes from page 1; texts are joined line by line, attachments and keywords are merged
        without repeats, `doc_date` is the last page's (the 落款 closes the document).
        """
        if not more:
            return self
        pages = (self, *more)

        def lines(name: str) -> str:
            return "\n".join(str(getattr(p, name)) for p in pages if getattr(p, name))

        attachments = tuple(dict.fromkeys(a for p in pages for a in p.attachments))
        return replace(
            self,
            text=lines("text"),
            original_text=lines("original_text"),
            norm_text=lines("norm_text"),
            attachments=attachments,
            keywords=tuple(dict.fromkeys(k for p in pages for k in p.keywords)),
            doc_date=next((p.doc_date for p in reversed(pages) if p.doc_date), None),
            flags=tuple(dict.fromkeys([*self.flags, "multi_page"])),
            errors=tuple(dict.fromkeys(e for p in pages for e in p.errors)),
        )
