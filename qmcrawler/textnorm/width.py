"""Unicode NFC and width folding (U+FF01–FF5E → ASCII, U+3000 → space), deliberately not NFKC."""

from __future__ import annotations

import unicodedata

#: Full-width ASCII variants and the ideographic space. NFKC would also rewrite ①, ㎡, … and
#: the CJK compatibility ideographs, which changes content, so only this range is folded.
_WIDTH_TABLE: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = " "


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC (so `a` + U+030C becomes `ǎ`)."""
    return unicodedata.normalize("NFC", text)


def fold_width(text: str) -> str:
    """Fold full-width ASCII forms to ASCII and the ideographic space to a space."""
    return text.translate(_WIDTH_TABLE)


def nfc_fold(text: str) -> str:
    """NFC, then width fold: the first two normalization steps."""
    if text.isascii():
        return text
    return fold_width(nfc(text))
