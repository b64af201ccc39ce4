"""The passages of migrations 0008-0013 (each paragraph stored and trigram-indexed once); 0014 drops them.

Kept for the migrations that build them when an old database is upgraded step by step, and for
`bench/searchindex.py`, which measures these layouts. Search now reads the bigram index of each
version (`qmcrawler.storage.grams`, which explains why). What follows is why passages were made:

Why not index whole versions: an FTS5 trigram index costs about three times the text it holds
(every 3-character window, with its position), and an edit usually changes one paragraph of an
article. Indexing every version made the index half of what the database grew per recrawl
(`bench/storage.py`). So a version's title and text are split into passages (paragraphs; a long
paragraph in runs of whole sentences up to `MAX_CHARS`, a single longer sentence whole), each
passage is stored once under a 64-bit hash of its text (`passages.key`), indexed once
(`passages_fts`, trigram), and linked to every version that contains it (`version_passages`).
A new version of an edited page adds its changed paragraphs and one link row per paragraph.
Reposts of the same notice share passages too.

Two different passages with the same 64-bit key would share a row; with 10 million passages the
chance of that is about 3 in a million.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from sqlite_utils import Database

#: longest passage before a paragraph is cut at sentence ends
MAX_CHARS = 200
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
#: SQLite's default limit of host parameters is 32766; stay well below it
_CHUNK = 500


def split_passages(title: str | None, text: str | None) -> list[str]:
    """The title and each paragraph of the text; paragraphs over MAX_CHARS in runs of sentences."""
    out: list[str] = []
    for paragraph in [title or "", *(text or "").split("\n")]:
        paragraph = paragraph.strip()
        if len(paragraph) <= MAX_CHARS:
            if paragraph:
                out.append(paragraph)
            continue
        run = ""
        for sentence in _SENTENCE_END.split(paragraph):
            if run and len(run) + len(sentence) > MAX_CHARS:
                out.append(run.strip())
                run = ""
            run += sentence
        if run.strip():
            out.append(run.strip())
    return out


def passage_key(passage: str) -> int:
    """Signed 64-bit BLAKE2b hash of the passage (fits an SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(passage.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def index_version(db: Database, version_id: int, title: str | None, text: str | None) -> int:
    """Store the version's passages (new ones only) and link them to it; return how many were new."""
    keyed = {passage_key(p): p for p in split_passages(title, text)}
    if not keyed:
        return 0
    conn = db.conn
    new = "INSERT INTO passages (key, text) VALUES (?, ?) ON CONFLICT DO NOTHING"
    added = conn.executemany(new, keyed.items()).rowcount
    ids: list[int] = []
    keys = list(keyed)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        ids += [r[0] for r in conn.execute(f"SELECT id FROM passages WHERE key IN ({marks})", chunk)]  # noqa: S608
    conn.executemany(
        "INSERT INTO version_passages (passage_id, version_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        ((pid, version_id) for pid in ids),
    )
    return added


def index_all(db: Database, versions: Iterable[tuple[int, str | None, str | None]]) -> int:
    """Index many (version_id, title, text) rows, e.g. when upgrading a database; return new passages."""
    return sum(index_version(db, vid, title, text) for vid, title, text in versions)
