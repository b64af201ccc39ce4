"""Title, publish time, source, author and document date from meta tags and lines near the title."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from qmcrawler.extraction.bylines import ORG_END_RE, blog_owner, field_author
from qmcrawler.extraction.dates import date_from_url, find_dates, parse_date, parse_doc_date
from qmcrawler.extraction.lines import is_dateline, is_meta_line, is_post_header, parse_labelled
from qmcrawler.extraction.vocab import (
    AUTHOR_LABELS,
    DATE_LABELS,
    META_AUTHOR,
    META_DATE,
    META_SITENAME,
    META_SOURCE,
    META_TITLE,
    PLACEHOLDER_AUTHORS,
    SOURCE_LABELS,
    STRIP_TOKEN_RE,
)

_TITLE_SPLIT = re.compile(r"\s*[_|｜]\s*|\s+[-–—]+\s+|\s*--\s*|\s*——\s*|(?<=[^\d\s])-(?=[^\d\s])")
_SOURCE_PREFIX = re.compile(r"^(?:来源|信息来源|稿件来源|文章来源)\s*[:：]\s*")
_SOURCE_SUFFIX = re.compile(r"\s*(?:原创稿|原创|供稿|稿)$")
_NUMERIC = re.compile(r"^\d+$")
#: A plausible person or desk name from a `<meta name=author>` (not markup debris, not an id).
_NAME = re.compile(r"^(?!\d+$)[\w\u00b7· .]{2,20}$")
_DOC_DATE_LINE = re.compile(
    r"^.{0,30}?(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇○零一二三四五六七八九]{4}年.{1,3}月.{1,3}日)$"
)
#: `今天是2018年9月1日 星期六` page headers are never a publish date (DOMAIN.md §6.4).
_TODAY = re.compile(r"今天是|今日是|^今天|^今日")
#: Title candidates: at most this many headings, blocks of at most this many characters.
MAX_HEADINGS = 40
MAX_TITLE_CHARS = 100
#: A heading agrees with `<title>` when their longest common run covers this share of the heading.
HEADING_AGREEMENT = 0.6
#: How many lines after the title count as the metadata region.
NEAR_TITLE = 8
#: Post headers needed before a page is read as a thread of dated posts.
MIN_POST_HEADERS = 2
#: Meta and visible dates further apart than this many days are a conflict.
MAX_DATE_GAP_DAYS = 1


def meta_value(metas: dict[str, str], names: Sequence[str]) -> str:
    """The first non-empty `<meta>` content among `names`."""
    for name in names:
        value = metas.get(name, "").strip()
        if value:
            return value
    return ""


def title_segments(title_tag: str) -> list[str]:
    """`<title>` split on site-name separators (`_`, `|`, ` - `)."""
    return [s for s in _TITLE_SPLIT.split(title_tag) if s.strip()]


def _compact(text: str) -> str:
    return "".join(text.split())  # `\s+` deleted (str.split splits on exactly what `\s` matches)


def common_run(a: str, b: str) -> int:
    """Length of the longest common substring of `a` and `b` (binary search over lengths)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any(a[i : i + mid] in b for i in range(len(a) - mid + 1)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def choose_title(
    metas: dict[str, str],
    title_tag: str,
    texts: Sequence[str],
    headings: Sequence[int],
    link_heavy: Sequence[bool],
) -> tuple[str | None, int | None]:
    """Pick the title and the index of the block that shows it (None if not shown).

    Precedence: `ArticleTitle` meta; the heading (`h1`–`h6`) or short block that agrees best with
    `<title>` — a heading agrees by its longest common run with `<title>` (most of the heading;
    `【记者即时播报】…` keeps its prefix, a section name `国企红筹` loses to the longer headline), another
    block only when wholly contained in it; `og:title`; the first `<title>` segment; the first heading.
    A candidate must cover most of the first `<title>` segment (site-name suffixes split off).
    """
    compact_tag = _compact(title_tag)
    explicit = meta_value(metas, META_TITLE[:1])

    def shown(title: str) -> int | None:
        key = _compact(title)
        return next((i for i, t in enumerate(texts) if _compact(t) == key), None)

    if explicit:
        return explicit, shown(explicit)
    segments = title_segments(title_tag)
    first = _compact(segments[0]) if segments else ""
    best: tuple[int, int, int] | None = None  # (agreement, is_heading, -index)
    if compact_tag:
        heading_set = set(headings[:MAX_HEADINGS])
        for i, t in enumerate(texts):
            key = _compact(t)
            if not 4 <= len(key) <= MAX_TITLE_CHARS or link_heavy[i]:
                continue
            if i in heading_set:
                run = len(key) if key in compact_tag else common_run(key, compact_tag)
                if run < 4 or run < HEADING_AGREEMENT * len(key):
                    continue
            elif key in compact_tag:
                run = len(key)
            else:
                continue
            cand = (run, int(i in heading_set), -i)
            if best is None or cand > best:
                best = cand
    if best is not None:
        run, i = best[0], -best[2]
        if run >= 0.6 * len(first) or (run >= 6 and compact_tag.startswith(_compact(texts[i])[:run])):
            return texts[i], i
    og = meta_value(metas, META_TITLE[1:])
    if og:
        return og, shown(og)
    if first:
        return segments[0].strip(), shown(segments[0])
    if headings:
        return texts[headings[0]], headings[0]
    return None, None


def labelled_fields(lines: Sequence[str]) -> list[tuple[str, str]]:
    """Labelled (label, value) pairs from the metadata lines among `lines`."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if is_meta_line(line) or len(parse_labelled(line)) >= 2:
            out.extend(parse_labelled(line))
    return out


def _visible_date(near: Sequence[str]) -> str | None:
    """A labelled date among the metadata lines, else the first date on a short line."""
    for label, value in labelled_fields(near):
        if label in DATE_LABELS:
            found = parse_date(value)
            if found:
                return found
    for line in near:
        if len(line) <= 80:
            dates = find_dates(line)
            if dates:
                return dates[0][1]
    return None


def _first_dateline(lines: Sequence[str]) -> str | None:
    """The date of the first byline-like line (short, dated, no sentence punctuation) among `lines`."""
    for line in lines:
        if is_dateline(line) and not _TODAY.search(line):
            return find_dates(line)[0][1]
    return None


def _first_post_date(lines: Sequence[str]) -> str | None:
    """The first post header's date when `lines` hold the dated headers of several posts (forum, blog)."""
    headers = [line for line in lines if is_post_header(line)]
    return find_dates(headers[0])[0][1] if len(headers) >= MIN_POST_HEADERS else None


def publish_time(
    metas: dict[str, str],
    near: Sequence[str],
    url: str | None,
    before: Sequence[str] = (),
    top: Sequence[str] = (),
    posts: Sequence[str] = (),
    widget: str = "",
    now: dt.datetime | None = None,
) -> tuple[str | None, bool]:
    """Publish time by §6.4 precedence; the bool is True on a meta/visible date conflict.

    The visible date is looked for in the metadata lines after the title (`near`: labelled, then any
    short dated line), then in a byline just above the title (`before`, nearest first), then in a
    byline among the first body lines (`top`). Without a visible, meta or URL date, a page holding
    several dated post headers (`posts`: forum threads, blog entries) gets the first one's date.
    `widget` is the text of a date widget (news.cn splits it over `<em>`s): it adds the time to a
    meta or URL date of the same day, or stands in for them, but never overrides them.
    Every candidate must be plausible (not after `now` + 1 day, not before 1995: §6.5); an unlabelled
    visible date more than a day from the URL's date yields to it; without any of these, a dateline's
    `M月D日电` takes the URL's year (§6.4 step 5).
    """
    ok = _plausible(now)
    meta_iso = next((d for d in (parse_date(metas.get(n, "")) for n in META_DATE) if ok(d)), None)
    labelled = _labelled_date(near)
    visible = next(
        (d for d in (labelled, _visible_date(near), _first_dateline(before), _first_dateline(top)) if ok(d)), None
    )
    url_iso = date_from_url(url) if url else None
    url_iso = url_iso if ok(url_iso) else None
    if visible and url_iso and visible != labelled and not meta_iso and abs(_days(visible) - _days(url_iso)) > 1:
        visible = None  # an unlabelled date far from the URL's day is another item's, not this page's
    if meta_iso and visible:
        if meta_iso[:10] == visible[:10]:
            return (visible if len(visible) > len(meta_iso) else meta_iso), False
        gap = abs(_days(meta_iso) - _days(visible))
        return meta_iso, gap > MAX_DATE_GAP_DAYS
    widget_iso = parse_date(widget) if widget and not _HEADER_DATE.search(widget) else None
    widget_iso = widget_iso if ok(widget_iso) else None
    if widget_iso:
        anchor = meta_iso or visible or url_iso
        if anchor is None or (anchor[:10] == widget_iso[:10] and len(widget_iso) > len(anchor)):
            return widget_iso, False
    found = meta_iso or visible or url_iso or _dateline_day(top, url)
    post = _first_post_date(posts)
    return found or (post if ok(post) else None), False


#: `北京9月1日电`: a dateline's month and day, the year coming from the URL (DOMAIN.md §6.4 step 5).
_DATELINE_DAY = re.compile(r"^.{0,20}?(\d{1,2})月(\d{1,2})日\s*(?:电|讯)")
_URL_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[-/_]?(?:0[1-9]|1[0-2]))(?:[-/_]|\d{2}|$)")
#: Web publish times before this year are implausible (DOMAIN.md §6.5).
WEB_MIN_YEAR = 1995


def _dateline_day(top: Sequence[str], url: str | None) -> str | None:
    """The dateline's `M月D日电` with the year of the URL's `/202409/`-style path, if both are there."""
    if not url or not top:
        return None
    m = _DATELINE_DAY.match(top[0])
    y = _URL_YEAR.search(url)
    if m is None or y is None:
        return None
    return parse_date(f"{y[1]}-{m[1]}-{m[2]}")


def _plausible(now: dt.datetime | None) -> Callable[[str | None], bool]:
    """A check that a publish time is not after `now` (default: the current time) + 1 day, nor before 1995."""
    limit = (now or dt.datetime.now(dt.UTC)).date() + dt.timedelta(days=1)

    def ok(iso: str | None) -> bool:
        return iso is not None and int(iso[:4]) >= WEB_MIN_YEAR and dt.date.fromisoformat(iso[:10]) <= limit

    return ok


def _labelled_date(near: Sequence[str]) -> str | None:
    """A date labelled `发布时间`/`日期`… among the metadata lines."""
    for label, value in labelled_fields(near):
        if label in DATE_LABELS:
            found = parse_date(value)
            if found:
                return found
    return None


_HEADER_DATE = re.compile(r"今天|星期|周[一二三四五六日天]")


def _days(iso: str) -> int:
    y, m, d = (int(x) for x in iso[:10].split("-"))
    return y * 372 + m * 31 + d


def clean_source(value: str, metas: dict[str, str]) -> str | None:
    """Normalize a 来源 value: prefix/suffix stripped, 本站 → site name, labels and empties → None."""
    value = STRIP_TOKEN_RE.sub(" ", value).strip()  # 【打印本页】【关闭窗口】 often share the line
    value = _SOURCE_SUFFIX.sub("", _SOURCE_PREFIX.sub("", value)).strip(" :：|")
    if not value or (parse_labelled(value + ":") and len(value) <= 6):
        return None
    if value in ("本站", "本站原创", "本网", "本网原创"):
        return meta_value(metas, META_SITENAME) or None
    return value[:60]


def _site_words(metas: dict[str, str], site: tuple[str, str]) -> list[str]:
    """Names of the site itself: the URL's host, `<title>` segments after the first, `og:site_name`."""
    url, title_tag = site
    host = urlsplit(url).hostname or "" if url else ""
    return [w.lower() for w in (host, *title_segments(title_tag)[1:], meta_value(metas, META_SITENAME)) if w]


def meta_author(raw: str, metas: dict[str, str], site: tuple[str, str]) -> str | None:
    """A `<meta name=author>` that names a person: not an organisation (`南方网`), not the site
    itself (`网易` on a `…_网易新闻中心` page, `chinanews` on www.chinanews.com)."""
    name = field_author(raw) if raw else None
    if not name or not _NAME.match(name) or ORG_END_RE.search(name):
        return None
    if any(name.lower() in w for w in _site_words(metas, site)):
        return None
    return name


def source_and_author(
    metas: dict[str, str],
    near: Sequence[str],
    byline: str | None = None,
    site: tuple[str, str] = ("", ""),
    heading_link: tuple[str, str] = ("", ""),
) -> tuple[str | None, str | None, bool]:
    """(source, author, author_was_placeholder) from labelled lines near the title, the `byline`
    author (datelines, bylines, signatures: bylines.py), meta tags, then a blog's owner.
    `site`: (url, `<title>`); `heading_link`: the `<h1>` link (a blog header)."""
    source: str | None = None
    author: str | None = None
    placeholder = False
    seen_source = False
    for label, value in labelled_fields(near):
        if label in SOURCE_LABELS and not seen_source:
            seen_source = True
            source = clean_source(value, metas)
        elif label in AUTHOR_LABELS and author is None and not placeholder:
            name = (field_author(value) or "") if value else ""
            if name.lower() in PLACEHOLDER_AUTHORS:
                placeholder = True
            elif name and not _NUMERIC.match(name):
                author = name
    if not seen_source:
        raw = meta_value(metas, META_SOURCE)
        source = clean_source(raw, metas) if raw else None
    if author is None and byline and not placeholder:
        author = byline
    if author is None and not placeholder:
        raw = meta_value(metas, META_AUTHOR)
        if raw.lower() in PLACEHOLDER_AUTHORS:
            placeholder = True
        else:
            author = meta_author(raw, metas, site)
    if author is None and not placeholder:
        author = blog_owner(site[0], title_segments(site[1]), heading_link)
    return source, author, placeholder


def doc_date(body_lines: Sequence[str], all_lines: Sequence[str]) -> str | None:
    """成文日期 from an index table, else a 落款 date line among the last body lines."""
    for i, line in enumerate(all_lines):
        if line.startswith("成文日期"):
            found = parse_doc_date(line) or (parse_doc_date(all_lines[i + 1]) if i + 1 < len(all_lines) else None)
            if found:
                return found
    for line in reversed(body_lines[-6:]):
        if _DOC_DATE_LINE.match(line):
            found = parse_doc_date(line)
            if found:
                return found
    return None
