"""`qmcrawler search`: whitespace-separated terms that must all occur in a page, snippets in its own text.

The index holds each version's bigrams in the comparison form (width folded, simplified:
`qmcrawler.storage.grams`), so each term is folded the same way before matching, and `（更正）`,
`(更正)` and `（更正)` find the same page. The longest term walks the index newest version first
(the versions having all its bigrams); each candidate must then contain every term somewhere in
its title or text (a page, not one paragraph), case ignored: the index only narrows, the text
decides. With only one-character terms, `versions` is scanned with LIKE. The snippet is cut from
the version's displayed text, the page's own characters, on one line.

On PostgreSQL the index is pg_trgm's GIN index on `version_search.body` (the same comparison form),
read through ILIKE (`qmcrawler.storage.pgsearch`), for terms of three characters or more; shorter
ones are scanned with ILIKE. Both give the same versions in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from qmcrawler.storage import grams, pgsearch
from qmcrawler.storage.dialects import dialect_of
from qmcrawler.textnorm import comparison_form

#: the bigram index answers terms of two characters or more; a one-character query is a scan
FTS_MIN_CHARS = 2
#: pg_trgm needs at least three characters; shorter terms are scanned on PostgreSQL
PG_MIN_CHARS = 3
#: characters of context on each side of the first match in a snippet
SNIPPET_CONTEXT = 24

_VERSION_SQL = (
    "SELECT v.id AS version_id, p.url, p.site, p.status, v.title, v.fetched_at, v.text, v.flags "
    "FROM versions v JOIN pages p ON p.id = v.page_id"
)


def terms_of(query: str) -> list[str]:
    """The query's terms: split on whitespace, each in the comparison form (duplicates dropped)."""
    return list(dict.fromkeys(comparison_form(t, t2s=True) for t in query.split()))


def search(db: Database, query: str, limit: int = 20, all_versions: bool = False) -> list[dict[str, Any]]:
    """Versions (current ones unless `all_versions`) containing every term of `query`, newest first."""
    terms = terms_of(query)
    if limit <= 0 or not terms:
        return []
    longest = max(terms, key=len)
    out: list[dict[str, Any]] = []
    postgres = dialect_of(db) == "postgresql"
    if postgres and len(longest) >= PG_MIN_CHARS:
        candidates: Iterator[int] | None = pgsearch.iter_hits(db, longest, all_versions)
    elif not postgres and grams.match_expression(longest) is not None:
        candidates = grams.iter_candidates(db, longest, all_versions)
    else:
        candidates = None
    if candidates is not None:
        for version_id in candidates:
            row = _version(db, version_id)
            if _has_all(row, terms):  # the index narrows; the text decides
                out.append(row)
                if len(out) >= limit:
                    break
    else:
        out = _scan(db, terms, all_versions, limit)
    for row in out:
        row["snippet"] = snippet(row.get("title"), row.pop("text") or "", terms, _t2s(row.pop("flags")))
    return out


def _t2s(flags: str | None) -> bool:
    return "t2s_applied" in json.loads(flags or "[]")


def _version(db: Database, version_id: int) -> dict[str, Any]:
    return dict(next(iter(db.query(_VERSION_SQL + " WHERE v.id = ?", [version_id]))))


def _has_all(row: dict[str, Any], terms: list[str]) -> bool:
    return contains_all(row.get("title"), row.get("text"), row.get("flags"), terms)


def contains_all(title: str | None, text: str | None, flags: str | None, terms: list[str]) -> bool:
    """Every term occurs in the comparison form of the title or the text (case ignored).

    Terms are in the comparison form already, so a term found in the text as stored is found in
    its comparison form too: the text is folded only when some term is not there as it is.
    """
    if not terms:
        return False
    shown = grams.body_of(title, text).casefold()
    wanted = [t.casefold() for t in terms]
    if all(t in shown for t in wanted):
        return True
    body = comparison_form(grams.body_of(title, text), _t2s(flags)).casefold()
    return all(t in body for t in wanted)


def _scan(db: Database, terms: list[str], all_versions: bool, limit: int) -> list[dict[str, Any]]:
    """One-character terms: LIKE over title and text (each term as folded and as typed in full width)."""
    where: list[str] = [] if all_versions else ["v.id = p.current_version"]
    params: list[str] = []
    postgres = dialect_of(db) == "postgresql"
    for term in terms:
        forms = list(dict.fromkeys([term, _full_width(term)]))
        # SQLite's LIKE ignores ASCII case; PostgreSQL's does not (ILIKE, needed only for letters with a case)
        like = "ILIKE" if postgres and term.lower() != term.upper() else "LIKE"
        match = f"v.title {like} ? ESCAPE '\\' OR v.text {like} ? ESCAPE '\\'"
        where.append("(" + " OR ".join([match] * len(forms)) + ")")
        for form in forms:
            pattern = "%" + form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern]
    sql = f"{_VERSION_SQL} WHERE {' AND '.join(where) or '1 = 1'}"
    out: list[dict[str, Any]] = []
    for row in _newest_first(db, sql, params):  # the LIKE forms over-approximate; the comparison form decides
        if _has_all(row, terms):
            out.append(row)
            if len(out) >= limit:
                break
    return out


#: versions the short-term scan reads per query on PostgreSQL at first (doubled per window, up to _MAX_WINDOW)
_FIRST_WINDOW = 64
_MAX_WINDOW = 4096


def _newest_first(db: Database, sql: str, params: list[str]) -> Iterator[dict[str, Any]]:
    """The scan's rows, newest version first, read only as far as the caller goes.

    SQLite hands rows out one at a time as it reads them. psycopg fetches a whole result, and the
    planner cannot tell how many versions a LIKE matches, so PostgreSQL reads windows of version
    ids from the newest down (each an index range: a search that needs 20 rows reads about as
    many versions as on SQLite, not all of them).
    """
    if dialect_of(db) != "postgresql":
        yield from (dict(r) for r in db.query(sql + " ORDER BY v.id DESC", params))
        return
    top = next(iter(db.query("SELECT MAX(id) AS top FROM versions")))["top"]
    hi, window = (int(top) if top is not None else 0), _FIRST_WINDOW
    while hi >= 1:
        lo = max(1, hi - window + 1)
        yield from (dict(r) for r in db.query(sql + " AND v.id BETWEEN ? AND ? ORDER BY v.id DESC", [*params, lo, hi]))
        hi, window = lo - 1, min(window * 2, _MAX_WINDOW)


def _full_width(term: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in term)


def snippet(title: str | None, text: str, terms: list[str], t2s: bool, width: int = SNIPPET_CONTEXT) -> str:
    """One line around the first match in the text (else the title), `【】` around the term, as the page has it."""
    for line in [*text.split("\n"), title or ""]:
        folded = comparison_form(line, t2s)
        for term in terms:
            at = folded.find(term)
            if at < 0:
                continue
            if len(folded) != len(line):  # conversion changed lengths: show the comparison form
                line = folded
            start, end = max(0, at - width), at + len(term)
            return (
                ("…" if start else "")
                + line[start:at]
                + f"【{line[at:end]}】"
                + line[end : end + width]
                + ("…" if end + width < len(line) else "")
            )
    return " ".join(text.split())[: 2 * width]
