"""Session 9's shortcuts on the crawl's hot path (issue 16) give what the plain code they replaced gave.

The plain forms are kept here as references and compared on generated input.
"""

from __future__ import annotations

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from qmcrawler.patterns import _options, compile_pattern

#: patterns of the kinds sites.toml uses: classes, `.` over a multi-byte character, `(?i)`, anchors
PATTERNS = [
    r"/news/art/\d+/t\d+\.html$",
    r"(?i)/XWZX/[a-z]+/\d{6}/t\d+_\d+\.s?html?$",
    r"/质量月/.+\.html$",
    r"/a.b$",
    r"^https?://[^/]+/(?:zj|xw)/",
    r"[新闻]{2}/\w+",
    r"\bid=\d+(?:&|$)",
]
URL_PIECES = ["/news/art/", "12", "/t", "345", ".html", ".shtml", "/质量月/", "/a", "中", "b", "X", "wz"]
URL_PIECES += ["XWZX/", "zx/", "/xw/", "https://", "http://", "127.0.0.1", "新闻", "/", "?id=7", "&", "_"]
urls = st.lists(st.sampled_from(URL_PIECES), max_size=10).map("".join) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(url=urls, pattern=st.sampled_from(PATTERNS))
def test_url_pattern_bytes_search_is_the_str_search(url: str, pattern: str) -> None:
    plain = re2.compile(pattern, _options())
    try:
        expected = plain.search(url) is not None
    except UnicodeEncodeError:  # a lone surrogate: the str form cannot even encode it
        return
    assert compile_pattern(pattern).search(url) is expected


def test_a_dot_matches_one_chinese_character_not_one_byte() -> None:
    assert compile_pattern(r"/a.b$").search("/a中b")
    assert not compile_pattern(r"/a..b$").search("/a中b")


def test_the_worker_sends_equal_strings_once_and_the_same_result() -> None:
    import pickle

    from bench import sitegen
    from qmcrawler.extraction import extract
    from qmcrawler.monitor.content import content_forms
    from qmcrawler.run.extractpool import extract_and_fingerprint

    html = sitegen.article_html(5)
    url = "http://127.0.0.1:8000/news/art/5/t5.html"
    result = extract_and_fingerprint(html, url)
    article = extract(html, url)
    assert result.article == article  # the plain extraction, field for field
    assert result.content == content_forms(article)
    assert result.article.norm_text is result.content.fields["text"]  # one object, pickled once
    plain = len(pickle.dumps((article, result.fingerprint, content_forms(article)), pickle.HIGHEST_PROTOCOL))
    assert len(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)) < 0.8 * plain
    assert pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)) == result  # noqa: S301 - our own bytes
