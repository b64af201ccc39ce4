"""Copy links in the database: index a version's SimHash bands, find the canonical page it copies.

The fingerprint maths is in `qmcrawler.monitor.copies`; this module holds its SQL. A lookup reads the
`simhash_bands` rows sharing a band value with the new fingerprint (an indexed equality per band),
keeps the current versions of other pages within MAX_DISTANCE bits, and picks the canonical one:
a page that is not a likely mirror before one that is, then the earliest seen.

Band rows exist for current versions only and carry the whole fingerprint and the mirror flag,
so a lookup never reads `versions` rows: those hold the text, and reading three small columns
behind 20 KB of it walked overflow pages for every candidate (3 times slower per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from qmcrawler.monitor.copies import BANDS, MAX_DISTANCE, bands, distance, fingerprint_text, simhash, to_hex, to_signed
from qmcrawler.storage.searchindex import comparison_rows

#: versions fingerprinted per batch when a whole database is (their texts are read together)
BATCH = 500


@dataclass(frozen=True)
class Match:
    """A near-identical page: its id, the matching version, the Hamming distance, whether it is a mirror."""

    page_id: int
    version_id: int
    distance: int
    likely_mirror: bool
    first_seen: str


def candidates(db: Database, fingerprint: int, page_id: int | None) -> list[Match]:
    """Current versions of other pages within MAX_DISTANCE bits of `fingerprint`, canonical first."""
    clauses = " OR ".join("(b.band = ? AND b.value = ?)" for _ in BANDS)
    params: list[Any] = [x for pair in enumerate(bands(fingerprint)) for x in pair]
    sql = (
        "SELECT DISTINCT b.version_id, b.page_id, b.fingerprint, b.likely_mirror, p.first_seen "  # noqa: S608
        "FROM simhash_bands b JOIN pages p ON p.id = b.page_id "
        f"WHERE ({clauses}) AND p.current_version = b.version_id AND b.page_id != ?"
    )
    matches = []
    for version_id, other, stored, mirror, first_seen in db.execute(sql, [*params, -1 if page_id is None else page_id]):
        d = distance(fingerprint, stored)
        if d <= MAX_DISTANCE:
            matches.append(Match(other, version_id, d, bool(mirror), first_seen or ""))
    return sorted(matches, key=lambda m: (m.likely_mirror, m.first_seen, m.page_id))


def canonical(db: Database, fingerprint: int, page_id: int | None, likely_mirror: bool) -> int | None:
    """The page a new version copies (its canonical page id), or None when it is the first of its text.

    A clean page never becomes the copy of a mirror: when only mirrors match, the clean page is
    the canonical one and `adopt` re-points the mirrors to it. An original's new version finds
    its own copies, whose links lead back to it: it stays the original.
    """
    for match in candidates(db, fingerprint, page_id):
        if match.likely_mirror and not likely_mirror:
            return None
        root = _root(db, match.page_id)
        return None if root == page_id else root
    return None


def _root(db: Database, page_id: int) -> int:
    """Follow `copy_of` links from a page's current version to the canonical page (bounded)."""
    seen = {page_id}
    for _ in range(8):
        rows = list(
            db.query(
                "SELECT v.copy_of FROM pages p JOIN versions v ON v.id = p.current_version WHERE p.id = ?", [page_id]
            )
        )
        target = rows[0]["copy_of"] if rows else None
        if target is None or target in seen:
            return page_id
        seen.add(target)
        page_id = int(target)
    return page_id


def adopt(db: Database, fingerprint: int, page_id: int) -> int:
    """Point matching mirrors without a clean canonical page at `page_id`; return how many were re-pointed."""
    ids = [m.version_id for m in candidates(db, fingerprint, page_id) if m.likely_mirror]
    for version_id in ids:
        db.execute("UPDATE versions SET copy_of = ? WHERE id = ?", [page_id, version_id])
    return len(ids)


def index(db: Database, version_id: int, page_id: int, fingerprint: int | None, likely_mirror: bool = False) -> None:
    """Index a page's current version: its band rows replace the page's older ones (lookups only
    consider current versions, so old rows would only crowd the bands). A version without a
    fingerprint (too short a text) leaves the page with no rows: it copies nothing and is no
    original, whatever its earlier text was."""
    db.execute("DELETE FROM simhash_bands WHERE page_id = ?", [page_id])
    if fingerprint is None:
        return
    db.conn.executemany(
        "INSERT INTO simhash_bands (band, value, version_id, page_id, fingerprint, likely_mirror) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (n, value, version_id, page_id, to_signed(fingerprint), int(likely_mirror))
            for n, value in enumerate(bands(fingerprint))
        ],
    )


def stored(
    db: Database, version_id: int, page_id: int, fingerprint: int | None, likely_mirror: bool, copy_of: int | None
) -> None:
    """After a page's new current version is stored: index its bands; an original adopts its mirrors."""
    index(db, version_id, page_id, fingerprint, likely_mirror)
    if fingerprint is not None and copy_of is None and not likely_mirror:
        adopt(db, fingerprint, page_id)


def relink_all(db: Database) -> int:
    """Recompute every current version's fingerprint, band rows and copy link, oldest version first.

    Replays what the writer does for each new version, in the order the versions were stored,
    so the result is what a crawl with today's fingerprint would have stored: the fingerprint of
    the comparison forms the writer hashes, made again from the stored title and text with the
    t2s the version's flags record (`searchindex.comparison_rows`); but an original edited after
    its copies were stored is replayed after them, and becomes their copy. Returns the number of
    current versions that are copies. Migration 0009 runs it.
    """
    with db.atomic():
        db.execute("DELETE FROM simhash_bands")
        last = 0
        while batch := _batch(db, "FROM pages p JOIN versions v ON v.id = p.current_version", last):
            for (version_id, page_id, mirror, *_), fingerprint in zip(batch, _fingerprints(batch), strict=True):
                copy_of = None if fingerprint is None else canonical(db, fingerprint, page_id, bool(mirror))
                db.execute(
                    "UPDATE versions SET simhash = ?, copy_of = ? WHERE id = ?",
                    [None if fingerprint is None else to_hex(fingerprint), copy_of, version_id],
                )
                stored(db, version_id, page_id, fingerprint, bool(mirror), copy_of)
            last = batch[-1][0]
    sql = "SELECT count(*) FROM pages p JOIN versions v ON v.id = p.current_version WHERE v.copy_of IS NOT NULL"
    return int(db.execute(sql).fetchone()[0])


def refingerprint_all(db: Database) -> int:
    """Every version's fingerprint made again with today's SimHash, and the band rows of current versions.

    Migration 0015 (SQLite) and Alembic q0003 (PostgreSQL): fingerprints of the BLAKE2b SimHash and
    of today's are unrelated, so old versions get new ones too (nothing would compare with them
    otherwise). Copy links are kept: the writer made each with the history it had (a page copied
    before its original was edited stays the copy), which a replay of current versions cannot
    know (`relink_all` would make such an original the copy of its repost), and both fingerprints
    put the same near-identical pages together (tests/test_simhash_migration.py). Returns the
    number of versions whose fingerprint was made.
    """
    with db.atomic():
        current = {r[0] for r in db.execute("SELECT current_version FROM pages").fetchall()}
        db.execute("DELETE FROM simhash_bands")
        last = done = 0
        while batch := _batch(db, "FROM versions v", last):
            fingerprints = _fingerprints(batch)
            rows = [(None if f is None else to_hex(f), r[0]) for r, f in zip(batch, fingerprints, strict=True)]
            db.conn.executemany("UPDATE versions SET simhash = ? WHERE id = ?", rows)
            for (version_id, page_id, mirror, *_), fingerprint in zip(batch, fingerprints, strict=True):
                if version_id in current:
                    index(db, version_id, page_id, fingerprint, bool(mirror))
            done, last = done + len(batch), batch[-1][0]
    return done


def _batch(db: Database, source: str, last: int) -> list[tuple[Any, ...]]:
    """The next versions of `source` after id `last`: (id, page_id, likely_mirror, title, text, flags)."""
    columns = "v.id, v.page_id, v.likely_mirror, v.title, v.text, v.flags"
    sql = f"SELECT {columns} {source} WHERE v.id > ? ORDER BY v.id LIMIT ?"
    return [tuple(r) for r in db.execute(sql, [last, BATCH]).fetchall()]


def _fingerprints(batch: list[tuple[Any, ...]]) -> list[int | None]:
    """The fingerprints of a batch's versions, from their comparison forms (what the writer hashes)."""
    forms = comparison_rows((r[0], r[3], r[4], r[5]) for r in batch)
    return [simhash(fingerprint_text(title, text)) for _, title, text in forms]


def copies_of(db: Database, page_id: int) -> list[dict[str, Any]]:
    """Pages whose current version copies `page_id` (reposts and mirrors), oldest first."""
    sql = (
        "SELECT p.id, p.url, p.site, v.id AS version_id, v.likely_mirror FROM pages p "
        "JOIN versions v ON v.id = p.current_version WHERE v.copy_of = ? ORDER BY p.id"
    )
    return [dict(r) for r in db.query(sql, [page_id])]
