"""DOMAIN.md F01, F11–F16 end to end: three crawls of the fault mini-web (day 1, day 2, day 2 again)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, db_target
from tests.faultweb import FAULTS, FaultWeb, serve


@pytest.fixture(scope="module", params=BACKENDS)
def runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[FaultWeb]:
    """Crawl day 1, then day 2 twice (removals need two runs); a 5 MB page is added at test time.

    Once per backend (a module-scoped fixture, so not the `both_backends` marker): every test
    reads the same three crawls on SQLite and on PostgreSQL.
    """
    tmp = tmp_path_factory.mktemp("faults")
    extra = tmp / "extra"
    (extra / "art").mkdir(parents=True)
    row = "<tr><td class='MsoNormal'>质量月活动统计表第{}行</td><td>数据</td></tr>"
    big = "<html><body><table class='MsoNormalTable'>" + "".join(row.format(i) for i in range(70_000))
    (extra / "art" / "big.htm").write_text(big + "</table></body></html>", encoding="utf-8")
    sites_toml = (FAULTS / "sites.toml").read_text(encoding="utf-8")
    with serve(tmp, [FAULTS / "day1"], sites_toml, db=db_target(request.param, tmp)) as site:
        site.extra = [extra]
        site.day(FAULTS / "day1")
        site.crawl()
        site.day(FAULTS / "day1", FAULTS / "day2")
        site.crawl()
        site.crawl()
        yield site


def outcomes(site: FaultWeb, path: str) -> list[tuple[str, str | None]]:
    return [
        (r["outcome"], r["reason"])
        for r in site.rows("SELECT outcome, reason FROM fetch_log WHERE url = ? ORDER BY id", [site.url(path)])
    ]


def change_kinds(site: FaultWeb, path: str) -> list[str]:
    sql = "SELECT c.kind FROM changes c JOIN pages p ON p.id = c.page_id WHERE p.url = ? ORDER BY c.id"
    return [r["kind"] for r in site.rows(sql, [site.url(path)])]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/art/gone404.htm", "http_404"),
        ("/art/gone410.htm", "http_410"),
        ("/art/soft404.htm", "redirect_to_non_article"),  # soft-404 text + meta refresh to the home page
        ("/art/home302.htm", "redirect_to_non_article"),
        ("/art/jsloc.htm", "client_redirect_to_non_article"),
    ],
)
def test_f11_f12_gone_pages_are_removed_after_the_second_run(runs: FaultWeb, path: str, reason: str) -> None:
    assert outcomes(runs, path) == [("new", None), ("removed", reason), ("removed", reason)]
    assert change_kinds(runs, path) == ["new", "removed"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/art/block521.htm", "http_521"),
        ("/art/block412.htm", "http_412"),
        ("/art/busy.htm", "rate_limited"),
    ],
)
def test_f11_blocked_pages_are_never_removed(runs: FaultWeb, path: str, reason: str) -> None:
    assert outcomes(runs, path) == [("new", None), ("blocked", reason), ("blocked", reason)]
    assert change_kinds(runs, path) == ["new"]
    assert runs.rows("SELECT status FROM pages WHERE url = ?", [runs.url(path)])[0]["status"] == "blocked"


def test_f12_permanent_redirect_moves_the_page_with_its_history(runs: FaultWeb) -> None:
    assert runs.rows("SELECT id FROM pages WHERE url = ?", [runs.url("/art/moved.htm")]) == []
    page = runs.rows("SELECT * FROM pages WHERE url = ?", [runs.url("/art/moved-new.htm")])[0]
    assert change_kinds(runs, "/art/moved-new.htm") == ["new", "moved"]
    assert len(runs.rows("SELECT id FROM versions WHERE page_id = ?", [page["id"]])) == 1
    moved = runs.rows("SELECT diff FROM changes WHERE kind = 'moved'")[0]["diff"]
    assert "/art/moved.htm" in moved
    assert "/art/moved-new.htm" in moved


def test_f12_redirect_loop_and_long_chain_fail(runs: FaultWeb) -> None:
    assert outcomes(runs, "/art/loop.htm") == [("failed", "redirect_loop")] * 3
    assert outcomes(runs, "/art/chain0.htm") == [("failed", "too_many_redirects")] * 3
    assert "/art/chain7.htm" not in runs.web.requests  # REDIRECT_MAX_TIMES = 5


def test_f12_identity_canonical_link_and_session_ids(runs: FaultWeb) -> None:
    urls = {r["url"] for r in runs.rows("SELECT url FROM pages")}
    assert runs.url("/art/plain.htm") in urls  # ;jsessionid=…?t=…&utm_source=… stripped
    assert runs.url("/art/withcanon.htm") in urls  # <link rel=canonical> of the print version
    assert not [u for u in urls if "jsessionid" in u or "print" in u or "?" in u]


def test_f01_gbk_trs_list(runs: FaultWeb) -> None:
    for name in ("index.htm", "index_1.htm", "index_2.htm"):  # via createPageHTML(3, 0, "index", "htm")
        assert f"/aqsiq/zlgls/{name}" in runs.web.requests
    title = runs.rows(
        "SELECT v.title FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url LIKE '%t20150824_446510.htm'"
    )[0]["title"]
    assert "朱镕基" in title
    assert "王堃" in title
    kinds = runs.rows(
        "SELECT c.kind, c.run_id FROM changes c JOIN pages p ON p.id = c.page_id "
        "WHERE p.site = 'aqsiq' AND c.run_id > 1"
    )
    assert kinds == [{"kind": "new", "run_id": 2}]


def test_f13_robots_disallow_is_obeyed(runs: FaultWeb) -> None:
    assert "/zt/secret.htm" not in runs.web.requests
    assert outcomes(runs, "/zt/secret.htm") == [("failed", "robots_disallowed")] * 3


def test_f14_malformed_html_and_charset_conflicts(runs: FaultWeb) -> None:
    text = runs.rows(
        "SELECT v.text FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url LIKE '%malformed.htm'"
    )[0]["text"]
    assert "第二段没有结束标签" in text
    assert "\x00" not in text
    liar = runs.rows("SELECT encoding, declared_encoding, flags FROM fetch_log WHERE url LIKE '%liar.htm'")[0]
    assert (liar["encoding"], liar["declared_encoding"]) == ("gb18030", "utf-8")
    assert "charset_conflict" in json.loads(liar["flags"])
    title = runs.rows("SELECT v.title FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url LIKE '%liar.htm'")[
        0
    ]["title"]
    assert "朱镕基" in title
    assert "王堃" in title


def test_f15_traps_are_bounded(runs: FaultWeb) -> None:
    assert outcomes(runs, "/art/big.htm") == [("failed", "too_large")] * 3
    assert "/list/index_3.htm" not in runs.web.requests  # max_list_pages = 3
    assert not [p for p in runs.web.requests if "9999" in p or "page=" in p]


def test_f16_attachments_sniffed_hashed_named_and_replaced(runs: FaultWeb) -> None:
    files = {Path(r["url"]).name: r for r in runs.rows("SELECT * FROM files")}
    types = {name: r["type"] for name, r in files.items()}
    assert types == {
        "a.pdf": "pdf",
        "b.doc": "doc",
        "c.docx": "docx",
        "d.ofd": "ofd",
        "e.xls": "xls",
        "f.wps": "wps",
        "g.doc": "pdf",
        "h.pdf": "pdf",
        "i.pdf": "pdf",
    }
    assert files["g.doc"]["name"] == "关于质量月的通知.pdf"  # GBK bytes in Content-Disposition
    assert files["i.pdf"]["name"] == "质量月方案.pdf"  # RFC 5987 filename*
    assert all(len(r["sha256"]) == 64 and r["size"] > 0 for r in files.values())
    assert not [p for p in runs.web.requests if p.startswith("/files/") and p.endswith("/")]
    changed = runs.rows(
        "SELECT c.fields, c.run_id FROM changes c JOIN pages p ON p.id = c.page_id "
        "WHERE p.url LIKE '%attach.htm' AND c.kind = 'changed'"
    )
    assert [(json.loads(c["fields"]), c["run_id"]) for c in changed] == [(["attachments"], 2)]
