"""Extraction tests: stored fixture pages with expected JSON and with/without snippets, plus seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qmcrawler.extraction import EXTRACTOR_VERSION, extract
from qmcrawler.textnorm import fold_width

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
    assert {k: v for k, v in v2.items() if k != "views"} == {k: v for k, v in spec["expected"].items() if k != "views"}


def test_ruby_reads_like_stripped_artifact() -> None:
    """Real `<ruby>` over traditional text: shown as written, same normalized text as the F06 mirror."""
    f06 = extract(_load("f06_pinyin_artifact")[0])
    f07 = extract(_load("f07_ruby")[0])
    assert (f07.norm_text, f07.norm_title) == (f06.norm_text, f06.norm_title)
    assert f07.title == "我國將于9月開展“質量月”活動"
    assert f07.text.startswith("為深入貫徹實施《質量發展綱要")
    assert "guó" not in f07.text
    assert "pinyin_artifact" not in f07.flags
    assert "likely_mirror" not in f07.flags
    assert "t2s_applied" in f07.flags
    assert f07.publish_time == f06.publish_time


def test_mirror_shows_simplified() -> None:
    """On a pinyin mirror the inserted traditional script is undone in the displayed text as well."""
    f06 = extract(_load("f06_pinyin_artifact")[0])
    assert (f06.text, f06.title) == (f06.norm_text, f06.norm_title)
    assert {"pinyin_artifact", "likely_mirror", "t2s_applied"} <= set(f06.flags)


def test_traditional_page_labels_and_script() -> None:
    """Traditional labels (`發表時間`, `來源`, `點擊`) are read; the body stays traditional, norm is simplified."""
    body = (
        "<h1>質量月活動正式開始</h1><div>發表時間：2018-09-03 10:20 來源：經濟日報 點擊：345</div>"
        + "<p>經濟部標準檢驗局舉辦質量月活動，推動產業品質提升，營造重視質量的社會氛圍。</p>" * 3
    )
    html = f"<html><head><title>質量月活動正式開始_新聞網</title></head><body>{body}</body></html>"
    art = extract(html)
    assert art.title == "質量月活動正式開始"
    assert art.norm_title == "质量月活动正式开始"
    assert art.text.startswith("經濟部標準檢驗局")
    assert art.norm_text.startswith("经济部标准检验局")
    assert art.publish_time == "2018-09-03T10:20:00+08:00"
    assert art.views == 345
    assert art.source == "经济日报"
    assert "發表時間" not in art.text
    assert "t2s_applied" in art.flags
    assert "likely_mirror" not in art.flags


def test_simplified_page_norm_is_text_width_folded() -> None:
    art = extract(_load("f03_samr_article")[0])
    assert (art.norm_text, art.norm_title) == (fold_width(art.text), fold_width(art.title or ""))
    assert "（一）开展保障质量安全的活动" in art.text
    assert "(一)开展保障质量安全的活动" in art.norm_text
    assert "t2s_applied" not in art.flags


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
    assert art.author == "邢郑"  # the dateline's reporter (DOMAIN.md §7), never the numeric meta author
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


def test_title_prefers_headline_over_section_heading() -> None:
    head = "<title>发改委：明年部分地区电煤供需失衡-国企红筹-经济通</title>"
    body = f"<h1>国企红筹</h1><h1>发改委：明年部分地区电煤供需失衡</h1>{PARA}"
    art = extract(f"<html><head>{head}</head><body>{body}</body></html>")
    assert art.title == "发改委：明年部分地区电煤供需失衡"
    assert art.norm_title == "发改委:明年部分地区电煤供需失衡"


def test_title_prefers_full_headline_over_short_heading() -> None:
    head = "<title>订票电话加价遭质疑 订票电话加价只为人民币服务,股城网</title>"
    body = f"<h1>订票电话加价</h1><h2>订票电话加价遭质疑 订票电话加价只为人民币服务</h2>{PARA}"
    art = extract(f"<html><head>{head}</head><body>{body}</body></html>")
    assert art.title == "订票电话加价遭质疑 订票电话加价只为人民币服务"


def test_title_heading_with_prefix_agrees_with_title_tag() -> None:
    head = "<title>途牛发布春节出游调查报告&nbsp;六成受调者选择自助游 消费_新闻中心_解放牛网</title>"
    body = f"<h1>【记者即时播报】途牛发布春节出游调查报告&nbsp;六成受调者选择自助游</h1>{PARA}"
    art = extract(f"<html><head>{head}</head><body>{body}</body></html>")
    assert art.title == "【记者即时播报】途牛发布春节出游调查报告 六成受调者选择自助游"
    assert "途牛" not in art.text


def test_date_us_format_label() -> None:
    art = extract(_page(f"<h1>测试页面</h1><div>来源： 发布日期： 9/17/2004 5:54:13 AM</div>{PARA}"))
    assert art.publish_time == "2004-09-17T05:54:13+08:00"


def test_date_post_header_above_title() -> None:
    art = extract(_page(f"<div>论坛 » 测试页面</div><div>2003-5-29 09:07 高山流水</div><div>测试页面</div>{PARA}"))
    assert art.publish_time == "2003-05-29T09:07:00+08:00"


def test_date_byline_in_first_body_lines() -> None:
    body = f"<h1>测试页面</h1><p>本报记者 王燕平</p><p>2003-7-24 钱江晚报</p>{PARA}"
    art = extract(_page(body), "http://blog.example.com/2756656.html")
    assert art.publish_time == "2003-07-24"


def test_date_first_forum_post_header() -> None:
    posts = "".join(
        f"<div>{PARA}</div><div>〓 留言板 发布时间 2005/05/{d} 22:11:42 by 网友{d} 〓</div>" for d in (17, 18, 19)
    )
    art = extract(_page(posts), "http://bbs.example.com/thread.php?postid=1")
    assert art.publish_time == "2005-05-17T22:11:42+08:00"


def test_counter_remnant_line_dropped() -> None:
    art = extract(_page(f"<h1>测试页面</h1><div>【收藏】[0]</div>{PARA}"))
    assert "[0]" not in art.text


def test_today_header_above_title_is_not_a_date() -> None:
    art = extract(_page(f"<div>今天是2018年9月1日 星期六</div><h1>测试页面</h1>{PARA}"))
    assert art.publish_time is None


def test_print_and_close_tokens_never_reach_the_source() -> None:
    html = (
        "<html><head><title>关于开展质量月活动的通知</title></head><body><h1>关于开展质量月活动的通知</h1>"
        "<table><tr><td>发布时间：2015-08-24&nbsp;&nbsp;来源：质量管理司&nbsp;&nbsp;"
        '【<a href="javascript:window.print()">打印本页</a>】&nbsp;'
        '【<a href="javascript:window.close()">关闭窗口</a>】</td></tr></table>'
        "<div class='TRS_Editor'><p>为深入贯彻质量强国战略，质检总局决定开展全国质量月活动，各地要认真组织。</p>"
        "<p>活动期间，各地要结合实际，广泛开展质量宣传和咨询服务活动，营造良好氛围。</p></div></body></html>"
    )
    article = extract(html, "http://x/a.htm")
    assert article.source == "质量管理司"
    assert "打印" not in article.text


BODY = (
    "<div class='article'><p>为深入贯彻质量强国战略，市场监管总局决定开展全国质量月活动，各地要认真组织实施。</p>"
    "<p>活动期间，各地要结合实际，广泛开展质量宣传和咨询服务活动，营造全社会重视质量的良好氛围。</p></div>"
)


def test_split_date_widget_gives_the_time_but_header_dates_never_count() -> None:
    widget = (
        "<html><body><h1>2023年全国质量月活动启动</h1><div class='header-time'><span><em>2023</em></span>"
        "<span><em>09</em>/<em>01</em></span><span>18:20:00</span></div>" + BODY + "</body></html>"
    )
    article = extract(widget, "https://www.news.cn/politics/20230901/0123456789abcdef0123456789abcdef/c.html")
    assert article.publish_time == "2023-09-01T18:20:00+08:00"
    assert "202309" not in article.text
    header = (
        "<html><body><div class='top-date'>今天是2026年11月22日 星期日</div><h1>2023年全国质量月活动启动</h1>"
        + BODY
        + "</body></html>"
    )
    assert extract(header, "https://example.gov.cn/a.html").publish_time is None


def test_script_page_with_side_text_is_js_required_not_a_fallback() -> None:
    """A JavaScript-built article beside a list of unlinked names: no fallback body from the list."""
    units = "".join(f"<li>某市第{i}市场监督管理所</li><li>联系地址某某路{i}号</li>" for i in range(1, 9))
    body = f"<h1>测试页面</h1><div id='content'></div><noscript>请开启JavaScript后浏览本页</noscript><ul>{units}</ul>"
    assert "body_fallback" in extract(_page(body.replace("<noscript>请开启JavaScript后浏览本页</noscript>", ""))).flags
    art = extract(_page(body))
    assert "js_required" in art.flags
    assert "body_fallback" not in art.flags
    assert art.text == ""


def test_text_rich_page_without_a_body_is_no_body_not_js_required() -> None:
    """Visible text but nothing that is an article (every line is site footer): `no_body`, never `js_required`."""
    lines = "".join(
        f"<p>版权所有：某市市场监督管理局 第{i}号 京ICP备00000{i}号 技术支持：某某科技有限公司</p>" for i in range(6)
    )
    art = extract(_page(lines))
    assert art.text == ""
    assert "no_body" in art.flags
    assert "js_required" not in art.flags
