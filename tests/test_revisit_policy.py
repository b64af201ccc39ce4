"""The revisit policy as plain functions, the frontier table, its upgrade migration, config keys, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from qmcrawler.cli.main import cli
from qmcrawler.config import ConfigError, parse_config, parse_duration
from qmcrawler.crawl.budget import Budget
from qmcrawler.monitor.revisit import (
    CHANGED,
    CONFIRM,
    DAY,
    FAILED,
    GONE,
    REVISIT,
    UNCHANGED,
    Policy,
    after_check,
    classify,
    first_entry,
)
from qmcrawler.options import Options, OptionsError
from qmcrawler.storage import frontier, open_db
from qmcrawler.storage.records import from_z, set_clock, utcnow
from qmcrawler.storage.schema import migrations

T0 = datetime(2026, 9, 1, tzinfo=UTC)
POLICY = Policy(DAY, 30 * DAY)


def test_unchanged_page_interval_grows_to_the_maximum_and_never_beyond() -> None:
    entry = first_entry(POLICY, "u", T0)
    assert entry.interval == DAY
    assert entry.changes == 1
    now, intervals = T0, []
    for _ in range(40):
        now = entry.next_check_at  # checked exactly when due
        entry = after_check(POLICY, entry, UNCHANGED, now, "u")
        intervals.append(entry.interval)
        assert entry.next_check_at - now <= timedelta(days=30)
        assert entry.next_check_at > now
    assert intervals == sorted(intervals)
    assert intervals[-1] == 30 * DAY
    assert intervals[0] == DAY  # young pages stay at revisit_min for their first days


def test_a_change_shortens_the_interval_and_makes_the_page_young_again() -> None:
    entry = first_entry(POLICY, "u", T0)
    for days in range(1, 80, 7):
        entry = after_check(POLICY, entry, UNCHANGED, T0 + timedelta(days=days), "u")
    assert entry.interval > 10 * DAY
    changed = after_check(POLICY, entry, CHANGED, T0 + timedelta(days=90), "u")
    assert changed.interval == entry.interval / 2
    assert changed.changes == 2
    assert changed.last_change_at == T0 + timedelta(days=90)
    after = after_check(POLICY, changed, UNCHANGED, changed.next_check_at, "u")
    stable_for = (changed.next_check_at - (T0 + timedelta(days=90))).total_seconds()
    assert after.interval == pytest.approx(stable_for / 2)  # half its unchanged age since the change
    assert after.interval < changed.interval


def test_gone_is_due_at_the_next_run_and_failed_keeps_the_interval() -> None:
    entry = after_check(POLICY, first_entry(POLICY, "u", T0), UNCHANGED, T0 + timedelta(days=3), "u")
    gone = after_check(POLICY, entry, GONE, T0 + timedelta(days=4), "u")
    assert gone.priority == CONFIRM
    assert gone.next_check_at == T0 + timedelta(days=4)
    assert gone.interval == entry.interval
    failed = after_check(POLICY, entry, FAILED, T0 + timedelta(days=5), "u")
    assert failed.interval == entry.interval
    assert failed.checks == entry.checks
    assert failed.next_check_at <= T0 + timedelta(days=5)
    assert failed.reason == "failed"
    unchanged = after_check(POLICY, entry, UNCHANGED, T0 + timedelta(days=5), "u")
    assert unchanged.checks == entry.checks + 1


def test_classify_outcomes() -> None:
    assert classify("changed", "live", "changed") == CHANGED
    assert classify("unchanged", "live", "restored") == CHANGED
    assert classify("removed", "removed", "removed") == CHANGED  # the confirmed removal is a change
    assert classify("removed", "live") == GONE
    assert classify("removed", "removed") == UNCHANGED  # still gone after the removal
    assert classify("blocked", "blocked") == FAILED
    assert classify("failed", "live") == FAILED
    assert classify("not_modified", "live") == UNCHANGED
    assert classify("noise_only", "live") == UNCHANGED


def test_jitter_spreads_pages_stored_together_and_is_always_early() -> None:
    dues = {first_entry(POLICY, f"http://x/{i}", T0).next_check_at for i in range(50)}
    assert len(dues) == 50
    assert all(T0 + timedelta(days=0.8) <= d <= T0 + timedelta(days=0.95) for d in dues)


def test_budget_reserves_room_for_list_pages() -> None:
    budget = Budget.for_site(limit=5, max_list_pages=2)
    assert budget.take_list()
    assert [budget.take_new() for _ in range(4)] == [True, True, True, False]  # one slot kept for a list
    assert budget.take_list()
    assert not budget.take_list()
    assert budget.known_room() == 0
    assert budget.new_left_over == 1
    budget.took_known(due=7, taken=0)
    assert budget.stats()["left_over"] == 8


def test_claiming_due_pages_is_one_indexed_query_without_sorting(memdb: Database) -> None:
    """SQLite's plan (PostgreSQL plans by its statistics; the claim's order is checked on both below)."""
    plan = " ".join(str(r[3]) for r in memdb.execute("EXPLAIN QUERY PLAN " + frontier.DUE_SQL, ["s", "z", 10]))
    assert "idx_frontier_due" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.both_backends
def test_claiming_due_pages_takes_removal_confirmations_first_then_the_most_overdue(memdb: Database) -> None:
    memdb.execute("INSERT INTO pages (id, url, site, status) VALUES (1, 'a', 's', 'live'), (2, 'b', 's', 'live')")
    memdb.execute("INSERT INTO pages (id, url, site, status) VALUES (3, 'c', 's', 'live'), (4, 'd', 't', 'live')")
    frontier.save(memdb, 1, "s", first_entry(POLICY, "a", T0 - timedelta(days=5)))
    frontier.save(memdb, 2, "s", first_entry(POLICY, "b", T0 - timedelta(days=9)))
    gone = after_check(POLICY, first_entry(POLICY, "c", T0 - timedelta(days=2)), GONE, T0 - timedelta(hours=1), "c")
    frontier.save(memdb, 3, "s", gone)
    frontier.save(memdb, 4, "t", first_entry(POLICY, "d", T0 - timedelta(days=9)))
    now = "2026-09-01T00:00:00Z"
    assert frontier.due(memdb, "s", now, 10) == [3, 2, 1]  # removal confirmation, then most overdue
    assert frontier.due(memdb, "s", now, 2) == [3, 2]
    assert frontier.count_due(memdb, "s", now) == 3


# SQLite only: an upgrade through SQLite's migration 0012 (a PostgreSQL database starts with the frontier)
def test_upgrade_spreads_known_pages_over_their_revisit_window(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="0012_frontier")
    for i in range(1, 201):
        seen = (T0 - timedelta(days=i % 100)).strftime("%Y-%m-%dT%H:%M:%SZ")
        old.table("pages").insert(
            {"id": i, "url": f"http://x/{i}.html", "site": "demo", "status": "live", "first_seen": seen}
        )
    old.table("pages").insert({"id": 201, "url": "http://x/gone.html", "site": "demo", "status": "live",
                               "first_seen": "2026-08-01T00:00:00Z", "missing_runs": 1})  # fmt: skip
    old.table("pages").insert({"id": 202, "url": "http://x/moved.html", "site": "demo", "status": "moved"})
    old.close()
    set_clock(T0)
    try:
        db = open_db(path)
    finally:
        set_clock(None)
    rows = {r["page_id"]: r for r in db.query("SELECT * FROM frontier")}
    assert 202 not in rows
    assert len(rows) == 201
    assert rows[201]["priority"] == CONFIRM
    assert rows[201]["next_check_at"] == "2026-09-01T00:00:00Z"
    dues = [from_z(rows[i]["next_check_at"]) for i in range(1, 201)]
    assert all(T0 <= d <= T0 + timedelta(days=30) for d in dues)
    first_day = sum(d < T0 + timedelta(days=1) for d in dues)
    assert first_day < 100  # no thundering herd: fewer than half are due on the first day
    assert len(set(dues)) > 190
    young = [from_z(rows[i]["next_check_at"]) for i in range(1, 201) if i % 100 < 3]
    assert all(d <= T0 + timedelta(days=1) for d in young)  # pages a day or two old still come soon
    assert {r["priority"] for i, r in rows.items() if i != 201} == {REVISIT}


def test_durations_and_site_keys() -> None:
    assert parse_duration("6h") == 6 * 3600
    assert parse_duration("30d") == 30 * DAY
    assert parse_duration("2w") == 14 * DAY
    for bad in ("6", "h", "0d", "-1d", "1y"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)
    base = {"start_urls": ["http://x/"], "articles": ["a"]}
    site = parse_config({"sites": {"s": base}}, Path("t.toml")).sites["s"]
    assert (site.revisit_min, site.revisit_max, site.max_fetches_per_run) == (DAY, 30 * DAY, 500)
    site = parse_config(
        {"defaults": {"revisit_max": "10d"}, "sites": {"s": {**base, "revisit_min": "6h", "max_fetches_per_run": 50}}},
        Path("t.toml"),
    ).sites["s"]
    assert (site.revisit_min, site.revisit_max, site.max_fetches_per_run) == (6 * 3600, 10 * DAY, 50)
    for key, value, message in (
        ("revisit_min", "soon", "key 'revisit_min': not a duration"),
        ("revisit_min", "60d", "key 'revisit_max': must not be shorter than revisit_min"),
        ("max_fetches_per_run", 0, "key 'max_fetches_per_run': must be a whole number >= 1"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_config({"sites": {"s": {**base, key: value}}}, Path("t.toml"))


def test_qmc_now_needs_an_offset() -> None:
    options = Options.from_settings(_Settings({"QMC_NOW": "2026-09-01T06:00:00+08:00"}))
    assert options.now == datetime(2026, 8, 31, 22, tzinfo=UTC)
    with pytest.raises(OptionsError, match="QMC_NOW needs a UTC offset"):
        Options.from_settings(_Settings({"QMC_NOW": "2026-09-01T06:00:00"}))
    with pytest.raises(OptionsError, match="QMC_NOW must be an ISO 8601 time"):
        Options.from_settings(_Settings({"QMC_NOW": "yesterday"}))
    set_clock(datetime(2026, 9, 1, 6, tzinfo=UTC))
    try:
        assert utcnow().startswith("2026-09-01T06:00:0")
    finally:
        set_clock(None)
    assert utcnow() > "2026-11"


class _Settings(dict[str, object]):
    def get(self, name: str, default: object = None) -> object:
        return super().get(name, default)


def test_frontier_command(tmp_path: Path) -> None:
    db = open_db(tmp_path / "f.db")
    db.execute("INSERT INTO pages (id, url, site, status) VALUES (1, 'http://x/a', 's', 'live')")
    db.execute("INSERT INTO pages (id, url, site, status) VALUES (2, 'http://x/b', 't', 'live')")
    frontier.save(db, 1, "s", first_entry(POLICY, "a", T0))
    frontier.save(db, 2, "t", first_entry(POLICY, "b", T0 + timedelta(days=5)))
    db.conn.commit()
    db.close()
    runner = CliRunner()
    args = ["frontier", "--db", str(tmp_path / "f.db")]
    result = runner.invoke(cli, [*args, "--json", "--due", "--at", "2026-09-03"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["url"] for r in rows] == ["http://x/a"]
    assert rows[0]["due"]
    assert rows[0]["interval"] == "1d"
    assert rows[0]["why"].startswith("new page")
    result = runner.invoke(cli, [*args, "--site", "t", "--at", "2026-09-03"])
    assert "http://x/b" in result.output
    assert "http://x/a" not in result.output
    assert result.output.strip().endswith("1 page, 0 due at 2026-09-03 08:00:00 +08:00")  # Beijing time
    missing = runner.invoke(cli, ["frontier", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1
    assert "database not found" in missing.output
