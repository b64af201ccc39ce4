"""Relevance: does a page concern Quality Month (its site's keywords in title or body)?"""

from __future__ import annotations

from collections.abc import Iterable


def is_relevant(title: str | None, text: str | None, keywords: Iterable[str]) -> bool:
    """True if any keyword occurs in the (already simplified, width-folded) title or body."""
    haystack = f"{title or ''}\n{text or ''}"
    return any(k and k in haystack for k in keywords)
