"""Copies: a 64-bit SimHash of normalized text, its bands, and the signs of a spam mirror (DOMAIN.md §4.2).

Reposts and mirrors keep the text of the page they copy, give or take a dateline, a widget or a
traditional/pinyin conversion that normalization already undoes. A SimHash over character
3-grams of the normalized title and body is the fingerprint: near-identical texts land within
a few bits of each other (measured on the fixtures, over the set of 3-grams: a content-farm
repost of a 人民网 article at distance 0, or 5 with its dateline dropped and a line added, still
sharing 2 of the 5 bands; a pinyin mirror of the 2015 notice and a clean copy at 1; unrelated
pages 17-42 apart, median 30; on the benchmark's generated site, 1,000 pages, unrelated pages are
12-48 apart, median 30, and no pair is within MAX_DISTANCE).

The database lookup (`qmcrawler.storage.copylinks`) buckets fingerprints by BANDS: 5 bands of 12-13
bits, so two fingerprints within GUARANTEED_DISTANCE (4) bits share at least one band exactly
(pigeonhole: 4 differing bits cannot touch all 5 bands); pairs at 5-6 bits are found when their
differing bits leave a band untouched, which is usual. Narrower bands would guarantee more but
fill every band value with N/2^width unrelated pages: with 9-bit bands a crawl became quadratic
(about 630 candidate rows per lookup at 1,500 pages), with 13-bit bands 100,000 pages give about 12
random rows per band. Reposts and mirrors measured here are 0-1 bits apart (5 for the edited repost).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

BITS = 64
MAX_DISTANCE = 6
#: pairs this close always share a band (5 bands: 4 differing bits cannot touch them all)
GUARANTEED_DISTANCE = 4
#: (start, width) of each band of the fingerprint
BANDS: tuple[tuple[int, int], ...] = ((0, 13), (13, 13), (26, 13), (39, 13), (52, 12))
#: texts shorter than this (in kept characters) get no fingerprint: too few shingles to compare
MIN_CHARS = 40
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
#: the characters a fingerprint reads (Han, Latin letters, digits), inclusive code point ranges
_KEEP_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x41, 0x5A), (0x61, 0x7A), (0x30, 0x39))
_MASK = (1 << BITS) - 1
#: splitmix64's increment (the golden ratio) and its finalizer's multipliers
_GAMMA, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
#: grams whose bits are summed in one uint64 per 8 bits (a byte lane holds at most 255)
_CHUNK = 255
#: chunks unpacked at once: 64 KB of bits, under malloc's mmap threshold (a fresh mapping faults in every page)
_BLOCK = 4


@functools.cache
def _numpy() -> tuple[Any, Any]:
    """numpy and a boolean per BMP code point (True: kept), made on the first fingerprint, not at start-up."""
    import numpy as np

    table = np.zeros(0x10000, dtype=bool)
    for low, high in _KEEP_RANGES:
        table[low : high + 1] = True
    return np, table


def simhash(text: str) -> int | None:
    """The 64-bit SimHash of the set of `text`'s 3-grams, or None for too short a text.

    Each distinct 3-gram votes once. Weighting by count let the stock phrases of official
    writing (进一步, 扎实推进, 不断加强, repeated dozens of times on a page) outvote the rest, so
    unrelated notices came out a few bits apart: on the benchmark's generated site 44 of 64 bits
    were nearly constant and most pages were taken for copies of each other. Over the set,
    unrelated pages are about 30 bits apart and none falls within MAX_DISTANCE.

    A gram of code points (a, b, c) is the integer key a << 42 | b << 21 | c (21 bits each), its
    hash is splitmix64 of the key, and bit k of the fingerprint is set when more than half of the
    distinct grams have bit k set. It runs on numpy (a well-kept library for exactly this:
    arithmetic over arrays in C) with no Python frame per gram (a page has about 4,000): the kept
    characters are picked by a table lookup over the UTF-16 code units (surrogates are never
    kept, as characters beyond the BMP are not), the keys sorted and deduplicated by comparing
    neighbours (np.unique is about 10 times slower on numpy 2.4), hashed with wrapping uint64
    arithmetic, and the bits counted by unpacking them into bytes read as one uint64 per 8 bits,
    summed 255 grams at a time (no byte lane overflows). About 0.3 ms a page, where BLAKE2b per
    gram (the fingerprint up to migration 0015) took 4 ms. numpy is imported on the first call:
    the crawl's main process imports this module but fingerprints in its extraction workers.
    tests/test_copies.py pins the values to a plain per-gram loop of the same hash.
    """
    np, table = _numpy()
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")  # beyond the BMP: 2 surrogates
    kept = units[table[units]].astype(np.uint64)
    if len(kept) < MIN_CHARS:
        return None
    keys = kept[:-2] << np.uint64(42) | kept[1:-1] << np.uint64(21) | kept[2:]
    keys.sort()
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # each distinct gram once
    grams = len(keys)
    chunks = -(-grams // _CHUNK)
    hashes = np.zeros(chunks * _CHUNK, dtype="<u8")  # zeros vote for no bit
    hashes[:grams] = _splitmix64(np, keys)
    lanes = np.empty((chunks, BITS // 8), dtype="<u8")
    for first in range(0, chunks, _BLOCK):
        block = hashes[first * _CHUNK : (first + _BLOCK) * _CHUNK]
        bits = np.unpackbits(block.view(np.uint8), bitorder="little").view("<u8").reshape(-1, _CHUNK, BITS // 8)
        lanes[first : first + len(bits)] = np.ascontiguousarray(bits.transpose(0, 2, 1)).sum(axis=2)
    counts = lanes.view(np.uint8).reshape(chunks, BITS).sum(axis=0)  # byte j of lane i: bit 8i+j
    votes = np.packbits(2 * counts > grams, bitorder="little")
    return int.from_bytes(votes.tobytes(), "little")


def _splitmix64(np: Any, keys: Any) -> Any:
    """splitmix64 of each uint64 (the golden-ratio step, then its finalizer), wrapping like C."""
    z = keys + np.uint64(_GAMMA)
    z ^= z >> np.uint64(30)
    z *= np.uint64(_MIX1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_MIX2)
    z ^= z >> np.uint64(31)
    return z


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
