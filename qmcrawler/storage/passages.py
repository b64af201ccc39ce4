"""Full-text search over passages: each paragraph is stored and indexed once, however many versions repeat it.

Why not index whole versions: an FTS5 trigram index costs about three times the text it holds
(every 3-character window, with its position), and an edit usually changes one paragraph of an
article. Indexing every version made the index half of what the database grew per recrawl
(`bench/storage.py`). So a version's title and text are split into passages (paragraphs; a long
paragraph in runs of whole sentences up to `MAX_CHARS`, a single longer sentence whole), each
passage is stored once under a 64-bit hash of its text (`passages.key`), indexed once
(`passages_fts`, trigram), and linked to every version that contains it (`version_passages`).
A new version of an edited page adds its changed paragraphs and one link row per paragraph.
Reposts of the same notice share passages too.

Search walks the index newest passage first and stops as soon as it has enough versions, so a
query costs about the same on a large database as on a small one. A match must lie inside one
passage (a phrase across a paragraph break is not found); queries under three characters scan
`versions` with LIKE (`qmcrawler.storage.queries.search`).

Two different passages with the same 64-bit key would share a row; with 10 million passages the
chance of that is about 3 in a million.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

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


def search_sql(all_versions: bool) -> str:
    """The search query (one parameter: the FTS5 phrase); separate so tests can check its plan."""
    current = "" if all_versions else "WHERE v.id = p.current_version "
    return (
        "SELECT v.id AS version_id, p.url, p.site, v.title, v.fetched_at, m.snippet "  # noqa: S608 - constants
        "FROM (SELECT rowid AS passage_id, snippet(passages_fts, 0, '【', '】', '…', 24) AS snippet "
        "FROM passages_fts WHERE passages_fts MATCH ? ORDER BY rowid DESC) AS m "
        "JOIN version_passages vp ON vp.passage_id = m.passage_id "
        "JOIN versions v ON v.id = vp.version_id "
        f"JOIN pages p ON p.id = v.page_id {current}"
        # repeated outside: the subquery is flattened into the join, and only this ORDER BY lets
        # FTS5 hand out rowids in descending order (no sort, so reading stops at `limit`)
        "ORDER BY m.passage_id DESC"
    )


def iter_hits(db: Database, phrase: str, all_versions: bool) -> Iterator[dict[str, Any]]:
    """Versions whose passages contain `phrase` (three characters or more), newest passage first, once each.

    Lazy: the caller stops reading when it has enough (see `search_rows`).
    """
    quoted = '"' + phrase.replace('"', '""') + '"'
    seen: set[int] = set()
    cursor = db.conn.execute(search_sql(all_versions), [quoted])
    names = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            hit = dict(zip(names, row, strict=True))
            if int(hit["version_id"]) not in seen:
                seen.add(int(hit["version_id"]))
                yield hit
    finally:
        cursor.close()


def search_rows(db: Database, phrase: str, all_versions: bool, limit: int) -> list[dict[str, Any]]:
    """Versions whose passages contain `phrase` (three characters or more), newest passage first.

    FTS5 yields matching passages in descending rowid order without sorting, and the rows are
    read one at a time until `limit` distinct versions are found, so the cost does not grow
    with the number of matches.
    """
    if limit <= 0:
        return []
    sql = search_sql(all_versions)
    quoted = '"' + phrase.replace('"', '""') + '"'
    found: dict[int, dict[str, Any]] = {}
    cursor = db.conn.execute(sql, [quoted])
    names = [d[0] for d in cursor.description]
    for row in cursor:
        hit = dict(zip(names, row, strict=True))
        found.setdefault(int(hit["version_id"]), hit)
        if len(found) >= limit:
            break
    cursor.close()
    return list(found.values())
