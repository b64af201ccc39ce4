"""A download as the store sees it (`FetchRecord`) and the crawler's clock format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

#: the crawl's clock when set (QMC_NOW): (the time it was set to, monotonic() at that moment)
_clock: tuple[datetime, float] | None = None


def set_clock(start: datetime | None) -> None:
    """Make `now()` start at `start` and advance with real time from here (None: the real clock).

    A crawl sets it from `-s QMC_NOW=...` before it schedules or records anything, so every
    scheduling decision and every stored time follows the simulated day (one crawl is one
    process, so a process-wide clock is the crawl's clock).
    """
    global _clock  # the one process-wide clock
    _clock = None if start is None else (start.astimezone(UTC), monotonic())


def now() -> datetime:
    """The crawler's current time (UTC, aware): QMC_NOW plus the time since it was set, else the real clock."""
    if _clock is None:
        return datetime.now(UTC)
    start, at = _clock
    return start + timedelta(seconds=monotonic() - at)


def to_z(moment: datetime) -> str:
    """ISO 8601 UTC with `Z`, to the second (the crawler's clock format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_z(text: str) -> datetime:
    """Parse a stored time (`2026-11-22T13:48:18Z`, or any ISO 8601 with offset) as aware UTC."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def utcnow() -> str:
    """Current time as ISO 8601 UTC with `Z` (the crawler's clock format; honours `set_clock`)."""
    return to_z(now())


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
