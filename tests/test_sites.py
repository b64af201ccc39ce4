"""The shipped sites.toml, offline: every site's list strategy, pagination and articles against its fixture copy.

One subprocess crawl of all sites (tests/fixtures/sites, one local server per real host, the real
regexes and list strategies), then per-site assertions on the database: each article stored once,
its metadata extracted, no chrome in the text, relevance and campaign year set.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmcrawler.config import load_config
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db
from tests.sitesweb import DATAPROXY, EXPECTED, JPAAS_API, SitesWeb, serve_sites

SITE_IDS = sorted(EXPECTED["sites"])
#: extractor gaps seen on these fixtures (qmcrawler.extraction, not site config): see test_known_extractor_gaps
GAPS = {
    "/politics/2017-09/01/c_1121585270.htm": {"source"},
    "/politics/20230901/4a1e6c2f0b9d4e8f9a7b6c5d4e3f2a1b/c.html": {"time", "first"},
    "/ms/content/2019-09/02/content_7625511.htm": {"source"},
    "/zwxx/scjgdt/202309/t20230904_3249912.html": {"source"},
    "/zwxx/scjgdt/202309/t20230912_3256040.html": {"source"},
    "/zwgk/tzgg/content/post_2578901.html": {"last"},
    "/zwgk/tzgg/content/post_3178563.html": {"last"},
    "/zhengce/zhengceku/2019-08/30/content_5425863.htm": {"first"},
    "/zhengce/zhengceku/202309/content_6903415.htm": {"first"},
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SitesWeb, dict[str, dict[str, Any]]]]:
    """Serve the fixture hosts, crawl every site of the shipped config once, read back the current versions."""
    tmp = tmp_path_factory.mktemp("sites")
    with serve_sites() as web:
        config = web.write_config(tmp / "sites.toml")
        result = run_crawl(config, tmp / "qm.db", settings=LOCAL_SETTINGS, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        db = open_db(tmp / "qm.db", create=False)
        rows = db.query("SELECT p.url, p.site, v.* FROM pages p JOIN versions v ON v.id = p.current_version")
        yield web, {r["url"]: dict(r) for r in rows}
        db.close()


def spaced(text: str) -> str:
    """The page's text as versions keep it: its own characters, the ideographic space as a space."""
    return text.replace("\u3000", " ")


def fold(text: str) -> str:
    """Width fold as the extractor does for metadata (full-width ASCII and U+3000): source is read folded."""
    return "".join(
        " " if c == "\u3000" else unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" else c for c in text
    )


def test_the_shipped_config_has_the_sources_of_the_issue() -> None:
    config = load_config(Path(__file__).parent.parent / "sites.toml")
    assert set(SITE_IDS) <= set(config.sites)
    strategies = {s.id: s.list_strategy for s in config.sites.values()}
    assert strategies["samr"] == strategies["samr-zlfzj"] == "jpaas"
    assert strategies["zjamr"] == strategies["jsamr"] == "hanweb"
    assert strategies["bjamr"] == "trs"
    provincial = [s for s in config.sites if s.endswith("amr") and s != "samr"]
    assert len(provincial) >= 5


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_every_article_found_once_with_its_metadata(crawled: tuple[SitesWeb, dict[str, Any]], site_id: str) -> None:
    web, versions = crawled
    expected = EXPECTED["sites"][site_id]["articles"]
    stored = {url for url, v in versions.items() if v["site"] == site_id}
    assert stored == {web.url(site_id, a["path"]) for a in expected}
    requested = [p for p in web.requests(EXPECTED["sites"][site_id]["host"]) if any(a["path"] == p for a in expected)]
    assert sorted(requested) == sorted({a["path"] for a in expected})  # each article downloaded exactly once
    for a in expected:
        v = versions[web.url(site_id, a["path"])]
        gaps = GAPS.get(a["path"], set())
        assert v["title"] == a["title"]  # the page's own characters
        assert (v["publish_time"] or "").startswith(a["date"][:10])
        if "time" not in gaps and len(v["publish_time"]) > 10:
            assert v["publish_time"][11:16] == a["date"][11:16]
        if "source" not in gaps:
            assert v["source"] == fold(a["source"])
        if "first" not in gaps:
            assert v["text"].startswith(spaced(a["first"]))
        if "last" not in gaps:
            assert v["text"].endswith(spaced(a["last"]))
        for chrome in EXPECTED["chrome"]:
            assert chrome not in v["text"], (a["path"], chrome)
        assert bool(v["is_relevant"]) is a["relevant"], a["path"]
        assert v["year"] == a["year"]
        assert v["copy_of"] is None  # every fixture article has its own text
        assert not v["likely_mirror"]


def test_list_strategies_and_pagination_were_used(crawled: tuple[SitesWeb, dict[str, Any]]) -> None:
    web, _ = crawled
    api = [p for p in web.requests("www.samr.gov.cn") if p.startswith(JPAAS_API)]
    assert all("paramJson" in p for p in api)
    assert any("%22pageNo%22%3A2" in p for p in api)  # page 2 of the JPaaS list
    for host in ("zjamr.zj.gov.cn", "scjgj.jiangsu.gov.cn"):
        assert [p for p in web.requests(host) if p.startswith(DATAPROXY) and "page=2" in p]
    assert "/zwxx/scjgdt/index_1.html" in web.requests("scjgj.beijing.gov.cn")  # TRS createPageHTML
    assert "/GB/1062/index2.html" in web.requests("society.people.com.cn")
    assert "/ms/node_20334_2.htm" in web.requests("www.cqn.com.cn")
    assert "/zwgk/tzgg/index_2.html" in web.requests("amr.gd.gov.cn")


def test_people_gbk_page_decoded(crawled: tuple[SitesWeb, dict[str, Any]]) -> None:
    web, versions = crawled
    v = versions[web.url("people", "/n1/2018/0831/c1004-30264070.html")]
    assert "人民网北京8月31日电（邢郑）" in v["text"]
    assert v["editor"] == "刘洁妍、杨虞波罗"


def test_metadata_and_chrome_edge_cases(crawled: tuple[SitesWeb, dict[str, Any]]) -> None:
    """【打印】 out of 来源, news.cn's split date widget, <em id=source>, empty 相关附件:, gov.cn's index table."""
    web, versions = crawled
    cqn = versions[web.url("cqn", "/ms/content/2019-09/02/content_7625511.htm")]
    xinhua_new = versions[web.url("xinhua", "/politics/20230901/4a1e6c2f0b9d4e8f9a7b6c5d4e3f2a1b/c.html")]
    xinhua_old = versions[web.url("xinhua", "/politics/2017-09/01/c_1121585270.htm")]
    gd = versions[web.url("gdamr", "/zwgk/tzgg/content/post_2578901.html")]
    assert cqn["source"] == "中国质量新闻网"
    assert xinhua_new["text"].startswith("新华社北京9月1日电")
    assert xinhua_new["publish_time"] == "2023-09-01T18:20:00+08:00"
    assert xinhua_old["source"] == "新华社"
    assert "相关附件" not in gd["text"]
    govcn = versions[web.url("govcn", "/zhengce/zhengceku/2019-08/30/content_5425863.htm")]
    assert "索引号" not in govcn["text"]
