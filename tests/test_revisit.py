"""Revisit scheduling end to end: the real spider on a local server, with the clock set by QMC_NOW."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest

from bench import sitegen
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.monitor.revisit import CONFIRM, DAY, REVISIT
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from tests.conftest import Site, db_target
from tests.dbtools import rows

DAY0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)

#: each test runs up to nine crawls, each its own process, on a shared 2-core machine
pytestmark = [pytest.mark.timeout(600), pytest.mark.both_backends]


def at(days: float) -> str:
    """QMC_NOW `days` after DAY0, written with a +08:00 offset."""
    return (DAY0 + timedelta(days=days)).astimezone(timezone(timedelta(hours=8))).isoformat()


def z(days: float) -> str:
    return (DAY0 + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(site: Site, path: str) -> dict[str, object]:
    return rows(
        site.db, "SELECT f.* FROM frontier f JOIN pages p ON p.id = f.page_id WHERE p.url = ?", [site.url(path)]
    )[0]


def fetched(site: Site, path: str, since: int) -> int:
    return site.web.requests[since:].count(path)


def configure(site: Site, **keys: object) -> None:
    """Add keys to the fixture's [sites.demo] table (the last table of its sites.toml)."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    site.config.write_text(site.config.read_text(encoding="utf-8") + extra, encoding="utf-8")


def test_an_edit_on_day_2_is_found_on_day_2_and_every_time_follows_qmc_now(site: Site) -> None:
    site.crawl(QMC_NOW=at(0))
    site.edit("news/a1.html", "联合33个部门", "联合34个部门")
    site.crawl(QMC_NOW=at(1))
    changed = rows(site.db, "SELECT * FROM changes WHERE kind = 'changed'")
    assert len(changed) == 1
    assert z(1) <= str(changed[0]["detected_at"]) < z(1.01)
    for table, column in (
        ("runs", "started_at"),
        ("runs", "finished_at"),
        ("fetches", "fetched_at"),
        ("pages", "first_seen"),
        ("pages", "last_seen"),
        ("versions", "fetched_at"),
        ("changes", "detected_at"),
        ("raw", "first_seen"),
        ("frontier", "last_check_at"),
    ):
        for r in rows(site.db, f"SELECT {column} AS t FROM {table}"):  # noqa: S608
            t = str(r["t"])
            assert z(0) <= t < z(0.01) or z(1) <= t < z(1.01), (table, column, t)
    a1 = entry(site, "/news/a1.html")
    assert a1["changes"] == 2
    assert a1["reason"] == "changed"
    assert z(1) < str(a1["next_check_at"]) <= z(2)


def test_an_unchanged_page_interval_grows_run_after_run_to_revisit_max_and_never_beyond(site: Site) -> None:
    configure(site, revisit_min="1d", revisit_max="2d")
    intervals, checks, fetches = [], [], 0
    for day in range(9):
        before = len(site.web.requests)
        site.crawl(QMC_NOW=at(day))
        a1 = entry(site, "/news/a1.html")
        if fetched(site, "/news/a1.html", before):
            fetches += 1
            checks.append(datetime.fromisoformat(str(a1["last_check_at"])))
        intervals.append(float(a1["interval_s"]))  # type: ignore[arg-type]
        assert datetime.fromisoformat(str(a1["next_check_at"])) - checks[-1] <= timedelta(days=2)
    assert intervals == sorted(intervals)
    assert intervals[0] == DAY
    assert intervals[-1] == 2 * DAY
    assert max(intervals) == 2 * DAY
    assert len(set(intervals)) >= 3  # it grew in steps, not in one jump
    assert fetches < 9  # checked less often than every run once it grew
    assert all(b - a <= timedelta(days=2, minutes=5) for a, b in pairwise(checks))


def test_a_404_is_rechecked_at_the_next_run_and_a_failure_does_not_count_as_unchanged(site: Site) -> None:
    configure(site, revisit_min="10d", revisit_max="30d")
    site.crawl(QMC_NOW=at(0))
    site.route("/news/a2.html", status=404)
    site.route("/news/a3.html", status=503)
    site.crawl(QMC_NOW=at(10), RETRY_TIMES="0")
    a2, a3 = entry(site, "/news/a2.html"), entry(site, "/news/a3.html")
    assert a2["priority"] == CONFIRM
    assert a2["next_check_at"] <= z(10.01)
    assert a3["checks"] == 1
    assert a3["reason"] == "failed"
    assert float(a3["interval_s"]) == 10 * DAY
    assert a3["next_check_at"] <= z(10.01)
    before = len(site.web.requests)
    site.crawl(QMC_NOW=at(10.1), RETRY_TIMES="0")  # two hours later: only the 404 and the failure are due
    articles = [p for p in site.web.requests[before:] if "/news/a" in p]
    assert sorted(articles) == ["/news/a2.html", "/news/a3.html"]
    removed = rows(site.db, "SELECT p.url FROM changes c JOIN pages p ON p.id = c.page_id WHERE kind = 'removed'")
    assert [r["url"] for r in removed] == [site.url("/news/a2.html")]
    assert entry(site, "/news/a2.html")["priority"] == REVISIT


@dataclass
class Generated:
    web: MiniWeb
    config: Path
    db: Path | str


@pytest.fixture
def generated(tmp_path: Path, backend: str) -> Iterator[Generated]:
    """A generated regulator column: 60 articles behind 2 list pages."""
    lists = sitegen.build(tmp_path / "web", 60)
    with MiniWeb([tmp_path / "web"]) as web:
        config = tmp_path / "sites.toml"
        text = sitegen.CONFIG.format(base=web.base, lists=lists) + "max_fetches_per_run = 10\n"
        config.write_text(text, encoding="utf-8")
        yield Generated(web, config, db_target(backend, tmp_path))


def test_a_budget_of_n_fetches_is_never_exceeded_and_list_pages_come_first(generated: Generated) -> None:
    lists = {sitegen.list_path(0), sitegen.list_path(1)}
    for day in range(8):
        before = len(generated.web.requests)
        result = run_crawl(generated.config, generated.db, settings={**LOCAL_SETTINGS, "QMC_NOW": at(day)}, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        requests = generated.web.requests[before:]
        assert len(requests) <= 10, requests
        assert lists <= set(requests)  # both list pages, every run, however many articles wait
        stats = json.loads(str(rows(generated.db, "SELECT stats FROM runs ORDER BY id DESC LIMIT 1")[0]["stats"]))
        assert stats["qmcrawler/revisit/bench/lists"] == 2
        assert stats["qmcrawler/revisit/bench/lists"] + stats["qmcrawler/revisit/bench/new"] + stats[
            "qmcrawler/revisit/bench/known"
        ] == len(requests)
        if day == 0:  # 2 lists + 8 new; 52 newly linked articles wait
            assert len(requests) == 10
            assert stats["qmcrawler/revisit/bench/new_left_over"] == 52
        if day == 1:  # new links first: the 8 known pages due today wait
            assert stats["qmcrawler/revisit/bench/new"] == 8
            assert stats["qmcrawler/revisit/bench/known_left_over"] == 8
            assert stats["qmcrawler/revisit/left_over"] == 44 + 8
    stored = rows(generated.db, "SELECT count(*) AS n FROM pages")[0]["n"]
    assert stored == 60  # day 7: every article found, within 8 fetches a day
    assert stats["qmcrawler/revisit/bench/known"] > 0  # once the backlog is gone, due pages get the room
