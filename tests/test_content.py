"""The content hash covers the hashed fields only, canonicalised; options are validated at start-up."""

from __future__ import annotations

import pytest

from qmcrawler.extraction.article import Article, Attachment
from qmcrawler.monitor.content import content_fields, content_hash
from qmcrawler.options import Options, OptionsError

BASE = Article(
    title="关于开展质量月活动的通知",
    text="第一段。\n第二段。",
    publish_time="2018-08-31",
    source="质量发展局",
    views=100,
    editor="张三",
    flags=("t2s_applied",),
)


def h(article: Article) -> str:
    return content_hash(content_fields(article))


def test_volatile_fields_never_enter_the_hash() -> None:
    same = Article(**{**BASE.__dict__, "views": 99999, "editor": "李四", "flags": ()})
    assert h(same) == h(BASE)


def test_whitespace_is_not_content() -> None:
    spaced = Article(**{**BASE.__dict__, "text": "  第一段。 \n\n\n第二段。\u3000", "title": BASE.title + " "})
    assert h(spaced) == h(BASE)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "关于开展质量月活动的通知（更正）"},
        {"text": "第一段。\n第二段改了。"},
        {"publish_time": "2018-09-01"},
        {"source": "办公厅"},
        {"author": "王五"},
        {"attachments": (Attachment(url="http://x/a.xls", name="安排表.xls", ext="xls"),)},
    ],
)
def test_every_hashed_field_counts(change: dict[str, object]) -> None:
    assert h(Article(**{**BASE.__dict__, **change})) != h(BASE)


def test_normalized_forms_are_what_is_hashed() -> None:
    traditional = Article(title="質量月", text="開展質量月活動。", norm_title="质量月", norm_text="开展质量月活动。")
    simplified = Article(title="质量月", text="开展质量月活动。", norm_title="质量月", norm_text="开展质量月活动。")
    assert h(traditional) == h(simplified)
    assert content_fields(traditional)["text"] == "开展质量月活动。"


def test_options() -> None:
    assert Options.from_settings({"QMC_DB": "", "QMC_MIN_TEXT_CHARS": "5"}) == Options(db="", min_text_chars=5)
    with pytest.raises(OptionsError, match="QMC_MIN_TEXT_CHARS must be a whole number"):
        Options.from_settings({"QMC_MIN_TEXT_CHARS": "many"})
    with pytest.raises(OptionsError, match=">= 0"):
        Options.from_settings({"QMC_MIN_TEXT_CHARS": -1})
