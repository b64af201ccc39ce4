"""Search over passages on PostgreSQL: ILIKE on `passages.text`, answered by its pg_trgm GIN index.

SQLite finds a phrase of three characters or more through the FTS5 trigram table
(`qmcrawler.storage.passages.iter_hits`); PostgreSQL has no FTS5, and its `tsvector` does not
segment Chinese, so the same substring match is `text ILIKE '%phrase%'`, which the GIN index
`idx_passages_trgm` (`gin_trgm_ops`) answers from the phrase's trigrams (the database's
LC_CTYPE must be C.UTF-8 for pg_trgm to see Chinese characters: `qmcrawler.storage.pgschema`).
ILIKE, not LIKE: FTS5's trigram tokenizer folds case, so both find `Qr` for `qr`.

The hits come in the order SQLite gives them: newest passage first, and for a passage shared by
several versions the newest version first (`version_passages`' key on SQLite is
`(passage_id, version_id DESC)`), each version once. Passages are read in batches from the
newest down, so a search that needs 20 versions stops after the first batches however many
passages match.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: passages read per batch at first (doubled per batch, up to _MAX_BATCH)
_FIRST_BATCH = 64
_MAX_BATCH = 4096
#: larger than any passage id
_ABOVE_ALL = 2**63 - 1

PASSAGES_SQL = "SELECT id FROM passages WHERE text ILIKE ? AND id < ? ORDER BY id DESC LIMIT ?"


def like_pattern(phrase: str) -> str:
    """`%phrase%` with LIKE's own characters escaped (PostgreSQL's default escape is the backslash)."""
    return "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def versions_sql(all_versions: bool) -> str:
    """The versions of a batch of passages (one parameter: the passage ids), in SQLite's hit order."""
    current = "" if all_versions else " AND v.id = p.current_version"
    return (
        "SELECT vp.passage_id, v.id AS version_id, p.url, p.site, v.title, v.fetched_at "  # noqa: S608 - constants
        "FROM version_passages vp JOIN versions v ON v.id = vp.version_id JOIN pages p ON p.id = v.page_id "
        f"WHERE vp.passage_id = ANY(?){current} ORDER BY vp.passage_id DESC, vp.version_id DESC"
    )


def iter_hits(db: Any, phrase: str, all_versions: bool) -> Iterator[dict[str, Any]]:
    """Versions whose passages contain `phrase` (three characters or more), newest passage first, once each.

    Lazy, as `qmcrawler.storage.passages.iter_hits`: the caller stops reading when it has enough.
    """
    pattern = like_pattern(phrase)
    seen: set[int] = set()
    below, batch = _ABOVE_ALL, _FIRST_BATCH
    while True:
        ids = [int(r["id"]) for r in db.query(PASSAGES_SQL, [pattern, below, batch])]
        if not ids:
            return
        for hit in db.query(versions_sql(all_versions), [ids]):
            if int(hit["version_id"]) not in seen:
                seen.add(int(hit["version_id"]))
                yield hit
        if len(ids) < batch:
            return
        below, batch = ids[-1], min(batch * 2, _MAX_BATCH)
