"""A download as the store sees it (`FetchRecord`) and the crawler's clock format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utcnow() -> str:
    """Current time as ISO 8601 UTC with `Z` (the crawler's clock format)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FetchRecord:
    """One download as the store sees it, built by the store pipeline from an item.

    `url` is the page's identity (the URL requested); `moved_to` is set when a permanent
    redirect led to another article URL. `version` holds the content fields (at least
    HASHED_FIELDS) plus `editor`, `doc_date`, `is_relevant`, `flags`, `extractor_version` and
    optionally `relevance`, `year`, `likely_mirror`. `fingerprint` is the SimHash of the version's
    title and text when the extraction worker computed it; without it the store computes it.
    `copy_of` is always decided here.
    """

    url: str
    site: str
    kind: str
    fetched_at: str = field(default_factory=utcnow)
    http_status: int | None = None
    reason: str = ""
    final_url: str | None = None
    moved_to: str | None = None
    raw: bytes | None = None
    encoding: str | None = None
    version: Mapping[str, Any] | None = None
    content_hash: str | None = None
    views: int | None = None
    flags: tuple[str, ...] = ()
    declared_encoding: str | None = None
    fingerprint: int | None = None
