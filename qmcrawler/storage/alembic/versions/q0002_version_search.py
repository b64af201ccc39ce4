"""Search over each version's comparison form (`version_search`) instead of passages: SQLite's 0014.

PostgreSQL keeps the comparison form of each version's title and text in `version_search.body`
under a pg_trgm GIN index (`qmcrawler.storage.pgsearch`); SQLite indexes the same strings'
bigrams (`qmcrawler.storage.grams`, migration 0014_bigram_search). Every version is indexed
here, then `passages`, `version_passages` and the `passage_pages` view are dropped.

SQLite's schema keeps its own history in `qmcrawler.storage.schema` (this revision is its 0014):
its files stay stamped with the baseline.

Revision ID: q0002
Revises: q0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qmcrawler.storage import grams, searchindex

revision = "q0002"
down_revision = "q0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE version_search (version_id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
    op.execute("CREATE INDEX idx_version_search_trgm ON version_search USING gin (body gin_trgm_ops)")
    conn = op.get_bind()
    select = sa.text("SELECT id, title, text, flags FROM versions WHERE id > :last ORDER BY id LIMIT :n")
    insert = sa.text("INSERT INTO version_search (version_id, body) VALUES (:v, :b)")
    last = 0
    while batch := conn.execute(select, {"last": last, "n": searchindex.BATCH}).fetchall():
        rows = searchindex.comparison_rows(tuple(r) for r in batch)
        conn.execute(insert, [{"v": vid, "b": grams.body_of(title, text)} for vid, title, text in rows])
        last = int(batch[-1][0])
    op.execute("DROP VIEW IF EXISTS passage_pages")
    op.execute("DROP TABLE IF EXISTS version_passages")
    op.execute("DROP TABLE IF EXISTS passages")


def downgrade() -> None:
    raise NotImplementedError("q0002 drops the passages; rebuild them from versions with an older qmcrawler")
