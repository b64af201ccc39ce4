"""Scrapy items: one downloaded page, or one request that failed before any response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qmcrawler.extraction.article import Article

if TYPE_CHECKING:  # the crawl's start does not import the text normalisation for it
    from qmcrawler.monitor.content import ContentForms


@dataclass
class PageItem:
    """A response for a monitored (article) URL, filled in stage by stage by the pipelines.

    `url` is the page's identity, the URL that was requested; `final_url` is where redirects
    ended. `kind` is the observation kind of qmcrawler.monitor.changes (`content`, `gone`, `blocked`,
    `failed`, `not_modified`), set by the validate stage and possibly downgraded later (an empty
    extraction becomes `failed` with reason `js_required`).
    """

    url: str
    site: str
    status: int
    final_url: str
    fetched_at: str
    body: bytes = b""
    html: str = ""
    encoding: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirect_urls: list[str] = field(default_factory=list)
    redirect_reasons: list[Any] = field(default_factory=list)
    kind: str = ""
    reason: str = ""
    moved_to: str | None = None
    article: Article | None = None
    #: SimHash of the content fields' title and text, computed with the extraction (None: too short)
    fingerprint: int | None = None
    #: the content fields, hash and stored text the extraction worker computed with the article
    content: ContentForms | None = None
    fields: dict[str, Any] | None = None
    content_hash: str | None = None
    is_relevant: bool = False
    #: download facts: `charset_conflict`, `short_circuit`, ... (merged with the article's flags)
    flags: list[str] = field(default_factory=list)
    declared_encoding: str | None = None
    sniffed_type: str = "html"
    #: what the database remembered when the crawl started (content-hash short-circuit)
    known_raw_hash: str | None = None
    known_content_hash: str | None = None
    #: decoded HTML of a multi-page article's continuation pages (qmcrawler.crawl.pages), joined on extraction
    more_html: list[str] = field(default_factory=list)
    #: attachment files downloaded for this page (qmcrawler.crawl.files.FileInfo rows)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FetchFailure:
    """A request that produced no usable response (timeout, DNS, connection, redirect loop...)."""

    url: str
    site: str
    reason: str
    fetched_at: str
    http_status: int | None = None
    is_article: bool = True
