"""The extractor: `extract(html, url) -> Article`, never raising (`qmcrawler.extraction` re-exports it).

Order (DOMAIN.md §4.3): parse → drop non-content tags → provisional container → class/id
boilerplate removal → blocks → container → title → one normalization plan over title + body
(pinyin strip, gated t2s) → line filters → metadata.

Two forms of every line come out of the plan: displayed (`title`/`text`: the page's own characters and
script, full-width punctuation kept, pinyin stripped, t2s only on a pinyin mirror) and normalized
(`norm_title`/`norm_text`: width folded, gated t2s; exactly what extractor 1.2.0 stored and hashed).
Line filters, labels and metadata work on the normalized lines, so `發表時間` reads as `发表时间`;
`text` takes the displayed form of the kept lines. Each field is computed under a guard: a
failure leaves the field empty and names it in `Article.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import lxml.html

from qmcrawler.extraction.article import Article, Attachment
from qmcrawler.extraction.asides import drop_asides
from qmcrawler.extraction.body import (
    FALLBACK_MIN_CHARS,
    Block,
    body_blocks,
    container_scores,
    fallback_blocks,
    linearize,
)
from qmcrawler.extraction.bylines import byline_author
from qmcrawler.extraction.doclinks import find_attachments
from qmcrawler.extraction.dom import PageInfo, clean_tree, parse_html, read_page_info, remove_boilerplate
from qmcrawler.extraction.lines import LineReport, filter_lines, parse_labelled, split_names, views_from
from qmcrawler.extraction.meta import choose_title, doc_date, publish_time, source_and_author
from qmcrawler.extraction.vocab import EDITOR_RE, JS_PLACEHOLDERS, SECTION_LABEL_RE, SPAM_TERMS, STRIP_TOKEN_RE
from qmcrawler.textnorm import (
    NormPlan,
    apply_display,
    apply_plan,
    fold_width,
    nfc,
    nfc_fold,
    nfc_lines,
    normalize_line,
    plan_normalization,
    to_simplified,
)

__all__ = ["extract"]


log = logging.getLogger("qmcrawler.extraction")
T = TypeVar("T")
#: Spam terms in the title and first/last lines that flag `spam_injection`.
SPAM_MIN_TERMS = 3
#: Lines after the title (or around the body start) searched for date, source and author.
NEAR_LINES = 8
#: Lines just above the title searched for a byline date (forum post headers, dates above headlines).
BEFORE_TITLE_LINES = 2
#: First body lines searched for a byline date (`2003-7-24 钱江晚报`) when the metadata lines have none.
TOP_BODY_LINES = 8
#: A body with fewer characters is thin: the largest coherent text block is tried instead, when
#: the page shows at least `FALLBACK_MIN_CHARS` of own text and no sign of needing JavaScript
#: (flag `body_fallback`). A text-rich page whose body is still empty is flagged `no_body`, not
#: `js_required`: rendering would not help it.
THIN_BODY_CHARS = 20
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


def _title(info: PageInfo, blocks: list[Block], folded: list[str], errors: _Errors) -> tuple[str | None, int | None]:
    """The raw title and the index of the block showing it (see `choose_title`); `folded` are the
    blocks' texts NFC and width folded."""
    no_title: tuple[str | None, int | None] = (None, None)
    return errors.guard(
        "title",
        lambda: choose_title(
            {k: nfc_fold(v) for k, v in info.metas.items()},
            nfc_fold(info.title_tag),
            folded,
            [b.index for b in blocks if b.is_heading],
            [b.link_share > 0.5 for b in blocks],
        ),
        no_title,
    )


def _blocks(root: lxml.html.HtmlElement, info: PageInfo, errors: _Errors) -> list[Block]:
    """Blocks after tag cleaning and class/id boilerplate removal around a provisional container."""
    errors.guard("text", lambda: clean_tree(root), None)
    blocks: list[Block] = errors.guard("text", lambda: linearize(root), [])
    scores, elements = container_scores(blocks)
    provisional = elements[max(scores, key=lambda k: scores[k])] if scores else None
    if errors.guard("text", lambda: remove_boilerplate(root, provisional, scores), 0):
        blocks = errors.guard("text", lambda: linearize(root), [])
    return blocks


def _body_indices(norm: list[str], body_idx: list[int], title_idx: int | None, title: str | None) -> list[int]:
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


def _drop_spam(lines: list[str], shown: list[str], kept: list[int]) -> None:
    """Remove spam keyword lines (judged on the normalized `lines`) at both ends of the body, in place."""
    while lines and _spam_count(lines[0]) >= 2:
        for seq in (lines, shown, kept):
            seq.pop(0)
    while lines and _spam_count(lines[-1]) >= 2:
        for seq in (lines, shown, kept):
            seq.pop()


def _to_norm(shown: str, plan: NormPlan) -> str:
    """The comparison form of an already displayed line (t2s unless the display already has it)."""
    return to_simplified(shown) if plan.t2s and not plan.display_t2s else shown


def _page_chars(shown: str, folded: str) -> str:
    """The displayed line with the page's own characters, if it folds to the width-folded one.

    Width folding maps one character to one, so this holds unless a conversion (t2s on a mirror)
    reacts to a full-width character; then the folded line is shown, as before.
    """
    line = normalize_line(shown)
    return line if fold_width(line) == folded else folded


def _unfold(folded: str | None, sources: list[str]) -> str | None:
    """The piece of an NFC `source` that width-folds to `folded` (the title before folding), else None."""
    if not folded:
        return None
    for source in sources:
        at = fold_width(source).find(folded)
        if at >= 0:
            return source[at : at + len(folded)]
    return None


def _display_line(shown: str, norm: str, cleaned: str | None) -> str:
    """The displayed form of a kept line whose normalized form the line filters may have `cleaned`.

    Filters match the normalized (simplified) line; the widget tokens they cut are cut at the same
    offsets from the displayed line (t2s keeps lengths), else the cleaned normalized line is used.
    """
    if cleaned is None:
        return shown
    if shown == norm:
        return cleaned
    if len(shown) != len(norm):
        return cleaned
    out: list[str] = []
    pos = 0
    for m in STRIP_TOKEN_RE.finditer(norm):
        out.append(shown[pos : m.start()])
        pos = m.end()
    out.append(shown[pos:])
    return "".join(out).strip()


def _is_js_placeholder(text: str, info: PageInfo) -> bool:
    """Is the body empty or only a 加载中 / 请开启JavaScript placeholder?"""
    low = text.lower().replace(" ", "")
    if not low:
        return True
    if len(low) <= 40 and any(p.replace(" ", "") in low for p in JS_PLACEHOLDERS):
        return True
    return len(low) < 20 and "javascript" in info.noscript.lower()


def _js_signals(blocks: list[Block], info: PageInfo) -> bool:
    """Does the page say it needs JavaScript (a `<noscript>` about it, a 加载中 placeholder block)?"""
    if "javascript" in info.noscript.lower():
        return True
    marks = [p.replace(" ", "") for p in JS_PLACEHOLDERS]
    return any(b.chars <= 40 and any(m in b.text.lower().replace(" ", "") for m in marks) for b in blocks)


def _thin(text: str) -> bool:
    """Is a body too thin to be an article (fewer than `THIN_BODY_CHARS` non-space characters)?"""
    return len(text) - text.count(" ") < THIN_BODY_CHARS


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


def _before_title(norm: list[str], title_idx: int | None) -> list[str]:
    """Up to `BEFORE_TITLE_LINES` non-empty lines just above the title, nearest first."""
    if title_idx is None:
        return []
    out: list[str] = []
    for i in range(title_idx - 1, -1, -1):
        if norm[i]:
            out.append(norm[i])
            if len(out) >= BEFORE_TITLE_LINES:
                break
    return out


#: plan, normalized lines, body indices, line report, kept indices, kept lines (normalized, shown)
_BodyRun = tuple[NormPlan, list[str], list[int], LineReport, list[int], list[str], list[str]]


def _extract(html: str, url: str | None, errors: _Errors) -> Article:
    root = parse_html(html)
    if root is None:
        return Article(flags=("js_required",))
    info: PageInfo = errors.guard("meta", lambda: read_page_info(root), PageInfo())
    blocks = _blocks(root, info, errors)
    shown_nfc, folded = nfc_lines([b.text for b in blocks])  # block texts hold no newline (`linearize`)
    raw_title, title_idx = _title(info, blocks, folded, errors)
    no_body: tuple[lxml.html.HtmlElement | None, list[Block]] = (None, [])
    container, body = errors.guard("text", lambda: body_blocks(blocks), no_body)
    metas_folded = {k: nfc_fold(v) for k, v in info.metas.items()}

    def run(body: list[Block]) -> _BodyRun:
        body_idx = [b.index for b in body]
        plan: NormPlan = plan_normalization("\n".join([raw_title or "", *(folded[i] for i in body_idx)]))
        disp = [normalize_line(apply_display(t, plan)) for t in folded]
        norm = [_to_norm(t, plan) for t in disp]
        shown = [_page_chars(apply_display(f, plan, t), d) for f, t, d in zip(folded, shown_nfc, disp, strict=True)]
        shown_title = normalize_line(apply_display(raw_title, plan)) if raw_title else None
        idx = _body_indices(norm, body_idx, title_idx, _to_norm(shown_title, plan) if shown_title else None)
        report = filter_lines([norm[i] for i in idx])
        report.keep = [report.keep[j] for j in drop_asides([report.cleaned.get(k, norm[idx[k]]) for k in report.keep])]
        kept = [idx[k] for k in report.keep]
        norm_lines = [report.cleaned.get(k, norm[idx[k]]) for k in report.keep]
        text_lines = [_display_line(shown[idx[k]], norm[idx[k]], report.cleaned.get(k)) for k in report.keep]
        return plan, norm, body_idx, report, kept, norm_lines, text_lines

    plan, norm, body_idx, report, kept, norm_lines, text_lines = run(body)
    fallback = False
    text_rich = sum(b.chars - b.link_chars for b in blocks) >= FALLBACK_MIN_CHARS and not _js_signals(blocks, info)
    if _thin("".join(norm_lines)) and text_rich:
        alt_container, alt_body = errors.guard("text", lambda: fallback_blocks(blocks), no_body)
        if alt_body:
            alt = run(alt_body)
            if not _thin("".join(alt[5])):
                plan, norm, body_idx, report, kept, norm_lines, text_lines = alt
                container, fallback = alt_container, True
    folded_title = normalize_line(apply_display(raw_title, plan)) if raw_title else None
    norm_title = _to_norm(folded_title, plan) if folded_title else None
    raw_shown = _unfold(raw_title, [nfc(info.title_tag), *map(nfc, info.metas.values()), *shown_nfc])
    title = _page_chars(apply_display(raw_title, plan, raw_shown), folded_title) if raw_title and folded_title else None
    flags = list(plan.flags) + (["body_fallback"] if fallback else [])
    if _spam_count(" ".join([norm_title or "", *norm_lines[:2], *norm_lines[-2:]])) >= SPAM_MIN_TERMS:
        flags.append("spam_injection")
        _drop_spam(norm_lines, text_lines, kept)
    text = "\n".join(text_lines)
    norm_text = "\n".join(norm_lines)
    if _is_js_placeholder(norm_text, info):
        flags.append("no_body" if text_rich else "js_required")

    near = _near_title(norm, title_idx, body_idx, kept)
    metas = {k: normalize_line(apply_plan(v, plan)) for k, v in metas_folded.items()}
    no_date: tuple[str | None, bool] = (None, False)
    before = _before_title(norm, title_idx)
    first_body = body_idx[0] if body_idx else len(norm)
    posts = norm[first_body : (body_idx[-1] + 1 + TAIL_LINES) if body_idx else len(norm)]
    pub, conflict = errors.guard(
        "publish_time",
        lambda: publish_time(
            metas, near, url, before, norm_lines[:TOP_BODY_LINES], posts, widget=nfc_fold(info.widget_time)
        ),
        no_date,
    )
    if conflict:
        flags.append("date_conflict")
    no_source: tuple[str | None, str | None, bool] = (None, None, False)
    byline = errors.guard(
        "author", lambda: byline_author(near, norm_lines[:TOP_BODY_LINES], norm_lines[-3:], norm_title), None
    )
    source, author, placeholder = errors.guard(
        "source",
        lambda: source_and_author(metas, near, byline, (url or info.canonical, info.title_tag), info.heading_link),
        no_source,
    )
    if placeholder:
        flags.append("author_placeholder")
    views = report.views
    if views is None:
        views = errors.guard("views", lambda: views_from([f for ln in near for f in parse_labelled(ln)]), None)
    tail_start = body_idx[-1] + 1 if body_idx else len(norm)
    editor = errors.guard("editor", lambda: _editors(report, norm[tail_start : tail_start + TAIL_LINES]), None)
    no_atts: tuple[Attachment, ...] = ()
    atts = errors.guard("attachments", lambda: find_attachments(container, url), no_atts)
    ddate = errors.guard("doc_date", lambda: doc_date(norm_lines, norm), None)
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
        original_title=normalize_line(raw_shown or raw_title) if raw_title else None,
        original_text="\n".join(normalize_line(blocks[i].text) for i in kept),
        norm_title=norm_title or None,
        norm_text=norm_text,
        errors=tuple(dict.fromkeys(errors)),
    )
