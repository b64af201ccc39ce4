"""Text normalization: NFC, width fold, pinyin-artifact strip, gated t2s, whitespace (DOMAIN.md §4.3).

Two forms come out of one page-level `NormPlan`: the displayed form (`apply_display`: the page's
own characters and script, full-width punctuation kept; t2s only when a pinyin-artifact mirror
inserted the traditional script) and the comparison form (`apply_plan`, `normalize_text`: width
folded, always gated t2s), which content hashes, relevance, copies and search use.
`comparison_form` derives the second from a stored displayed text.
"""

from __future__ import annotations

from dataclasses import dataclass

from qmcrawler.textnorm.pinyin import PinyinStats, pinyin_stats, strip_pinyin
from qmcrawler.textnorm.t2s import should_convert, t2s_ratio, to_simplified
from qmcrawler.textnorm.whitespace import normalize_line, normalize_whitespace
from qmcrawler.textnorm.width import fold_width, nfc, nfc_fold, nfc_lines

__all__ = [
    "NormPlan",
    "PinyinStats",
    "apply_display",
    "apply_plan",
    "comparison_form",
    "fold_width",
    "nfc",
    "nfc_fold",
    "nfc_lines",
    "normalize_line",
    "normalize_text",
    "normalize_whitespace",
    "plan_normalization",
    "t2s_ratio",
    "to_simplified",
]


@dataclass(frozen=True)
class NormPlan:
    """Page-level normalization decisions, made once over title + body (DOMAIN.md §4.3)."""

    pinyin: PinyinStats
    t2s: bool

    @property
    def display_t2s(self) -> bool:
        """Convert the displayed text too? Only on a spam mirror, whose traditional script it inserted."""
        return self.t2s and self.pinyin.found

    @property
    def flags(self) -> tuple[str, ...]:
        """Flags implied by the decisions (`pinyin_artifact`, `likely_mirror`, `t2s_applied`, `mojibake`)."""
        out: list[str] = []
        if self.pinyin.found:
            out += ["pinyin_artifact", "likely_mirror"]
        if self.t2s:
            out.append("t2s_applied")
        if self.pinyin.mojibake:
            out.append("mojibake")
        return tuple(out)


def plan_normalization(folded: str) -> NormPlan:
    """Decide pinyin stripping and t2s for a text already NFC + width folded."""
    stats = pinyin_stats(folded)
    stripped = strip_pinyin(folded, stats)
    return NormPlan(pinyin=stats, t2s=should_convert(stripped))


def apply_plan(folded: str, plan: NormPlan) -> str:
    """The comparison form: pinyin strip and gated t2s per `plan` on an NFC + width-folded text.

    Whitespace is left alone. `apply_plan(apply_display(x, plan), plan) == apply_plan(x, plan)`.
    """
    text = strip_pinyin(folded, plan.pinyin)
    return to_simplified(text) if plan.t2s else text


def apply_display(folded: str, plan: NormPlan, shown: str | None = None) -> str:
    """The displayed form: the page in its own script, pinyin stripped (and t2s only on a mirror).

    `shown` is the NFC text before width folding (`folded == fold_width(shown)`): pass it to keep
    the page's full-width characters; without it the result is width folded.
    """
    text = strip_pinyin(folded, plan.pinyin, shown)
    return to_simplified(text) if plan.display_t2s else text


def comparison_form(shown: str, t2s: bool) -> str:
    """The comparison form of a displayed text: NFC, width fold, t2s when the page's plan had it.

    Displayed texts stored before the page's characters were kept are already folded; folding
    them again changes nothing, so old and new versions compare alike.
    """
    folded = nfc_fold(shown)
    return to_simplified(folded) if t2s else folded


def normalize_text(text: str, context: str = "") -> str:
    """Full normalization: NFC, width fold, pinyin strip, gated t2s, whitespace.

    The strip and t2s decisions are made over `context` + `text` (pass the page's title and body
    as `context` when normalizing a short metadata string on its own).
    """
    folded = nfc_fold(text)
    plan = plan_normalization(nfc_fold(context) + "\n" + folded if context else folded)
    return normalize_whitespace(apply_plan(folded, plan))
