"""Parsing user-given times (`--since`) into the database's ISO UTC `...Z` strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def to_utc_z(moment: datetime) -> str:
    """Format as ISO 8601 UTC with `Z` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(value: str, now: datetime | None = None) -> str:
    """`7d`, `24h`, `30m`, `2w`, or an ISO date/time (UTC unless it has an offset) → `...Z`.

    Raises ValueError with a one-line message on anything else.
    """
    now = now or datetime.now(UTC)
    span = _SPAN.match(value)
    if span:
        try:
            return to_utc_z(now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))}))
        except OverflowError:
            raise ValueError(f"--since: {value!r} reaches back before the year 1") from None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return to_utc_z(datetime.fromisoformat(text))
    except ValueError:
        message = f"--since: expected an ISO date/time or a span like 24h, 7d; got {value!r}"
        raise ValueError(message) from None
