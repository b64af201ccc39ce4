"""Session 8's shortcuts in extraction and relevance (issue 16) give what the plain code they replaced gave.

The plain forms are kept here as references: the date-widget scan over every element, the
block weight computed afresh, lxml.html's own element classes, the boilerplate test uncached,
the separator regex of the theme check, NFC and width folding one line at a time.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import lxml.etree
import lxml.html
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import sitegen
from qmcrawler.extraction import dom, extract
from qmcrawler.extraction.body import Block, block_weight, linearize
from qmcrawler.extraction.dom import (
    _SPLIT_DATE,
    _TIME_PARTS,
    _boilerplate_attr,
    _parts,
    is_boilerplate_attr,
    parse_html,
)
from qmcrawler.monitor import relevance
from qmcrawler.textnorm.width import fold_width, nfc, nfc_lines

FIXTURES = sorted(Path(__file__).parent.joinpath("fixtures").rglob("*.html"))
#: class/id pieces around the widget test: case, separators, look-alikes (Kelvin sign, dotted I)
PIECES = ["time", "TIME", "Date", "pub", "pubtime", "pubDate", "publish", "h-time", "update"]
PIECES += ["K", "İ", "-", "_", " ", "x"]
values = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


def _widget_time_plain(root: lxml.html.HtmlElement) -> str:
    """`dom._widget_time` as it was: `_parts` of every element with a class or id."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        attrs = f"{el.get('class') or ''} {el.get('id') or ''}"
        if not attrs.strip() or not (_parts(attrs) & _TIME_PARTS):
            continue
        text = " ".join(t.strip() for t in el.itertext() if t.strip())
        if 8 <= len(text) <= 40:
            return _SPLIT_DATE.sub(r"\1-\2-\3", text)
    return ""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=5))
def test_widget_time_prefilter_is_the_full_scan(attrs: list[tuple[str, str]]) -> None:
    spans = "".join(f'<span class="{c}" id="{i}">2023 09/01 18:{n:02d}:00</span>' for n, (c, i) in enumerate(attrs))
    root = parse_html(f"<html><body><p>正文</p>{spans}</body></html>")
    assert root is not None
    assert dom._widget_time(root) == _widget_time_plain(root)


def test_widget_time_prefilter_on_the_fixtures() -> None:
    for path in FIXTURES:
        root = parse_html(path.read_bytes().decode("utf-8", "replace"))
        if root is not None:
            assert dom._widget_time(root) == _widget_time_plain(root), path.name


def _plain_parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(remove_comments=True))


def test_parse_html_elements_behave_as_lxml_html_ones() -> None:
    """The C class lookup gives HtmlElement everywhere, and the same blocks as lxml.html's own classes."""
    pages = [p.read_bytes().decode("utf-8", "replace") for p in FIXTURES] + [sitegen.article_html(i) for i in range(5)]
    for html in pages:
        root = parse_html(html)
        if root is None:
            continue
        assert all(isinstance(el, lxml.html.HtmlElement) for el in root.iter() if isinstance(el.tag, str))
        plain = _plain_parse(dom._CONTROL.sub("", dom._XML_DECL.sub("", html)))
        fields = [(b.text, b.chars, b.link_chars, b.tag, b.index) for b in linearize(root)]
        assert fields == [(b.text, b.chars, b.link_chars, b.tag, b.index) for b in linearize(plain)]
    form = parse_html("<html><body><form><input name=q><p>内容</p></form></body></html>")
    assert form is not None
    element = form.find(".//form")
    assert isinstance(element, lxml.html.HtmlElement)
    element.drop_tree()  # HtmlElement's methods work on every element
    assert form.text_content() == ""


def test_block_weight_cache_gives_the_fresh_value() -> None:
    """A block's weight is the same computed afresh, from the cache, and on a second page."""
    block_weight.cache_clear()
    for path in FIXTURES[:40]:
        root = parse_html(path.read_bytes().decode("utf-8", "replace"))
        if root is None:
            continue
        for block in linearize(root):
            fresh = block_weight.__wrapped__(block.text, block.chars, block.link_chars)
            assert block.weight == fresh
            assert block.weight == fresh  # the cached one
    assert block_weight.cache_info().hits > 0


def test_block_weight_depends_on_text_and_counts_only() -> None:
    text = "国家市场监督管理总局发布了关于开展2023年全国质量月活动的通知，要求各地认真组织实施。"
    a = Block(text, len(text), 0, "p", ())
    b = Block(text, len(text), len(text), "p", ())  # all link text: navigation
    assert a.weight > 0 > b.weight
    assert Block(text, len(text), 0, "div", ()).weight == a.weight


@settings(max_examples=300, deadline=None)
@given(values)
def test_boilerplate_attr_cache_is_the_plain_test(value: str) -> None:
    assert is_boilerplate_attr(value) == _boilerplate_attr.__wrapped__(value)


def test_extract_twice_is_the_same_article() -> None:
    """Warm caches (block weights, boilerplate tests) change nothing in what a page extracts to."""
    block_weight.cache_clear()
    _boilerplate_attr.cache_clear()
    pages = [p.read_bytes().decode("utf-8", "replace") for p in FIXTURES[:30]]
    cold = [dataclasses.asdict(extract(h, "http://www.samr.gov.cn/a.html")) for h in pages]
    warm = [dataclasses.asdict(extract(h, "http://www.samr.gov.cn/a.html")) for h in pages]
    assert cold == warm


#: characters around the separator and normalization shortcuts: every kind of space, the separators
#: themes are written with, combining marks after a line break, full-width forms
AROUND = "质量月增强意识推进高质量发展 \t\n\r\f\v\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000"
AROUND += ",，、·a\u030c\u0301ＡＢ１，：（）"
around = st.text(alphabet=st.sampled_from(AROUND), max_size=200)
#: what `relevance.theme_year` removed with a regex before
SEPARATORS = re.compile(r"[\s,，、·　]+")


@settings(max_examples=400, deadline=None)
@given(around)
def test_theme_year_compacts_as_the_separator_regex(text: str) -> None:
    compact = SEPARATORS.sub("", text)
    plain = next((year for theme, year in relevance.THEMES.items() if theme in compact), None)
    assert relevance.theme_year(text) == plain


def test_theme_year_finds_a_theme_written_with_separators() -> None:
    assert relevance.theme_year("以“增强质量意识、\u3000推进高质量发展”为主题") == 2023
    assert relevance.theme_year("增强质量意识 推进\t高 质量·发展") == 2023
    assert relevance.theme_year("质量月") is None


@settings(max_examples=400, deadline=None)
@given(st.lists(around.map(lambda t: " ".join(t.split())), max_size=8))
def test_nfc_lines_is_per_line_nfc_and_fold(lines: list[str]) -> None:
    shown, folded = nfc_lines(lines)
    assert shown == [nfc(x) for x in lines]
    assert folded == [fold_width(nfc(x)) for x in lines]


def test_caches_keep_only_short_values() -> None:
    """A hostile page's huge unique blocks and class values are answered but not remembered."""
    block_weight.cache_clear()
    _boilerplate_attr.cache_clear()
    long_text = "质量月活动通知，" * 200
    block = Block(long_text, len(long_text), 0, "p", ())
    assert block.weight == block_weight.__wrapped__(long_text, len(long_text), 0)
    assert is_boilerplate_attr("share " + "x" * 5000) == _boilerplate_attr.__wrapped__("share " + "x" * 5000)
    assert block_weight.cache_info().currsize == 0
    assert _boilerplate_attr.cache_info().currsize == 0
    short = Block("版权所有", 4, 0, "div", ())
    assert short.weight < 0
    assert is_boilerplate_attr("share")
    assert block_weight.cache_info().currsize == 1
    assert _boilerplate_attr.cache_info().currsize == 1
