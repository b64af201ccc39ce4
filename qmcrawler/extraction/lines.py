"""Line-level filters on normalized text: widgets, footers, counters, editors and metadata lines (§5.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qmcrawler.extraction.dates import find_dates
from qmcrawler.extraction.vocab import (
    COMMENT_START_RE,
    DROP_LINE_RE,
    EDITOR_LABELS,
    EDITOR_RE,
    END_MARK_RE,
    KEYWORD_LABELS,
    LABEL_RE,
    LIST_DATE_RE,
    RELATED_RE,
    SNIPPET_MORE_RE,
    STRIP_TOKEN_RE,
    VIEW_LABELS,
    WEAK_FOOTER_RE,
    footer_marker,
)

_VALUE_TRIM = " |丨/·•,，;；【】[]"
_DIGITS = re.compile(r"\d+")
_NAME_SPLIT = re.compile(r"[、,，;；/\s]+")
_NEXT_LABEL = re.compile(r"\s+[\u4e00-\u9fff]{2,6}\s*[:：]")
#: A paragraph this long (without `更多`) ends a related-content list.
LIST_END_CHARS = 60
#: Metadata lines are short, and so are the values of a single-label line.
MAX_META_LINE = 120
MAX_META_VALUE = 30
#: A line this long is body text; datelines above the first one are metadata.
CONTENT_LINE = 40
TOP_LINES = 4
_SENTENCE = re.compile(r"[，。！？；,!?;]")


@dataclass
class LineReport:
    """Kept line indices and what was extracted from the dropped lines."""

    keep: list[int] = field(default_factory=list)
    cleaned: dict[int, str] = field(default_factory=dict)
    editors: list[str] = field(default_factory=list)
    views: int | None = None
    keywords: list[str] = field(default_factory=list)
    meta: list[list[tuple[str, str]]] = field(default_factory=list)


def parse_labelled(line: str) -> list[tuple[str, str]]:
    """Split a metadata line on known labels: `来源: 发布时间:2018-08-31` → [(来源, ''), (发布时间, …)]."""
    matches = list(LABEL_RE.finditer(line))
    out: list[tuple[str, str]] = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        out.append((m.group(1), line[m.end() : end].strip(_VALUE_TRIM)))
    return out


def is_meta_line(line: str) -> bool:
    """Is the line a metadata line: it starts with a label, and its values are short or labelled?

    `记者：首先欢迎你来到新华网…` (an interview question) is content, not an author field.
    """
    if len(line) > MAX_META_LINE:
        return False
    fields = parse_labelled(line)
    if not fields:
        return False
    first = LABEL_RE.search(line)
    if first is None or (first.start() > 2 and not _DATE_PREFIX.match(line[: first.start()])):
        return False  # `2017-09-01 07:57:40 来源:新华社`: a date may come before the first label
    return len(fields) >= 2 or (len(fields[0][1]) <= MAX_META_VALUE and "。" not in line)


_DATE_PREFIX = re.compile(r"^\s*(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
#: the 信息公开 index table of government pages (DOMAIN §2.5): metadata, not body
INDEX_LABEL_RE = re.compile(
    r"^(?:索\s*引\s*号|主题分类|发文机关|成文日期|标\s*题|发文字号|发布日期|有\s*效\s*性|主\s*题\s*词)\s*[:：]"
)
#: a label with nothing after it (`相关附件:`, `关联稿件:`) at the end of the body: an empty widget
EMPTY_LABEL_RE = re.compile(r"^[\u4e00-\u9fff]{2,8}\s*[:：]$")


def is_dateline(line: str) -> bool:
    """A short line carrying a date and no sentence punctuation (a byline or a post header)."""
    return len(line) <= MAX_META_LINE and not _SENTENCE.search(line) and bool(find_dates(line))


def is_post_header(line: str) -> bool:
    """A dateline with a time of day: the header of a blog post, forum reply or comment."""
    return is_dateline(line) and any("T" in iso for _, iso in find_dates(line))


def _cut_repeated_posts(lines: list[str]) -> tuple[int, int]:
    """(start, end) of the first post when the lines hold several dated posts or comments."""
    first_content = next((i for i, ln in enumerate(lines) if len(ln) >= CONTENT_LINE), 0)
    start = 0
    for i in range(min(first_content, TOP_LINES)):
        if is_dateline(lines[i]):
            start = i + 1
    headers = [i for i, ln in enumerate(lines) if is_post_header(ln)]
    later = [i for i in headers if i > first_content]
    if len(headers) < 2 or not later:
        return start, len(lines)
    cut = later[0]
    prev = lines[cut - 1] if cut - 1 > first_content else ""
    if prev and len(prev) < CONTENT_LINE and not _SENTENCE.search(prev):
        cut -= 1
    return start, cut


def split_names(value: str) -> list[str]:
    """Split `刘洁妍、杨虞波罗` style name lists; a next label (`孙小美 审核：周大为`) ends the list."""
    value = _NEXT_LABEL.split(value, maxsplit=1)[0]
    return [v for v in _NAME_SPLIT.split(value.strip("()（）[]【】 ")) if v]


def views_from(fields: list[tuple[str, str]]) -> int | None:
    """The first counter value among labelled fields."""
    for label, value in fields:
        if label in VIEW_LABELS:
            m = _DIGITS.match(value.strip())
            return int(m.group(0)) if m else None
    return None


def _is_list_item(line: str) -> bool:
    return bool(LIST_DATE_RE.match(line) or SNIPPET_MORE_RE.search(line) or len(line) < LIST_END_CHARS)


def filter_lines(lines: list[str]) -> LineReport:
    """Apply the §5.2 rules to normalized body lines; return what to keep and what was extracted."""
    rep = LineReport()
    in_list = False
    footer_run = 0
    ended = False
    index_value = False
    start, end = _cut_repeated_posts(lines)
    for i in range(start):
        rep.meta.append([("日期", lines[i])])
    for i, raw in enumerate(lines):
        line = STRIP_TOKEN_RE.sub("", raw).strip()
        if not line or i < start:
            continue
        if i >= end:
            ended = True
        m = EDITOR_RE.match(line)
        if m:
            rep.editors.extend(n for n in split_names(m.group("v")) if n not in rep.editors)
            continue
        if ended:
            continue
        if END_MARK_RE.match(line) or COMMENT_START_RE.match(line):
            ended = True
            continue
        if len(line) < 200 and footer_marker(line) and not _contact_line(lines, i):
            footer_run += 1
            if footer_run >= 2:
                ended = True
            continue
        footer_run = 0
        if RELATED_RE.match(line):
            in_list = True
            continue
        if in_list:
            if _is_list_item(line) and len(line) < 2 * LIST_END_CHARS:
                continue
            in_list = False
        if is_meta_line(line):
            fields = parse_labelled(line)
            rep.meta.append(fields)
            views = views_from(fields)
            if views is not None and rep.views is None:
                rep.views = views
            for label, value in fields:
                if label in KEYWORD_LABELS and value:
                    rep.keywords.extend(k for k in split_names(value) if k not in rep.keywords)
                if label in EDITOR_LABELS and value:
                    rep.editors.extend(n for n in split_names(value) if n not in rep.editors)
            continue
        if DROP_LINE_RE.match(line):  # any of DROP_LINE_RES
            continue
        if INDEX_LABEL_RE.match(line):
            index_value = True  # the next line may be the cell holding this label's value
            continue
        if index_value and len(line) <= MAX_META_VALUE * 2 and not _SENTENCE.search(line):
            index_value = False
            continue
        index_value = False
        if line != raw:
            rep.cleaned[i] = line
        rep.keep.append(i)
    _trim_footer_tail(lines, rep)
    return rep


def _is_strong_footer(line: str) -> bool:
    return footer_marker(line) and not WEAK_FOOTER_RE.match(line)


def _contact_line(lines: list[str], i: int) -> bool:
    """Is line `i` a notice's contact line (`联系电话：…`) rather than the site footer's?

    It is, unless a stronger footer marker (版权所有, ICP备…) is on the line itself or the next one.
    """
    if not WEAK_FOOTER_RE.match(lines[i]) or _is_strong_footer(lines[i]):
        return False
    after = next((ln for ln in lines[i + 1 : i + 2] if ln.strip()), "")
    return not _is_strong_footer(after)


def _trim_footer_tail(lines: list[str], rep: LineReport) -> None:
    """Drop trailing kept lines that are a lone footer marker or an empty label (`相关附件:`)."""
    while rep.keep:
        last = rep.cleaned.get(rep.keep[-1], lines[rep.keep[-1]]).strip()
        if (_is_strong_footer(last) and len(last) < 80) or EMPTY_LABEL_RE.match(last):
            rep.keep.pop()
        else:
            break
