"""Unicode NFC and width folding (U+FF01–FF5E → ASCII, U+3000 → space), deliberately not NFKC."""

from __future__ import annotations

import re
import unicodedata

#: Full-width ASCII variants and the ideographic space. NFKC would also rewrite ①, ㎡, … and
#: the CJK compatibility ideographs, which changes content, so only this range is folded.
_WIDTH_TABLE: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = " "


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC (so `a` + U+030C becomes `ǎ`)."""
    return unicodedata.normalize("NFC", text)


_WIDE = re.compile("[\uff01-\uff5e\u3000]")


def fold_width(text: str) -> str:
    """Fold full-width ASCII forms to ASCII and the ideographic space to a space.

    The same as `text.translate(_WIDTH_TABLE)`, but a text holds few distinct full-width
    characters (，：（）), so replacing each of them in C is several times faster than
    translate's dictionary lookup per character. Each replaces one code point by an ASCII one
    that is never replaced itself, so the order does not matter.
    """
    if text.isascii():
        return text
    for char in set(_WIDE.findall(text)):
        text = text.replace(char, _WIDTH_TABLE[ord(char)])
    return text


def nfc_fold(text: str) -> str:
    """NFC, then width fold: the first two normalization steps."""
    if text.isascii():
        return text
    return fold_width(nfc(text))


def nfc_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """`[nfc(x) for x in lines]` and `[fold_width(nfc(x)) for x in lines]`, for lines without a newline.

    Done once over the lines joined by newlines: NFC never composes across a newline (a starter
    that composes with nothing) and width folding maps one character to one, so each line comes
    out as it would alone, for one call of each instead of one per line.
    """
    if not lines:
        return [], []
    shown = nfc("\n".join(lines))
    return shown.split("\n"), fold_width(shown).split("\n")
