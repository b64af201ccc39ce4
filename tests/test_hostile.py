"""Issue 12 §4: hostile content — a gzip-bomb attachment, lying charsets, random bytes, 100,000 nested divs."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmcrawler.extraction.encoding import decode_html
from tests.faultweb import FAULTS, FaultWeb, serve

ATTACH = (FAULTS / "day1" / "art" / "attach.htm").read_text(encoding="utf-8")
PARAGRAPHS = (
    "<p>为深入贯彻党的十九大精神，推动高质量发展，市场监管总局联合有关部门，共同开展全国质量月活动。</p>"
    "<p>今年质量月活动从质量整治、消费维权、质量服务、质量提升等方面，筹划安排了一系列活动。</p>"
)
TRADITIONAL = (
    "<p>為深入貫徹黨的十九大精神，推動高質量發展，市場監管總局聯合有關部門，共同開展全國質量月活動。</p>"
    "<p>今年質量月活動從質量整治、消費維權、質量服務、質量提升等方面，籌劃安排了一系列活動。</p>"
)
SITES = """[sites.hostile]
start_urls = [{urls}]
allowed_domains = ["127.0.0.1"]
articles = ['/art/\\w+\\.htm$']
"""
PAGES = ["bomb", "utf16", "big5", "random", "deep", "shallow"]


def page(charset: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
        f'<body><div class="content" id="content"><h1>{title}</h1>{body}</div></body></html>'
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultWeb]:
    tmp = tmp_path_factory.mktemp("hostile")
    root = tmp / "web"
    (root / "art").mkdir(parents=True)
    (root / "files").mkdir()
    bomb = ATTACH.replace(
        '<p>附件：<a href="/files/a.pdf">1.活动安排表.pdf</a></p>',
        '<p>附件：<a href="/files/bomb.pdf">1.炸弹.pdf</a></p><p>附件：<a href="http://0xA9FEA9FE/m.pdf">2.元数据.pdf</a></p>',
    )
    (root / "art" / "bomb.htm").write_text(bomb, encoding="utf-8")
    (root / "files" / "bomb.pdf").write_bytes(gzip.compress(b"%PDF-1.4\n" + b"\0" * (64 * 1024 * 1024)))
    for name in ("b.doc", "c.docx", "d.ofd", "e.xls", "f.wps", "g.doc", "h.pdf", "i.pdf"):
        (root / "files" / name).write_bytes((FAULTS / "day1" / "files" / name).read_bytes())
    (root / "art" / "utf16.htm").write_bytes(page("utf-8", "字符集声明错误的通知", PARAGRAPHS * 3).encode("utf-8"))
    (root / "art" / "big5.htm").write_bytes(page("gbk", "繁體頁面的通知", TRADITIONAL * 3).encode("big5"))
    (root / "art" / "random.htm").write_bytes(os.urandom(200_000))
    nested = "<div>" * 100_000 + PARAGRAPHS * 3 + "</div>" * 100_000
    (root / "art" / "deep.htm").write_text(page("utf-8", "层层嵌套的页面", nested), encoding="utf-8")
    shallow = "<div>" * 200 + PARAGRAPHS * 3 + "</div>" * 200
    (root / "art" / "shallow.htm").write_text(page("utf-8", "嵌套不深的页面", shallow), encoding="utf-8")
    routes = {
        "/files/bomb.pdf": {"headers": {"Content-Type": "application/pdf", "Content-Encoding": "gzip"}},
        "/art/utf16.htm": {"headers": {"Content-Type": "text/html; charset=utf-16"}},
        "/art/big5.htm": {"headers": {"Content-Type": "text/html; charset=utf-8"}},
        "/art/random.htm": {"headers": {"Content-Type": "text/html"}},
    }
    (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    with serve(tmp, [root], SITES.replace("{urls}", ", ".join(f'"{{base}}/art/{p}.htm"' for p in PAGES))) as site:
        site.crawl(QMC_MAX_ATTACHMENT_BYTES="1000000")
        site.crawl(QMC_MAX_ATTACHMENT_BYTES="1000000")
        yield site


def fetches(site: FaultWeb, name: str) -> list[dict[str, object]]:
    sql = "SELECT outcome, reason, encoding, declared_encoding, flags FROM fetch_log WHERE url = ? ORDER BY id"
    return site.rows(sql, [site.url(f"/art/{name}.htm")])


def stored(site: FaultWeb, name: str) -> list[dict[str, object]]:
    sql = "SELECT v.title, v.text FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?"
    return site.rows(sql, [site.url(f"/art/{name}.htm")])


def test_gzip_bomb_attachment_is_truncated_and_the_page_stored(crawled: FaultWeb) -> None:
    assert [f["outcome"] for f in fetches(crawled, "bomb")] == ["new", "unchanged"]
    files = {Path(r["url"]).name: r for r in crawled.rows("SELECT * FROM files")}
    assert files["bomb.pdf"]["truncated"] == 1
    assert files["bomb.pdf"]["sha256"] is None
    assert files["m.pdf"]["sha256"] is None  # 169.254.169.254 in hex: never requested
    assert len(stored(crawled, "bomb")) == 1


def test_a_header_charset_that_cannot_decode_the_bytes_loses(crawled: FaultWeb) -> None:
    first = fetches(crawled, "utf16")[0]
    assert (first["outcome"], first["encoding"], first["declared_encoding"]) == ("new", "utf-8", "utf-16")
    assert "charset_conflict" in json.loads(str(first["flags"]))
    assert stored(crawled, "utf16")[0]["title"] == "字符集声明错误的通知"


def test_big5_bytes_under_utf8_header_and_gbk_meta(crawled: FaultWeb) -> None:
    first = fetches(crawled, "big5")[0]
    assert (first["outcome"], first["encoding"]) == ("new", "big5hkscs")
    version = stored(crawled, "big5")[0]
    assert version["title"] == "繁體頁面的通知"  # decoded right, in the page's own script (issue 13)
    assert "市場監管總局聯合有關部門" in str(version["text"])


def test_random_bytes_are_a_failed_fetch_never_a_version(crawled: FaultWeb) -> None:
    assert [(f["outcome"], f["reason"]) for f in fetches(crawled, "random")] == [("failed", "undecodable")] * 2
    assert stored(crawled, "random") == []


def test_100000_nested_divs_say_too_deep(crawled: FaultWeb) -> None:
    assert [(f["outcome"], f["reason"]) for f in fetches(crawled, "deep")] == [("failed", "too_deep")] * 2
    assert [f["outcome"] for f in fetches(crawled, "shallow")] == ["new", "unchanged"]


@pytest.mark.parametrize("charset", ["gbk", "utf-8", "big5"])
def test_honest_declarations_still_win(charset: str) -> None:
    body = TRADITIONAL if charset == "big5" else PARAGRAPHS
    raw = page(charset, "通知", body * 3).encode(charset)
    decoded = decode_html(raw, f"text/html; charset={charset}")
    assert decoded.flags == ()
    assert "质量" in decoded.text or "質量" in decoded.text


def test_every_fixture_page_decodes_plausibly() -> None:
    """The plausibility checks never reject a real page (the fixtures: GBK, Big5 gateways, liars, BOMs)."""
    pages = [p for p in (Path(__file__).parent / "fixtures").rglob("*.htm*") if p.is_file()]
    assert len(pages) > 100
    for path in pages:
        decoded = decode_html(path.read_bytes(), "text/html")
        assert "undecodable" not in decoded.flags, path
