"""Classifying a download before extraction: content, gone (404/soft-404), blocked or failed.

DOMAIN.md §9 is the table this implements. A blocked or failed download must never look like
a removal, so "gone" needs positive evidence: 404/410, a short page that says it does not
exist, or a redirect from an article to a page that is not an article (home, column index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qmcrawler.changes import BLOCKED, CONTENT, FAILED, GONE, NOT_MODIFIED

SOFT_404_MARKERS = (
    "页面不存在", "您访问的页面不存在", "访问的页面不存在", "页面已删除", "信息已删除", "已被删除",
    "已撤稿", "文章不存在", "该信息不存在", "404 Not Found", "Page Not Found",
)
BLOCK_MARKERS = ("请求频繁", "频繁重复请求", "访问过于频繁", "访问频率过高", "请输入验证码", "安全验证")
BLOCK_STATUSES = {403, 412, 429, 521}
GONE_STATUSES = {404, 410}
PERMANENT_REDIRECTS = {301, 308}
#: a page with less visible text than this may be a soft-404 or a challenge page
SHORT_PAGE_CHARS = 600

_TAGS = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<[^>]+>", re.S | re.I)
_SPACE = re.compile(r"\s+")
_CHALLENGE = re.compile(r"document\.cookie|\$_ts|__jsluid|_0x[0-9a-f]{4}", re.I)
_HTML_TYPE = re.compile(r"text/html|application/xhtml|text/xml|text/plain", re.I)


@dataclass(frozen=True)
class Verdict:
    """The observation kind for qmcrawler.changes, a short machine-readable reason, and a move."""

    kind: str
    reason: str = ""
    moved_to: str | None = None


def visible_text(html: str) -> str:
    """Cheap tag-stripped text, good enough to measure and search a short page."""
    return _SPACE.sub(" ", _TAGS.sub(" ", html)).strip()


def classify(
    status: int,
    html: str,
    content_type: str = "text/html",
    redirect_statuses: tuple[int, ...] = (),
    final_is_article: bool = True,
    final_url: str | None = None,
) -> Verdict:
    """Classify one response for a monitored page."""
    if status == 304:
        return Verdict(NOT_MODIFIED, "http_304")
    if status in GONE_STATUSES:
        return Verdict(GONE, f"http_{status}")
    if status in BLOCK_STATUSES:
        return Verdict(BLOCKED, f"http_{status}")
    if status >= 500:
        return Verdict(FAILED, f"http_{status}")
    if status >= 400 or status < 200:
        return Verdict(FAILED, f"http_{status}")
    if redirect_statuses and not final_is_article:
        return Verdict(GONE, "redirect_to_non_article")
    if content_type and not _HTML_TYPE.search(content_type):
        return Verdict(FAILED, "not_html")
    text = visible_text(html)
    if len(text) < SHORT_PAGE_CHARS:
        if any(m in text for m in BLOCK_MARKERS):
            return Verdict(BLOCKED, "rate_limited")
        if any(m in text for m in SOFT_404_MARKERS):
            return Verdict(GONE, "soft_404")
        if len(text) < 50 and _CHALLENGE.search(html):
            return Verdict(BLOCKED, "js_challenge")
    moved_to = None
    if redirect_statuses and all(s in PERMANENT_REDIRECTS for s in redirect_statuses) and final_url:
        moved_to = final_url
    return Verdict(CONTENT, moved_to=moved_to)
