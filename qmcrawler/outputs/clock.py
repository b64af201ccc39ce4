"""Times people read: the database's UTC (`2026-11-22T13:48:18Z`) shown in a local zone.

The database, `--json` and the Atom feed's machine fields keep UTC; the CLI's text, digests,
the HTML report, feed entry text and the daemon log show Asia/Shanghai by default (the zone of
every Chinese regulator's publish times and of the schedules), or `[defaults] timezone` in
sites.toml, or `--tz`. Written here once so every output formats times the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"


def zone(name: str | None = None) -> tzinfo:
    """The zone called `name` (IANA name such as `Asia/Shanghai` or `UTC`); ValueError when unknown."""
    key = (name or DEFAULT_TZ).strip()
    if key.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {key!r} (use an IANA name such as Asia/Shanghai or UTC)") from None


def parse_utc(value: str) -> datetime | None:
    """A stored time (`…Z`, or with an offset) as an aware datetime; None when it is not one."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def local(value: str | None, tz: tzinfo | None = None, seconds: bool = True) -> str:
    """`2026-11-22T13:48:18Z` → `2026-11-22 21:48:18 +08:00` (in `tz`, default Asia/Shanghai).

    Anything that is not a time (None, a bare date) is returned unchanged, never guessed.
    """
    if not value:
        return value or ""
    when = parse_utc(value) if "T" in value else None
    if when is None:
        return value
    return _format(when.astimezone(tz or zone()), seconds)


def _format(when: datetime, seconds: bool) -> str:
    offset = when.strftime("%z")
    stamp = when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{stamp} {offset[:3]}:{offset[3:]}" if offset else stamp


def now_local(tz: tzinfo | None = None) -> str:
    """The current time, formatted like `local`."""
    return _format(datetime.now(tz or zone()), True)


class LocalFormatter(logging.Formatter):
    """A logging formatter whose `%(asctime)s` is in `tz` with its offset (`2026-11-22 21:48:18 +08:00`).

    The daemon's lines then carry one zone, the one its schedules and messages use.
    """

    def __init__(self, fmt: str | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(fmt)
        self.tz = tz or zone()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _format(datetime.fromtimestamp(record.created, self.tz), True)
