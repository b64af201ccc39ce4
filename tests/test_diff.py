"""Chinese diffs split on sentences and mark characters, never whitespace tokens."""

from __future__ import annotations

import pytest

from qmcrawler.monitor.diff import diff_fields, diff_text, mark_chars, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("第一句。第二句！第三句？第四句；", ["第一句。", "第二句！", "第三句？", "第四句；"]),
        ("width folded!yes?ok;", ["width folded!", "yes?", "ok;"]),
        ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
        ("第一段没有句号\n第二段。", ["第一段没有句号", "第二段。"]),
        ("", []),
        ("  \n  ", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_one_digit_edit_is_one_sentence_with_marks() -> None:
    old = "今年的活动以质量提升为主题。共33个部门联合开展160项活动。会议强调要加强监管。"
    new = "今年的活动以质量提升为主题。共34个部门联合开展166项活动。会议强调要加强监管。"
    diff = diff_text(old, new)
    assert diff.splitlines() == [
        "@@ 第1句 @@",
        "  今年的活动以质量提升为主题。",
        "- 共33个部门联合开展160项活动。",
        "+ 共34个部门联合开展166项活动。",
        "? 共[-33-]{+34+}个部门联合开展[-160-]{+166+}项活动。",
        "  会议强调要加强监管。",
    ]


def test_insertion_and_deletion_without_question_line() -> None:
    diff = diff_text("甲。乙。丙。", "甲。丙。丁。").splitlines()
    assert "- 乙。" in diff
    assert "+ 丁。" in diff
    assert not any(line.startswith("?") for line in diff)


def test_equal_texts_have_no_diff() -> None:
    assert diff_text("相同。", "相同。") == ""


def test_context_is_trimmed_on_long_sentences() -> None:
    old = "前" * 40 + "旧" + "后" * 40
    new = "前" * 40 + "新" + "后" * 40
    marked = mark_chars(old, new)
    assert marked.startswith("…")
    assert marked.endswith("…")
    assert "[-旧-]{+新+}" in marked
    assert len(marked) < 40


def test_diff_fields_lists_metadata_then_text() -> None:
    old = {"title": "通知", "text": "甲。", "publish_time": "2018-08-31", "attachments": []}
    new = {
        "title": "通知（更正）",
        "text": "乙。",
        "publish_time": "2018-08-31",
        "attachments": [{"url": "http://x/a.xls", "name": "活动安排表.xls"}],
    }
    diff = diff_fields(old, new, ["title", "text", "attachments"])
    lines = diff.splitlines()
    assert lines[:3] == ["- title: 通知", "+ title: 通知（更正）", "? title: 通知{+（更正）+}"]
    assert "- attachments: （无）" in lines
    assert "+ attachments: 活动安排表.xls" in lines
    assert "- 甲。" in lines
    assert "+ 乙。" in lines
