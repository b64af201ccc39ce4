"""Search on PostgreSQL: ILIKE on `version_search.body`, answered by its pg_trgm GIN index.

SQLite narrows a term to candidate versions through the bigram index (`qmcrawler.storage.grams`);
PostgreSQL has no FTS5, and its `tsvector` does not segment Chinese, so each version's comparison
form (title and text, as `grams.body_of` joins them) is kept in `version_search.body`, and the
match is `body ILIKE '%term%'`, which the GIN index `idx_version_search_trgm` (`gin_trgm_ops`)
answers from the term's trigrams (the database's LC_CTYPE must be C.UTF-8 for pg_trgm to see
Chinese characters: `qmcrawler.storage.pgschema`). ILIKE, not LIKE: the search ignores case.

The hits come in the order SQLite gives them, newest version first, each once. Versions are read
in batches from the newest down, so a search that needs 20 versions stops after the first
batches however many versions match.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: versions read per batch at first (doubled per batch, up to _MAX_BATCH)
_FIRST_BATCH = 64
_MAX_BATCH = 4096
#: larger than any version id
_ABOVE_ALL = 2**63 - 1


def like_pattern(phrase: str) -> str:
    """`%phrase%` with LIKE's own characters escaped (PostgreSQL's default escape is the backslash)."""
    return "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def hits_sql(all_versions: bool) -> str:
    """One batch of matching versions below an id, newest first (parameters: pattern, below, batch)."""
    current = "" if all_versions else "JOIN pages p ON p.current_version = vs.version_id "
    return (
        "SELECT vs.version_id FROM version_search vs "  # noqa: S608 - constants
        f"{current}WHERE vs.body ILIKE ? AND vs.version_id < ? ORDER BY vs.version_id DESC LIMIT ?"
    )


def iter_hits(db: Any, phrase: str, all_versions: bool) -> Iterator[int]:
    """Ids of the versions (current ones unless `all_versions`) containing `phrase` (three characters or more).

    Newest first and lazy, as `qmcrawler.storage.grams.iter_candidates`: the caller stops reading
    when it has enough.
    """
    pattern = like_pattern(phrase)
    below, batch = _ABOVE_ALL, _FIRST_BATCH
    sql = hits_sql(all_versions)
    while True:
        ids = [int(r["version_id"]) for r in db.query(sql, [pattern, below, batch])]
        yield from ids
        if len(ids) < batch:
            return
        below, batch = ids[-1], min(batch * 2, _MAX_BATCH)
