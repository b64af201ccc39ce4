"""Decoding downloaded HTML: BOM over HTTP header over <meta>, gb2312/gbk as gb18030, mojibake check.

DOMAIN.md §2.9. The declared charset is only a claim: a page that says utf-8 but sends GBK
bytes is decoded as GBK when the declared decoding fails strictly or scores as mojibake, and
the disagreement is reported (`charset_conflict`) so it can be recorded on the fetch.

A decoding that succeeds strictly can still be wrong, so each one must also be plausible:
markup survives (`charset=utf-16` over UTF-8 bytes decodes without error into text with no `<`
left), control characters and U+FFFD stay rare, and Chinese text consists mostly of
common characters (GB2312 level 1 or Big5's frequent set: Big5 bytes read as GBK decode
strictly into rare characters and symbols). Evidence order: BOM > header > `<meta>` > the
fallbacks, each taken only if plausible. Bytes that no codec turns into plausible text (random
bytes sent as text/html) are flagged `undecodable`: the crawl logs a failed fetch, never a version.
"""

from __future__ import annotations

import codecs
import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from charset_normalizer import from_bytes

#: declared names mapped to the codec actually used (supersets; never ISO-8859-1 for Chinese pages)
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
#: the order in which codecs are tried when the declared one fails
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")
#: characters typical of UTF-8 read as GBK (锛 浼 鈥 銆) or as Latin-1 (Ã), and U+FFFD
MOJIBAKE_MARKS = ("锛", "浼", "鈥", "銆", "鍙", "涓", "鐨", "Ã", "Â", "â€", "\ufffd")
#: a decoding whose mojibake score is above this is considered wrong
MOJIBAKE_LIMIT = 0.02
META_WINDOW = 4096
#: at most this share of control characters or U+FFFD in a plausible text
BAD_CHAR_LIMIT = 0.01
#: at least this share of common characters among the hanzi of a plausible Chinese text (the eval corpus and
#: fixtures: 95.5 % or more; Big5 bytes read as GBK: 61 %, UTF-8 read as GBK: 31 %)
COMMON_HANZI_MIN = 0.8
#: characters sampled for the plausibility checks
SAMPLE_CHARS = 20_000

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_\-:.]+)""", re.I)
#: characters up to U+2E7F (everything below the CJK radicals), deleted to count the others
_NARROW = re.compile("[\x00-\u2e7f]+")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class Decoded:
    """The text, the codec used, what the page declared (BOM, header or meta) and whether they differ."""

    text: str
    encoding: str
    declared: str | None
    conflict: bool

    undecodable: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        """`charset_conflict` when the declared charset was not the one that decoded the page;
        `undecodable` when no codec gave plausible text."""
        return (("charset_conflict",) if self.conflict else ()) + (("undecodable",) if self.undecodable else ())


def normalize_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset, or None if unknown or empty."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name.replace("_", "-")
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header."""
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type or "", re.I)
    return match.group(1) if match else None


def meta_charsets(body: bytes) -> list[str]:
    """Charsets declared by <meta> tags in the first 4 KB, in document order."""
    return [m.group(1).decode("ascii", "replace") for m in _META.finditer(body[:META_WINDOW])]


def mojibake_score(text: str) -> float:
    """Share of suspicious characters among CJK-ish characters (0 = clean)."""
    if not text:
        return 0.0
    if _numpy_scan():
        return _mojibake_numpy(text)
    marks = sum(text.count(m) for m in MOJIBAKE_MARKS)
    if not marks:
        return 0.0  # whatever the count of wide characters (the pass over the whole text below)
    wide = len(_NARROW.sub("", text)) or 1  # characters above U+2E7F, counted in C
    return marks / wide


@functools.cache
def frequent_hanzi() -> frozenset[str]:
    """GB2312 level 1 (rows B0–D7: 3,755 characters) and Big5's frequent set (A440–C67E: 5,401)."""
    chars: set[str] = set()
    for codec, leads, trails in (
        ("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
        ("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]),
    ):
        for lead in leads:
            for trail in trails:
                try:
                    chars.add(bytes((lead, trail)).decode(codec))
                except UnicodeDecodeError:
                    continue
    return frozenset(chars)


#: control characters (but tab, newline, form feed, CR), C1 controls, U+FFFD (private-use characters
#: are not counted: real pages use them, e.g. U+E5E5 as indentation left by a GBK conversion)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_HANZI = re.compile("[\u3400-\u9fff\U00020000-\U0002ffff]")
_HANZI_RUN = re.compile("[\u3400-\u9fff\U00020000-\U0002ffff]+")
#: the hanzi checked for commonness: the first HANZI_SAMPLE of the sample, looked for in its first
#: HANZI_WINDOW characters first (the whole sample only when they hold fewer)
HANZI_SAMPLE = 2000
HANZI_WINDOW = 6000


def plausible(text: str, body: bytes) -> bool:
    """True if `text` can be what `body` says: markup kept, few bad characters, mostly common hanzi."""
    sample = text[:SAMPLE_CHARS]
    if not sample:
        return True
    if b"<" in body[:1024] and "<" not in sample[:4096]:
        return False
    if _numpy_scan():
        return _plausible_numpy(sample)
    if len(_BAD_CHARS.findall(sample)) > BAD_CHAR_LIMIT * len(sample):
        return False
    # the hanzi as one string, their runs found and joined in C (a list of single hanzi made one
    # object per hanzi; deleting the others copied around every gap)
    hanzi = "".join(_HANZI_RUN.findall(sample, 0, HANZI_WINDOW))  # the first HANZI_SAMPLE are usually there
    if len(hanzi) < HANZI_SAMPLE:
        hanzi = "".join(_HANZI_RUN.findall(sample))
    hanzi = hanzi[:HANZI_SAMPLE]
    if len(hanzi) < 20:
        return True
    common = len(hanzi) - len(_rare_class().findall(hanzi))
    return common >= COMMON_HANZI_MIN * len(hanzi)


@functools.cache
def _rare_class() -> re.Pattern[str]:
    """Any character but the `frequent_hanzi`: among hanzi, the rare ones, found in C.

    Counting the few rare ones is a twentieth of the CPU of deleting the many frequent ones.
    """
    return re.compile("[^" + "".join(sorted(frequent_hanzi())) + "]")


_BMP = 0x10000
#: the hanzi of `_HANZI` beyond the BMP
_ASTRAL_HANZI = (0x20000, 0x2FFFF)


def _numpy_scan() -> bool:
    """Count with numpy (`_plausible_numpy`, `_mojibake_numpy`)? Once the process has loaded it.

    Each pass of `re` over a page's 6,000-20,000 characters costs about 15 ns a character; numpy
    looks each code point up in a table: 0.05 against 0.35 ms for a page's checks on the generated
    site (tests/test_fast_paths.py compares both ways). Decoding never imports numpy itself: the
    import costs 0.1-0.2 s of CPU, the checks of 400-600 pages. A crawl that stores new pages loads
    it for the search index (`qmcrawler.storage.grams`, after 50 versions) and the pages decoded
    after that take this path; a recheck that stores little keeps to the regular expressions.
    """
    return "numpy" in sys.modules


@functools.cache
def _tables() -> tuple[Any, Any, Any, Any, Any]:
    """numpy, and per BMP code point: `_BAD_CHARS`, `_HANZI`, `frequent_hanzi`, one-character `MOJIBAKE_MARKS`.

    Made from the same expressions and sets as the regular expression path, over every BMP character.
    """
    import numpy as np

    every = np.arange(_BMP, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")  # each BMP character

    def table(chars: Iterable[str]) -> Any:
        out = np.zeros(_BMP, dtype=bool)
        out[_codes(np, "".join(chars))] = True
        return out

    marks = table(m for m in MOJIBAKE_MARKS if len(m) == 1)
    return np, table(_BAD_CHARS.findall(every)), table(_HANZI_RUN.findall(every)), table(frequent_hanzi()), marks


def _codes(np: Any, text: str) -> Any:
    """The code points of `text` (lone surrogates too) as a uint32 array."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _plausible_numpy(sample: str) -> bool:
    """The checks of `plausible` after the markup one, on the code points (the same answers)."""
    np, bad, hanzi, frequent, _ = _tables()
    codes = _codes(np, sample)
    if np.count_nonzero(bad.take(codes, mode="clip")) > BAD_CHAR_LIMIT * len(sample):  # U+FFFF is not bad
        return False
    is_hanzi = hanzi.take(codes, mode="clip") | ((codes >= _ASTRAL_HANZI[0]) & (codes <= _ASTRAL_HANZI[1]))
    first = codes[is_hanzi][:HANZI_SAMPLE]
    if len(first) < 20:
        return True
    return int(np.count_nonzero(frequent.take(first, mode="clip"))) >= COMMON_HANZI_MIN * len(first)


def _mojibake_numpy(text: str) -> float:
    """`mojibake_score` on the code points (the same value)."""
    np, _, _, _, single = _tables()
    codes = _codes(np, text)
    marks = int(np.count_nonzero(single.take(codes, mode="clip"))) + sum(
        text.count(m) for m in MOJIBAKE_MARKS if len(m) > 1
    )
    if not marks:
        return 0.0
    return marks / (int(np.count_nonzero(codes > 0x2E7F)) or 1)


def _try(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None, utf8_text: str | None = None) -> Decoded:
    """Decode a page: BOM, then the HTTP charset, then <meta>, then fallbacks; never raises.

    `utf8_text` is the body already decoded as UTF-8 with replacement characters (Scrapy's
    `response.text` of a UTF-8 page, which its meta-refresh check has decoded): without any
    U+FFFD it is what a strict UTF-8 decoding gives, and is taken instead of decoding again.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            declared = normalize_charset(header_charset(content_type)) or _first_meta(body)
            text = body[len(bom) :].decode(codec, "replace")
            return Decoded(text, codec, declared, conflict=declared is not None and declared != codec)
    header = normalize_charset(header_charset(content_type))
    metas = [c for c in (normalize_charset(m) for m in meta_charsets(body)) if c]
    declared = header or (metas[0] if metas else None)
    candidates = list(dict.fromkeys([*([header] if header else []), *metas]))
    for codec in [*candidates, *(c for c in FALLBACKS if c not in candidates)]:
        if codec == "utf-8" and utf8_text is not None and "\ufffd" not in utf8_text:
            attempt: str | None = utf8_text
        else:
            attempt = _try(body, codec)
        if attempt is not None and mojibake_score(attempt) <= MOJIBAKE_LIMIT and plausible(attempt, body):
            return Decoded(attempt, codec, declared, conflict=declared is not None and codec != declared)
    best = from_bytes(body[:200_000]).best()
    codec = normalize_charset(best.encoding if best else None) or declared or "utf-8"
    text = body.decode(codec, "replace")
    return Decoded(
        text,
        codec,
        declared,
        conflict=declared is not None and codec != declared,
        undecodable=not plausible(text, body),
    )


def _first_meta(body: bytes) -> str | None:
    for name in meta_charsets(body):
        codec = normalize_charset(name)
        if codec:
            return codec
    return None
