"""Traditional → simplified conversion with OpenCC `t2s`, gated by the share of Han characters it changes."""

from __future__ import annotations

import functools
import re
from typing import Any

import opencc

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: runs of Han characters (HAN_RE)
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

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
    """The Han characters of `text`, in order: its runs of them found and joined in C.

    A third of the CPU of deleting the others (`re.sub` of the negated class, 0.43 against 0.13 ms
    on a generated page): most of a Chinese text is Han, and sub copies around every match.
    """
    return "".join(_HAN_RUN.findall(text))


def han_count(text: str) -> int:
    """Number of Han characters in `text`."""
    return len(han_chars(text))


#: the code point ranges of HAN_RE
HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


@functools.cache
def _changing() -> re.Pattern[str]:
    """One character class of every Han character that `t2s` changes on its own (`_changes`).

    Built on first use by converting all 28,096 Han characters in one call, one per line (no
    dictionary phrase holds a line break, so each converts as it does alone; tests/test_fast_paths.py
    checks the class against `_changes`): about 20 ms once.
    """
    hans = [chr(c) for low, high in HAN_RANGES for c in range(low, high + 1)]
    converted = str(_converter().convert("\n".join(hans))).split("\n")
    if len(converted) == len(hans):
        changed = [h for h, c in zip(hans, converted, strict=True) if h != c]
    else:  # not expected: fall back to one conversion per character
        changed = [h for h in hans if _changes(h)]
    return re.compile("[" + "".join(changed) + "]")


def t2s_ratio(text: str) -> float:
    """Share of Han characters that OpenCC `t2s` changes on their own (0.0 when there are none).

    The changing characters are counted by deleting them in C (`_changing`): a set of the text's
    characters made one string object per character, most of the cost before.
    """
    hans = han_chars(text)
    if not hans:
        return 0.0
    return (len(hans) - len(_changing().sub("", hans))) / len(hans)


def should_convert(text: str) -> bool:
    """The gate: does `text` look traditional enough to convert?"""
    return t2s_ratio(text) >= T2S_MIN_RATIO


def to_simplified(text: str) -> str:
    """Convert with OpenCC `t2s` (phrase-aware; idempotent on simplified text)."""
    if not text or text.isascii():
        return text
    return str(_converter().convert(text))
