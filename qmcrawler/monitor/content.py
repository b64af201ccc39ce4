"""The hashed content of a version: which fields, how they are canonicalised, the hash."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from qmcrawler.extraction.article import HASHED_FIELDS, Article

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
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


def content_hash(fields: dict[str, Any]) -> str:
    """sha256 over the hashed fields only (volatile fields such as views never enter)."""
    payload = {k: fields.get(k) for k in HASHED_FIELDS}
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def raw_hash(body: bytes) -> str:
    """Content address of a raw download."""
    return hashlib.sha256(body).hexdigest()
