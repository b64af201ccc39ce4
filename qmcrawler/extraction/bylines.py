"""Authors from the visible text: datelines, bylines and trailing signatures (DOMAIN.md §7).

Reporter names live in the text rather than in meta tags: `新华社北京9月1日电（记者 张三 李四）`,
`本报记者 张三`, `文/张三`, `作者：张三`, a last line `（记者 张三）` or `（张三 李四）`. The editor
(`责任编辑`, `责编`, `编辑`) is never the author: a span that names one is rejected. Precedence:
dateline → byline line near the title or at the top of the body → signature at the end of the body.
A byline may run over two lines (`本报实习生 张三` / `本报记者 李四 王五`): both are read. Old portal
bylines put the name in brackets before the source (`2004年7月16日 [ 张三 ] 来源：[ 某报 ]`); essays and
papers put the names alone on a line under the title (`张三、李四`), accepted only when each starts
with a common surname. Hand-written: no library reads Chinese bylines; the patterns are DOMAIN.md §7.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from qmcrawler.extraction.vocab import META_LABELS


class _Lazy:
    """A pattern compiled when first used.

    Compiling the byline patterns takes about 0.1 s of CPU (every `[\u4e00-\u9fff]` in them is a
    21,000-character class that `re` builds one character at a time), which a crawl that finds
    no new page (only 304s and unchanged bytes) never needs.
    """

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    def _pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self._pattern().search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self._pattern().match(text)

    def sub(self, repl: str, text: str) -> str:
        return self._pattern().sub(repl, text)


#: Roles that precede reporter names (`本报记者`, `总台记者`, `实习生`, `通讯员`, `特约撰稿人`); the
#: prefixes are listed, not guessed, so `周炜本报记者` splits as `周炜` + `本报记者`.
_PREFIX = (
    r"(?:本报|本台|本网|本刊|本社|总台|新华社|新华网|人民网|央视|央广|中新社|中新网|[信晨晚日商]报"
    r"|特约|见习|实习|首席|特派|驻[\u4e00-\u9fff]{1,3})"
)
#: `作者` and `文` count only with a separator (`文/张三`, `作者：张三`), else `文明城市` would be a byline.
_ROLE = rf"(?:{_PREFIX}{{0,2}}(?:记者|通讯员|实习生|撰稿人?|评论员)\s*[:：]?|(?:作者|撰文|图文|文)\s*[:：/／])"
#: A name: 2–4 Han characters (an optional `·` part for transliterated names) or a Latin name,
#: ending where the Han text ends or a role, `发自`, `报道` or `摄` begins (`记者从…获悉` is no byline);
#: a Latin word followed by `=` or a quote is markup debris (`作者: size="20"`), not a name.
_NAME = (
    r"(?:[\u4e00-\u9fff]{2,4}(?:[·・][\u4e00-\u9fff]{1,6})?|[A-Za-z][A-Za-z .]{1,30}[A-Za-z](?![A-Za-z=\"'<>]))"
    rf"(?=$|[^\u4e00-\u9fff]|发自|报道|摄|{_ROLE})"
)
_NAMES = rf"{_NAME}(?:\s*[、，,\s]\s*{_NAME}){{0,7}}"
#: `…电（记者 张三 李四）`, `…讯 (通讯员 王五)`: the dateline at the start of the first body lines.
_DATELINE = _Lazy(rf"^.{{0,40}}?[电讯]\s*[（(]\s*((?:{_ROLE}\s*)?{_NAMES}(?:\s*{_ROLE}\s*{_NAMES})*)\s*[）)]")
#: A byline line (after at most a short desk name): `记者 张三`, `本报记者 张三 李四`, `文/张三`,
#: `作者：张三`, `本报记者罗科苏盈发自北京`.
_BYLINE = _Lazy(rf"^(?:[^\s，。]{{2,14}}\s+)?[【\[（(]?\s*({_ROLE}\s*{_NAMES}(?:\s*{_ROLE}\s*{_NAMES})*)")
#: A signature closing the body, alone or after the last sentence: `（记者 张三）`, `…。(信报记者 蔡雪婧)`,
#: `（张三 李四）`; `图说：…(林宜静摄)` and `模特儿╱黄丞妮(小罗家族)` are captions, not signatures.
_SIGNATURE = _Lazy(rf"(?:^|[。！？!?”\"])\s*[（(]\s*((?:{_ROLE}\s*)?{_NAMES})\s*[）)]\s*$")
#: `[ 张三 ] 来源：` on a dateline: a bracketed name just before the source label.
_BRACKETED = _Lazy(rf"[\[【]\s*({_NAMES})\s*[\]】]\W{{0,4}}(?:来源|稿件来源|信息来源)\s*[:：]")
#: A line that is only names: `张三`, `张三、李四`, `张三 李四`.
_NAME_LINE = _Lazy(r"^[\u4e00-\u9fff]{2,4}(?:\s*[、，,]\s*[\u4e00-\u9fff]{2,4}|\s+[\u4e00-\u9fff]{2,4}){0,5}$")
#: Common single and compound surnames (the usual 百家姓 ranking's head): a bare name line counts
#: only when every name starts with one, so `附件`, `导航`, `简报` lines are not authors.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯"
    "纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪"
    "简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎"
    "甄丛仲虞敖巩明佘池查麻苑迟邝风鞠"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
)
#: Words of page furniture and places that begin with a surname character.
_NOT_BARE_NAMES = frozenset(
    {
        *("关闭", "关注", "简介", "简报", "时间", "时政", "文章", "全文", "高级", "方案", "程序", "明细", "常见问题"),
        *(
            "江苏",
            "江西",
            "安徽",
            "吉林",
            "宁夏",
            "甘肃",
            "黄山",
            "金华",
            "温州",
            "常州",
            "邵阳",
            "岳阳",
            "武汉",
            "成都",
        ),
        *("国内", "国际", "万年", "石油", "金融", "黄金", "白银", "安全", "和平", "华夏", "明星", "于是", "杜绝"),
    }
)
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
ORG_END_RE = _ORG_END = re.compile(
    r"(?:社|网|报|台|部|局|委|院|会|办|厅|处|司|所|站|中心|公司|集团|政府|频道|日报|晚报|新闻)$"
)
_EDITOR = re.compile(r"编辑|责编|编审|校对|审核|监制|签发|摄|稿源|来源")
#: Lines longer than this are sentences, not bylines.
MAX_BYLINE_CHARS = 60
#: How many lines to scan at the top and at the end of the body.
TOP_LINES = 4
END_LINES = 3
#: How many lines after the title (and at the top of the body) may hold a bare name line.
BARE_LINES = 3


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


def _is_person(name: str) -> bool:
    """Does a bare 2–4 character name start with a common surname (and is it no page word)?"""
    if name in _NOT_BARE_NAMES or name in _NOT_NAMES or name in META_LABELS or _ORG_END.search(name):
        return False
    if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES:
        return True
    return len(name) <= 3 and name[0] in _SURNAMES


def _lead(lines: Sequence[str]) -> list[str]:
    """The short lines before the first sentence of the body (a sub-heading further on is no byline)."""
    out: list[str] = []
    for line in lines:
        if len(line) > MAX_BYLINE_CHARS or "。" in line:
            break
        out.append(line)
    return out


def _bare_names(lines: Sequence[str], title: str | None) -> str | None:
    """Names alone on a line under the title (`张三、李四`): 2–3 characters (4 with a compound
    surname), each starting with a common surname."""
    for line in lines:
        if line == title or not _NAME_LINE.match(line):
            continue
        parts = [p for p in _SPLIT.split(line) if p]
        if parts and all(_is_person(p) for p in parts):
            return ("、" if "、" in line else " ").join(parts)
    return None


def _bracketed(lines: Sequence[str]) -> str | None:
    """`[ 张三 ] 来源：…` on a short dateline: names that all start with a surname."""
    for line in lines:
        m = _BRACKETED.search(line) if len(line) <= MAX_BYLINE_CHARS * 2 else None
        if m:
            found = _names(m.group(1))
            if found and all(_is_person(p) for p in _SPLIT.split(found)):
                return found
    return None


def _first(pattern: _Lazy, lines: Sequence[str], max_chars: int | None, scan: int = 99) -> str | None:
    """The names of the first of the first `scan` lines that matches (a byline: with its continuation)."""
    for i, line in enumerate(lines[:scan]):
        if max_chars is not None and len(line) > max_chars:
            continue
        m = pattern.search(line)
        if m:
            found = _names(m.group(1))
            if found and pattern is _BYLINE:
                found = _more_bylines(found, lines[i + 1 : i + 3], max_chars)
            if found:
                return found
    return None


def _more_bylines(found: str, following: Sequence[str], max_chars: int | None) -> str:
    """A byline continued on the next lines (`本报实习生 张三` / `本报记者 李四 王五`): all the names."""
    sep = "、" if "、" in found else " "
    for line in following:
        m = _BYLINE.match(line) if max_chars is None or len(line) <= max_chars else None
        more = _names(m.group(1)) if m else None
        if not more:
            break
        known = set(found.split(sep))
        found = sep.join([*found.split(sep), *(n for n in _SPLIT.split(more) if n not in known)])
    return found


def byline_author(near: Sequence[str], top: Sequence[str], end: Sequence[str], title: str | None = None) -> str | None:
    """The author named by a dateline, a byline or a signature; None when the text names none.

    `near`: the metadata lines after the title; `top`/`end`: the first and last body lines.
    """
    return (
        _first(_DATELINE, top[:TOP_LINES], None)
        or _first(_BYLINE, [*near, *top[: TOP_LINES + 2]], MAX_BYLINE_CHARS, len(near) + TOP_LINES)
        or _bracketed(near)
        or _first(_BYLINE, list(end[-END_LINES:]), MAX_BYLINE_CHARS // 2)
        or _first(_SIGNATURE, list(end[-END_LINES:]), None)
        or _bare_names([*near[:BARE_LINES], *_lead(top[:BARE_LINES])], title)
    )


#: An author field's value: the name up to the next field (`作者：张三：某大学` → `张三`), and a
#: parenthesised original name kept as written (`周思博 (Joel Spolsky)`).
_FIELD_VALUE = re.compile(r"^([^\s:：|丨;；,，]+)(\s*[（(][A-Za-z][A-Za-z .'-]{1,40}[)）])?")
#: Single characters spaced out to align a two-character name (`赵  培`, `王　红`).
_PADDED = _Lazy(r"^([\u4e00-\u9fff])[\s\u3000]+([\u4e00-\u9fff])(?=$|[^\u4e00-\u9fff])")


#: Page furniture that fills an empty `作者：` field on some templates (`作者： 手机版 点击：`).
_UI_WORDS = frozenset({"手机版", "查看评论", "评论", "打印", "关闭", "收藏", "分享", "返回", "首页", "更多", "登录"})


def field_author(value: str) -> str | None:
    """The name an `作者：` field (or a `<meta name=author>`) gives: padding closed, next field cut;
    None for markup debris (`size="20"`) and page furniture (`手机版`)."""
    value = _PADDED.sub(r"\1\2", value.strip())
    m = _FIELD_VALUE.match(value)
    if not m or not re.fullmatch(r"[\w·・.'-]+", m.group(1)) or m.group(1) in _UI_WORDS:
        return None
    return (m.group(1) + (m.group(2) or ""))[:40]


#: A blog: `blog`/`blogs`/`space` in the host or the first path segment, or 博客 in `<title>`.
_BLOG_URL = re.compile(r"^[a-z]+://(?:[^/]*\b(?:blogs?|space)\b|[^/]*blog[^/]*\.|[^/]+/(?:blogs?|space)/)", re.I)
#: `<title>` naming a blog's owner: `张三的博客`, `张三的个人空间`.
_BLOG_TITLE = re.compile(r"^(.{2,12}?)的(?:博客|个人空间|空间|blog|Blog|BLOG)$")
#: A short name: Han, Latin, digits, `·`, `_`, at most 12 characters, no sentence punctuation.
_OWNER = re.compile(r"^[\w·・ .-]{2,12}$")


def blog_owner(url: str, title_segments: Sequence[str], heading_link: tuple[str, str]) -> str | None:
    """The owner of a blog page, its author when the text names none (DOMAIN.md §7):
    `<title>海姑娘 | blog.example.com</title>`, `<title>…_张三的博客</title>`, or a header
    `<h1><a href="http://blog.example.com/zhangsan/">张三</a></h1>` linking to the blog's home."""
    segs = [s.strip() for s in title_segments if s.strip()]
    for seg in segs:
        m = _BLOG_TITLE.match(seg)
        if m and _OWNER.match(m.group(1)):
            return m.group(1)
    if not url or not _BLOG_URL.match(url):
        return None
    host = (urlsplit(url).hostname or "").lower()
    for i, seg in enumerate(segs[1:], 1):
        site = seg.lower()
        if (site == host or "blog" in site or "博客" in site) and _OWNER.match(segs[i - 1]) and len(segs) == 2:
            return segs[i - 1]
    href, text = heading_link
    if href and _OWNER.match(text):
        home = urlsplit(urljoin(url, href))
        page = urlsplit(url)
        if (
            home.hostname == page.hostname
            and len(home.path.strip("/")) > 0
            and page.path.startswith(home.path.rstrip("/") + "/")
        ):
            return text
    return None
