"""Main-content selection: DOM → text blocks, density scores, best container by tree-wide score.

Hand-written rather than readability-lxml or trafilatura: both score with English-tuned
heuristics (comma counts, word lengths, `<p>`-centric paragraphs) that miss Chinese pages laid out
with `<br>`, `<td>` and `<div>` paragraphs, and both are slower. Here every text block adds a
signed weight to all its block-level ancestors (good text +, link-heavy or short text −), the
ancestor with the highest sum is the container, and blocks inside it are filtered by link density.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from qmcrawler.extraction.vocab import ATTACHMENT_TEXT_RE, BLOCK_TAGS, HEADING_TAGS, footer_marker

_PUNCT = re.compile(r"[，。！？；：、,!?;“”「」…]")
#: Teaser snippets of list pages end in a cut-off ellipsis (`...`, a single `…`, `...更多`) or in a
#: bracketed `[详情]` link.
_MORE = r"(?:[\[【]?(?:更多|详细|详情|全文|詳細|詳情|阅读全文|查看全文)[\]】]?|>>)"
_SNIPPET_END = re.compile(
    rf"(?:(?:\.\.\.|(?<!…)…)\s*{_MORE}?|(?:……|\.{{4,}})?\s*[\[【](?:详情|詳情|更多|全文)[\]】])\s*$"
)
#: the last character (before trailing spaces) of every _SNIPPET_END match
_SNIPPET_LAST = frozenset(".…>]】多细細情文")


def snippet_end(text: str) -> bool:
    """Does `text` end like a list teaser (`_SNIPPET_END`)? Looked at only when its last character can."""
    return text.rstrip()[-1:] in _SNIPPET_LAST and _SNIPPET_END.search(text) is not None


#: A block needs this many characters (with punctuation) to count as body text.
GOOD_MIN_CHARS = 20
#: Blocks with a larger share of link text are navigation.
MAX_LINK_SHARE = 0.5
#: Weight of link text and of short unpunctuated text against body text.
LINK_PENALTY = 1.0
SHORT_PENALTY = 0.3
#: The fallback body needs this many own characters, with at most this share of link text.
FALLBACK_MIN_CHARS = 120
FALLBACK_TEXT_SHARE = 0.7
FALLBACK_COVER = 0.8
#: Blocks ending in a cut-off ellipsis and shorter than this are list teasers, not body text.
SNIPPET_MAX_CHARS = 150
#: Footer blocks (主办单位…, 备案号…) are shorter than this.
FOOTER_MAX_CHARS = 200


@dataclass(slots=True)
class Block:
    """A run of text between block-level boundaries."""

    text: str
    chars: int
    link_chars: int
    tag: str
    ancestors: tuple[lxml.html.HtmlElement, ...]
    index: int = 0

    @property
    def link_share(self) -> float:
        """Share of the block's characters inside links."""
        return _link_share(self.link_chars, self.chars)

    @property
    def is_heading(self) -> bool:
        """Does the block come from an `h1`–`h6`?"""
        return self.tag in HEADING_TAGS

    @property
    def punct(self) -> int:
        """Number of sentence punctuation marks."""
        return len(_PUNCT.findall(self.text))

    @property
    def weight(self) -> float:
        """Signed contribution to every ancestor's container score (`block_weight`; a long block's
        is computed afresh: cheap for it, and the cache stays small whatever a page holds)."""
        if len(self.text) > WEIGHT_CACHE_MAX_CHARS:
            return block_weight.__wrapped__(self.text, self.chars, self.link_chars)
        return block_weight(self.text, self.chars, self.link_chars)


#: blocks up to this long have their weight remembered (4,096 of them: at most a few MB)
WEIGHT_CACHE_MAX_CHARS = 400


@functools.lru_cache(maxsize=4096)
def block_weight(text: str, chars: int, link_chars: int) -> float:
    """A block's weight, from its text and counts alone: remembered, because a page is linearized
    twice (before and after boilerplate removal, mostly the same blocks) and a site repeats its
    navigation and footer blocks on every page."""
    plain = chars - link_chars
    if _link_share(link_chars, chars) > MAX_LINK_SHARE:
        return 0.0 if ATTACHMENT_TEXT_RE.search(text) else -LINK_PENALTY * chars
    if chars < FOOTER_MAX_CHARS and footer_marker(text):  # 主办单位、备案号: a site footer
        return -SHORT_PENALTY * chars
    if snippet_end(text):
        return -SHORT_PENALTY * chars if plain < SNIPPET_MAX_CHARS else 0.5 * plain
    if plain >= GOOD_MIN_CHARS and _PUNCT.search(text):  # `self.punct`, without counting
        return plain - LINK_PENALTY * link_chars
    if plain >= 2 * GOOD_MIN_CHARS:
        return 0.5 * plain
    return -SHORT_PENALTY * chars - LINK_PENALTY * link_chars


def _link_share(link_chars: int, chars: int) -> float:
    return link_chars / chars if chars else 0.0


def _count(text: str) -> int:
    return len(text) - text.count(" ")


def linearize(root: lxml.html.HtmlElement) -> list[Block]:
    """Split the tree into text blocks at block-level tags and `<br>`, tracking link text."""
    blocks: list[Block] = []
    stack: list[lxml.html.HtmlElement] = []
    buf: list[str] = []  # the pending block's text pieces
    link_buf = [0]  # non-space characters of link text in `buf` (0 whenever `buf` is empty)
    anchor_depth = 0

    # `" ".join(t.split())` is `re.sub(r"\s+", " ", t).strip()` (`\s` is str.isspace), four times faster
    def flush() -> None:
        text = " ".join("".join(buf).split())
        if text and stack:
            chars = _count(text)
            blocks.append(Block(text, chars, min(link_buf[0], chars), stack[-1].tag, tuple(stack), len(blocks)))
        buf.clear()
        link_buf[0] = 0

    # One loop without a call per element: a flush only when text is pending (an empty `buf` has
    # nothing to flush and no link count to reset), the element's text (start) or tail (end) inline.
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if not isinstance(tag, str):  # comments and processing instructions
            tag = ""
        if event == "start":
            if tag in BLOCK_TAGS:
                if buf:
                    flush()
                if tag != "br" and tag != "hr":
                    stack.append(el)
            if tag == "a":
                anchor_depth += 1
            text = el.text
        else:
            if tag in BLOCK_TAGS:
                if buf:
                    flush()
                if tag != "br" and tag != "hr" and stack and stack[-1] is el:
                    stack.pop()
            if tag == "a":
                anchor_depth = max(0, anchor_depth - 1)
            text = el.tail
        if text:
            buf.append(text)
            if anchor_depth:
                link_buf[0] += sum(map(len, text.split()))  # its non-space characters
    if buf:
        flush()
    return blocks


def container_scores(blocks: list[Block]) -> tuple[dict[int, float], dict[int, lxml.html.HtmlElement]]:
    """Sum of block weights per block-level element (keyed by `id()`), and the elements."""
    scores: dict[int, float] = {}
    elements: dict[int, lxml.html.HtmlElement] = {}
    for block in blocks:
        w = block.weight
        for anc in block.ancestors:
            key = id(anc)
            if key in scores:
                scores[key] += w
            else:  # the same sums in the same order as `scores.get(key, 0.0) + w`
                scores[key] = 0.0 + w
                elements[key] = anc
    return scores, elements


def best_container(blocks: list[Block]) -> lxml.html.HtmlElement | None:
    """The block-level element whose blocks' weights sum highest."""
    scores, elements = container_scores(blocks)
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k])
    return elements[best] if scores[best] > 0 else None


def body_blocks(blocks: list[Block]) -> tuple[lxml.html.HtmlElement | None, list[Block]]:
    """The best container and its blocks, without link-heavy navigation blocks."""
    container = best_container(blocks)
    if container is None:
        return None, []
    inside = [b for b in blocks if any(a is container for a in b.ancestors)]
    return container, [b for b in inside if not _is_nav(b)]


def fallback_blocks(blocks: list[Block]) -> tuple[lxml.html.HtmlElement | None, list[Block]]:
    """The largest coherent text block, for when the scored container yields no body.

    Among block-level elements whose text is mostly not links, the tightest (least text) one that
    holds `FALLBACK_COVER` of the most own (non-link) text any of them holds, and its
    non-navigation blocks; None when no element has `FALLBACK_MIN_CHARS` of own text.
    """
    plain: dict[int, int] = {}
    total: dict[int, int] = {}
    elements: dict[int, lxml.html.HtmlElement] = {}
    for block in blocks:
        for anc in block.ancestors:
            key = id(anc)
            plain[key] = plain.get(key, 0) + (0 if _is_nav(block) else block.chars - block.link_chars)
            total[key] = total.get(key, 0) + block.chars
            elements[key] = anc
    coherent = [k for k in plain if plain[k] >= FALLBACK_MIN_CHARS and plain[k] >= FALLBACK_TEXT_SHARE * total[k]]
    if not coherent:
        return None, []
    most = max(plain[k] for k in coherent)
    best = elements[min((k for k in coherent if plain[k] >= FALLBACK_COVER * most), key=lambda k: total[k])]
    inside = [b for b in blocks if any(a is best for a in b.ancestors)]
    return best, [b for b in inside if not _is_nav(b)]


def _is_nav(block: Block) -> bool:
    """A link-heavy block with little own text, unless it names an attachment (`附件：…xls`)."""
    if block.link_share <= MAX_LINK_SHARE or block.chars - block.link_chars >= 10:
        return False
    return not ATTACHMENT_TEXT_RE.search(block.text)
