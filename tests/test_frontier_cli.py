"""`qmcrawler frontier` after a real crawl of the fixture web, on both backends: the same pages, due the same day."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.cli.timeparse import to_utc_z
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
    soonest = f"the soonest of {len(articles)} known pages is due at {listed[0]['next_check_at']}"
    start = to_utc_z(site.start)
    assert frontier(site, "--due", "--at", start) == [f"0 pages due at {start}; {soonest}"]
    assert frontier(site, "--site", "demo", "--due", "--at", start)[0].endswith(soonest)
    assert frontier(site, "--site", "demo", "--limit", "1", "--json")[:1] == [json.dumps(listed[0], ensure_ascii=False)]
    assert len(frontier(site, "--site", "demo", "--json")) == len(articles)  # an unknown site: exit 2 (below)
    assert " every 1d  1 check, 1 change, last change " in frontier(site)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nope"], "--site 'nope': no such site in the database (sites: demo)"),
        (["--limit", "-1"], "Invalid value for '--limit'"),
    ],
)
def test_frontier_bad_input_is_one_line_exit_2(site: Site, args: list[str], message: str) -> None:
    site.crawl()
    result = CliRunner().invoke(cli, ["frontier", "--db", str(site.db), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
