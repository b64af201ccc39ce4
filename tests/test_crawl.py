"""End to end: crawl the mini-web, edit it, crawl again, count rows (subprocess crawls)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Site

pytestmark = pytest.mark.both_backends


def rows(site: Site, sql: str, params: list[object] | None = None) -> list[dict[str, object]]:
    db = site.open_db()
    try:
        return [dict(r) for r in db.query(sql, params or [])]
    finally:
        db.close()


def count(site: Site, table: str, where: str = "1 = 1") -> int:
    return int(rows(site, f"SELECT count(*) AS n FROM {table} WHERE {where}")[0]["n"])  # noqa: S608


def test_first_crawl_stores_every_article_once(site: Site) -> None:
    site.crawl()
    urls = {r["url"] for r in rows(site, "SELECT url FROM pages")}
    assert urls == {site.url(f"/news/a{i}.html") for i in range(1, 6)}  # offsite a6 never stored
    assert count(site, "versions") == 5
    assert count(site, "changes", "kind = 'new'") == 5
    assert count(site, "fetches", "outcome = 'new'") == 5
    run = rows(site, "SELECT * FROM runs")[0]
    assert run["status"] == "finished"
    assert run["finished_at"]
    assert json.loads(str(run["stats"]))["qmcrawler/store/new"] == 5
    # max_list_pages = 3: index, index_1, index_2 but never index_3
    assert "/news/index_3.html" not in site.web.requests
    assert "/news/index_2.html" in site.web.requests


def test_gbk_page_is_decoded(site: Site) -> None:
    site.crawl()
    v = rows(
        site, "SELECT v.title, v.text FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url LIKE '%a5.html'"
    )[0]
    assert "朱镕基" in str(v["title"])
    assert "王堃" in str(v["text"])


def test_edit_makes_one_changed_change_with_the_sentence(site: Site) -> None:
    site.crawl()
    site.edit("news/a1.html", "联合33个部门", "联合34个部门")
    site.crawl()
    changed = rows(site, "SELECT * FROM changes WHERE kind = 'changed'")
    assert len(changed) == 1
    assert json.loads(str(changed[0]["fields"])) == ["text"]
    diff = str(changed[0]["diff"])
    assert "- 为深入贯彻党的十九大精神，推动高质量发展，市场监管总局联合33个部门" in diff
    assert "+ 为深入贯彻党的十九大精神，推动高质量发展，市场监管总局联合34个部门" in diff
    assert "[-33-]{+34+}" in diff
    assert count(site, "versions") == 6
    assert count(site, "fetches", "outcome = 'changed'") == 1


def test_counter_and_widget_edits_are_noise(site: Site) -> None:
    site.crawl()
    site.edit("news/a1.html", "浏览次数：100", "浏览次数：231")
    site.edit("news/a2.html", "2020年食品安全抽检结果公告", "2021年元旦假期消费提示")
    site.edit("news/a3.html", "示例上一篇标题", "另一篇上一篇")
    site.edit("news/a4.html", "版权所有", "版权所有 2012-2021")
    site.crawl()
    assert count(site, "versions") == 5
    assert count(site, "changes") == 5  # only the five `new`
    assert count(site, "fetches", "outcome = 'noise_only'") == 4
    assert count(site, "fetches", "outcome = 'unchanged'") == 1
    views = rows(site, "SELECT views FROM fetch_log WHERE url LIKE '%a1.html' ORDER BY id")
    assert [v["views"] for v in views] == [100, 231]


def test_404_twice_is_one_removed_then_restored(site: Site) -> None:
    site.crawl()
    site.route("/news/a2.html", status=404)
    site.crawl()
    assert count(site, "changes", "kind = 'removed'") == 0  # one run is not enough
    assert count(site, "fetches", "outcome = 'removed'") == 1
    site.crawl()
    removed = rows(site, "SELECT c.*, p.url FROM changes c JOIN pages p ON p.id = c.page_id WHERE kind = 'removed'")
    assert len(removed) == 1
    assert str(removed[0]["url"]).endswith("/news/a2.html")
    assert rows(site, "SELECT status FROM pages WHERE url LIKE '%a2.html'")[0]["status"] == "removed"
    site.crawl()
    assert count(site, "changes", "kind = 'removed'") == 1  # not repeated
    site.route("/news/a2.html", status=200)
    site.crawl()
    assert count(site, "changes", "kind = 'restored'") == 1
    assert rows(site, "SELECT status FROM pages WHERE url LIKE '%a2.html'")[0]["status"] == "live"


def test_removed_page_unlinked_from_list_is_still_rechecked(site: Site) -> None:
    site.crawl()
    site.edit("news/index.html", '<li><a href="a2.html">新闻发布会</a><span>2018-09-03</span></li>', "")
    site.route("/news/a2.html", status=410)
    site.crawl()
    site.crawl()
    assert count(site, "changes", "kind = 'removed'") == 1


def test_server_error_and_timeout_are_logged_never_removed(site: Site) -> None:
    site.crawl()
    site.route("/news/a3.html", status=500, body="<html>Internal Server Error</html>")
    site.route("/news/a4.html", delay=3)
    for _ in range(2):
        site.crawl(DOWNLOAD_TIMEOUT="1", RETRY_TIMES="0")
    failed = rows(site, "SELECT url, http_status, reason FROM fetch_log WHERE outcome = 'failed' ORDER BY id")
    assert {(str(f["url"]).rsplit("/", 1)[1], f["http_status"], f["reason"]) for f in failed} == {
        ("a3.html", 500, "http_500"),
        ("a4.html", None, "timeout"),
    }
    assert len(failed) == 4
    assert count(site, "changes") == 5  # the five `new` only: no removal, no change
    assert count(site, "versions") == 5
    assert rows(site, "SELECT status FROM pages WHERE url LIKE '%a3.html'")[0]["status"] == "live"


def test_blocked_page_is_never_removed(site: Site) -> None:
    site.crawl()
    site.route("/news/a1.html", status=521, body="<html><script>document.cookie='__jsluid_s=1'</script></html>")
    site.crawl()
    site.crawl()
    assert count(site, "fetches", "outcome = 'blocked'") == 2
    assert count(site, "changes", "kind = 'removed'") == 0
    assert rows(site, "SELECT status FROM pages WHERE url LIKE '%a1.html'")[0]["status"] == "blocked"


def test_empty_body_is_js_required_not_a_change(site: Site) -> None:
    site.crawl()
    page = (site.root / "news/a4.html").read_text(encoding="utf-8")
    start, end = page.index('<div class="content"'), page.index('<div class="share">')
    (site.root / "news/a4.html").write_text(
        page[:start] + '<div class="content" id="content"><noscript>请开启JavaScript</noscript></div>' + page[end:],
        encoding="utf-8",
    )
    site.crawl()
    assert count(site, "fetches", "reason = 'js_required'") == 1
    assert count(site, "versions") == 5
    assert count(site, "changes") == 5


F10_V1 = {
    "<body>": '<body>\n<div class="topbar">今天是2018年9月1日 星期六 晴</div>'
    '<link rel="stylesheet" href="/css/main.css?v=20180901">'
    '<form><input type="hidden" name="csrf_token" value="a1b2c3d4"></form>'
    '<ins data-ycad-slot="1">广告：某品牌电动车限时优惠</ins>',
}


def test_f10_noise_variants_make_no_change(site: Site) -> None:
    for old, new in F10_V1.items():
        site.edit("news/a1.html", old, new)
    site.crawl()
    before = rows(site, "SELECT content_hash FROM versions WHERE page_id = 1")
    site.edit("news/a1.html", "今天是2018年9月1日 星期六 晴", "今天是2018年9月2日 星期日 多云")
    site.edit("news/a1.html", "main.css?v=20180901", "main.css?v=20180902")
    site.edit("news/a1.html", 'value="a1b2c3d4"', 'value="e5f6a7b8"')
    site.edit("news/a1.html", "广告：某品牌电动车限时优惠", "广告：另一品牌空调以旧换新")
    site.edit("news/a1.html", "2020年食品安全抽检结果公告", "2021年元旦假期消费提示")  # related list
    site.edit("news/a1.html", "示例上一篇标题", "另一篇上一篇")  # prev/next
    site.edit("news/a1.html", "版权所有", "版权所有 © 2012-2021")  # footer year
    site.crawl()
    assert rows(site, "SELECT content_hash FROM versions WHERE page_id = 1") == before
    assert count(site, "changes") == 5
    outcome = rows(site, "SELECT outcome FROM fetch_log WHERE url LIKE '%a1.html' ORDER BY id")
    assert [o["outcome"] for o in outcome] == ["new", "noise_only"]


def test_readers_work_while_a_crawl_writes(site: Site, backend: str) -> None:
    import subprocess
    import sys
    import threading
    import time

    from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, crawl_command

    release = threading.Event()
    page = (site.root / "news/a4.html").read_bytes()

    def held(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        release.wait(timeout=60)  # the crawl cannot finish until the readers are done
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    site.web.add_handler("/news/a4.html", held)
    crawl = subprocess.Popen(
        crawl_command(site.config, site.db, settings=LOCAL_SETTINGS),
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # bounded: until the crawl has stored the other pages
            if (backend != "sqlite" or Path(site.db).exists()) and count(site, "versions") >= 4:
                break
            time.sleep(0.1)
        assert rows(site, "SELECT status FROM runs")[0]["status"] == "running"
        cli = subprocess.run(
            [sys.executable, "-m", "qmcrawler", "changes", "--db", str(site.db), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert len(cli.stdout.splitlines()) == 4
        if backend == "sqlite":  # sqlite-utils (and Datasette) read SQLite files only
            tool = subprocess.run(
                [sys.executable, "-m", "sqlite_utils", str(site.db), "select count(*) as n from pages"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert tool.returncode == 0, tool.stderr
            assert '"n": 4' in tool.stdout
        assert count(site, "pages") == 4
        assert rows(site, "SELECT status FROM runs")[0]["status"] == "running"  # still writing meanwhile
    finally:
        release.set()
        assert crawl.wait(timeout=120) == 0
    assert count(site, "versions") == 5
