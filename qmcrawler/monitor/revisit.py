"""Revisit policy: when a known page is checked next (plain functions; the frontier's rules).

Every known page has a frontier entry (qmcrawler.storage.frontier): when it is next due, its
current interval, how many checks found a change. The rules, and why:

- **Young pages are checked often.** A new page starts at the site's `revisit_min` and its
  interval may never exceed half the time it has stayed unchanged (`AGE_FRACTION`): corrections
  such as （更正） come in the first days of a notice's life, and a page that has not changed
  for T is, by the age estimators of Cho & Garcia-Molina, unlikely to change within T/2.
- **Unchanged: the interval grows** (× `GROW`, as Nutch's adaptive schedule does with ×1.4),
  up to `revisit_max` and never beyond, so any late edit is found within `revisit_max`.
- **Changed: the interval shrinks** (× `SHRINK`) and the page counts as young again (the age
  bound restarts from the change), so a page being corrected is watched closely.
- **404/410 seen once: due at the next run** with priority `CONFIRM`, so a removal is still
  confirmed (or the page restored) by two consecutive checks (qmcrawler.monitor.changes).
- **Blocked or failed: not "unchanged".** The interval stays, the check is not counted and the
  page stays due (at the next run), keeping its place among the most overdue.
- **Jitter, always early.** Due times are 5-20 % before `interval` (from a hash of the URL and
  the check number, so runs are reproducible): pages stored in one run spread out instead of
  coming due together after a restart, a run starting a few minutes early still finds a
  one-interval page due, and no page waits longer than `revisit_max`.

Times are aware UTC datetimes; intervals are seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

DAY = 86_400.0
GROW = 1.5
SHRINK = 0.5
AGE_FRACTION = 0.5
#: due times fall EARLY + JITTER × u (u in [0, 1)) of the interval before the interval ends
EARLY, JITTER = 0.05, 0.15

#: frontier priorities (lower first): a removal waiting for its second check, then the rest
CONFIRM, REVISIT = 0, 1

#: what a check found
CHANGED, UNCHANGED, GONE, FAILED = "changed", "unchanged", "gone", "failed"


@dataclass(frozen=True)
class Policy:
    """A site's revisit bounds (sites.toml `revisit_min`, `revisit_max`), in seconds."""

    min_interval: float = DAY
    max_interval: float = 30 * DAY

    def clamp(self, seconds: float) -> float:
        """`seconds` within [min_interval, max_interval]."""
        return max(self.min_interval, min(self.max_interval, seconds))


@dataclass(frozen=True)
class Entry:
    """One page's frontier entry."""

    next_check_at: datetime
    interval: float
    priority: int = REVISIT
    checks: int = 0  # checks that got an answer (content, 304, 404): failures are not counted
    changes: int = 0  # checks that found a change (new, changed, restored, removed)
    stable_since: datetime | None = None  # when the current content was first seen
    last_check_at: datetime | None = None
    last_change_at: datetime | None = None
    reason: str = ""  # what set next_check_at: new, changed, unchanged, gone, failed, upgrade


def classify(outcome: str, status: str | None = None, change_kind: str | None = None) -> str:
    """What a stored download means for revisiting (`fetches.outcome`, the page's new status, the change)."""
    if change_kind in ("new", "changed", "restored", "removed"):
        return CHANGED
    if outcome in ("blocked", "failed"):
        return FAILED
    if outcome == "removed":
        return UNCHANGED if status == "removed" else GONE  # a confirmed removal, still gone
    return UNCHANGED


def jitter(key: str, n: int) -> float:
    """A reproducible number in [0, 1) for the n-th scheduling of page `key`."""
    digest = hashlib.blake2b(f"{key}\0{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def due_after(interval: float, key: str, n: int) -> timedelta:
    """How long after a check the page is due: the interval less 5-20 % jitter."""
    return timedelta(seconds=interval * (1 - EARLY - JITTER * jitter(key, n)))


def first_entry(policy: Policy, key: str, now: datetime) -> Entry:
    """The entry of a page stored for the first time at `now`."""
    return after_check(policy, None, CHANGED, now, key)


def after_check(policy: Policy, entry: Entry | None, result: str, now: datetime, key: str) -> Entry:
    """The entry after a check at `now` that found `result` (CHANGED, UNCHANGED, GONE, FAILED)."""
    if entry is None:
        entry = Entry(next_check_at=now, interval=policy.min_interval, stable_since=now)
    if result == FAILED:  # keep the interval and the place among the overdue; retry next run
        return replace(entry, next_check_at=min(entry.next_check_at, now), reason="failed")
    checks = entry.checks + 1
    if result == GONE:  # confirm (or restore) at the next run
        return replace(entry, next_check_at=now, priority=CONFIRM, checks=checks, last_check_at=now, reason="gone")
    if result == CHANGED:
        interval = policy.clamp(entry.interval * SHRINK) if entry.checks else policy.min_interval
        return Entry(
            next_check_at=now + due_after(interval, key, checks),
            interval=interval,
            checks=checks,
            changes=entry.changes + 1,
            stable_since=now,
            last_check_at=now,
            last_change_at=now,
            reason="new" if entry.checks == 0 else "changed",
        )
    stable_for = (now - (entry.stable_since or now)).total_seconds()
    interval = policy.clamp(min(entry.interval * GROW, stable_for * AGE_FRACTION))
    return replace(
        entry,
        next_check_at=now + due_after(interval, key, checks),
        interval=interval,
        priority=REVISIT,
        checks=checks,
        last_check_at=now,
        reason="unchanged",
    )


def upgraded_entry(
    policy: Policy, key: str, now: datetime, stable_since: datetime, removal_pending: bool = False
) -> Entry:
    """The entry of a page known before the frontier existed (database upgrade).

    Due at a uniformly spread moment within the interval the page would have now (half its
    unchanged age, within the bounds), so the first run after upgrading does not check every
    page at once and young pages still come first; a pending removal is due at once.
    """
    stable_for = max(0.0, (now - stable_since).total_seconds())
    interval = policy.clamp(stable_for * AGE_FRACTION)
    if removal_pending:
        return Entry(now, interval, CONFIRM, stable_since=stable_since, reason="upgrade")
    due = now + timedelta(seconds=interval * jitter(key, 0))
    return Entry(due, interval, REVISIT, stable_since=stable_since, reason="upgrade")
