"""Authors from bylines, author fields, meta tags and blog headers (DOMAIN.md §7, issue 14).

Each rule has a page that needs it and a page that must not fire it: a wrong author is worse than
none, so navigation words, organisations, the site's own name, markup debris, commenters and
editors are never authors.
"""

from __future__ import annotations

import pytest

from qmcrawler.extraction import extract
from qmcrawler.extraction.bylines import blog_owner, byline_author, field_author

BODY = (
    "<p>为切实做好质量月期间的产品质量监督工作，市场监管部门近日组织执法人员对辖区内的生产企业开展专项检查，"
    "重点查看原材料进货查验、出厂检验记录和不合格品处置情况，对发现的问题当场下达整改指令。</p>"
    "<p>检查中，执法人员还向企业负责人宣讲了产品质量法的有关规定，要求企业落实主体责任，"
    "建立健全质量管理制度，确保出厂产品合格，切实保障消费者的合法权益不受侵害。</p>"
    "<p>下一步，该局将持续加大监督抽查力度，对抽查不合格的企业依法处理，并向社会公开抽查结果，"
    "推动全市产品质量水平稳步提升，为高质量发展营造良好的市场环境。</p>"
)


def page(head: str = "", meta: str = "", top: str = "", title_tag: str = "产品质量专项检查", header: str = "") -> str:
    """A small article page: `<title>`, an optional header, the headline, metadata lines and the body."""
    return (
        f"<html><head><meta charset='utf-8'><title>{title_tag}</title>{head}</head><body>{header}"
        f"<div class='article'><h1>市场监管局开展产品质量专项检查</h1>{meta}"
        f"<div class='content'>{top}{BODY}</div></div></body></html>"
    )


def author(html: str, url: str = "http://www.example.gov.cn/xw/202609/t20260905_1.html") -> str | None:
    return extract(html, url).author


def test_byline_over_two_lines_gives_every_name() -> None:
    top = "<p>本报实习生 钱小二 孙晓三</p><p>本报记者 李思思 周武</p>"
    assert author(page(top=top)) == "钱小二 孙晓三 李思思 周武"


def test_one_line_byline_stops_before_the_body() -> None:
    assert author(page(top="<p>本报记者 李思思</p>")) == "李思思"


def test_bracketed_name_before_source_on_a_dateline() -> None:
    meta = "<div>2004年7月16日08:19 [ 黄大宇 ] 来源：[ 某某金融报 ]</div>"
    assert author(page(meta=meta)) == "黄大宇"


@pytest.mark.parametrize(
    "meta",
    [
        "<div>2004年7月16日08:19 [ 打印 ] 来源：[ 某某金融报 ]</div>",  # page furniture in brackets
        "<div>2004年7月16日08:19 [ 国际金融报 ] 来源：[ 人民网 ]</div>",  # an organisation
        "<div>2004年7月16日08:19 来源：[ 某某金融报 ] [ 黄大宇 ]</div>",  # not before the source label
    ],
)
def test_bracketed_non_names_are_not_authors(meta: str) -> None:
    assert author(page(meta=meta)) is None


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ("<p>胡小平</p>", "胡小平"),
        ("<p>赵延东、风笑天</p>", "赵延东、风笑天"),
        ("<p>欧阳春晓</p>", "欧阳春晓"),  # compound surname: four characters
    ],
)
def test_bare_name_line_under_the_title(top: str, expected: str) -> None:
    assert author(page(top=top)) == expected


@pytest.mark.parametrize(
    "top",
    [
        "<p>简介</p>",  # 简 is a surname, 简介 a page word
        "<p>查看评论</p>",  # four characters without a compound surname
        "<p>导航</p>",  # no surname
        "<p>江苏</p>",  # a province
        "<p>附件、通知</p>",
    ],
)
def test_bare_page_words_are_not_authors(top: str) -> None:
    assert author(page(top=top)) is None


def test_bare_name_after_the_first_paragraph_is_a_subheading_not_a_byline() -> None:
    # an interview's speaker heading further down the body: not the author
    assert byline_author([], ["第一段正文，记者来到现场采访。", "麦田"], []) is None
    assert byline_author([], ["麦田", "第一段正文，记者来到现场采访。"], []) == "麦田"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("赵  培:北京物资学院,北京", "赵培"),  # padded two-character name, affiliation cut
        ("王\u3000红", "王红"),
        ("周思博 (Joel Spolsky)", "周思博 (Joel Spolsky)"),  # the original name kept as written
        ("张三 来源", "张三"),
        ('size="20"', None),  # template debris
        ("手机版", None),  # page furniture filling an empty field
    ],
)
def test_author_field_values(value: str, expected: str | None) -> None:
    assert field_author(value) == expected


def test_author_field_on_a_page() -> None:
    assert author(page(meta="<div>作者： 周思博 (Joel Spolsky)　发布时间：2026-09-05</div>")) == "周思博 (Joel Spolsky)"
    assert author(page(meta='<div>作者: size="20" 来源: size="20" 发布日期: 2026-09-05</div>')) is None
    assert author(page(meta="<div>2026-09-05 来源: 作者: 手机版 点击: 次</div>")) is None


@pytest.mark.parametrize(
    ("head", "title_tag", "url", "expected"),
    [
        ('<meta name="author" content="王小明">', "检查_某某网", "http://www.example.com/a/1.html", "王小明"),
        ('<meta name="author" content="网易">', "检查_网易新闻中心", "http://news.example.com/a/1.html", None),
        ('<meta name="author" content="chinanews">', "检查", "http://www.chinanews.com/it/1.shtml", None),
        ('<meta name="author" content="南方网">', "检查", "http://www.example.com/a/1.html", None),
        ('<meta name="author" content="正北方网">', "检查", "http://www.example.com/a/1.html", None),
    ],
)
def test_meta_author_is_a_person_not_the_site(head: str, title_tag: str, url: str, expected: str | None) -> None:
    assert author(page(head=head, title_tag=title_tag), url) == expected


def test_blog_owner_from_title() -> None:
    url = "http://blog.example.com/archives.php?blogID=18"
    assert author(page(title_tag="海姑娘 | blog.example.com"), url) == "海姑娘"
    assert author(page(title_tag="春游记_山间小路的博客"), "http://www.example.com/p/1.html") == "山间小路"


def test_blog_owner_from_header_link() -> None:
    header = '<div id="top"><h1><a href="http://blog.example.com/lizhong/">李建中</a></h1></div>'
    url = "http://blog.example.com/lizhong/archive/2004/12/27/41810.aspx"
    assert author(page(header=header, title_tag=""), url) == "李建中"


@pytest.mark.parametrize(
    ("url", "title_tag", "link"),
    [
        # not a blog: a news site's header link to its section
        ("http://news.example.com/gn/2026/1.html", "检查 | news.example.com", ("http://news.example.com/gn/", "国内")),
        # a blog whose header links elsewhere (the platform's home)
        ("http://blog.example.com/lizhong/a/1.html", "", ("http://blog.example.com/", "博客首页")),
        # a blog title with the article first: no owner named
        ("http://blog.example.com/lizhong/a/1.html", "春游记 | 随笔 | blog.example.com", ("", "")),
    ],
)
def test_no_blog_owner(url: str, title_tag: str, link: tuple[str, str]) -> None:
    from qmcrawler.extraction.meta import title_segments

    assert blog_owner(url, title_segments(title_tag), link) is None


def test_editor_and_commenters_are_not_authors() -> None:
    # the editor has a field of its own; commenters' names in a blog's comment headers are not the owner
    html = page(top="", meta="<div>（ 责任编辑：魏小喆 ）</div>")
    art = extract(html, "http://www.example.com/a/1.html")
    assert art.author is None
    assert byline_author(["re: 很高兴", "开心就好"], [], []) is None  # 开 is no surname
