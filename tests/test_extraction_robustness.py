"""Property tests: extract() never raises on random or malformed HTML."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmcrawler.extraction import extract
from qmcrawler.extraction.article import Article

TAGS = ["p", "div", "a", "br", "td", "tr", "table", "ruby", "rt", "script", "h1", "title", "meta", "body"]
FRAGMENTS = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(
        [
            "<?xml version='1.0' encoding='gb2312'?>",
            '<meta name="keywords" content="<meta name=" author">',
            "\x00",
            "\ufeff",
            "&nbsp;",
            "&#12288;",
            "&#xD800;",
            "我國(guó)",
            "發(fā)表時(shí)間:2015/8/24 12:55:35",
            "来源: 发布时间:",
            "<a href='http://[::1'>附件.pdf</a>",
            "<a href='javascript:void(0)'>x.doc</a>",
            "<!--",
            "]]>",
            "<![CDATA[",
            "二〇一八年二月三十日",
            "2018-13-45 25:61",
        ]
    ),
    st.text(max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.one_of(st.none(), st.text(max_size=30)))
def test_extract_never_raises_on_fragments(html: str, url: str | None) -> None:
    art = extract(html, url)
    assert isinstance(art, Article)
    assert isinstance(art.text, str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_random_text(html: str) -> None:
    assert isinstance(extract(html), Article)


def test_extract_handles_odd_inputs() -> None:
    for html in ["", " ", "\x00\x00", "<", "<html", "<?xml version='1.0'?><html/>", "<p>" * 2000]:
        art = extract(html)
        assert isinstance(art, Article)
        assert not art.errors or set(art.errors) <= {"text"}
