"""`qmcrawler sites --check`, offline: the live check run against the fixture copies of the real sites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmcrawler.cli.livecheck import PLAYWRIGHT, check_site
from qmcrawler.cli.main import cli
from qmcrawler.config import load_config
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.settings import USER_AGENT
from tests.sitesweb import EXPECTED, SitesWeb, serve_sites
from tests.test_sites import fold


@pytest.fixture(scope="module")
def web() -> Iterator[SitesWeb]:
    with serve_sites() as served:
        yield served


def test_every_shipped_site_parses(web: SitesWeb, tmp_path: Path) -> None:
    config = load_config(web.write_config(tmp_path / "sites.toml"))
    for site_id, spec in EXPECTED["sites"].items():
        result = check_site(config.sites[site_id])
        first = spec["articles"][0]
        assert result.verdict == "ok", (site_id, result)
        assert result.reachable == "200"
        assert result.items >= 1
        assert result.title == fold(first["title"])
        assert (result.date or "").startswith(first["date"][:10])
        assert result.article_url == web.url(site_id, first["path"])


def test_crawler_user_agent_and_robots_are_used(web: SitesWeb, tmp_path: Path) -> None:
    config = load_config(web.write_config(tmp_path / "sites.toml"))
    check_site(config.sites["gdamr"])
    log = web.webs["amr.gd.gov.cn"].log
    assert log[0]["path"] == "/robots.txt"
    assert {entry["user_agent"] for entry in log} == {USER_AGENT}


@pytest.mark.parametrize(
    ("site_id", "strategy", "advice"),
    [
        ("samr", 'list = "jpaas"', 'set list = "jpaas"'),
        ("zjamr", 'list = "hanweb"', 'set list = "hanweb"'),
    ],
)
def test_wrong_list_strategy_names_the_right_one(
    web: SitesWeb, tmp_path: Path, site_id: str, strategy: str, advice: str
) -> None:
    config = load_config(web.write_config(tmp_path / "sites.toml", **{strategy: 'list = "html"'}))
    result = check_site(config.sites[site_id])
    assert result.items == 0
    assert advice in result.verdict


def _one_site(tmp_path: Path, base: str, path: str = "/news/index.html") -> Path:
    config = tmp_path / "one.toml"
    config.write_text(
        f"""[sites.one]
start_urls = ["{base}{path}"]
allowed_domains = ["127.0.0.1"]
articles = ['/news/a\\d+\\.html$']
""",
        encoding="utf-8",
    )
    return config


def test_script_built_list_needs_playwright(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "index.html").write_text(
        '<html><body><div id="list">加载中…</div><script src="/news/list.js"></script></body></html>', encoding="utf-8"
    )
    with MiniWeb([tmp_path]) as local:
        result = check_site(load_config(_one_site(tmp_path, local.base)).sites["one"])
    assert PLAYWRIGHT in result.verdict


def test_robots_disallow_is_obeyed(tmp_path: Path) -> None:
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /news/\n", encoding="utf-8")
    with MiniWeb([tmp_path]) as local:
        result = check_site(load_config(_one_site(tmp_path, local.base)).sites["one"])
        assert local.requests == ["/robots.txt"]
    assert result.verdict == "robots.txt disallows the start pages"


def test_anti_bot_answer_is_blocked_not_gone(tmp_path: Path) -> None:
    (tmp_path / "_routes.json").write_text(
        '{"/news/index.html": {"status": 521, "body": "<script>document.cookie=\'__jsluid_s=1\'</script>"}}',
        encoding="utf-8",
    )
    with MiniWeb([tmp_path]) as local:
        result = check_site(load_config(_one_site(tmp_path, local.base)).sites["one"])
    assert result.reachable == "521"
    assert result.verdict.startswith("blocked")


def test_cli_check_prints_a_row_per_site(web: SitesWeb, tmp_path: Path) -> None:
    config = web.write_config(tmp_path / "sites.toml")
    runner = CliRunner()
    result = runner.invoke(cli, ["sites", "--check", "--config", str(config), "samr", "people"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "samr" in result.output
    assert "people" in result.output
    assert "jpaas" in result.output
    broken = web.write_config(tmp_path / "broken.toml", **{'list = "jpaas"': 'list = "html"'})
    failed = runner.invoke(cli, ["sites", "--check", "--config", str(broken), "samr"], env={"COLUMNS": "250"})
    assert failed.exit_code == 1
    assert "jpaas" in failed.output
