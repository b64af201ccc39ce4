"""Traditional → simplified conversion with OpenCC `t2s`, gated by the share of Han characters it changes."""

from __future__ import annotations

import functools
import re
from typing import Any

import opencc

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_HAN = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

#: Convert only when at least this share of Han characters changes (DOMAIN.md §4.5), so that
#: rare name characters in simplified pages stay as written.
T2S_MIN_RATIO = 0.05


@functools.cache
def _converter() -> Any:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def _changes(char: str) -> bool:
    return bool(_converter().convert(char) != char)


def han_chars(text: str) -> str:
    """The Han characters of `text`, in order (the others deleted in C)."""
    return _NOT_HAN.sub("", text)


def han_count(text: str) -> int:
    """Number of Han characters in `text`."""
    return len(han_chars(text))


def t2s_ratio(text: str) -> float:
    """Share of Han characters that OpenCC `t2s` changes on their own (0.0 when there are none)."""
    hans = han_chars(text)
    if not hans:
        return 0.0
    changed = [c for c in set(hans) if _changes(c)]  # each distinct character looked up once
    return sum(map(hans.count, changed)) / len(hans)


def should_convert(text: str) -> bool:
    """The gate: does `text` look traditional enough to convert?"""
    return t2s_ratio(text) >= T2S_MIN_RATIO


def to_simplified(text: str) -> str:
    """Convert with OpenCC `t2s` (phrase-aware; idempotent on simplified text)."""
    if not text or text.isascii():
        return text
    return str(_converter().convert(text))
