"""Property and table tests: URL canonicalization, status classification, decoding, attachment names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmcrawler.crawl.classify import classify
from qmcrawler.crawl.files import filename_from_disposition, sniff_type
from qmcrawler.crawl.urls import canonical_url, same_page, trs_pages
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.monitor.changes import BLOCKED, CONTENT, FAILED, GONE, NOT_MODIFIED

segment = st.text("abcxyz019_-.", min_size=1, max_size=8)
params = st.lists(
    st.tuples(
        st.sampled_from(["id", "page", "t", "phpsessid", "_", "utm_source", "cat"]), st.text("abc123", max_size=4)
    ),
    max_size=4,
)


@given(
    st.sampled_from(["http", "https"]),
    st.sampled_from(["www.gov.cn", "WWW.SAMR.GOV.CN", "127.0.0.1:8080"]),
    st.lists(segment, max_size=4),
    params,
)
def test_canonical_url_is_idempotent_and_drops_volatile_params(
    scheme: str, host: str, path: list[str], query: list[tuple[str, str]]
) -> None:
    url = f"{scheme}://{host}/" + "/".join(path) + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert same_page(url, once)
    assert not any(
        f"{k}=" in once.split("?", 1)[-1]
        for k in ("phpsessid", "utm_source", "t", "_")
        if "?" in once and once.split("?", 1)[-1].startswith(f"{k}=")
    )
    assert once.split("://", 1)[1].split("/", 1)[0] == once.split("://", 1)[1].split("/", 1)[0].lower()


@given(st.text(max_size=60))
def test_canonical_url_never_raises(text: str) -> None:
    assert isinstance(canonical_url(text), str)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://big5.www.gov.cn/gate/big5/www.gov.cn/xinwen/2018-08/31/content_5318048.htm",
            "http://www.gov.cn/xinwen/2018-08/31/content_5318048.htm",
        ),
        (
            "https://www.samr.gov.cn/art/a.html;jsessionid=0A1B?t=1693526400&id=7#top",
            "https://www.samr.gov.cn/art/a.html?id=7",
        ),
        ("HTTP://WWW.GOV.CN:80/a.htm?b=2&a=1&utm_source=wx", "http://www.gov.cn/a.htm?a=1&b=2"),
    ],
)
def test_canonical_url_table(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_trs_pager() -> None:
    assert trs_pages('createPageHTML(3, 0, "index", "htm");', "http://h/zlgls/index.htm") == [
        "http://h/zlgls/index_1.htm",
        "http://h/zlgls/index_2.htm",
    ]


body = st.text(max_size=300)


@given(st.sampled_from([403, 412, 429, 521]), body)
def test_block_statuses_are_never_gone(status: int, html: str) -> None:
    assert classify(status, html).kind == BLOCKED


@given(st.integers(500, 599).filter(lambda s: s != 521), body)  # 521 is 加速乐's challenge: blocked
def test_5xx_is_failed(status: int, html: str) -> None:
    assert classify(status, html).kind == FAILED


@given(st.integers(100, 599), body, st.sampled_from(["text/html", "application/pdf", ""]))
def test_classify_is_total_and_blocked_or_failed_never_gone(status: int, html: str, ctype: str) -> None:
    verdict = classify(status, html, content_type=ctype)
    assert verdict.kind in (CONTENT, NOT_MODIFIED, GONE, BLOCKED, FAILED)
    if verdict.kind == GONE:
        assert status in (404, 410) or status < 400


@pytest.mark.parametrize(
    ("status", "html", "kind", "reason"),
    [
        (404, "", GONE, "http_404"),
        (410, "", GONE, "http_410"),
        (304, "", NOT_MODIFIED, "http_304"),
        (200, "<p>对不起，您访问的页面不存在或已被删除</p>", GONE, "soft_404"),
        (200, "<script>window.location='/';</script>", GONE, "client_redirect_to_non_article"),
        (200, "<p>您可能频繁重复请求</p>", BLOCKED, "rate_limited"),
        (521, "<script>document.cookie='__jsluid_s=1'</script>", BLOCKED, "http_521"),
        (412, "<script>$_ts={}</script>", BLOCKED, "http_412"),
        (503, "", FAILED, "http_503"),
    ],
)
def test_f11_status_table(status: int, html: str, kind: str, reason: str) -> None:
    verdict = classify(status, html)
    assert (verdict.kind, verdict.reason) == (kind, reason)


def test_pdf_sent_as_html_is_not_html() -> None:
    assert sniff_type(b"%PDF-1.4 ...", "http://h/a.htm", "text/html") == "pdf"
    assert classify(200, "%PDF-1.4", sniffed_type="pdf").kind == FAILED


@pytest.mark.parametrize(
    ("raw", "ctype", "encoding", "conflict"),
    [
        ("<meta charset=gb2312><p>朱镕基与王堃</p>".encode("gb18030"), "text/html", "gb18030", False),
        ("<p>朱镕基与王堃参加质量月活动</p>".encode("gb18030"), "text/html; charset=utf-8", "gb18030", True),
        (b"\xef\xbb\xbf<meta charset=gb2312><p>\xe8\xb4\xa8\xe9\x87\x8f\xe6\x9c\x88</p>", None, "utf-8", True),
        ("<meta charset=gbk><p>质量月活动通知，各地积极开展</p>".encode(), None, "utf-8", True),
    ],
)
def test_decoding_order_and_conflicts(raw: bytes, ctype: str | None, encoding: str, conflict: bool) -> None:
    decoded = decode_html(raw, ctype)
    assert (decoded.encoding, decoded.conflict) == (encoding, conflict)
    assert "\ufffd" not in decoded.text


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("attachment; filename*=UTF-8''%E9%99%84%E4%BB%B6.pdf", "附件.pdf"),
        ('attachment; filename="' + "附件一.doc".encode("gbk").decode("latin-1") + '"', "附件一.doc"),
        ("attachment; filename=%B8%BD%BC%FE.xls", "附件.xls"),
    ],
)
def test_attachment_names(header: str, name: str) -> None:
    assert filename_from_disposition(header) == name


def test_identity_parameters_are_kept() -> None:
    """Route and section parameters name pages: stripping them would merge distinct pages."""
    yii = [canonical_url(f"http://h/index.php?r=news/view&id={i}") for i in (1, 2)]
    assert yii[0] != yii[1]
    assert "r=news" in yii[0]
    assert canonical_url("http://h/list.asp?sid=3&id=9") != canonical_url("http://h/list.asp?sid=4&id=9")
