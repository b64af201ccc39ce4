"""Main-content and metadata extraction: `extract(html, url) -> Article`, never raising.

Order (DOMAIN.md §4.3): parse → drop non-content tags → provisional container → class/id
boilerplate removal → blocks → container → title → one normalization plan over title + body
(pinyin strip, gated t2s) → line filters → metadata. Each field is computed under a guard: a
failure leaves the field empty and names it in `Article.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import lxml.html

from qmcrawler.article import Article, Attachment
from qmcrawler.extraction.attachments import find_attachments
from qmcrawler.extraction.body import Block, body_blocks, container_scores, linearize
from qmcrawler.extraction.dom import PageInfo, clean_tree, parse_html, read_page_info, remove_boilerplate
from qmcrawler.extraction.lines import LineReport, filter_lines, parse_labelled, split_names, views_from
from qmcrawler.extraction.meta import choose_title, doc_date, publish_time, source_and_author
from qmcrawler.extraction.vocab import EDITOR_RE, JS_PLACEHOLDERS, SECTION_LABEL_RE, SPAM_TERMS
from qmcrawler.textnorm import NormPlan, apply_plan, nfc_fold, normalize_line, plan_normalization

__all__ = ["EXTRACTOR_VERSION", "extract"]

#: Bump whenever the output for some page would change; the store records it with every version
#: so that re-extraction is not mistaken for a page change.
EXTRACTOR_VERSION = "1.0.0"

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Spam terms in the title and first/last lines that flag `spam_injection`.
SPAM_MIN_TERMS = 3
#: Lines after the title (or around the body start) searched for date, source and author.
NEAR_LINES = 8
#: Lines after the body searched for `(责编:…)`.
TAIL_LINES = 15


class _Errors(list[str]):
    """Names of fields whose extraction failed."""

    def guard(self, name: str, fn: Callable[[], T], default: T) -> T:
        """Run `fn`; on any exception note `name` and return `default`."""
        try:
            return fn()
        except Exception:  # a failing field becomes its default and is noted, never raised
            log.debug("extraction of %s failed", name, exc_info=True)
            self.append(name)
            return default


def extract(html: str, url: str | None = None) -> Article:
    """Extract the main content and metadata of one page; never raises (see `Article.errors`)."""
    errors = _Errors()
    try:
        return _extract(html if isinstance(html, str) else str(html), url, errors)
    except Exception:  # last resort: the contract is that extract never raises
        log.debug("extraction failed", exc_info=True)
        errors.append("text")
        return Article(flags=("js_required",), errors=tuple(dict.fromkeys(errors)))


def _blocks(root: lxml.html.HtmlElement, errors: _Errors) -> list[Block]:
    """Blocks after tag cleaning and class/id boilerplate removal around a provisional container."""
    errors.guard("text", lambda: clean_tree(root), None)
    blocks: list[Block] = errors.guard("text", lambda: linearize(root), [])
    scores, elements = container_scores(blocks)
    provisional = elements[max(scores, key=lambda k: scores[k])] if scores else None
    if errors.guard("text", lambda: remove_boilerplate(root, provisional, scores), 0):
        blocks = errors.guard("text", lambda: linearize(root), [])
    return blocks


def _body_indices(
    norm: list[str], body_idx: list[int], title_idx: int | None, title: str | None
) -> list[int]:
    """Body block indices without the title line and any section label before it."""
    idx = [i for i in body_idx if norm[i]]
    if title_idx is not None and title_idx in idx:
        return idx[idx.index(title_idx) + 1 :]
    if title is not None:
        idx = [i for i in idx if norm[i] != title]
    while len(idx) > 1 and title_idx is None and SECTION_LABEL_RE.match(norm[idx[0]]):
        idx = idx[1:]
    return idx


def _spam_count(text: str) -> int:
    low = text.lower()
    return sum(low.count(t) for t in SPAM_TERMS)


def _drop_spam(lines: list[str], kept: list[int]) -> None:
    """Remove spam keyword lines at both ends of the body, in place."""
    while lines and _spam_count(lines[0]) >= 2:
        lines.pop(0)
        kept.pop(0)
    while lines and _spam_count(lines[-1]) >= 2:
        lines.pop()
        kept.pop()


def _is_js_placeholder(text: str, info: PageInfo) -> bool:
    """Is the body empty or only a 加载中 / 请开启JavaScript placeholder?"""
    low = text.lower().replace(" ", "")
    if not low:
        return True
    if len(low) <= 40 and any(p.replace(" ", "") in low for p in JS_PLACEHOLDERS):
        return True
    return len(low) < 20 and "javascript" in info.noscript.lower()


def _editors(report: LineReport, tail: list[str]) -> str | None:
    names = list(report.editors)
    for line in tail:
        m = EDITOR_RE.match(line)
        if m:
            names.extend(n for n in split_names(m.group("v")) if n not in names)
    return "、".join(names) or None


def _near_title(norm: list[str], title_idx: int | None, body_idx: list[int], kept: list[int]) -> list[str]:
    """Lines of the metadata region: after the title, else around the body start; no kept body lines."""
    if title_idx is not None:
        region = range(title_idx + 1, min(len(norm), title_idx + 1 + NEAR_LINES))
    else:
        start = body_idx[0] if body_idx else 0
        region = range(max(0, start - NEAR_LINES // 2), min(len(norm), start + NEAR_LINES // 2))
    first_body = kept[0] if kept else len(norm)
    kept_set = set(kept)
    return [norm[i] for i in region if i < first_body or i not in kept_set]


def _extract(html: str, url: str | None, errors: _Errors) -> Article:
    root = parse_html(html)
    if root is None:
        return Article(flags=("js_required",))
    info: PageInfo = errors.guard("meta", lambda: read_page_info(root), PageInfo())
    blocks = _blocks(root, errors)
    no_body: tuple[lxml.html.HtmlElement | None, list[Block]] = (None, [])
    container, body = errors.guard("text", lambda: body_blocks(blocks), no_body)
    folded = [nfc_fold(b.text) for b in blocks]
    metas_folded = {k: nfc_fold(v) for k, v in info.metas.items()}
    no_title: tuple[str | None, int | None] = (None, None)
    raw_title, title_idx = errors.guard(
        "title",
        lambda: choose_title(
            metas_folded,
            nfc_fold(info.title_tag),
            folded,
            [b.index for b in blocks if b.is_heading],
            [b.link_share > 0.5 for b in blocks],
        ),
        no_title,
    )
    body_idx = [b.index for b in body]
    plan: NormPlan = plan_normalization("\n".join([raw_title or "", *(folded[i] for i in body_idx)]))
    norm = [normalize_line(apply_plan(t, plan)) for t in folded]
    title = normalize_line(apply_plan(raw_title, plan)) if raw_title else None
    flags = list(plan.flags)

    idx = _body_indices(norm, body_idx, title_idx, title)
    report = filter_lines([norm[i] for i in idx])
    kept = [idx[k] for k in report.keep]
    text_lines = [report.cleaned.get(k, norm[idx[k]]) for k in report.keep]
    if _spam_count(" ".join([title or "", *text_lines[:2], *text_lines[-2:]])) >= SPAM_MIN_TERMS:
        flags.append("spam_injection")
        _drop_spam(text_lines, kept)
    text = "\n".join(text_lines)
    if _is_js_placeholder(text, info):
        flags.append("js_required")

    near = _near_title(norm, title_idx, body_idx, kept)
    metas = {k: normalize_line(apply_plan(v, plan)) for k, v in metas_folded.items()}
    no_date: tuple[str | None, bool] = (None, False)
    pub, conflict = errors.guard("publish_time", lambda: publish_time(metas, near, url), no_date)
    if conflict:
        flags.append("date_conflict")
    no_source: tuple[str | None, str | None, bool] = (None, None, False)
    source, author, placeholder = errors.guard("source", lambda: source_and_author(metas, near), no_source)
    if placeholder:
        flags.append("author_placeholder")
    views = report.views
    if views is None:
        views = errors.guard(
            "views", lambda: views_from([f for ln in near for f in parse_labelled(ln)]), None
        )
    tail_start = body_idx[-1] + 1 if body_idx else len(norm)
    editor = errors.guard(
        "editor", lambda: _editors(report, norm[tail_start : tail_start + TAIL_LINES]), None
    )
    no_atts: tuple[Attachment, ...] = ()
    atts = errors.guard("attachments", lambda: find_attachments(container, url), no_atts)
    ddate = errors.guard("doc_date", lambda: doc_date(text_lines, norm), None)
    return Article(
        title=title or None,
        text=text,
        publish_time=pub,
        source=source,
        author=author,
        editor=editor,
        views=views,
        attachments=atts,
        flags=tuple(dict.fromkeys(flags)),
        doc_date=ddate,
        keywords=tuple(report.keywords),
        original_title=normalize_line(raw_title) if raw_title else None,
        original_text="\n".join(normalize_line(blocks[i].text) for i in kept),
        errors=tuple(dict.fromkeys(errors)),
    )
