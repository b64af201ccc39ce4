"""Copies: a 64-bit SimHash of normalized text, its bands, and the signs of a spam mirror (DOMAIN.md §4.2).

Reposts and mirrors keep the text of the page they copy, give or take a dateline, a widget or a
traditional/pinyin conversion that normalization already undoes. A SimHash over character
3-grams of the normalized title and body is the fingerprint: near-identical texts land within
a few bits of each other (measured on the fixtures, over the set of 3-grams: a content-farm
repost of a 人民网 article at distance 0, or 4 with its dateline dropped and a line added; a
pinyin mirror of the 2015 notice and a clean copy at 1; unrelated pages 19-42 apart, median 31).

The database lookup (`qmcrawler.storage.copylinks`) buckets fingerprints by BANDS: 5 bands of 12-13
bits, so two fingerprints within GUARANTEED_DISTANCE (4) bits share at least one band exactly
(pigeonhole: 4 differing bits cannot touch all 5 bands); pairs at 5-6 bits are found when their
differing bits leave a band untouched, which is usual. Narrower bands would guarantee more but
fill every band value with N/2^width unrelated pages: with 9-bit bands a crawl became quadratic
(about 630 candidate rows per lookup at 1,500 pages), with 13-bit bands 100,000 pages give about 12
random rows per band. Reposts and mirrors measured here are 0-1 bits apart.
"""

from __future__ import annotations

import collections
import hashlib
import ipaddress
import itertools
import re
from urllib.parse import urlsplit

BITS = 64
MAX_DISTANCE = 6
#: pairs this close always share a band (5 bands: 4 differing bits cannot touch them all)
GUARANTEED_DISTANCE = 4
#: (start, width) of each band of the fingerprint
BANDS: tuple[tuple[int, int], ...] = ((0, 13), (13, 13), (26, 13), (39, 13), (52, 12))
#: texts shorter than this (in kept characters) get no fingerprint: too few shingles to compare
MIN_CHARS = 40
SHINGLE = 3
#: official URL path shapes (DOMAIN.md §2.1) that spam mirrors copy onto foreign hosts
OFFICIAL_PATHS = re.compile(
    r"/t\d{8}_\d+\.s?html?$|/art/\d{4}/(?:\d{1,2}/\d{1,2}/)?art_\w+\.html$|/content_\d+\.htm$|"
    r"/n1/\d{4}/\d{4}/c\d+-\d+\.html$|/content/post_\d+\.html$|/c_\d+\.htm$"
)
#: hosts whose pages are official (or the national press): a copy elsewhere of their paths is suspicious
OFFICIAL_HOSTS = ("gov.cn", "people.com.cn", "news.cn", "xinhuanet.com", "cqn.com.cn")
#: words injected by spam mirrors into titles and first/last lines (a few, as in DOMAIN.md §5.2 "spam")
SPAM_WORDS = ("彩票", "博彩", "娱乐城", "百家乐", "赌场", "六合彩", "时时彩", "真人视讯", "成人", "色情", "开户送")
MIRROR_FLAGS = ("pinyin_artifact", "spam_injection", "mojibake", "likely_mirror")
_KEEP = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9]+")
_MASK = (1 << BITS) - 1


def shingles(text: str) -> set[bytes]:
    """The distinct character 3-grams of the Han, Latin and digit characters of `text`.

    Punctuation and spaces are dropped. Each gram is its 12 bytes of UTF-32: slicing one encoded
    string is several times cheaper than slicing and encoding thousands of small strings.
    """
    return _grams("".join(_KEEP.findall(text)))


def _grams(chars: str) -> set[bytes]:
    data = chars.encode("utf-32-le")
    width = 4 * SHINGLE
    return {data[i : i + width] for i in range(0, len(data) - width + 4, 4)}


#: an empty 8-byte BLAKE2b: each gram's hasher is a copy of it (no keyword parsing, no parameter block)
_BLAKE2B = hashlib.blake2b(digest_size=8)
_Hasher = type(_BLAKE2B)


def simhash(text: str) -> int | None:
    """The 64-bit SimHash of the set of `text`'s 3-grams, or None for too short a text.

    Each distinct 3-gram votes once. Weighting by count let the stock phrases of official
    writing (进一步, 扎实推进, 不断加强, repeated dozens of times on a page) outvote the rest, so
    unrelated notices came out a few bits apart: on the benchmark's generated site 44 of 64 bits
    were nearly constant and most pages were taken for copies of each other. Over the set,
    unrelated pages are about 29 bits apart and none falls within MAX_DISTANCE.

    Each gram's hash is its 8-byte BLAKE2b digest, read big-endian; bit k of the fingerprint is
    set when more than half of the grams have bit k set. Both steps run in C, with no Python
    frame per gram (a page has about 4,000 grams): the hashers are copies of one empty hasher,
    updated and read with `map`, their digests joined into one string; each byte position of
    that string (a column of one byte per gram) becomes one big integer, and the grams with bit
    b set in that byte are `(column & mask_b).bit_count()`, mask_b holding bit b of every byte.
    tests/test_copies.py checks the values against the per-gram loop and stored values.
    """
    chars = "".join(_KEEP.findall(text))
    if len(chars) < MIN_CHARS:
        return None
    grams = _grams(chars)
    hashers = list(map(_Hasher.copy, itertools.repeat(_BLAKE2B, len(grams))))
    collections.deque(map(_Hasher.update, hashers, grams), maxlen=0)
    blob = b"".join(map(_Hasher.digest, hashers))
    ones = int.from_bytes(b"\x01" * len(grams), "little")
    masks = [ones << bit for bit in range(8)]
    out = 0
    for position in range(BITS // 8):
        column = int.from_bytes(blob[position::8], "little")
        for bit, mask in enumerate(masks):  # bit `bit` of byte `position` (big-endian)
            if 2 * (column & mask).bit_count() > len(grams):
                out |= 1 << ((BITS // 8 - 1 - position) * 8 + bit)
    return out


def distance(a: int, b: int) -> int:
    """Hamming distance between two fingerprints."""
    return ((a ^ b) & _MASK).bit_count()


def bands(fingerprint: int) -> list[int]:
    """The band values of a fingerprint, in BANDS order."""
    return [fingerprint >> start & ((1 << width) - 1) for start, width in BANDS]


def to_hex(fingerprint: int) -> str:
    """16 hex digits (how versions store it: SQLite integers are signed)."""
    return f"{fingerprint & _MASK:016x}"


def from_hex(value: str) -> int:
    """Inverse of `to_hex`."""
    return int(value, 16)


def to_signed(fingerprint: int) -> int:
    """The fingerprint as a signed 64-bit integer (how `simhash_bands.fingerprint` stores it)."""
    fingerprint &= _MASK
    return fingerprint - (1 << BITS) if fingerprint >> (BITS - 1) else fingerprint


def fingerprint_text(title: str | None, text: str | None) -> str:
    """The text a fingerprint is computed over: the normalized title and body."""
    return f"{title or ''}\n{text or ''}"


def official_path_on_foreign_host(url: str) -> bool:
    """True for an official-looking path (TRS/JPaaS/gov.cn/人民网 shapes) on a public host that is not official.

    Addresses (127.0.0.1, intranet IPs) are never "foreign": that is a local copy or a test server.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or not OFFICIAL_PATHS.search(parts.path):
        return False
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return not any(host == h.lstrip(".") or host.endswith("." + h.lstrip(".")) for h in OFFICIAL_HOSTS)


def spam_words(title: str | None, text: str | None) -> list[str]:
    """Injected spam words in the title or the first/last lines of the body."""
    lines = (text or "").splitlines()
    edges = "\n".join([title or "", *lines[:2], *lines[-2:]]).lower()
    return [w for w in SPAM_WORDS if w in edges]


def mirror_reasons(url: str, title: str | None, text: str | None, flags: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Why a page looks like a spam mirror (empty: it does not): artifacts, spam words, a borrowed path."""
    reasons = [f for f in MIRROR_FLAGS if f in flags]
    if len(spam_words(title, text)) >= 2:
        reasons.append("spam_words")
    if official_path_on_foreign_host(url):
        reasons.append("official_path_on_foreign_host")
    return reasons
