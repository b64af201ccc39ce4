"""The hot path's shortcuts (issue 16) give exactly what the plain code they replaced gave.

Each test keeps the plain form (a per-character loop, a full regex scan, a parse of the page)
as the reference and compares on generated text, so a shortcut that drifts fails here, not
as a changed content hash or a lost footer on some crawled page.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import lxml.etree
import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.selector import Selector

from qmcrawler.crawl.pages import continuation_urls, may_continue
from qmcrawler.extraction import bylines, encoding
from qmcrawler.extraction.body import _SNIPPET_END, Block, container_scores, linearize, snippet_end
from qmcrawler.extraction.dom import parse_html
from qmcrawler.extraction.encoding import decode_html, mojibake_score, plausible
from qmcrawler.extraction.vocab import BLOCK_TAGS, DROP_LINE_RE, DROP_LINE_RES, FOOTER_RE, footer_marker
from qmcrawler.textnorm import t2s, whitespace
from qmcrawler.textnorm.pinyin import pinyin_stats
from qmcrawler.textnorm.t2s import HAN_RE, _changes, han_count, t2s_ratio
from qmcrawler.textnorm.whitespace import normalize_line
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
T = TypeVar("T")
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
    assert both_ways(mojibake_score, text) == [marks / wide if text else 0.0] * 2


def both_ways(check: Callable[..., T], *args: Any) -> list[T]:
    """`check(*args)` with the regular expressions, then with numpy (qmcrawler.extraction.encoding)."""
    answers = []
    for numpy in (False, True):
        with mock.patch.object(encoding, "_numpy_scan", lambda numpy=numpy: numpy):
            answers.append(check(*args))
    return answers


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
        "<p>" + common * 30 + "\x00" * 2 + "\ud800𠀀\U0002ffff\uffff\ufffd",
        "<p>" + common * 30 + "\x00" * 20,
        "<p>" + "亍丌亘" * 133 + "亍" + common * 160 + rare * 100,  # exactly 80 % common among the first 2,000
    ):
        assert both_ways(plausible, text, b"<p>") == [plain_plausible(text, b"<p>")] * 2


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["的一是在不了", "亍丌兀丐廿", "<p>", "a b", "𠀀", "\ufffd", "\x00", "锛", "\ud800", "\uffff", "\x9f"]
        ),
        max_size=800,
    )
)
def test_plausible_is_the_plain_form_on_generated_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert both_ways(plausible, text, b"<p>") == [plain_plausible(text, b"<p>")] * 2


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


def plain_normalize_line(text: str) -> str:
    return whitespace._SPACES.sub(" ", whitespace._INVISIBLE.sub("", text)).strip()


@SETTINGS
@given(texts)
def test_normalize_line_is_the_two_substitutions(text: str) -> None:
    assert normalize_line(text) == plain_normalize_line(text)


def test_normalize_line_on_every_short_mix_of_spaces() -> None:
    alphabet = "质a \u3000\t\u00a0\u200b\ufeff\n\u2028\x85"
    for n in range(5):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            assert normalize_line(text) == plain_normalize_line(text), repr(text)


DROP_SAMPLES = (
    "更多>>",
    "…更多栏目",
    "加载更多",
    "微信扫一扫",
    "【纠错】",
    "_showDynClicks(",
    "分享到：",
    "当前位置：首页",
    "首页 > 新闻",
    "上一篇：",
    "【打印本页】【关闭窗口】",
    "[12]",
    "2023/09/01 18:20:00",
    "202309/0118:20:00",
    ".nav a {color: red}",
    "document.write(",
    "登录",
    "字号：大 中 小",
    "质量月活动启动",
    "各地开展质量月活动，更多",
)
drop_lines = st.lists(st.sampled_from([*DROP_SAMPLES, *TRICKY]), max_size=6).map("".join)


@SETTINGS
@given(drop_lines)
def test_drop_line_pattern_is_any_of_the_drop_patterns(line: str) -> None:
    assert bool(DROP_LINE_RE.match(line)) == any(rx.search(line) for rx in DROP_LINE_RES)


def test_drop_line_pattern_on_known_lines() -> None:
    assert all(rx.pattern.startswith("^") for rx in DROP_LINE_RES)  # what matching at the start relies on
    assert all(any(rx.search(line) for line in DROP_SAMPLES) for rx in DROP_LINE_RES)  # a sample for each
    for line in DROP_SAMPLES:
        assert bool(DROP_LINE_RE.match(line)) == any(rx.search(line) for rx in DROP_LINE_RES), line
    assert DROP_LINE_RE.match("分享到")
    assert not DROP_LINE_RE.match("质量月活动启动")


def test_changing_class_is_every_character_t2s_changes() -> None:
    hans = [chr(c) for low, high in t2s.HAN_RANGES for c in range(low, high + 1)]
    assert len(hans) == len(HAN_RE.findall("".join(hans)))  # the ranges are HAN_RE's
    pattern = t2s._changing()
    assert [h for h in hans if pattern.match(h)] == [h for h in hans if _changes(h)]


def plain_linearize(root: lxml.html.HtmlElement) -> list[Block]:
    """`linearize` as it was: one call per element for its text and a flush at every block tag."""
    blocks: list[Block] = []
    stack: list[lxml.html.HtmlElement] = []
    buf: list[str] = []
    link_buf = [0]
    anchor_depth = 0

    def add(text: str | None) -> None:
        if text:
            buf.append(text)
            if anchor_depth:
                link_buf[0] += sum(map(len, text.split()))

    def flush() -> None:
        if buf:
            text = " ".join("".join(buf).split())
            if text and stack:
                chars = len(text) - text.count(" ")
                blocks.append(Block(text, chars, min(link_buf[0], chars), stack[-1].tag, tuple(stack), len(blocks)))
            buf.clear()
        link_buf[0] = 0

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS:
                flush()
                if tag != "br" and tag != "hr":
                    stack.append(el)
            if tag == "a":
                anchor_depth += 1
            add(el.text)
        else:
            if tag in BLOCK_TAGS:
                flush()
                if tag != "br" and tag != "hr" and stack and stack[-1] is el:
                    stack.pop()
            if tag == "a":
                anchor_depth = max(0, anchor_depth - 1)
            add(el.tail)
    flush()
    return blocks


def plain_container_scores(blocks: list[Block]) -> tuple[dict[int, float], dict[int, lxml.html.HtmlElement]]:
    scores: dict[int, float] = {}
    elements: dict[int, lxml.html.HtmlElement] = {}
    for block in blocks:
        for anc in block.ancestors:
            scores[id(anc)] = scores.get(id(anc), 0.0) + block.weight
            elements[id(anc)] = anc
    return scores, elements


PAGES = sorted(Path(__file__).parent.rglob("*.htm*")) + sorted(
    (Path(__file__).parent.parent / "qmcrawler" / "demo").rglob("*.htm*")
)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_linearize_and_container_scores_are_the_plain_loops(path: Path) -> None:
    root = parse_html(decode_html(path.read_bytes(), "text/html").text)
    if root is None:
        return
    blocks = linearize(root)
    assert blocks == plain_linearize(root)
    scores, elements = container_scores(blocks)
    plain_scores, plain_elements = plain_container_scores(blocks)
    assert list(scores.items()) == list(plain_scores.items())  # same order, same float sums
    assert list(elements.items()) == list(plain_elements.items())


@SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                *("<p>", "</p>", "<div>", "</div>", "<a href='x'>", "</a>", "<br>", "<!-- c -->", "<td>", "</td>"),
                *("<h1>", "质量月活动", "，", "。", " ", "\n", "更多>>", "版权所有", "…", "<span>", "</span>", "<hr>"),
            ]
        ),
        max_size=40,
    )
)
def test_linearize_is_the_plain_loop_on_generated_markup(parts: list[str]) -> None:
    root = parse_html("<html><body>" + "".join(parts) + "</body></html>")
    if root is not None:
        blocks = linearize(root)
        assert blocks == plain_linearize(root)
        assert list(container_scores(blocks)[0].items()) == list(plain_container_scores(blocks)[0].items())


def test_decoding_never_imports_numpy_and_uses_it_once_loaded() -> None:
    """Decoding alone does not pay numpy's import (0.1-0.2 s); once the index has loaded it, the checks use it."""
    probe = (
        "import sys\n"
        "from unittest import mock\n"
        "from qmcrawler.extraction import encoding\n"
        "body = ('<p>' + '质量月活动' * 50).encode()\n"
        "for _ in range(200): assert encoding.decode_html(body, 'text/html; charset=utf-8').encoding == 'utf-8'\n"
        "assert 'numpy' not in sys.modules\n"
        "import numpy\n"
        "with mock.patch.object(encoding, '_plausible_numpy', wraps=encoding._plausible_numpy) as fast:\n"
        "    assert encoding.decode_html(body, 'text/html; charset=utf-8').text == body.decode()\n"
        "assert fast.call_count == 1\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
