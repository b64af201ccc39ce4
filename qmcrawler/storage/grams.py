"""The search index: each version's character bigrams, in an FTS5 table that stores nothing else.

What search needs from an index is the versions that may contain a term, newest first; the
text itself is already in `versions.text`. So the index keeps, per version, only the set of
its bigrams (two adjacent letters or digits of the comparison form of its title and text,
case folded): FTS5 with `content=''` (no copy of the text), `detail=none` (no positions),
`columnsize=0`, the unicode61 tokenizer over the bigrams written out with spaces between them.
A term of two characters or more is looked up as the AND of its bigrams, and every candidate is
then checked against the version's text (`qmcrawler.storage.textsearch`), so results are exact:
the index only narrows. On the site `bench/sitegen.py` generates this is about 5 KB per article
(a quarter of the text it indexes) where the FTS5 trigram index over a copy of the paragraphs took
59 KB, and it costs a fraction of the CPU to write (`bench/peers.py`, README "Benchmarks").

PostgreSQL keeps the comparison form in `version_search.body` under a pg_trgm GIN index
(`qmcrawler.storage.pgsearch`): it has no FTS5, and its table is not what the storage targets
measure.

Why one row per version and not per paragraph (the passages of migration 0008): the bigram set of
a whole article is about 0.3 of its text, so an edited article's new version adds 0.3 of its text
to the index; paragraphs shared between versions no longer need their own table and link rows.
"""

from __future__ import annotations

import functools
import heapq
import operator
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from qmcrawler.storage.dialects import dialect_of

#: the index (SQLite)
DDL = (
    "CREATE VIRTUAL TABLE search_grams USING fts5 "
    "(grams, content='', tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)"
)
#: at most this many bigrams of a term are looked up (the rest only narrow further; the check is exact)
MAX_QUERY_GRAMS = 24


def body_of(title: str | None, text: str | None) -> str:
    """What is indexed and checked: the comparison forms of title and text, one line apart."""
    return f"{title or ''}\n{text or ''}"


def grams_of(body: str) -> set[str]:
    """The distinct bigrams of two letters or digits (each one unicode61 token), case folded."""
    folded = body.casefold()
    return {g for g in (folded[i : i + 2] for i in range(len(folded) - 1)) if g.isalnum()}


def document(body: str) -> str:
    """The text FTS5 tokenizes for a version: its bigrams in code point order, space separated.

    Always `" ".join(sorted(grams_of(body)))` (tests/test_grams_fast.py checks it): the order of
    the tokens does not change the index. A page has about 6,000 positions and 2,850 distinct
    bigrams, and the plain form makes a string object for each position (2.4 ms a page); numpy
    does the same on the code points as one array (0.3 ms): a cached isalnum per BMP character,
    each pair as one uint64, sorted, duplicates dropped, written out as one UTF-32 buffer of
    (first, second, space) triples and decoded once. numpy is imported only when a process has
    indexed `_PLAIN_FIRST` versions the plain way (its import costs about as much CPU as that
    many), or when something else imported it already: a crawl that stores a few new versions
    does not pay for it.
    """
    global _plain_left
    if _plain_left > 0 and "numpy" not in sys.modules:
        _plain_left -= 1
        return " ".join(sorted(grams_of(body)))
    return _numpy_document(body.casefold())


#: versions indexed the plain way before numpy is imported for it
_PLAIN_FIRST = 50
_plain_left = _PLAIN_FIRST
#: the code points' encoding in this machine's byte order (numpy's uint32)
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_BMP = 0x10000


@functools.cache
def _bmp_alnum() -> Any:
    """`str.isalnum` of every BMP character, as a numpy bool array indexed by code point."""
    import numpy as np

    return np.fromiter(map(str.isalnum, map(chr, range(_BMP))), dtype=bool, count=_BMP)


def _numpy_document(folded: str) -> str:
    """`document` of a case-folded body, with numpy (the same string)."""
    import numpy as np

    if len(folded) < 2:
        return ""
    codes = np.frombuffer(folded.encode(_UTF32, "surrogatepass"), dtype=np.uint32)
    alnum = _bmp_alnum().take(codes, mode="clip")  # astral ones are set next (U+FFFF is no letter)
    astral = np.flatnonzero(codes >= _BMP)
    if len(astral):
        alnum[astral] = [chr(c).isalnum() for c in codes[astral].tolist()]
    pairs = (codes[:-1].astype(np.uint64) << 32) | codes[1:]
    pairs = pairs[alnum[:-1] & alnum[1:]]
    if not len(pairs):
        return ""
    pairs.sort()
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    triples = np.full((len(pairs), 3), ord(" "), dtype=np.uint32)
    triples[:, 0] = pairs >> 32
    triples[:, 1] = pairs & 0xFFFFFFFF
    return str(triples.ravel()[:-1].tobytes().decode(_UTF32))


def match_expression(term: str) -> str | None:
    """The FTS5 query for a term (the AND of its bigrams' tokens), or None when it has none (one character).

    Each bigram is the token unicode61 makes of it: Python's `isalnum` and SQLite's tables of
    letters may disagree on a character (a newer CJK extension), and unicode61 drops such a
    character from the token. A bigram that became no token at all would make the AND match
    nothing, so it is left out. Every version containing the term has these bigrams in its
    document, hence these tokens.
    """
    folded = term.casefold()
    grams = dict.fromkeys(g for g in (folded[i : i + 2] for i in range(len(folded) - 1)) if g.isalnum())
    letters = _token_chars("".join(grams))
    tokens = list(dict.fromkeys(t for t in ("".join(c for c in g if c in letters) for g in grams) if t))
    if not tokens:
        return None
    return " AND ".join(f'"{t}"' for t in tokens[:MAX_QUERY_GRAMS])


#: characters already asked about: whether unicode61 keeps them in a token
_TOKEN_CHAR: dict[str, bool] = {}


def _token_chars(chars: str) -> set[str]:
    """Those of `chars` that unicode61 keeps in tokens (asked once per character, of SQLite itself)."""
    new = [c for c in dict.fromkeys(chars) if c not in _TOKEN_CHAR]
    if new:
        scratch = sqlite3.connect(":memory:")
        try:
            scratch.execute(DDL)
            scratch.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(search_grams, 'row')")
            for c in new:  # one at a time: unicode61 folds case, so a token need not be the character
                scratch.execute("INSERT INTO search_grams (search_grams) VALUES ('delete-all')")
                scratch.execute("INSERT INTO search_grams (rowid, grams) VALUES (1, ?)", [c])
                _TOKEN_CHAR[c] = scratch.execute("SELECT count(*) FROM vocab").fetchone()[0] > 0
        finally:
            scratch.close()
    return {c for c in chars if _TOKEN_CHAR[c]}


def index_version(db: Any, version_id: int, title: str | None, text: str | None) -> None:
    """Index one version (title and text in their comparison forms)."""
    index_versions(db, [(version_id, title, text)])


def index_versions(db: Any, rows: Iterable[tuple[int, str | None, str | None]]) -> int:
    """Index many (version_id, title, text) rows, comparison forms; return how many."""
    if dialect_of(db) == "postgresql":
        sql = "INSERT INTO version_search (version_id, body) VALUES (?, ?) ON CONFLICT DO NOTHING"
        batch = [(vid, body_of(title, text)) for vid, title, text in rows]
        db.executemany(sql, batch)
        return len(batch)
    cursor = db.conn.executemany(  # one document at a time: a batch's would take megabytes at once
        "INSERT INTO search_grams (rowid, grams) VALUES (?, ?)",
        ((vid, document(body_of(title, text))) for vid, title, text in rows),
    )
    return int(cursor.rowcount)


def search_sql(all_versions: bool) -> str:
    """Candidate versions for one FTS5 expression, newest first; separate so tests can check its plan."""
    current = "" if all_versions else "WHERE v.id = p.current_version "
    return (
        "SELECT v.id AS version_id FROM "  # noqa: S608 - constants
        "(SELECT rowid AS vid FROM search_grams WHERE search_grams MATCH ? ORDER BY rowid DESC) AS m "
        "JOIN versions v ON v.id = m.vid "
        f"JOIN pages p ON p.id = v.page_id {current}"
        # repeated outside: the subquery is flattened into the join, and only this ORDER BY lets
        # FTS5 hand out rowids in descending order (no sort, so reading stops when the caller does)
        "ORDER BY m.vid DESC"
    )


def iter_candidates(db: Any, term: str, all_versions: bool) -> Iterator[int]:
    """Ids of the versions (current ones unless `all_versions`) whose bigrams include the term's, newest
    first, and of the versions stored but not indexed yet (`search_queue`, qmcrawler.storage.indexlag).

    Lazy: the caller checks each against the text and stops reading when it has enough.
    """
    expression = match_expression(term)
    if expression is None:
        return
    queued = [int(r[0]) for r in db.conn.execute(queue_sql(all_versions))]
    yield from heapq.merge(_matches(db, expression, all_versions), queued, key=operator.neg)


def queue_sql(all_versions: bool) -> str:
    """The queued versions (current ones unless `all_versions`), newest first."""
    current = "" if all_versions else "WHERE v.id = p.current_version "
    return (
        "SELECT q.version_id FROM search_queue q JOIN versions v ON v.id = q.version_id "  # noqa: S608 - constants
        f"JOIN pages p ON p.id = v.page_id {current}ORDER BY q.version_id DESC"
    )


def indexed_candidates(db: Any, term: str, all_versions: bool) -> Iterator[int]:
    """The index's own candidates for `term` (versions having all its bigrams), newest first."""
    expression = match_expression(term)
    if expression is not None:
        yield from _matches(db, expression, all_versions)


def _matches(db: Any, expression: str, all_versions: bool) -> Iterator[int]:
    cursor = db.conn.execute(search_sql(all_versions), [expression])
    try:
        for (version_id,) in cursor:
            yield int(version_id)
    finally:
        cursor.close()
