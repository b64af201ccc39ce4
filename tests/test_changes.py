"""The change semantics as a table: page state + observation → fetch outcome, version, change."""

from __future__ import annotations

import pytest

from qmcrawler.monitor.changes import Observation, PageState, changed_fields, decide

LIVE = PageState(status="live", current_hash="h1", last_raw_hash="r1")
GONE_ONCE = PageState(status="live", current_hash="h1", last_raw_hash="r1", missing_runs=1, last_missing_run=1)
REMOVED = PageState(status="removed", current_hash="h1", missing_runs=2, last_missing_run=2)
BLOCKED = PageState(status="blocked", current_hash="h1", last_raw_hash="r1")


@pytest.mark.parametrize(
    ("state", "obs", "outcome", "version", "change", "status"),
    [
        (None, Observation("content", 1, "h1", "r1"), "new", True, "new", "live"),
        (LIVE, Observation("content", 2, "h1", "r1"), "unchanged", False, None, "live"),
        (LIVE, Observation("content", 2, "h1", "r2"), "noise_only", False, None, "live"),
        (LIVE, Observation("content", 2, "h2", "r2"), "changed", True, "changed", "live"),
        (LIVE, Observation("gone", 2), "removed", False, None, "live"),
        (GONE_ONCE, Observation("gone", 2), "removed", False, "removed", "removed"),
        (GONE_ONCE, Observation("gone", 1), "removed", False, None, "live"),  # same run twice
        (REMOVED, Observation("gone", 3), "removed", False, None, "removed"),
        (REMOVED, Observation("content", 3, "h1", "r1"), "unchanged", False, "restored", "live"),
        (REMOVED, Observation("content", 3, "h2", "r2"), "changed", True, "restored", "live"),
        (LIVE, Observation("blocked", 2), "blocked", False, None, "blocked"),
        (BLOCKED, Observation("content", 3, "h1", "r1"), "unchanged", False, None, "live"),
        (LIVE, Observation("failed", 2), "failed", False, None, "live"),
        (GONE_ONCE, Observation("failed", 2), "failed", False, None, "live"),
        (LIVE, Observation("not_modified", 2), "not_modified", False, None, "live"),
        (None, Observation("gone", 1), "removed", False, None, None),
        (None, Observation("blocked", 1), "blocked", False, None, None),
        (None, Observation("failed", 1), "failed", False, None, None),
    ],
)
def test_decide(
    state: PageState | None, obs: Observation, outcome: str, version: bool, change: str | None, status: str | None
) -> None:
    d = decide(state, obs)
    assert (d.outcome, d.write_version, d.change_kind, d.status) == (outcome, version, change, status)


def test_failure_between_two_404s_does_not_reset_the_count() -> None:
    d1 = decide(LIVE, Observation("gone", 2))
    state = PageState(current_hash="h1", missing_runs=d1.missing_runs, last_missing_run=d1.last_missing_run)
    d2 = decide(state, Observation("failed", 3))
    state = PageState(current_hash="h1", missing_runs=d2.missing_runs, last_missing_run=d2.last_missing_run)
    assert decide(state, Observation("gone", 4)).change_kind == "removed"


def test_content_resets_the_removal_count() -> None:
    d = decide(GONE_ONCE, Observation("content", 2, "h1", "r1"))
    assert d.missing_runs == 0


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown observation kind"):
        decide(LIVE, Observation("weird"))


def test_changed_fields() -> None:
    assert changed_fields({"title": "a", "text": "x"}, {"title": "b", "text": "x"}, ("title", "text")) == ["title"]
