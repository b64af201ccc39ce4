"""Authors from the visible text: datelines, bylines and trailing signatures (DOMAIN.md §7).

Reporter names live in the text rather than in meta tags: `新华社北京9月1日电（记者 张三 李四）`,
`本报记者 张三`, `文/张三`, `作者：张三`, a last line `（记者 张三）` or `（张三 李四）`. The editor
(`责任编辑`, `责编`, `编辑`) is never the author: a span that names one is rejected. Precedence:
dateline → byline line near the title or at the top of the body → signature at the end of the body.
Hand-written: no library reads Chinese bylines; the patterns are the ones of DOMAIN.md §7.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from qmcrawler.extraction.vocab import META_LABELS

#: Roles that precede reporter names (`本报记者`, `总台记者`, `实习生`, `通讯员`, `特约撰稿人`); the
#: prefixes are listed, not guessed, so `周炜本报记者` splits as `周炜` + `本报记者`.
_PREFIX = (
    r"(?:本报|本台|本网|本刊|本社|总台|新华社|新华网|人民网|央视|央广|中新社|中新网|[信晨晚日商]报"
    r"|特约|见习|实习|首席|特派|驻[\u4e00-\u9fff]{1,3})"
)
#: `作者` and `文` count only with a separator (`文/张三`, `作者：张三`), else `文明城市` would be a byline.
_ROLE = rf"(?:{_PREFIX}{{0,2}}(?:记者|通讯员|实习生|撰稿人?|评论员)\s*[:：]?|(?:作者|撰文|图文|文)\s*[:：/／])"
#: A name: 2–4 Han characters (an optional `·` part for transliterated names) or a Latin name,
#: ending where the Han text ends or a role, `发自`, `报道` or `摄` begins (`记者从…获悉` is no byline).
_NAME = (
    r"(?:[\u4e00-\u9fff]{2,4}(?:[·・][\u4e00-\u9fff]{1,6})?|[A-Za-z][A-Za-z .]{1,30}[A-Za-z])"
    rf"(?=$|[^\u4e00-\u9fff]|发自|报道|摄|{_ROLE})"
)
_NAMES = rf"{_NAME}(?:\s*[、，,\s]\s*{_NAME}){{0,7}}"
#: `…电（记者 张三 李四）`, `…讯 (通讯员 王五)`: the dateline at the start of the first body lines.
_DATELINE = rf"^.{{0,40}}?[电讯]\s*[（(]\s*((?:{_ROLE}\s*)?{_NAMES}(?:\s*{_ROLE}\s*{_NAMES})*)\s*[）)]"
#: A byline line (after at most a short desk name): `记者 张三`, `本报记者 张三 李四`, `文/张三`,
#: `作者：张三`, `本报记者罗科苏盈发自北京`.
_BYLINE = rf"^(?:[^\s，。]{{2,14}}\s+)?[【\[（(]?\s*({_ROLE}\s*{_NAMES}(?:\s*{_ROLE}\s*{_NAMES})*)"
#: A signature closing the body, alone or after the last sentence: `（记者 张三）`, `…。(信报记者 蔡雪婧)`,
#: `（张三 李四）`; `图说：…(林宜静摄)` and `模特儿╱黄丞妮(小罗家族)` are captions, not signatures.
_SIGNATURE = rf"(?:^|[。！？!?”\"])\s*[（(]\s*((?:{_ROLE}\s*)?{_NAMES})\s*[）)]\s*$"
_ROLE_RE = re.compile(_ROLE)
_SPLIT = re.compile(r"\s*[、，,]\s*|\s+")
#: Words that look like names in a trailing `（…）` but are not people.
_NOT_NAMES = frozenset(
    {
        *("完", "待续", "未完待续", "全文完", "图", "组图", "资料图", "本报", "本刊", "本台", "本网"),
        *("新华社", "中新社", "中新网", "人民网", "央视", "央视网", "新华网", "记者", "通讯员", "编辑"),
        *("责编", "摄影", "摄", "供图", "综合", "综述", "转载", "来源", "原标题", "图片", "视频", "特稿"),
        *("专稿", "详见", "见附件", "附件"),
    }
)
#: Endings of organisations, not people (`质量发展局`, `人民日报社`).
_ORG_END = re.compile(r"(?:社|网|报|台|部|局|委|院|会|办|厅|处|司|所|站|中心|公司|集团|政府|频道|日报|晚报|新闻)$")
_EDITOR = re.compile(r"编辑|责编|编审|校对|审核|监制|签发|摄|稿源|来源")
#: Lines longer than this are sentences, not bylines.
MAX_BYLINE_CHARS = 60
#: How many lines to scan at the top and at the end of the body.
TOP_LINES = 4
END_LINES = 3


def _names(span: str) -> str | None:
    """The people named in a matched span, roles dropped, joined as written (`、` or a space)."""
    if _EDITOR.search(span):
        return None
    sep = "、" if "、" in span else " "
    names: list[str] = []
    for part in _ROLE_RE.sub(" ", span).split():
        for name in _SPLIT.split(part):
            name = name.strip()
            if len(name) < 2 or name in _NOT_NAMES or name in META_LABELS or _ORG_END.search(name) or name in names:
                continue
            names.append(name)
    return sep.join(names) or None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """The dateline, byline and signature patterns, compiled when first used.

    Compiling the three takes about 0.1 s of CPU (every `[\u4e00-\u9fff]` in them is a 21,000-
    character class that `re` builds one character at a time), which a crawl that finds no new
    page (only 304s and unchanged bytes) never needs.
    """
    return re.compile(pattern)


def _first(pattern: str, lines: Sequence[str], max_chars: int | None) -> str | None:
    for line in lines:
        if max_chars is not None and len(line) > max_chars:
            continue
        m = _compiled(pattern).search(line)
        if m:
            found = _names(m.group(1))
            if found:
                return found
    return None


def byline_author(near: Sequence[str], top: Sequence[str], end: Sequence[str]) -> str | None:
    """The author named by a dateline, a byline or a signature; None when the text names none.

    `near`: the metadata lines after the title; `top`/`end`: the first and last body lines.
    """
    return (
        _first(_DATELINE, top[:TOP_LINES], None)
        or _first(_BYLINE, [*near, *top[:TOP_LINES]], MAX_BYLINE_CHARS)
        or _first(_BYLINE, list(end[-END_LINES:]), MAX_BYLINE_CHARS // 2)
        or _first(_SIGNATURE, list(end[-END_LINES:]), None)
    )
