"""Table-driven tests for qmcrawler.extraction.dates (DOMAIN.md §6)."""

from __future__ import annotations

import pytest

from qmcrawler.extraction.dates import date_from_url, parse_date, parse_doc_date

PARSE_ROWS = [
    ("发布时间：2024年09月01日", "2024-09-01"),
    ("2015/8/24 12:55:35", "2015-08-24T12:55:35+08:00"),
    ("2018-08-31 16:40:36", "2018-08-31T16:40:36+08:00"),
    ("2019年06月15日08:18", "2019-06-15T08:18:00+08:00"),
    ("2017年09月01日 21:08", "2017-09-01T21:08:00+08:00"),
    ("2021年8月31日 16:51", "2021-08-31T16:51:00+08:00"),
    ("2019-09-18 06:23", "2019-09-18T06:23:00+08:00"),
    ("2026.07.08", "2026-07-08"),
    ("2016-11-22", "2016-11-22"),
    ("２０１８－０８－３１", "2018-08-31"),
    ("时间:2017-09-18 11:54 来源:江西省质量技术监督局", "2017-09-18T11:54:00+08:00"),
    ("发布日期: 9/17/2004 5:54:13 AM", "2004-09-17T05:54:13+08:00"),
    ("9/17/2004 5:54:13 PM", "2004-09-17T17:54:13+08:00"),
    ("12/1/2004 12:05 AM", "2004-12-01T00:05:00+08:00"),
    ("17/9/2004", "2004-09-17"),
    ("13/13/2004", None),
    ("1/2/3/2004", None),
    ("20159月质检总局", None),
    ("2018-02-30", None),
    ("8月31日电", None),
    ("© 2012-2020 财经快报网", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_ROWS)
def test_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二〇一八年八月三十一日", "2018-08-31"),
        ("二〇一八年八月三十日", "2018-08-30"),
        ("二〇二三年十二月五日", "2023-12-05"),
        ("市场监管总局 2018年8月30日", "2018-08-30"),
        ("二〇一八年二月三十日", None),
    ],
)
def test_parse_doc_date(text: str, expected: str | None) -> None:
    assert parse_doc_date(text) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.gov.cn/xinwen/2018-08/31/content_5318048.htm", "2018-08-31"),
        ("http://www.aqsiq.gov.cn/zjxw/201808/t20180831_1.htm", "2018-08-31"),
        ("http://finance.people.com.cn/n1/2018/0831/c1004-30264070.html", "2018-08-31"),
        ("https://www.news.cn/politics/leaders/20251010/abc/c.html", "2025-10-10"),
        ("https://jsj.jiangsu.gov.cn/art/2026/9/16/art_77278_11830771.html", "2026-09-16"),
        ("https://example.com/news/32245.html", None),
    ],
)
def test_date_from_url(url: str, expected: str | None) -> None:
    assert date_from_url(url) == expected
