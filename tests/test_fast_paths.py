"""The hot path's shortcuts (issue 16) give exactly what the plain code they replaced gave.

Each test keeps the plain form (a per-character loop, a full regex scan, a parse of the page)
as the reference and compares on generated text, so a shortcut that drifts fails here, not
as a changed content hash or a lost footer on some crawled page.
"""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.selector import Selector

from qmcrawler.crawl.pages import continuation_urls, may_continue
from qmcrawler.extraction import bylines
from qmcrawler.extraction.body import _SNIPPET_END, snippet_end
from qmcrawler.extraction.encoding import mojibake_score, plausible
from qmcrawler.extraction.vocab import FOOTER_RE, footer_marker
from qmcrawler.textnorm.pinyin import pinyin_stats
from qmcrawler.textnorm.t2s import HAN_RE, _changes, han_count, t2s_ratio
from qmcrawler.textnorm.width import _WIDTH_TABLE, fold_width

#: characters the shortcuts treat specially, and their neighbours
TRICKY = (
    "质量月國發展版权所有主办单位网站标识码联系电话地址邮编建议使用浏览器未经授权禁止声明凡本网"
    "©(cC)OPYRIGHTopyrightıİſKkAll rights reservedICP备证公网安备123号"
    "，。：；！？（）［］【】…….>»多细細情文详詳更全阅读查看"
    "ＡＢＣ１２３！？；：，　～\u3000\u00a0\u200b\t\n \x1c\x85\u2028"
    "锛浼鈥銆鍙涓鐨ÃÂâ€\ufffd\x00\x07\x7f\x9f㐀䶵丂鿿豈﫿𠀀"
)
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=300)
SETTINGS = settings(max_examples=400, deadline=None)


@SETTINGS
@given(texts)
def test_fold_width_is_the_translate_table(text: str) -> None:
    assert fold_width(text) == text.translate(_WIDTH_TABLE)


@SETTINGS
@given(texts)
def test_han_counts_are_the_per_character_counts(text: str) -> None:
    hans = HAN_RE.findall(text)
    assert han_count(text) == len(hans)
    assert pinyin_stats(text).han == len(hans)
    assert t2s_ratio(text) == (sum(1 for c in hans if _changes(c)) / len(hans) if hans else 0.0)


@SETTINGS
@given(texts, st.booleans())
def test_footer_marker_is_the_footer_regex(text: str, upper: bool) -> None:
    text = text.upper() if upper else text
    assert footer_marker(text) == (FOOTER_RE.search(text) is not None)


@SETTINGS
@given(texts)
def test_snippet_end_is_the_snippet_regex(text: str) -> None:
    assert snippet_end(text) == (_SNIPPET_END.search(text) is not None)


def test_footer_and_snippet_shortcuts_on_known_lines() -> None:
    for line in ("Copyright © 2018 国家市场监督管理总局", "京ICP备18022388号", "COPYRİGHT 2018", "ALL RIGHTS RESERVED"):
        assert footer_marker(line), line
    for line in ("质量月活动通知全文如下。", "联系我们"):
        assert footer_marker(line) == bool(FOOTER_RE.search(line))
    for line in ("各地开展质量月活动……[详情]", "质量月活动启动...更多>>", "质量月… 阅读全文 ", "质量月活动。"):
        assert snippet_end(line) == bool(_SNIPPET_END.search(line)), line


@SETTINGS
@given(texts)
def test_mojibake_score_counts_the_wide_characters(text: str) -> None:
    marks = sum(text.count(m) for m in ("锛", "浼", "鈥", "銆", "鍙", "涓", "鐨", "Ã", "Â", "â€", "\ufffd"))
    wide = sum(1 for ch in text if ord(ch) > 0x2E7F) or 1
    assert mojibake_score(text) == (marks / wide if text else 0.0)


def plain_plausible(text: str, body: bytes) -> bool:
    """`plausible` as it was: every hanzi of the sample listed, the first 2,000 checked one by one."""
    from qmcrawler.extraction.encoding import _BAD_CHARS, _HANZI, frequent_hanzi

    sample = text[:20_000]
    if not sample:
        return True
    if b"<" in body[:1024] and "<" not in sample[:4096]:
        return False
    if len(_BAD_CHARS.findall(sample)) > 0.01 * len(sample):
        return False
    hanzi = _HANZI.findall(sample, 0, 20_000)[:2000]
    if len(hanzi) < 20:
        return True
    return sum(ch in frequent_hanzi() for ch in hanzi) >= 0.8 * len(hanzi)


def test_plausible_looks_at_the_same_hanzi() -> None:
    common, rare = "的一是在不了有和人这", "亍丌兀丐廿卅丕亘丞鬲"
    for text in (
        "<p>" + common * 300 + rare * 300,  # 6,000 characters before the rare ones start
        "<p>" + "a" * 5990 + common * 100 + rare * 250,  # the first 2,000 hanzi lie beyond the window
        "<p>" + "a" * 5999 + rare * 10 + common * 500,
        "<p>" + rare * 100 + common * 2000,
        "<p>" + common * 5,
    ):
        assert plausible(text, b"<p>") == plain_plausible(text, b"<p>")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '<a href="t20240903_123_2.html">2</a>',
                '<a href="t20240903_123-3.html">3</a>',
                '<a href="#top">顶部</a>',
                '<a href="t20240903_1234.html">x</a>',
                '<a href="/a/t20240903_123_4.html">4</a>',
                '<a href="">本页</a>',
                '<a href="t20240903_123&#95;5.html">5</a>',
                "<p>正文",
                '<a href="index_2.html">列表</a>',
            ]
        ),
        max_size=8,
    ),
    st.sampled_from(["http://www.samr.gov.cn/a/t20240903_123.html", "http://www.samr.gov.cn/a/t20240903_123_2.html"]),
)
def test_may_continue_never_hides_a_continuation_page(parts: list[str], final_url: str) -> None:
    url = "http://www.samr.gov.cn/a/t20240903_123.html"
    html = "<html><body>" + "".join(parts) + "</body></html>"
    links = [re.sub(r"\s", "", h) for h in Selector(text=html).css("a::attr(href)").getall()]
    from urllib.parse import urljoin

    pages = continuation_urls(url, [urljoin(final_url, h) for h in links])
    if pages:
        assert may_continue(url, html, final_url)


def test_byline_patterns_compile_when_first_used() -> None:
    probe = (
        "import qmcrawler.extraction.bylines as b;"
        "print(b._DATELINE._compiled is None, b._BYLINE._compiled is None);"
        "b.byline_author([], ['新华社北京9月1日电（记者 张三 李四）'], []);"
        "print(b._DATELINE._compiled is None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "False"]
    assert bylines.byline_author([], ["新华社北京9月1日电（记者 张三 李四）"], []) == "张三 李四"


@SETTINGS
@given(texts)
def test_str_split_is_the_whitespace_regex(text: str) -> None:
    """linearize and meta collapse and drop whitespace with str.split: exactly what `\\s+` matches."""
    collapsed = re.sub(r"\s+", " ", text)
    assert " ".join(text.split()) == collapsed.strip()
    assert sum(map(len, text.split())) == len(collapsed) - collapsed.count(" ")
    assert "".join(text.split()) == re.sub(r"\s+", "", text)
