"""Extraction tests: stored fixture pages with expected JSON and with/without snippets, plus seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qmcrawler.extraction import EXTRACTOR_VERSION, extract

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
PAGES = sorted(p.stem for p in FIXTURES.glob("*.html"))


def _load(name: str) -> tuple[str, dict[str, Any]]:
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    spec = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return html, spec


@pytest.mark.parametrize("name", PAGES)
def test_fixture_matches_expected_json(name: str) -> None:
    html, spec = _load(name)
    got = extract(html, spec["url"]).to_dict()
    assert got == spec["expected"]


@pytest.mark.parametrize("name", PAGES)
def test_fixture_with_without(name: str) -> None:
    html, spec = _load(name)
    text = extract(html, spec["url"]).text
    for snippet in spec["with"]:
        assert snippet in text
    for snippet in spec["without"]:
        assert snippet not in text


def test_seed_000_pinyin_artifact() -> None:
    art = extract(*_load("f06_pinyin_artifact")[:1], "http://www.example.com/news/show-640.aspx")
    assert art.title == "我国将于9月开展“质量月”活动"
    for keep in ("(2011-2020年)", "(北京)", "(一)"):
        assert keep in art.text
    assert {"pinyin_artifact", "t2s_applied", "author_placeholder"} <= set(art.flags)
    assert art.publish_time == "2015-08-24T12:55:35+08:00"
    assert art.views == 21327
    assert art.author is None
    assert not art.errors


def test_seed_000_gbk_variant_same_result() -> None:
    html, spec = _load("f06_pinyin_artifact")
    decoded = html.encode("gb18030").decode("gb18030")
    assert extract(decoded, spec["url"]).to_dict() == spec["expected"]


def test_seed_000_counter_change_only_touches_views() -> None:
    html, spec = _load("f06_pinyin_artifact")
    v2 = extract(html.replace("21327", "21420"), spec["url"]).to_dict()
    assert v2["views"] == 21420
    assert {k: v for k, v in v2.items() if k != "views"} == {
        k: v for k, v in spec["expected"].items() if k != "views"
    }


def test_ruby_reads_like_stripped_artifact() -> None:
    f06 = extract(_load("f06_pinyin_artifact")[0])
    f07 = extract(_load("f07_ruby")[0])
    assert f07.text == f06.text
    assert f07.title == f06.title
    assert "pinyin_artifact" not in f07.flags


def test_seed_002_content_farm() -> None:
    art = extract(_load("f05_content_farm")[0], "http://www.example.com/cjkb/2018/0831/123.html")
    assert art.text.endswith("良好氛围。")
    assert "猜你喜欢" not in art.text
    assert "版权所有" not in art.text
    assert art.source is None
    assert art.publish_time == "2018-08-31T16:40:36+08:00"


def test_samr_metadata() -> None:
    art = extract(_load("f03_samr_article")[0], "https://www.samr.gov.cn/xw/zj/art/2018/art_1.html")
    assert art.publish_time == "2018-08-31T16:40:00+08:00"
    assert art.doc_date == "2018-08-30"
    assert [(a.name, a.ext) for a in art.attachments] == [("1.2018年全国“质量月”活动安排表.xls", "xls")]
    assert art.attachments[0].url.startswith("https://www.samr.gov.cn/")


def test_people_editor_and_numeric_author() -> None:
    art = extract(_load("f04_people_article")[0])
    assert art.editor == "刘洁妍、杨虞波罗"
    assert art.author is None
    assert art.publish_time == "2018-08-31T16:40:00+08:00"


def _page(body: str, head: str = "") -> str:
    return f"<html><head><title>测试页面</title>{head}</head><body>{body}</body></html>"


PARA = "<p>市场监管总局联合有关部门共同部署开展全国质量月活动，推动质量提升，营造良好氛围。</p>" * 3


@pytest.mark.parametrize(
    "body",
    [
        "<div id='content'>加载中...</div><script>load()</script>",
        "<div id='content'></div><noscript>请开启JavaScript后浏览本页</noscript>",
        "",
    ],
)
def test_js_required(body: str) -> None:
    assert "js_required" in extract(_page(body)).flags


def test_empty_source_is_not_the_next_label() -> None:
    art = extract(_page(f"<h1>测试页面</h1><div>来源: 发布时间:2018-08-31 16:40:36</div>{PARA}"))
    assert art.source is None
    assert art.publish_time == "2018-08-31T16:40:36+08:00"


@pytest.mark.parametrize("name", ["admin", "管理员", "佚名", "本站", "网络", "未知"])
def test_placeholder_authors(name: str) -> None:
    art = extract(_page(f"<h1>测试页面</h1><div>作者:{name} 时间:2018-08-31</div>{PARA}"))
    assert art.author is None
    assert "author_placeholder" in art.flags


def test_views_editor_extracted_and_dropped() -> None:
    body = f"<h1>测试页面</h1><div>浏览次数: 532</div>{PARA}<p>责任编辑：张三</p>"
    art = extract(_page(body))
    assert (art.views, art.editor) == (532, "张三")
    assert "532" not in art.text
    assert "张三" not in art.text


def test_chinese_numeral_doc_date_is_not_publish_time() -> None:
    body = f"<h1>测试页面</h1>{PARA}<p>国家市场监督管理总局</p><p>二〇一八年八月三十日</p>"
    art = extract(_page(body, "<meta name='PubDate' content='2018-08-31 09:00'>"))
    assert art.doc_date == "2018-08-30"
    assert art.publish_time == "2018-08-31T09:00:00+08:00"


def test_meta_and_visible_date_conflict() -> None:
    body = f"<h1>测试页面</h1><div>发布时间：2018-09-05</div>{PARA}"
    art = extract(_page(body, "<meta name='PubDate' content='2018-08-31'>"))
    assert art.publish_time == "2018-08-31"
    assert "date_conflict" in art.flags


def test_attachment_extensions_and_absolute_urls() -> None:
    links = "".join(
        f"<p>附件{i}：<a href='files/a{i}.{ext}'>附件{i}.{ext}</a></p>"
        for i, ext in enumerate(["pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "et"])
    )
    art = extract(_page(f"<div class='TRS_Editor'>{PARA}{links}</div>"), "https://a.gov.cn/x/y.html")
    assert [a.ext for a in art.attachments] == [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "ofd",
        "zip",
        "rar",
        "et",
    ]
    assert art.attachments[0].url == "https://a.gov.cn/x/files/a0.pdf"


def test_spam_injection_flagged() -> None:
    spam = "<p>澳门赌场,百家乐,时时彩,老虎机,真人娱乐</p>"
    art = extract(_page(f"<h1>测试页面</h1>{spam}{PARA}"))
    assert "spam_injection" in art.flags
    assert "百家乐" not in art.text


def test_version_is_a_string() -> None:
    assert isinstance(EXTRACTOR_VERSION, str)
    assert EXTRACTOR_VERSION
