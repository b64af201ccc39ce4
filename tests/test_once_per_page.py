"""Work a new page used to pay twice is done once (issue 16), and gives exactly what the plain code gave.

Each test keeps the plain form as the reference (the content fields computed again on the
reactor, the stored text cleaned again in `to_record`, ...) and compares the new path's output
with it, on the fixture and demo pages and on generated text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, TextResponse

from pipelines.normalize import NormalizePipeline
from pipelines.store import to_record
from qmcrawler.crawl.classify import _TAGS, short_visible_text, visible_text
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.items import PageItem
from qmcrawler.monitor.changes import CONTENT
from qmcrawler.monitor.content import OTHER_SPACE, _clean, content_fields, content_hash, stored_text
from qmcrawler.options import Options
from qmcrawler.run.extractpool import extract_and_fingerprint
from qmcrawler.run.runner import PROJECT_ROOT
from spiders.responses import utf8_text
from tests.test_page_chars import _html

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
PAGES = sorted([*FIXTURES.rglob("*.htm*"), *(PROJECT_ROOT / "qmcrawler" / "demo").rglob("*.htm*")])
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
#: whitespace of every kind, line breaks `splitlines` knows, and text around them
SPACY = " \n\t\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u200a\u200b\u2028\u2029\u202f\u205f\u3000a中，"


def plain_clean(value: str | None) -> str | None:
    """`_clean` as it was: every line substituted and stripped, empty lines dropped."""
    if value is None:
        return None
    lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
    out = "\n".join(line for line in lines if line)
    return out or None


def test_other_space_is_every_whitespace_but_space_and_newline() -> None:
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {" ", "\n"}
    assert {chr(c) for c in range(0x110000) if re.fullmatch(f"[{OTHER_SPACE}]", chr(c))} == spaces


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from(SPACY), max_size=40),
        st.text(alphabet=st.sampled_from("a中， \n"), max_size=40),  # what the shortcut may keep as it is
        st.text(alphabet=st.sampled_from("a中， \n" * 8 + SPACY), max_size=40),
    )
)
def test_clean_is_the_plain_form(text: str) -> None:
    assert _clean(text) == plain_clean(text)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_worker_result_gives_the_fields_hash_and_stored_text_the_reactor_computed(path: Path) -> None:
    url = "http://127.0.0.1/" + path.name
    article, _, content = extract_and_fingerprint(_html(path), url)
    fields = content_fields(article)
    assert content.fields == fields
    assert content.hash == content_hash(fields)
    assert content.stored == stored_text(article, fields)
    plain = {k: plain_clean(getattr(article, k)) for k in ("title", "text", "norm_title", "norm_text")}
    assert fields["text"] == (plain["norm_text"] or plain["text"] or "")
    assert content.stored["text"] == (plain["text"] or "" if article.norm_text else fields["text"])


class _Crawler:
    stats = None
    settings = None


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_store_record_is_the_same_with_or_without_the_worker_content(path: Path) -> None:
    """normalize + to_record on the worker's content give the record the reactor's own computation gave."""
    url = "http://127.0.0.1/" + path.name
    article, fingerprint, content = extract_and_fingerprint(_html(path), url)
    records = []
    for given_content in (content, None):
        item = PageItem(url=url, site="s", status=200, final_url=url, fetched_at="2024-09-01T00:00:00Z")
        item.kind, item.article, item.fingerprint, item.content = CONTENT, article, fingerprint, given_content
        NormalizePipeline(_Crawler(), Options()).process_item(item)  # type: ignore[arg-type]
        if item.fields is not None:
            item.fields.update(relevance=1, year=2018, likely_mirror=False)  # what the relevance stage adds
        records.append((item.kind, item.reason, item.content_hash, to_record(item)))
    assert records[0] == records[1]


def plain_visible_text(html: str) -> str:
    """`visible_text` as it was: whitespace runs collapsed by a regex over the whole page."""
    return re.sub(r"\s+", " ", _TAGS.sub(" ", html)).strip()


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["<p>", "</p>", "<script>x</script>", "<!-- c -->", "<b", ">", *SPACY]), max_size=60))
def test_visible_text_is_the_plain_form(parts: list[str]) -> None:
    html = "".join(parts)
    assert visible_text(html) == plain_visible_text(html)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from(["<p>", "</p>", "<script>x</script>", "<!-- c -->", "<b", ">", "质量", *SPACY]), max_size=60
    ),
    st.integers(0, 40),
)
def test_short_visible_text_is_the_plain_form_when_short(parts: list[str], limit: int) -> None:
    html = "".join(parts)
    text = plain_visible_text(html)
    assert short_visible_text(html, limit) == (text if len(text) < limit else None)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_visible_text_is_the_plain_form_on_the_pages(path: Path) -> None:
    html = _html(path)
    assert visible_text(html) == plain_visible_text(html)
    for limit in (200, 600, len(plain_visible_text(html)), len(plain_visible_text(html)) + 1):
        short = short_visible_text(html, limit)
        assert short == (plain_visible_text(html) if len(plain_visible_text(html)) < limit else None)


#: bodies whose UTF-8 decoding Scrapy and decode_html could disagree on
ODD_BODIES = [
    "<p>质量月</p>".encode(),
    "<p>\ufffd 质量月</p>".encode(),  # a real U+FFFD: a strict decoding keeps it too
    b"<p>\xff\xfe broken \xe8\xb4</p>",
    b"<meta charset=utf-8><p>" + "质量月活动".encode() * 200 + b"\xff</p>",  # one bad byte in a long page
    b"\xef\xbb\xbf<p>BOM</p>",
    "<meta charset=gbk><p>质量月</p>".encode("gb18030"),
    b"<meta charset=gbk><p>\x80 euro</p>",  # w3lib reads GBK's 0x80 as the euro sign
    b"<meta charset=utf-16><p>x</p>",
    "<p>質量月</p>".encode("big5"),
]
CONTENT_TYPES = ["text/html", "text/html; charset=utf-8", "text/html; charset=gbk", "text/html; charset=big5", ""]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_decoding_with_scrapys_text_is_the_plain_decoding(content_type: str) -> None:
    bodies = [*ODD_BODIES, *(p.read_bytes() for p in PAGES)]
    for body in bodies:
        response = HtmlResponse("http://127.0.0.1/a.html", body=body, headers={"Content-Type": content_type})
        assert decode_html(body, content_type, utf8_text(response)) == decode_html(body, content_type)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *(b"<p>", b"abc ", "质量月活动".encode(), "质量月活动".encode("gb18030"), "質量".encode("big5")),
                *(b"\xff", b"\x80", "\ufffd".encode(), b"<meta charset=utf-8>", b"<meta charset=gbk>"),
            ]
        ),
        max_size=80,
    ),
    st.sampled_from(CONTENT_TYPES),
)
def test_a_replaced_utf8_text_is_never_taken_for_a_strict_decoding(parts: list[bytes], content_type: str) -> None:
    body = b"".join(parts)
    assert decode_html(body, content_type, body.decode("utf-8", "replace")) == decode_html(body, content_type)


def test_a_utf8_page_is_decoded_once() -> None:
    body = (FIXTURES / "web" / "article.html").read_bytes() if (FIXTURES / "web" / "article.html").exists() else b""
    body = body or "<html><meta charset=utf-8><p>质量月活动</p></html>".encode()
    response = HtmlResponse("http://127.0.0.1/a.html", body=body, headers={"Content-Type": "text/html"})
    assert decode_html(body, "text/html", utf8_text(response)).text is response.text
    assert utf8_text(TextResponse("http://127.0.0.1/a.txt", body=body)) is None  # only what Scrapy decoded already


def test_the_cached_canonical_url_is_the_plain_one() -> None:
    from qmcrawler.crawl.urls import canonical_url
    from spiders.responses import links_of

    links = [link for path in PAGES for link in links_of(_html(path), "http://127.0.0.1/a/b.html")]
    links += [" HTTP://Example.GOV.cn:80/a;jsessionid=1?b=2&_=3#x ", "not a url", "http://[::1/"]
    for link in links + links:  # the second time from the cache
        assert canonical_url(link) == canonical_url.__wrapped__(link)
