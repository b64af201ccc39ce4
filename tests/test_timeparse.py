"""--since values: spans and ISO times become the database's UTC `Z` strings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qmcrawler.cli.timeparse import parse_since

NOW = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24h", "2026-08-31T12:00:00Z"),
        ("7d", "2026-08-25T12:00:00Z"),
        ("30m", "2026-09-01T11:30:00Z"),
        ("2w", "2026-08-18T12:00:00Z"),
        ("2026-08-31", "2026-08-31T00:00:00Z"),
        ("2026-08-31T16:40:00+08:00", "2026-08-31T08:40:00Z"),
        ("2026-08-31T08:40:00Z", "2026-08-31T08:40:00Z"),
    ],
)
def test_parse_since(value: str, expected: str) -> None:
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7 days", "2026-13-01", ""])
def test_bad_since(value: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        parse_since(value, now=NOW)
