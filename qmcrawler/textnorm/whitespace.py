"""Whitespace normalization: odd spaces to ASCII, runs collapsed, lines trimmed, blank lines dropped."""

from __future__ import annotations

import re

_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


#: every character of _SPACES and _INVISIBLE but the ASCII space
_ODD = re.compile(r"[\t\f\v\u00a0\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff\u00ad]")


def normalize_line(line: str) -> str:
    """Collapse runs of spaces, drop zero-width characters and trim one line.

    Most lines hold neither an odd space, nor an invisible character, nor two spaces in a row;
    for them both substitutions change nothing and only the trim is left (a third of the time,
    tests/test_fast_paths.py compares it with the two substitutions).
    """
    if "  " in line or _ODD.search(line):
        return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()
    return line.strip()


def normalize_whitespace(text: str) -> str:
    """Normalize every line and drop the empty ones (one paragraph per line)."""
    lines = (normalize_line(x) for x in _NEWLINES.sub("\n", text).split("\n"))
    return "\n".join(x for x in lines if x)
