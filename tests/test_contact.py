"""Issue 12 §5: the default User-Agent says where to read what the crawler is; no contact on a real site is warned."""

from __future__ import annotations

import json
from pathlib import Path

from qmcrawler.run.runner import run_crawl
from tests.faultweb import FAULT_SETTINGS, FAULTS, serve

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
WARNING = "QMC_CONTACT is not set"
LOCAL = """[sites.local]
start_urls = ["{base}/art/plain.htm"]
articles = ['/art/\\w+\\.htm$']
"""
REMOTE = """[sites.samr]
start_urls = ["https://www.samr.gov.cn/xw/zj/index.html"]
articles = ['/art/\\d+/']
"""
#: no download handler for http(s): the remote crawl makes no request at all (tests stay offline)
OFFLINE = {"DOWNLOAD_HANDLERS": json.dumps({"http": None, "https": None}), "ROBOTSTXT_OBEY": "False"}


def test_default_user_agent_points_at_the_webmaster_section(tmp_path: Path) -> None:
    with serve(tmp_path, [FAULTS / "day1"], LOCAL) as site:
        result = site.crawl()
    agents = {r["user_agent"] for r in site.web.log}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("qmcrawler/0.1 (")
    assert '"For webmasters"' in agent
    assert "\n## For webmasters" in README
    assert WARNING not in result.stderr  # a crawl of 127.0.0.1 reaches no webmaster


def test_a_remote_crawl_without_contact_warns_once(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(REMOTE, encoding="utf-8")
    settings = {**FAULT_SETTINGS, **OFFLINE}
    result = run_crawl(config, tmp_path / "qm.db", settings=settings, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count(WARNING) == 1, result.stderr[-2000:]
    assert "www.samr.gov.cn" in result.stderr
    quiet = run_crawl(config, tmp_path / "qm.db", settings={**settings, "QMC_CONTACT": "mailto:ops@example.org"})
    assert WARNING not in quiet.stderr
