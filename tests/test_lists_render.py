"""JS-built lists and pages (DOMAIN.md F02, F08, Hanweb JCMS): list APIs without a browser, Chromium for the rest."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db, queries
from tests.conftest import daily

FIXTURE = Path(__file__).parent / "fixtures" / "jsweb"
JPAAS_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DATAPROXY = "/module/web/jpage/dataproxy.jsp"


@dataclass
class JsWeb:
    web: MiniWeb
    tmp: Path
    config_text: str
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    crawls: int = 0

    def config(self, **replace: str) -> Path:
        text = self.config_text
        for old, new in replace.items():
            text = text.replace(old.replace("_", " "), new)
        path = self.tmp / f"sites-{abs(hash(text))}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def crawl(
        self, sites: str, config: Path | None = None, db: str = "qm.db", **settings: str
    ) -> subprocess.CompletedProcess[str]:
        now, self.crawls = daily(self.start, self.crawls), self.crawls + 1  # one day apart
        merged = {**LOCAL_SETTINGS, "QMC_NOW": now, **settings}
        result = run_crawl(config or self.config(), self.tmp / db, sites=sites, settings=merged, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def fetched(self, path_prefix: str) -> list[str]:
        return [p for p in self.web.requests if p.startswith(path_prefix)]


def jpaas_api(items: list[list[str]]):  # type: ignore[no-untyped-def]
    def answer(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if "paramJson" not in query:  # like the real API: bare pageNo/page are ignored → page 1
            page, size = 1, 3
        else:
            params = json.loads(query["paramJson"])
            page, size = int(params["pageNo"]), 3  # the fixture server pages by 3 whatever is asked
        rows = items[(page - 1) * size : page * size]
        html = (
            "<ul>"
            + "".join(f'<li class="content-3-left-text"><a href="{u}">{t}</a><span>{d}</span></li>' for u, t, d in rows)
            + "</ul>"
        )
        return 200, {"Content-Type": "application/json"}, json.dumps({"data": {"html": html}}).encode()

    return answer


def dataproxy(items: list[list[str]]):  # type: ignore[no-untyped-def]
    def answer(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        page = int(query.get("page", "1"))
        rows = items[(page - 1) * 2 : page * 2]
        records = "".join(f"<record><![CDATA[<li><a href='{u}'>{t}</a></li>]]></record>" for u, t in rows)
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, f"<datastore>{records}</datastore>".encode()

    return answer


@pytest.fixture
def jsweb(tmp_path: Path) -> Iterator[JsWeb]:
    root = tmp_path / "web"
    shutil.copytree(FIXTURE, root)
    with MiniWeb([root]) as web:
        web.add_handler(JPAAS_API, jpaas_api(json.loads((root / "jpaas/items.json").read_text(encoding="utf-8"))))
        web.add_handler(DATAPROXY, dataproxy(json.loads((root / "hanweb/items.json").read_text(encoding="utf-8"))))
        text = (root / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base)
        yield JsWeb(web=web, tmp=tmp_path, config_text=text)


def pages(tmp: Path, db: str = "qm.db") -> dict[str, dict[str, object]]:
    conn = open_db(tmp / db, create=False)
    return {p["url"]: p for p in conn.query("SELECT * FROM pages")}


def test_jpaas_list_api_gives_every_article_once(jsweb: JsWeb) -> None:
    jsweb.crawl("jpaas")
    stored = pages(jsweb.tmp)
    assert len(stored) == 6
    articles = jsweb.fetched("/jpaas/xw/zj/art/")
    assert len(articles) == 6
    assert len(set(articles)) == 6  # each exactly once
    api_calls = jsweb.fetched(JPAAS_API)
    assert len(api_calls) == 4  # max_list_pages
    assert all("paramJson" in call for call in api_calls)


def test_jpaas_without_strategy_is_js_required_never_removed(jsweb: JsWeb) -> None:
    jsweb.crawl("jpaas")
    static = jsweb.config(**{'list = "jpaas"': 'list = "html"'})
    for _ in range(2):
        jsweb.crawl("jpaas", config=static)
    db = open_db(jsweb.tmp / "qm.db", create=False)
    assert queries.changes(db, kinds=["removed"]) == []
    list_url = jsweb.web.url("/jpaas/xw/zj/index.html")
    failed = list(db.query("SELECT reason FROM fetch_log WHERE url = ? AND outcome = 'failed'", [list_url]))
    assert [f["reason"] for f in failed] == ["js_required", "js_required"]
    assert {p["status"] for p in pages(jsweb.tmp).values()} == {"live"}  # known pages re-checked, all there


def test_hanweb_datastore_and_dataproxy_give_every_article_once(jsweb: JsWeb) -> None:
    jsweb.crawl("hanweb")
    stored = pages(jsweb.tmp)
    assert len(stored) == 5
    articles = jsweb.fetched("/hanweb/art/")
    assert sorted(articles) == sorted(set(articles))
    assert len(articles) == 5
    proxy_pages = sorted(jsweb.fetched(DATAPROXY))
    assert len(proxy_pages) == 2  # pages 2 and 3 of 5 records at 2 per page
    assert "page=2" in proxy_pages[0]
    assert "page=3" in proxy_pages[1]


def test_script_inserted_body_needs_the_browser(jsweb: JsWeb) -> None:
    rendered = jsweb.config(**{'render = "static"': 'render = "playwright"'})
    jsweb.crawl("js", config=rendered)
    db = open_db(jsweb.tmp / "qm.db", create=False)
    versions = list(db.query("SELECT title, text FROM versions"))
    assert len(versions) == 1
    assert "增强质量意识 推进高质量发展" in versions[0]["text"]
    assert "加载中" not in versions[0]["text"]
    # the same page without a browser: js_required, the good version stays, nothing removed
    jsweb.crawl("js")
    jsweb.crawl("js")
    assert db.table("versions").count == 1
    assert [c["kind"] for c in queries.changes(db)] == ["new"]
    reasons = [r["reason"] for r in db.query("SELECT reason FROM fetch_log WHERE outcome = 'failed' ORDER BY id")]
    assert reasons == ["js_required", "js_required"]


def test_static_crawl_of_script_page_stores_nothing(jsweb: JsWeb) -> None:
    jsweb.crawl("js")
    db = open_db(jsweb.tmp / "qm.db", create=False)
    assert db.table("versions").count == 0
    fetch = next(iter(db.query("SELECT outcome, reason FROM fetch_log WHERE url LIKE '%js1.html'")))
    assert (fetch["outcome"], fetch["reason"]) == ("failed", "js_required")


def test_missing_browser_fails_that_site_only(jsweb: JsWeb) -> None:
    config = jsweb.config(**{'render = "static"': 'render = "playwright"'})
    result = jsweb.crawl("js,jpaas", config=config, QMC_CHROMIUM="/nonexistent/chromium")
    errors = [line for line in result.stderr.splitlines() if "no Chromium found" in line]
    assert len(errors) == 1
    assert "not crawling js" in errors[0]
    stored = pages(jsweb.tmp)
    assert len(stored) == 6  # the jpaas site still ran
    db = open_db(jsweb.tmp / "qm.db", create=False)
    reasons = [r["reason"] for r in db.query("SELECT reason FROM fetch_log WHERE url LIKE '%/js/%'")]
    assert reasons == ["browser_missing"]
    assert not jsweb.fetched("/js/")  # nothing of that site was downloaded


def test_browser_that_fails_to_start_fails_that_site_only(jsweb: JsWeb) -> None:
    config = jsweb.config(**{'render = "static"': 'render = "playwright"'})
    result = jsweb.crawl("js,jpaas", config=config, QMC_CHROMIUM="/bin/false")
    errors = [line for line in result.stderr.splitlines() if "the browser failed" in line]
    assert len(errors) == 1
    assert errors[0].split("ERROR: ", 1)[1].startswith("js: the browser failed to render pages")
    assert len(pages(jsweb.tmp)) == 6  # the jpaas site still ran
    db = open_db(jsweb.tmp / "qm.db", create=False)
    reasons = [r["reason"] for r in db.query("SELECT reason FROM fetch_log WHERE url LIKE '%/js/%'")]
    assert reasons == ["browser_error"]


def test_static_sites_never_start_playwright(jsweb: JsWeb) -> None:
    jsweb.crawl("jpaas,hanweb,js")
    db = open_db(jsweb.tmp / "qm.db", create=False)
    stats = json.loads(queries.runs(db, limit=1)[0]["stats"])
    assert not [key for key in stats if key.startswith("playwright")]
    rendered = jsweb.config(**{'render = "static"': 'render = "playwright"'})
    jsweb.crawl("js", config=rendered, db="rendered.db")
    db = open_db(jsweb.tmp / "rendered.db", create=False)
    stats = json.loads(queries.runs(db, limit=1)[0]["stats"])
    assert [key for key in stats if key.startswith("playwright")]  # the control: a rendered crawl has them
