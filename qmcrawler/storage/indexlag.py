"""A crawl's search index rows, inserted into FTS5 a few hundred versions at a time (SQLite).

Why: FTS5 writes what it holds in memory out as a new segment at every commit, and a segment
costs per distinct term in it, whatever the number of versions behind each term. A crawl
commits about once a second (QMC_BATCH_SECONDS), 60 versions: on the generated site such a
segment holds 56,000 distinct bigrams, a thousand new ones per version, each written and then
merged again. 500 versions share 76,000 (the language's bigrams repeat): indexing them in one
go costs about 1.9 instead of 3.2 ms a version (`bench/stages.py`), and the index is smaller.

So the store's transactions stay short (a crash loses at most one batch, other writers wait at
most one batch), but the index lags: each stored version's id is written to `search_queue` in
the same savepoint as the version (all or nothing), and every `INDEX_LAG` versions, and when the
crawl ends, the queue is indexed inside that batch's transaction. Search reads the queue too
(`grams.iter_candidates` offers every queued version as a candidate; the exact check of the text
decides), so a stored version is found from the moment it is committed, indexed or not.

Indexing claims the queue whole (`DELETE … RETURNING`, under the write lock), each version's
comparison forms made again from its stored title and text: versions another process queued
(a crawl killed before it indexed, a concurrent crawl between its flushes) are indexed too, and
the process that queued them finds them claimed. No version is indexed twice or left out.

PostgreSQL has no FTS5 segments: its `version_search` rows are inserted at each commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from qmcrawler.storage import grams, searchindex
from qmcrawler.storage.dialects import dialect_of

#: versions a crawl stores before it indexes them together (SQLite)
INDEX_LAG = 500
#: FTS5's in-memory limit before it writes a segment: INDEX_LAG versions fit (about 7 MB on the
#: generated site); the default (1 MB) would cut them into several segments again
HASH_BYTES = 8 * 1024 * 1024
QUEUE_DDL = "CREATE TABLE IF NOT EXISTS search_queue (version_id INTEGER PRIMARY KEY)"

Row = tuple[int, str | None, str | None]


def create(db: Any) -> None:
    """The queue, and FTS5's memory limit for a lag's worth of versions (SQLite; migration 0016)."""
    db.execute(QUEUE_DDL)
    db.execute("INSERT INTO search_grams (search_grams, rank) VALUES ('hashsize', ?)", [HASH_BYTES])


def index_queue(db: Any) -> int:
    """Index every queued version, inside the open transaction; return how many.

    Their comparison forms are made again from the stored title and text (`searchindex`), one
    version at a time: a lag's worth of texts and documents held at once would grow a crawl by
    30 MB, for 0.1 ms a version of NFC and width folding saved.
    """
    claimed = [int(r[0]) for r in db.conn.execute("DELETE FROM search_queue RETURNING version_id")]
    done = 0
    for start in range(0, len(claimed), searchindex.BATCH):
        chunk = claimed[start : start + searchindex.BATCH]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, title, text, flags FROM versions WHERE id IN ({marks})"  # noqa: S608 - placeholders
        done += grams.index_versions(db, searchindex.comparison_rows(db.conn.execute(sql, chunk)))
    return done


class Pending:
    """A store's index rows between its versions' writes and their indexing.

    `lag` 1 (and PostgreSQL) indexes a batch's versions just before it commits, from the forms
    kept in `rows`. With a larger lag (SQLite) they are queued, only their ids in `rows`, and
    indexed once `lag` of them wait, or by `flush(everything)`. All or nothing holds either way:
    `atomic` drops the rows of a block that rolls back (its queue rows go with its savepoint),
    `clear` those of a batch rolled back whole.
    """

    def __init__(self, lag: int = INDEX_LAG) -> None:
        self.lag = lag
        self.rows: list[Row] = []
        #: rows[:committed] belong to committed transactions (queued; a rollback keeps them)
        self.committed = 0

    def queues(self, db: Any) -> bool:
        """Does this store queue its versions (SQLite with a lag) rather than index them at commit?"""
        return self.lag > 1 and dialect_of(db) == "sqlite"

    def add(self, db: Any, version_id: int, title: str | None, text: str | None) -> None:
        """A version was written (inside its savepoint): queue it (SQLite), or keep its forms."""
        if self.queues(db):
            db.conn.execute("INSERT INTO search_queue (version_id) VALUES (?)", [version_id])
            self.rows.append((version_id, None, None))
        else:
            self.rows.append((version_id, title, text))

    @contextlib.contextmanager
    def atomic(self, db: Any) -> Iterator[None]:
        """`db.atomic()`: rows added inside go if it rolls back; if it is the transaction, flushed and committed."""
        outermost = not db.conn.in_transaction
        mark = len(self.rows)
        try:
            with db.atomic():
                yield
                if outermost:
                    self.flush(db)
        except BaseException:
            del self.rows[mark:]
            raise
        if outermost:
            self.done()

    def flush(self, db: Any, everything: bool = False) -> None:
        """Before the open transaction commits: index the rows if due (inside it; the commit is the caller's)."""
        if not self.queues(db):
            rows, self.rows = self.rows, []
            if rows:
                grams.index_versions(db, rows)
        elif everything or len(self.rows) >= self.lag:
            self.rows = []
            index_queue(db)

    def commit(self, db: Any, everything: bool = False) -> None:
        """Flush (if due, or `everything`) and commit the open transaction."""
        self.flush(db, everything)
        db.conn.commit()
        self.done()

    def done(self) -> None:
        """The transaction committed: its rows are queued for good."""
        self.committed = len(self.rows)

    def clear(self) -> None:
        """The transaction was rolled back: its rows are gone with it (the committed ones stay queued)."""
        del self.rows[self.committed :]
