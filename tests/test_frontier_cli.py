"""`qmcrawler frontier` after a real crawl of the fixture web, on both backends: the same pages, due the same day."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.cli.timeparse import to_utc_z
from qmcrawler.outputs.clock import local
from tests.conftest import Site
from tests.dbtools import rows

pytestmark = pytest.mark.both_backends


def frontier(site: Site, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["frontier", "--db", str(site.db), *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_frontier_lists_what_the_crawl_stored(site: Site) -> None:
    site.crawl()
    articles = sorted(r["url"] for r in rows(site.db, "SELECT url FROM pages WHERE site = 'demo' ORDER BY id"))
    assert articles
    listed = [json.loads(line) for line in frontier(site, "--json")]
    assert sorted(r["url"] for r in listed) == articles
    assert {r["why"] for r in listed} == {"new page: checked often at first"}
    assert {(r["checks"], r["changes"], r["interval"], r["due"]) for r in listed} == {
        (1, 1, "1d", False)
    }  # the new page is its first change
    next_day = to_utc_z(site.start + timedelta(days=1, hours=1))
    due = [json.loads(line) for line in frontier(site, "--json", "--due", "--at", next_day)]
    assert sorted(r["url"] for r in due) == articles
    soonest = f"the soonest of {len(articles)} known pages is due at {local(listed[0]['next_check_at'])}"
    start = to_utc_z(site.start)
    assert frontier(site, "--due", "--at", start) == [f"0 pages due at {local(start)}; {soonest}"]  # Beijing time
    assert frontier(site, "--site", "demo", "--due", "--at", start)[0].endswith(soonest)
    in_utc = frontier(site, "--due", "--at", start, "--tz", "UTC")[0]
    assert in_utc.endswith(f"is due at {local(listed[0]['next_check_at'], UTC)}")
    assert in_utc.startswith(f"0 pages due at {local(start, UTC)};")
    assert local(start) != local(start, UTC)
    assert frontier(site, "--site", "demo", "--limit", "1", "--json")[:1] == [json.dumps(listed[0], ensure_ascii=False)]
    assert len(frontier(site, "--site", "demo", "--json")) == len(articles)  # an unknown site: exit 2 (below)
    first = frontier(site)[0]
    assert first.startswith(f"{local(listed[0]['next_check_at'])} every 1d  1 check, 1 change, last change ")
    assert f"last change {local(listed[0]['last_change_at'])}  {listed[0]['url']}" in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nope"], "--site 'nope': no such site in the database (sites: demo)"),
        (["--limit", "-1"], "Invalid value for '--limit'"),
        (["--tz", "Beijing"], "Invalid value for '--tz': unknown time zone 'Beijing'"),
    ],
)
def test_frontier_bad_input_is_one_line_exit_2(site: Site, args: list[str], message: str) -> None:
    site.crawl()
    result = CliRunner().invoke(cli, ["frontier", "--db", str(site.db), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
