"""Change semantics as plain functions: what a download means for a page (contract).

The storage layer asks `decide(state, observation)` and writes what the `Decision` says; this
module knows nothing about databases, so the same rules hold for SQLite today and PostgreSQL
later. The rules (ARCHITECTURE.md, "Change semantics"):

- content whose normalized hash differs from the current version: a version, `new` or `changed`;
- same hash: no version; outcome `unchanged` (same raw bytes) or `noise_only` (raw differs);
- 404/410/soft-404: a removal *candidate*; a `removed` change only when two consecutive runs agree;
- blocked or failed downloads: logged, never a version, never a removal (urlwatch's rule that a
  failed check keeps the old data);
- content after `removed`: `restored`;
- a site outage is no removal: when at least `OUTAGE_MIN_PAGES` and `OUTAGE_MIN_SHARE` of a
  site's known pages are gone in one run, those downloads count as `blocked` (`site_outage`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: consecutive runs that must see a page gone before a `removed` change is written
REMOVAL_CONFIRMATIONS = 2

#: a run in which at least this many and this share of a site's known pages are gone is a site outage
OUTAGE_MIN_PAGES = 5
OUTAGE_MIN_SHARE = 0.5

#: observation kinds, from the validate/normalize stages
CONTENT, NOT_MODIFIED, GONE, BLOCKED, FAILED = "content", "not_modified", "gone", "blocked", "failed"
OBSERVATION_KINDS = (CONTENT, NOT_MODIFIED, GONE, BLOCKED, FAILED)


@dataclass(frozen=True)
class PageState:
    """What the database knows about a page before this download."""

    status: str = "live"
    current_hash: str | None = None
    last_raw_hash: str | None = None
    missing_runs: int = 0
    last_missing_run: int | None = None


@dataclass(frozen=True)
class Observation:
    """What this download saw."""

    kind: str
    run_id: int | None = None
    content_hash: str | None = None
    raw_hash: str | None = None


@dataclass(frozen=True)
class Decision:
    """What to write: the fetch outcome, whether to add a version, which change, the page's state."""

    outcome: str
    write_version: bool = False
    change_kind: str | None = None
    status: str | None = None
    missing_runs: int = 0
    last_missing_run: int | None = None


def decide(state: PageState | None, obs: Observation) -> Decision:
    """Apply the change semantics to one download of one page."""
    if obs.kind not in OBSERVATION_KINDS:
        raise ValueError(f"unknown observation kind {obs.kind!r}")
    if obs.kind == CONTENT:
        return _content(state, obs)
    if state is None:  # a page never stored: nothing to compare, nothing to remove
        outcome = {NOT_MODIFIED: "not_modified", GONE: "removed", BLOCKED: "blocked"}.get(obs.kind, "failed")
        return Decision(outcome=outcome)
    if obs.kind == NOT_MODIFIED:
        return Decision(outcome="not_modified", status=_live(state), missing_runs=0)
    if obs.kind == GONE:
        return _gone(state, obs)
    status = state.status
    if obs.kind == BLOCKED and status in ("live", "blocked"):
        status = "blocked"
    return Decision(
        "blocked" if obs.kind == BLOCKED else "failed",
        status=status,
        missing_runs=state.missing_runs,
        last_missing_run=state.last_missing_run,
    )


def _content(state: PageState | None, obs: Observation) -> Decision:
    if state is None or state.current_hash is None:
        return Decision("new", write_version=True, change_kind="new", status="live")
    differs = obs.content_hash != state.current_hash
    if state.status == "removed":
        return Decision(
            "changed" if differs else "unchanged", write_version=differs, change_kind="restored", status="live"
        )
    if differs:
        return Decision("changed", write_version=True, change_kind="changed", status="live")
    same_raw = obs.raw_hash is not None and obs.raw_hash == state.last_raw_hash
    return Decision("unchanged" if same_raw else "noise_only", status="live")


def _gone(state: PageState, obs: Observation) -> Decision:
    if state.status == "removed":
        return Decision(
            "removed", status="removed", missing_runs=state.missing_runs, last_missing_run=state.last_missing_run
        )
    if obs.run_id is not None and obs.run_id == state.last_missing_run:
        missing = state.missing_runs  # seen gone twice in one run: still one run
    else:
        missing = state.missing_runs + 1
    if missing >= REMOVAL_CONFIRMATIONS and state.current_hash is not None:
        return Decision(
            "removed", change_kind="removed", status="removed", missing_runs=missing, last_missing_run=obs.run_id
        )
    return Decision("removed", status=_live(state), missing_runs=missing, last_missing_run=obs.run_id)


def is_site_outage(known: int, gone: int) -> bool:
    """True when `gone` of a site's `known` pages answering 404/410/soft-404 in one run is an outage.

    A site migration, a WAF or a misconfigured proxy makes every page 404 at once; a site that
    really deletes articles deletes a few. The pages are then neither removed nor counted as
    missing: the run did not see them.
    """
    return gone >= OUTAGE_MIN_PAGES and gone >= OUTAGE_MIN_SHARE * known


def _live(state: PageState) -> str:
    return "live" if state.status in ("live", "blocked") else state.status


def changed_fields(old: dict[str, object], new: dict[str, object], fields: tuple[str, ...]) -> list[str]:
    """Names of `fields` whose values differ between two versions (in `fields` order)."""
    return [f for f in fields if old.get(f) != new.get(f)]
