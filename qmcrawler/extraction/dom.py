"""DOM parsing and cleaning: tolerant parse, meta/noscript capture, tag and class/id boilerplate removal."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from qmcrawler.extraction.vocab import (
    BOILERPLATE_PARTS,
    BOILERPLATE_VALUES,
    DROP_TAGS,
    KEYWORD_GUARD_SHARE,
)

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_PART_SPLIT = re.compile(r"[\s_\-]+")
_TEXT_LEN_CAP = 10_000_000


@dataclass
class PageInfo:
    """What is read from the raw tree before cleaning."""

    metas: dict[str, str] = field(default_factory=dict)
    title_tag: str = ""
    noscript: str = ""
    canonical: str = ""
    widget_time: str = ""
    #: (href, text) of the first link in an `<h1>`: a blog's header naming its owner.
    heading_link: tuple[str, str] = ("", "")


#: lxml.html's classes, chosen in C: lxml.html's own lookup is a Python method called for every
#: element object lxml makes (each step of a walk over the tree), and what it adds (FormElement,
#: InputElement… with form helpers) is never used here (form controls are dropped).
_LOOKUP = lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """Parse `html` leniently; None when nothing parseable is left."""
    text = _CONTROL.sub("", _XML_DECL.sub("", html[:_TEXT_LEN_CAP]))
    if not text.strip():
        return None
    try:
        parser = lxml.html.HTMLParser(remove_comments=True)
        parser.set_element_class_lookup(_LOOKUP)
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None
    return root if isinstance(root, lxml.html.HtmlElement) else None


def read_page_info(root: lxml.html.HtmlElement) -> PageInfo:
    """Collect `<meta>` tags (names lower-cased, first wins), `<title>`, `<noscript>` text, canonical link."""
    info = PageInfo()
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if name and content and name not in info.metas:
            info.metas[name] = content
    title = root.find(".//title")
    if title is not None:
        info.title_tag = title.text_content().strip()
    info.noscript = " ".join(el.text_content().strip() for el in root.iter("noscript"))[:500]
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical":
            info.canonical = link.get("href") or ""
            break
    info.widget_time = _widget_time(root)
    link = root.find(".//h1//a[@href]")
    if link is not None:
        info.heading_link = (link.get("href") or "", link.text_content().strip()[:40])
    return info


#: class/id parts of date widgets, e.g. news.cn's `header-time` with the date split over `<em>`s
_TIME_PARTS = frozenset({"time", "date", "pubtime", "pubdate", "publish", "h-time"})
#: `2023 09/01 18:20:00` (a widget's pieces joined with spaces) → `2023-09-01 18:20:00`
_SPLIT_DATE = re.compile(r"^((?:19|20)\d{2})\s+(\d{1,2})\s*/\s*(\d{1,2})\b")


def _widget_time(root: lxml.html.HtmlElement) -> str:
    """The text of the first small date widget, its pieces joined by spaces (never run together)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        attrs = f"{el.get('class') or ''} {el.get('id') or ''}"
        low = attrs.lower()  # every part in _TIME_PARTS holds one of these: most elements stop here
        if ("time" not in low and "date" not in low and "publish" not in low) or not (_parts(attrs) & _TIME_PARTS):
            continue
        text = " ".join(t.strip() for t in el.itertext() if t.strip())
        if 8 <= len(text) <= 40:
            return _SPLIT_DATE.sub(r"\1-\2-\3", text)
    return ""


def _parts(value: str) -> set[str]:
    return {p.lower() for p in _PART_SPLIT.split(value) if p}


#: class/id values up to this long have their answer remembered (a site repeats its class names
#: on every page; a hostile page's huge unique values are not kept)
ATTR_CACHE_MAX_CHARS = 200


def is_boilerplate_attr(value: str) -> bool:
    """Does a class/id value name boilerplate (whole value or a `-`/`_`/camelCase part)?"""
    return _boilerplate_attr(value) if len(value) <= ATTR_CACHE_MAX_CHARS else _boilerplate_attr.__wrapped__(value)


@functools.lru_cache(maxsize=4096)
def _boilerplate_attr(value: str) -> bool:
    if not value:
        return False
    low = value.strip().lower()
    if low in BOILERPLATE_VALUES:
        return True
    return any(p in BOILERPLATE_PARTS for p in _parts(value))


def _drop(el: lxml.html.HtmlElement) -> None:
    """Remove `el` and its content but keep its tail text."""
    parent = el.getparent()
    if parent is not None:
        el.drop_tree()


def clean_tree(root: lxml.html.HtmlElement) -> None:
    """Remove comments and non-content tags (scripts, styles, forms controls, ruby readings…) in place."""
    for el in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        _drop(el)
    for el in list(root.iter(*DROP_TAGS)):
        _drop(el)


def _score_of(el: lxml.html.HtmlElement, scores: dict[int, float]) -> float:
    """Content score of `el`: its own, or its best block-level descendant's for inline elements."""
    if id(el) in scores:
        return scores[id(el)]
    total = 0.0
    stack = list(el)
    while stack:
        d = stack.pop()
        if id(d) in scores:
            total += scores[id(d)]
        else:
            stack.extend(d)
    return total


def _minor_part(el: lxml.html.HtmlElement, scores: dict[int, float], keep_score: float, keep_chars: int) -> bool:
    """Is `el`, inside the main container, a minor part of it (by score, and for an inline
    wrapper such as `<font id="zoom">` around the article's text, also by its share of the text)?"""
    if _score_of(el, scores) >= KEYWORD_GUARD_SHARE * keep_score:
        return False
    return id(el) in scores or len(el.text_content()) < KEYWORD_GUARD_SHARE * keep_chars


def remove_boilerplate(
    root: lxml.html.HtmlElement, keep: lxml.html.HtmlElement | None, scores: dict[int, float]
) -> int:
    """Remove class/id-marked boilerplate containers in place; return how many were removed.

    `keep` is the provisional main container: its ancestors are never removed, and inside it an
    element goes only if its content score (`scores`, by `id()`) is below `KEYWORD_GUARD_SHARE`
    of the container's (`<font id="Zoom">` may wrap a whole article).
    """
    protected = {id(a) for a in keep.iterancestors()} | {id(keep)} if keep is not None else set()
    keep_score = scores.get(id(keep), 0.0) if keep is not None else 0.0
    keep_chars = len(keep.text_content()) if keep is not None else 0
    removed = 0
    stack: list[tuple[lxml.html.HtmlElement, bool]] = [(root, False)]
    while stack:
        el, in_keep = stack.pop()
        inside = in_keep or el is keep
        for child in el:
            if not isinstance(child.tag, str):
                continue
            attrs = f"{child.get('class') or ''} {child.get('id') or ''}".strip()
            if (
                id(child) not in protected
                and child.tag not in ("body", "html")
                and attrs
                and is_boilerplate_attr(attrs)
                and (not inside or _minor_part(child, scores, keep_score, keep_chars))
            ):
                _drop(child)
                removed += 1
                continue
            stack.append((child, inside))
    return removed
