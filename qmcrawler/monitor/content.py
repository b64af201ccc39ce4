"""The hashed content of a version: which fields, how they are canonicalised, the hash.

The hash is over the comparison forms (`Article.norm_title`/`norm_text`), exactly as extractor
1.2.0 hashed them; versions store the page's own characters (`stored_text`) next to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qmcrawler.extraction.article import HASHED_FIELDS, Article
from qmcrawler.textnorm import comparison_form

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
#: every character `str.isspace` holds but the space and the newline (line breaks of `splitlines` too)
OTHER_SPACE = "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_OTHER_SPACE = re.compile(f"[{OTHER_SPACE}]")


def is_clean(value: str) -> bool:
    """True if `_clean` would give `value` back: single spaces inside lines, no empty lines, nothing
    to strip; only C-speed scans (the extractor's lines are normally already so)."""
    return not (
        not value
        or value[0] in " \n"
        or value[-1] in " \n"
        or "  " in value
        or "\n\n" in value
        or " \n" in value
        or "\n " in value
        or _OTHER_SPACE.search(value)
    )


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    if is_clean(value):
        return value  # the same object: pickled once beside the text it came from
    lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
    out = "\n".join(line for line in lines if line)
    return out or None


def content_fields(article: Article) -> dict[str, Any]:
    """The fields that define a version, canonicalised so whitespace never makes a change."""
    return {
        "title": _clean(article.norm_title or article.title),
        "text": _clean(article.norm_text or article.text) or "",
        "publish_time": article.publish_time,
        "source": _clean(article.source),
        "author": _clean(article.author),
        "attachments": [{"url": a.url, "name": _clean(a.name) or ""} for a in article.attachments],
    }


def stored_text(article: Article, fields: dict[str, Any]) -> dict[str, Any]:
    """What a version row stores as `title`/`text` (the page's characters) and the comparison forms.

    `fields` are the hashed `content_fields`; their title/text (width folded, gated t2s) become
    `norm_title`/`norm_text`, which the store indexes for search and fingerprints for copies.
    """
    return {
        "title": _clean(article.title) if article.norm_title else fields["title"],
        "text": (_clean(article.text) or "") if article.norm_text else fields["text"],
        "norm_title": fields["title"],
        "norm_text": fields["text"],
    }


@dataclass(frozen=True)
class ContentForms:
    """What the store needs of an article, computed once, beside the extraction (in its worker).

    `fields` and `hash` are `content_fields` and `content_hash`; `stored` is `stored_text`.
    """

    fields: dict[str, Any]
    hash: str
    stored: dict[str, Any]


def content_forms(article: Article) -> ContentForms:
    """`content_fields`, their `content_hash` and the `stored_text` of `article`, in one go."""
    fields = content_fields(article)
    return ContentForms(fields, content_hash(fields), stored_text(article, fields))


def comparison_key(*versions: Mapping[str, Any]) -> Callable[[str], str]:
    """The comparison form of stored `title`/`text` values, for telling real edits from display.

    Old rows stored the folded form, new rows the page's characters: both fold to one form. t2s
    applies when either version's plan had it (its `flags` say `t2s_applied`).
    """
    t2s = any("t2s_applied" in _flags(v.get("flags")) for v in versions)

    def key(value: str) -> str:
        return comparison_form(value, t2s)

    return key


def _flags(value: object) -> list[str]:
    if isinstance(value, str):
        return list(json.loads(value or "[]"))
    return list(value) if isinstance(value, list | tuple) else []


def content_hash(fields: dict[str, Any]) -> str:
    """sha256 over the hashed fields only (volatile fields such as views never enter)."""
    payload = {k: fields.get(k) for k in HASHED_FIELDS}
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def raw_hash(body: bytes) -> str:
    """Content address of a raw download."""
    return hashlib.sha256(body).hexdigest()


#: zstd level of the stored raw HTML (`raw.content`). On the generated site (bench/searchindex.py
#: prints each) zstd level 1 takes 0.11 ms a page for 9.9 KB, where zlib level 1, the stored form
#: before, took 0.46 ms for 9.2 KB and zlib level 6 0.85 ms for 8.6 KB. Content stored as zlib
#: before stays as it is and reads back the same (`unpack_raw`).
RAW_LEVEL = 1
#: the first bytes of every zstd frame (RFC 8878); a zlib stream starts with 0x78 (its CMF byte)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_codecs = threading.local()  # a zstd (de)compressor is not for two threads at once


def pack_raw(body: bytes) -> bytes:
    """The stored form of a raw download: one zstd frame at `RAW_LEVEL`, with its size and checksum."""
    compressor = getattr(_codecs, "compressor", None)
    if compressor is None:
        import zstandard  # here: a crawl that stores nothing new does not load it

        compressor = _codecs.compressor = zstandard.ZstdCompressor(level=RAW_LEVEL, write_checksum=True)
    return bytes(compressor.compress(body))


def unpack_raw(content: bytes) -> bytes:
    """A raw download from its stored form: zstd (`pack_raw`), or zlib as stored before."""
    if not content.startswith(ZSTD_MAGIC):
        return zlib.decompress(content)
    decompressor = getattr(_codecs, "decompressor", None)
    if decompressor is None:
        import zstandard

        decompressor = _codecs.decompressor = zstandard.ZstdDecompressor()
    return bytes(decompressor.decompress(content))
