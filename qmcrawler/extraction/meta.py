"""Title, publish time, source, author and document date from meta tags and lines near the title."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qmcrawler.dates import date_from_url, find_dates, parse_date, parse_doc_date
from qmcrawler.extraction.lines import is_meta_line, parse_labelled
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
#: How many lines after the title count as the metadata region.
NEAR_TITLE = 8
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


def choose_title(
    metas: dict[str, str],
    title_tag: str,
    texts: Sequence[str],
    headings: Sequence[int],
    link_heavy: Sequence[bool],
) -> tuple[str | None, int | None]:
    """Pick the title and the index of the block that shows it (None if not shown).

    Precedence: `ArticleTitle` meta; an `h1`–`h3` contained in `<title>`; the longest short block
    contained in `<title>`; `og:title`; the first `<title>` segment; the first heading.
    """
    compact_tag = title_tag.replace(" ", "")
    explicit = meta_value(metas, META_TITLE[:1])

    def shown(title: str) -> int | None:
        key = title.replace(" ", "")
        return next((i for i, t in enumerate(texts) if t.replace(" ", "") == key), None)

    if explicit:
        return explicit, shown(explicit)
    for i in headings:
        t = texts[i].replace(" ", "")
        if len(t) >= 4 and compact_tag and (t in compact_tag or compact_tag in t):
            return texts[i], i
    best: int | None = None
    for i, t in enumerate(texts):
        key = t.replace(" ", "")
        fits = 4 <= len(key) <= 100 and not link_heavy[i] and key in compact_tag
        if fits and (best is None or len(key) > len(texts[best].replace(" ", ""))):
            best = i
    segments = title_segments(title_tag)
    first = segments[0].strip() if segments else ""
    if best is not None:
        key = texts[best].replace(" ", "")
        if len(key) >= 0.6 * len(first.replace(" ", "")) or (len(key) >= 6 and compact_tag.startswith(key)):
            return texts[best], best
    og = meta_value(metas, META_TITLE[1:])
    if og:
        return og, shown(og)
    if first:
        return first, shown(first)
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


def publish_time(metas: dict[str, str], near: Sequence[str], url: str | None) -> tuple[str | None, bool]:
    """Publish time by §6.4 precedence; the bool is True on a meta/visible date conflict."""
    meta_iso = next((d for d in (parse_date(metas.get(n, "")) for n in META_DATE) if d), None)
    labelled = None
    for label, value in labelled_fields(near):
        if label in DATE_LABELS:
            labelled = parse_date(value)
            if labelled:
                break
    if labelled is None:
        for line in near:
            if len(line) <= 80:
                found = find_dates(line)
                if found:
                    labelled = found[0][1]
                    break
    if meta_iso and labelled:
        if meta_iso[:10] == labelled[:10]:
            return (labelled if len(labelled) > len(meta_iso) else meta_iso), False
        gap = abs(_days(meta_iso) - _days(labelled))
        return meta_iso, gap > MAX_DATE_GAP_DAYS
    return meta_iso or labelled or (date_from_url(url) if url else None), False


def _days(iso: str) -> int:
    y, m, d = (int(x) for x in iso[:10].split("-"))
    return y * 372 + m * 31 + d


def clean_source(value: str, metas: dict[str, str]) -> str | None:
    """Normalize a 来源 value: prefix/suffix stripped, 本站 → site name, labels and empties → None."""
    value = _SOURCE_SUFFIX.sub("", _SOURCE_PREFIX.sub("", value.strip())).strip(" :：|")
    if not value or (parse_labelled(value + ":") and len(value) <= 6):
        return None
    if value in ("本站", "本站原创", "本网", "本网原创"):
        return meta_value(metas, META_SITENAME) or None
    return value[:60]


def source_and_author(metas: dict[str, str], near: Sequence[str]) -> tuple[str | None, str | None, bool]:
    """(source, author, author_was_placeholder) from labelled lines near the title, then meta tags."""
    source: str | None = None
    author: str | None = None
    placeholder = False
    seen_source = False
    for label, value in labelled_fields(near):
        if label in SOURCE_LABELS and not seen_source:
            seen_source = True
            source = clean_source(value, metas)
        elif label in AUTHOR_LABELS and author is None and not placeholder:
            name = value.split(" ")[0].strip() if value else ""
            if name.lower() in PLACEHOLDER_AUTHORS:
                placeholder = True
            elif name and not _NUMERIC.match(name):
                author = name[:40]
    if not seen_source:
        raw = meta_value(metas, META_SOURCE)
        source = clean_source(raw, metas) if raw else None
    if author is None and not placeholder:
        raw = meta_value(metas, META_AUTHOR)
        if raw.lower() in PLACEHOLDER_AUTHORS:
            placeholder = True
        elif raw and _NAME.match(raw):
            author = raw
    return source, author, placeholder


def doc_date(body_lines: Sequence[str], all_lines: Sequence[str]) -> str | None:
    """成文日期 from an index table, else a 落款 date line among the last body lines."""
    for i, line in enumerate(all_lines):
        if line.startswith("成文日期"):
            found = parse_doc_date(line) or (
                parse_doc_date(all_lines[i + 1]) if i + 1 < len(all_lines) else None
            )
            if found:
                return found
    for line in reversed(body_lines[-6:]):
        if _DOC_DATE_LINE.match(line):
            found = parse_doc_date(line)
            if found:
                return found
    return None
