"""Migration 0013: empty the stored diffs that the versions already hold; compact the passages index.

`new` changes written before 0013 store their diff: the whole version again, `+` line by `+`
line. Each one whose stored diff is exactly the diff `qmcrawler.storage.changediff` makes from
its version is set to NULL, so readers show the same text; one that differs (a version
whose displayed text was rewritten later, a diff from an older format) keeps its own. Nothing
is lost by construction: a diff is emptied only when the one made on read is equal to it.

The passages index is then merged into one b-tree segment (FTS5 `optimize`): the same rows,
the same answers, about a tenth fewer bytes than the segments a crawl leaves behind.
Neither step frees file space by itself (SQLite reuses the pages); `VACUUM` gives it back.
"""

from __future__ import annotations

from sqlite_utils import Database

from qmcrawler.storage import changediff

#: changes read per batch
_BATCH = 500


def empty_new_diffs(db: Database) -> int:
    """Set `diff` to NULL on `new` changes whose stored diff is the one made on read; return how many."""
    cols = ", ".join(f"v.{c}" for c in changediff.COLUMNS)
    sql = (
        f"SELECT c.id, c.diff, {cols} FROM changes c JOIN versions v ON v.id = c.to_version "  # noqa: S608
        "WHERE c.kind = 'new' AND c.diff IS NOT NULL AND c.id > ? ORDER BY c.id LIMIT ?"
    )
    emptied = 0
    last = 0
    while rows := list(db.execute(sql, [last, _BATCH])):
        last = rows[-1][0]
        same = [
            (cid,)
            for cid, diff, *values in rows
            if diff == changediff.new_diff(dict(zip(changediff.COLUMNS, values, strict=True)))
        ]
        db.conn.executemany("UPDATE changes SET diff = NULL WHERE id = ?", same)
        emptied += len(same)
    return emptied


def compact_passage_index(db: Database) -> None:
    """Merge the passages index's segments into one (FTS5 `optimize`): same content, fewer bytes."""
    db.execute("INSERT INTO passages_fts (passages_fts) VALUES ('optimize')")
