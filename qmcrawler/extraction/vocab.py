"""Vocabularies as data: tags, class/id keywords, line markers and labels (DOMAIN.md §5, §7)."""

from __future__ import annotations

import re


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated vocabulary words."""
    return tuple(text.split())


#: Removed with their content before text extraction (`rt`/`rp` so real ruby reads like F06 stripped).
DROP_TAGS: frozenset[str] = frozenset(
    _words(
        """
    script style noscript iframe button select textarea input rt rp ins svg canvas object
    embed template head video audio map link meta
    """
    )
)

#: class/id parts (split on `-`, `_` and spaces) that mark boilerplate containers.
BOILERPLATE_PARTS: frozenset[str] = frozenset(
    _words(
        """
    share bdshare bshare relate related xg recommend tjyd hot rank ranking paihang footer
    foot copyright banquan bottom nav navbar menu breadcrumb breadcrumbs position crumb
    crumbs print font zoom qrcode ewm sweep erweima comment comments pinglun ad ads advert
    advertisement guanggao prev next sxp page pagination pager jiucuo advise sidebar side
    aside login register search subscribe topbar toolbar tags keyword keywords weixin wechat
    weibo
    """
    )
)
#: Whole class/id values that are boilerplate even though their parts are not.
BOILERPLATE_VALUES: frozenset[str] = frozenset(
    {"fl_share", "xgxw", "xgwz", "tjyd", "rwb_tjyd", "xglj", "fenxiang", "dibu", "ditu", "youlian"}
)
#: Never remove an element holding at least this share of the page's text by keyword alone.
KEYWORD_GUARD_SHARE = 0.45

#: Tags that end a text block when linearizing the DOM.
BLOCK_TAGS: frozenset[str] = frozenset(
    _words(
        """
    p div td th tr table tbody thead tfoot li ul ol dl dt dd h1 h2 h3 h4 h5 h6 section
    article header footer aside nav main blockquote pre address figure figcaption center
    form fieldset legend hr br caption details summary body html
    """
    )
)
HEADING_TAGS: frozenset[str] = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

#: Placeholders of bodies filled by JavaScript.
JS_PLACEHOLDERS: tuple[str, ...] = (
    "加载中",
    "正在加载",
    "请开启javascript",
    "请启用javascript",
    "enable javascript",
    "javascript is disabled",
    "需要启用javascript",
    "您的浏览器不支持javascript",
    "loading",
)

_SEP = r"\s*[:：]\s*"
#: Metadata labels (longest first so that `发布时间` wins over `时间`).
META_LABELS: tuple[str, ...] = _words(
    """
    信息来源 稿件来源 文章来源 新闻来源 来源 作者 撰稿 供稿 记者 通讯员 发布时间 发布日期 发表时间
    发表日期 更新时间 更新日期 上传时间 时间 日期 点击量 点击数
    点击 浏览次数 浏览量 浏览 阅读量 阅读数 阅读 访问量 人气 责任编辑 编辑 责编 审核 校对 字号 关键词 标签
    """
)
SOURCE_LABELS = frozenset({"信息来源", "稿件来源", "文章来源", "新闻来源", "来源"})
AUTHOR_LABELS = frozenset({"作者", "撰稿", "供稿", "记者", "通讯员"})
DATE_LABELS = frozenset({"发布时间", "发布日期", "发表时间", "发表日期", "时间", "日期", "上传时间"})
VIEW_LABELS = frozenset(
    {"点击量", "点击数", "点击", "浏览次数", "浏览量", "浏览", "阅读量", "阅读数", "阅读", "访问量", "人气"}
)
EDITOR_LABELS = frozenset({"责任编辑", "编辑", "责编"})
KEYWORD_LABELS = frozenset({"关键词", "标签"})
LABEL_RE = re.compile(r"(?:^|(?<=[\s|丨/【\[(\d）】\]]))(" + "|".join(META_LABELS) + r")" + _SEP)

#: Placeholder authors (DOMAIN.md §7).
PLACEHOLDER_AUTHORS: frozenset[str] = frozenset(
    {"admin", "administrator", "管理员", "佚名", "本站", "网络", "未知", "匿名", "系统管理员", "root"}
)

#: Headers of related-content widgets: the header and its list-like lines are dropped.
RELATED_HEADERS: tuple[str, ...] = _words(
    """
    猜你喜欢 相关新闻 相关阅读 推荐阅读 热点推荐 相关稿件 关联稿件 相关文章 相关信息 相关内容
    热门资讯 延伸阅读 精彩推荐 本月排行 排行榜 图片新闻 热门推荐 相关链接
    热门文章 最新文章 热点新闻 今日推荐 为您推荐 更多阅读
    """
)
RELATED_RE = re.compile(r"^[【\[]?(?:" + "|".join(RELATED_HEADERS) + r")[】\]]?\s*[:：>»]*\s*(?:更多.{0,4})?$")

#: Whole-line boilerplate, each pattern anchored at the line start (`^`).
_DROP_LINES = (
    r"^(?:\.\.\.|…)?更多(?:>>|»|>|栏目|内容)?$",
    r"^(?:加载更多|查看更多|点击查看更多|阅读全文|展开全文|点击加载更多)",
    r"^分享到[:：]?",
    r"^(?:扫一扫在手机打开当前页|微信扫一扫|扫描二维码|关注新华网|下载客户端|用微信扫描二维码)",
    r"^【?纠错】?$",
    r"^(?:当前位置|您当前所在位置|您现在的位置|当前的位置|所在位置|您的位置)\s*[:：]",
    r"^首页\s*[>»›]",
    r"^(?:上一篇|下一篇|上一条|下一条|上一页|下一页|返回顶部|返回列表|返回首页)",
    r"^(?:无障碍浏览|长者模式|繁體|简体版|登录|注册|搜索|请输入验证码)$",
    r"^\.[A-Za-z_][\w-]*\s*[^{]*\{",
    r"^(?:_showDynClicks|document\.write)\(",
    r"^【?(?:打印本页|关闭窗口|打印|收藏|关闭|字体|字号|大 中 小|返回)】?"
    r"(?:\s*【?(?:打印本页|关闭窗口|打印|收藏|关闭|返回顶部)】?)*$",
    r"^(?:字号|背景颜色|字体)\s*[:：]",
    r"^[\[【(]\d{1,6}[\]】)]$",
    # a date widget whose pieces ran together (news.cn: `202309/0118:20:00`), or a lone date value
    r"^(?=[\d\s/:.\-]{8,25}$)(?=.*[/:\-])[\d\s/:.\-]+$",
)
DROP_LINE_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in _DROP_LINES)
#: DROP_LINE_RES as one pattern for `match` (each is anchored at the start and has no group or
#: flag of its own): one call per line instead of one per pattern (tests/test_fast_paths.py)
DROP_LINE_RE = re.compile("|".join(f"(?:{p.removeprefix('^')})" for p in _DROP_LINES))
#: Tokens stripped from inside a line (the print/font widgets often share the metadata line).
STRIP_TOKEN_RE = re.compile(
    r"【\s*(?:字号|字体)[:：]?\s*(?:默认\s*)?大\s*中\s*小\s*】?"
    r"|【\s*(?:打印本页|打印|关闭窗口|关闭|收藏|纠错|返回顶部)\s*】?"
    r"|(?:字号|字体)\s*[:：]\s*(?:默认\s*)?大\s*(?:中\s*)?(?:小|超大)|\[(?:打印|关闭|收藏)\]"
)

#: Copyright / ICP / footer markers; two such lines in a row start the footer.
FOOTER_RE = re.compile(
    r"(?:版权所有|©|\(c\)\s*\d{4}|copyright|all rights reserved|[il]cp备\s*\d+号|[il]cp证|公网安备\s*\d+号"
    r"|网站标识码|^主办单位\s*[:：]|^承办单位|^运行维护单位|^技术支持\s*[:：]|未经(?:书面)?授权\s*[,，]?\s*(?:禁止|不得)"
    r"|^声明\s*[:：]\s*凡本网|^网站联系邮箱|^联系电话\s*[:：]|^地址\s*[:：]|^邮编\s*[:：]|联系我们\s*\|"
    r"|^网站地图|^关于我们|建议(?:使用|采用).{0,40}(?:浏览器|分辨率))",
    re.IGNORECASE,
)
#: Text that every FOOTER_RE match contains, lower-cased; a line without any of them has no footer
#: marker, which is cheaper to tell than scanning it with FOOTER_RE's two dozen alternatives. The
#: Latin pieces avoid `i`, `k` and `s`, which IGNORECASE also matches with `ı`, `İ`, `K` and `ſ`.
_FOOTER_PIECES = _words(
    "版权所有 © (c opyr rved cp备 cp证 公网安备 网站标识码 主办单位 承办单位 运行维护单位 技术支持 未经 声明 "
    "网站联系邮箱 联系电话 地址 邮编 联系我们 网站地图 关于我们 建议"
)
#: literals only: re finds them with its first-character skip, not by trying every alternative everywhere
_FOOTER_PIECE_RE = re.compile("|".join(map(re.escape, _FOOTER_PIECES)))


def footer_marker(text: str) -> bool:
    """Does `text` hold a copyright / ICP / footer marker (`FOOTER_RE.search`)?"""
    low = text.lower()
    return _FOOTER_PIECE_RE.search(low) is not None and FOOTER_RE.search(text) is not None


#: Footer markers that a notice's own text also has (its contact lines: `联系电话：`, `地址：`, `邮编：`):
#: alone, or next to one another, they never end the body; next to a stronger footer marker they do.
WEAK_FOOTER_RE = re.compile(r"^(?:联系电话|地址|邮编|联系人|传真|电子邮箱|邮箱)\s*[:：]")
#: Editor lines: `(责编:A、B)`, `责任编辑:X`, `编辑:X`, `【纠错】 责任编辑:X`.
EDITOR_RE = re.compile(
    r"^[(\[【]?(?:【纠错】\s*)?(?:责编|责任编辑|编辑|审核|校对|值班编辑|实习编辑)\s*[:：]\s*(?P<v>[^)\]】]*)[)\]】]?\s*$"
)
#: End-of-article mark.
END_MARK_RE = re.compile(r"^[(（]完[)）]$")
#: A list-widget line: a bare date, or a snippet ending in `…更多`.
LIST_DATE_RE = re.compile(r"^[\[(]?\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?[\])]?$")
SNIPPET_MORE_RE = re.compile(r"(?:\.\.\.|…)\s*(?:更多|详细|\[详细\]|全文)?\s*(?:>>)?$|更多(?:>>)?$")
#: Section label lines before the title (`新闻中心 News`).
SECTION_LABEL_RE = re.compile(r"^[•·\-\s]*[\u4e00-\u9fff]{2,6}\s*[A-Za-z ]{0,12}$")

#: Spam keyword blocklist (adult / gambling terms injected by mirrors).
SPAM_TERMS: tuple[str, ...] = _words(
    """
    澳门赌场 网上赌场 百家乐 赌博 博彩 六合彩 时时彩 老虎机 真人娱乐 彩票网 成人网站 色情 黄色网站
    av女优 一夜情 av电影 成人视频 娱乐城 威尼斯人 葡京
    """
)

#: Attachment file extensions.
ATTACHMENT_EXTS: tuple[str, ...] = _words(
    """
    .pdf .doc .docx .xls .xlsx .wps .ofd .zip .rar .et
    """
)

#: `<meta>` names (lower-cased) per field, in precedence order (DOMAIN.md §3).
META_TITLE = ("articletitle", "og:title", "twitter:title")
META_DATE = _words(
    """
    pubdate publishdate article:published_time og:release_date publish_date publishtime
    datepublished release_date dc.date date
    """
)
META_SOURCE = ("contentsource", "source")
META_AUTHOR = ("author", "article:author")
META_KEYWORDS = ("keywords",)
META_SITENAME = ("sitename", "og:site_name")
#: A block that names an attachment (kept even when it is mostly a link).
ATTACHMENT_TEXT_RE = re.compile(r"^\s*附件|\.(?:" + "|".join(e[1:] for e in ATTACHMENT_EXTS) + r")\s*$", re.IGNORECASE)
#: Start of a comment or discussion area: ends the body.
COMMENT_START_RE = re.compile(
    r"^(?:网友评论|发表评论|我要评论|评论区|新闻讨论|新闻讨论规范|发表文章|已有\d+人(?:参与|评论)|查看全部评论)"
    r"(?:\s*[:：>].*)?$|^评论$"
)
