"""A generated mini-web for the benchmarks: N realistic Chinese article pages behind list pages.

Every article is 10-30 KB of HTML: a regulator's site chrome (header, navigation, breadcrumb,
a related-news sidebar, a footer with ICP lines), a title, a 发布时间/来源 line, a view counter
and 8-40 paragraphs of Chinese text drawn from a fixed vocabulary with a seeded generator, so
the same N gives the same bytes. List pages (`/news/index.html`, `index_1.html` …) link
`PER_LIST` articles each. `edit(root, ids, round)` rewrites one sentence of some articles, the
way a publisher corrects a notice.
"""

from __future__ import annotations

import random
from pathlib import Path

#: articles linked from one list page
PER_LIST = 50
#: the sites.toml for a generated site; `{base}` is the server origin
CONFIG = """[sites.bench]
name = "基准测试站"
start_urls = ["{base}/news/index.html"]
allowed_domains = ["127.0.0.1"]
follow = ['/news/index_\\d+\\.html$']
articles = ['/news/art/\\d+/t\\d+\\.html$']
max_list_pages = {lists}
"""
#: appended to CONFIG when a bench must fetch every page in one run (the default budget is 500)
WHOLE_SITE = "max_fetches_per_run = 1000000\n"

_WORDS = (
    "质量月",
    "市场监管总局",
    "产品质量",
    "标准化",
    "计量",
    "认证认可",
    "检验检测",
    "质量强国",
    "高质量发展",
    "企业主体责任",
    "消费者权益",
    "安全生产",
    "监督抽查",
    "品牌建设",
    "质量提升",
    "专项行动",
    "地方各级",
    "有关部门",
    "重点工业产品",
    "食品安全",
    "特种设备",
    "知识产权",
    "营商环境",
    "数字化转型",
    "中小企业",
    "质量基础设施",
    "首席质量官",
    "全面质量管理",
    "群众性质量活动",
    "质量诚信",
    "服务质量",
    "工程质量",
    "宣传教育",
    "社会共治",
    "统筹推进",
    "贯彻落实",
)
#: common characters: random 2-4 character words from these keep pages' texts (and SimHashes) apart
_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因"
    "由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问"
    "意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山"
    "统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质监督检测标准认证安全企业服务"
)
_JOIN = ("，", "，", "、", "和", "与", "进一步", "切实", "持续", "全面", "扎实推进", "不断加强")
_END = ("。", "。", "。", "；", "！")
_SOURCES = ("市场监管总局", "质量发展局", "新华社", "人民网", "中国质量报")


def _word(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(_WORDS)
    return "".join(rng.choice(_CHARS) for _ in range(rng.randint(2, 4)))


def sentence(rng: random.Random) -> str:
    """One Chinese sentence of 20-70 characters: topic words and random words, joined."""
    parts = [_word(rng)]
    for _ in range(rng.randint(4, 12)):
        parts += [rng.choice(_JOIN), _word(rng)]
    return "".join(parts) + rng.choice(_END)


def article_text(i: int) -> tuple[str, list[str]]:
    """Title and paragraphs of article `i` (deterministic)."""
    rng = random.Random(i)
    title = f"关于开展第{i}批{rng.choice(_WORDS)}{rng.choice(_WORDS)}工作的通知"
    paragraphs = ["".join(sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(18, 55))]
    return title, paragraphs


def _chrome_top(title: str) -> str:
    nav = "".join(f'<li><a href="/news/col{c}/index.html">栏目{c}</a></li>' for c in range(14))
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<title>{title}_基准测试站</title><meta name="keywords" content="质量月,质量强国">'
        '<link rel="stylesheet" href="/css/main.css"><script src="/js/jquery.min.js"></script></head>'
        '<body><div class="header"><div class="logo"><a href="/">国家市场监督管理总局</a></div>'
        f'<ul class="nav">{nav}</ul><div class="search"><form action="/search">'
        '<input name="q" placeholder="请输入关键词"></form></div></div>'
        '<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/news/index.html">新闻</a>'
        " &gt; 正文</div>"
    )


def _chrome_bottom(i: int) -> str:
    related = "".join(
        f'<li><a href="/news/art/{(i + k) % 97}/t{i + k}.html">相关新闻：第{i + k}批质量提升行动</a>'
        f"<span>2024-09-{(k % 28) + 1:02d}</span></li>"
        for k in range(1, 16)
    )
    return (
        f'<div class="sidebar"><h3>相关新闻</h3><ul>{related}</ul></div>'
        '<div class="share">分享到：<a href="#">微信</a><a href="#">微博</a></div>'
        '<div class="footer"><p>主办单位：国家市场监督管理总局 网站标识码：bm30000012</p>'
        "<p>京ICP备18022388号 京公网安备11010202008015号</p><p>地址：北京市海淀区马甸东路9号</p>"
        "</div></body></html>"
    )


def article_html(i: int, paragraphs: list[str] | None = None) -> str:
    """The full page of article `i` (optionally with edited paragraphs)."""
    title, default = article_text(i)
    body = "".join(f"<p>{p}</p>" for p in (paragraphs if paragraphs is not None else default))
    day = i % 28 + 1
    return (
        _chrome_top(title) + '<div class="article">'
        f'<h1 class="title">{title}</h1><div class="info">发布时间：2024-09-{day:02d} 09:{i % 60:02d}'
        f"　来源：{_SOURCES[i % len(_SOURCES)]}　浏览次数：{i * 7 % 1000}</div>"
        f'<div class="content" id="zoom">{body}</div></div>' + _chrome_bottom(i)
    )


def article_path(i: int) -> str:
    """Server path of article `i`."""
    return f"/news/art/{i % 97}/t{i}.html"


def list_path(n: int) -> str:
    """Server path of list page `n` (0 is the column's first page)."""
    return "/news/index.html" if n == 0 else f"/news/index_{n}.html"


def build(root: Path, pages: int) -> int:
    """Write `pages` articles and their list pages under `root`; return the number of list pages."""
    lists = (pages + PER_LIST - 1) // PER_LIST
    for i in range(pages):
        path = root / article_path(i).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_html(i), encoding="utf-8")
    for n in range(lists):
        items = "".join(
            f'<li><a href="{article_path(i)}">{article_text(i)[0]}</a></li>'
            for i in range(n * PER_LIST, min(pages, (n + 1) * PER_LIST))
        )
        pager = "".join(f'<a href="{list_path(k)}">{k + 1}</a>' for k in range(max(0, n - 3), min(lists, n + 4)))
        html = (
            _chrome_top("新闻") + f'<ul class="list">{items}</ul><div class="pager">{pager}</div>' + _chrome_bottom(n)
        )
        (root / list_path(n).lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / list_path(n).lstrip("/")).write_text(html, encoding="utf-8")
    return lists


def edit(root: Path, ids: list[int], round_no: int) -> int:
    """Rewrite one sentence in each of these articles; return the UTF-8 bytes of their new text."""
    changed = 0
    for i in ids:
        title, paragraphs = article_text(i)
        k = (i + round_no) % len(paragraphs)
        paragraphs[k] = f"（第{round_no}次更正）" + paragraphs[k]
        (root / article_path(i).lstrip("/")).write_text(article_html(i, paragraphs), encoding="utf-8")
        changed += len((title + "\n".join(paragraphs)).encode("utf-8"))
    return changed
