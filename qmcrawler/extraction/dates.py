"""Date parsing for publish times and document dates (DOMAIN.md §6): one regex, calendar-checked, ISO out."""

from __future__ import annotations

import datetime as dt
import re

from qmcrawler.textnorm.width import fold_width

#: DOMAIN.md §6.2, with digit guards so that `20159月` and long numbers never parse.
DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?:T|\s)?\s*(?P<H>[01]?\d|2[0-3])\s*[:：时]\s*(?P<M>[0-5]\d)"
    r"(?:\s*[:：分]\s*(?P<S>[0-5]\d)\s*秒?)?(?!\d))?"
)
#: `M/D/YYYY [h:mm[:ss] [AM|PM]]`, the US default of ASP/IIS pages (`9/17/2004 5:54:13 AM`); a first
#: number above 12 is read as the day (`17/9/2004`).
US_DATE_RE = re.compile(
    r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])"
    r"(?:\s+(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?(?!\d)(?:\s*(?P<ampm>[AaPp][Mm])\b)?)?"
)
_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
#: Chinese-numeral document dates (落款, 成文日期): `二〇一八年八月三十日`.
CN_DATE_RE = re.compile(
    r"(?P<y>[〇○零一二三四五六七八九]{4})年(?P<m>十[一二]?|[一二三四五六七八九])月"
    r"(?P<d>三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])日"
)
#: Dates in URLs: `/2018-08/31/`, `/201808/t20180831_`, `/n1/2018/0831/`, `/20251010/`, `/art/2026/9/16/`.
URL_DATE_RES = (
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_]?(0[1-9]|1[0-2])[-/_]?(0[1-9]|[12]\d|3[01])(?!\d)"),
    re.compile(r"/((?:19|20)\d{2})-?(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/"),
    re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/"),
    re.compile(r"/((?:19|20)\d{2})/([1-9]|1[0-2])/([1-9]|[12]\d|3[01])/"),
)
MIN_YEAR = 1990
MAX_YEAR = 2100


def _iso(y: int, m: int, d: int, hh: str | None, mm: str | None, ss: str | None) -> str | None:
    try:
        day = dt.date(y, m, d)
    except ValueError:
        return None
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    if hh is None or mm is None:
        return day.isoformat()
    return f"{day.isoformat()}T{int(hh):02d}:{int(mm):02d}:{int(ss or 0):02d}+08:00"


def _from_match(m: re.Match[str]) -> str | None:
    return _iso(int(m["y"]), int(m["m"]), int(m["d"]), m["H"], m["M"], m["S"])


def _from_us_match(m: re.Match[str]) -> str | None:
    a, b = int(m["a"]), int(m["b"])
    month, day = (b, a) if a > 12 else (a, b)
    hh = m["H"]
    if hh is not None and m["ampm"]:
        hour = int(hh) % 12 + (12 if m["ampm"].lower() == "pm" else 0)
        hh = str(hour)
    return _iso(int(m["y"]), month, day, hh, m["M"], m["S"])


def parse_date(text: str) -> str | None:
    """The first valid Arabic-numeral date in `text` as `YYYY-MM-DDTHH:MM:SS+08:00` or `YYYY-MM-DD`."""
    found = find_dates(text)
    return found[0][1] if found else None


def find_dates(text: str) -> list[tuple[int, str]]:
    """All valid Arabic-numeral dates in `text` with their offsets (year-first, else `M/D/YYYY`)."""
    folded = fold_width(text)
    out: list[tuple[int, str]] = []
    for m in DATE_RE.finditer(folded):
        iso = _from_match(m)
        if iso:
            out.append((m.start(), iso))
    if "/" in folded:
        for m in US_DATE_RE.finditer(folded):
            iso = _from_us_match(m)
            if iso:
                out.append((m.start(), iso))
        out.sort()
    return out


def _cn_number(s: str) -> int:
    if s.startswith("十"):
        return 10 + (_CN_DIGITS[s[1]] if len(s) > 1 else 0)
    if len(s) >= 2 and s[1] == "十":
        return _CN_DIGITS[s[0]] * 10 + (_CN_DIGITS[s[2]] if len(s) > 2 else 0)
    return _CN_DIGITS[s]


def parse_cn_date(text: str) -> str | None:
    """The first valid Chinese-numeral date (`二〇一八年八月三十日`) as `YYYY-MM-DD`."""
    for m in CN_DATE_RE.finditer(text):
        year = int("".join(str(_CN_DIGITS[c]) for c in m["y"]))
        out = _iso(year, _cn_number(m["m"]), _cn_number(m["d"]), None, None, None)
        if out:
            return out
    return None


def parse_doc_date(text: str) -> str | None:
    """A document date (落款 / 成文日期) as `YYYY-MM-DD`, Arabic or Chinese numerals, never a time."""
    iso = parse_date(text)
    if iso:
        return iso[:10]
    return parse_cn_date(text)


def date_from_url(url: str) -> str | None:
    """The publication day encoded in an article URL, as `YYYY-MM-DD`."""
    for rx in URL_DATE_RES:
        for m in rx.finditer(url):
            out = _iso(int(m[1]), int(m[2]), int(m[3]), None, None, None)
            if out:
                return out
    return None
