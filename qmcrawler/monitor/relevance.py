"""Relevance: a Quality Month score, `is_relevant` and the campaign year of a page (DOMAIN.md §1, §8).

Works on the normalized (simplified, width-folded) title and body that versions store. The score
is a sum of points, kept per version so pages can be ranked:

| signal | points |
|---|---|
| a site keyword (default 质量月) in the title | 5 |
| a site keyword in the body | 3, +1 per further occurrence (at most +2) |
| a national theme of a campaign year (THEMES, e.g. 加强市场监管 建设质量强国) | 3 |
| `YYYY年(全国)“质量月”` naming the campaign year | 2 |
| 质量强国, 质量提升 | 1 each |
| a 主题 line (`以“…”为主题`, `主题为“…”`, `主题：`) | 1 |

A page is relevant when a keyword or a national theme occurs (so the score is at least 3):
质量强国 or 质量提升 alone describe much of a regulator's daily news and do not make a page about
Quality Month. The campaign `year` is the year named next to 质量月, else the year of the theme,
else the publish year of a relevant page (a late-December notice still names its year).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: national themes (主题) by campaign year, DOMAIN.md §1; spaces and separators are ignored
THEMES: dict[str, int] = {
    "建设质量强国共创美好生活": 2011,
    "迈向质量时代建设质量强国": 2015,
    "大力提升质量建设质量强国": 2017,
    "加强市场监管建设质量强国": 2018,
    "共创中国质量建设质量强国": 2019,
    "建设质量强国决胜全面小康": 2020,
    "深入实施质量提升行动大力推进质量强国建设": 2021,
    "推动质量变革创新促进质量强国建设": 2022,
    "增强质量意识推进高质量发展": 2023,
}
SECONDARY = ("质量强国", "质量提升")
TITLE_POINTS, BODY_POINTS, BODY_EXTRA_MAX, THEME_POINTS, YEAR_POINTS = 5, 3, 2, 3, 2
_CAMPAIGN_YEAR = re.compile(
    r"((?:19|20)\d{2})\s*年\s*(?:度)?\s*(?:全国|全省|全市|[\u4e00-\u9fff]{2,3}[省市])?"
    r"\s*[“\"「『]?\s*质量月"
)
_THEME_LINE = re.compile(r"以[“\"「][^”\"」]{4,40}[”\"」]为主题|主题(?:是|为)[“\"「]|主题[:：]")
_PUBLISH_YEAR = re.compile(r"^((?:19|20)\d{2})-")


@dataclass(frozen=True)
class Relevance:
    """The score of one page, whether it is about Quality Month, and the campaign year (or None)."""

    score: int
    is_relevant: bool
    year: int | None


def theme_year(text: str) -> int | None:
    """The campaign year whose national theme occurs in `text`, or None."""
    # the separators (whitespace, `,，、·`) go: `str.split` drops exactly what the regex `\s`
    # matches (U+3000 included), four times faster than `re.sub(r"[\s,，、·]+", "", text)`
    compact = "".join(text.split()).replace(",", "").replace("，", "").replace("、", "").replace("·", "")
    for theme, year in THEMES.items():
        if theme in compact:
            return year
    return None


def campaign_year(text: str) -> int | None:
    """The year written next to 质量月 (`2018年全国“质量月”`), the most frequent one if several."""
    years = [int(y) for y in _CAMPAIGN_YEAR.findall(text)]
    return max(set(years), key=years.count) if years else None


def score(
    title: str | None, text: str | None, keywords: Iterable[str] = ("质量月",), publish_time: str | None = None
) -> Relevance:
    """Score a page's normalized title and body (see the module docstring for the points)."""
    title, text = title or "", text or ""
    points = 0
    hit = False
    for keyword in (k for k in keywords if k):
        if keyword in title:
            points += TITLE_POINTS
            hit = True
        count = text.count(keyword)
        if count:
            points += BODY_POINTS + min(count - 1, BODY_EXTRA_MAX)
            hit = True
    both = f"{title}\n{text}"
    themed = theme_year(both)
    if themed is not None:
        points += THEME_POINTS
    named = campaign_year(title) or campaign_year(text)
    if named is not None:
        points += YEAR_POINTS
    points += sum(1 for term in SECONDARY if term in both)
    points += 1 if _THEME_LINE.search(both) else 0
    relevant = hit or themed is not None
    year = named or themed
    if year is None and relevant and publish_time and (m := _PUBLISH_YEAR.match(publish_time)):
        year = int(m.group(1))
    return Relevance(score=points, is_relevant=relevant, year=year if relevant else None)


def is_relevant(title: str | None, text: str | None, keywords: Iterable[str]) -> bool:
    """True if the page is about Quality Month (a keyword or a national theme in title or body)."""
    return score(title, text, keywords).is_relevant
