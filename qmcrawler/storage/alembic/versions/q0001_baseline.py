"""Baseline: the schema of SQLite migration 0013_lean_new_changes, on PostgreSQL.

SQLite databases reach this point through `qmcrawler.storage.schema` (sqlite-utils migrations
0001-0013) and are stamped with this revision; every later schema change is an Alembic revision
that runs on both databases. Integers are BIGINT (SimHash bands and passage keys are 64-bit);
full-text search is a pg_trgm GIN index over `passages.text` (SQLite: the FTS5 table
`passages_fts`), which needs a database whose LC_CTYPE sees Chinese as letters (C.UTF-8).

Revision ID: q0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qmcrawler.storage.schema import FETCH_LOG_VIEW, PASSAGE_PAGES_VIEW

revision = "q0001"
down_revision = None
branch_labels = None
depends_on = None

_INT = sa.BigInteger


def _id() -> sa.Column[int]:
    return sa.Column("id", _INT, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "runs",
        _id(),
        *(sa.Column(c, sa.Text) for c in ("spider", "sites", "started_at", "finished_at", "status", "stats")),
        sa.Column("pid", _INT),
    )
    op.create_table(
        "pages",
        _id(),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Text),
        sa.Column("last_seen", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="live"),
        sa.Column("current_version", _INT),
        sa.Column("missing_runs", _INT, server_default="0"),
        sa.Column("last_missing_run", _INT),
        sa.Column("last_raw_hash", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
    )
    op.create_index("idx_pages_url", "pages", ["url"], unique=True)
    op.create_index("idx_pages_site_status", "pages", ["site", "status"])
    op.create_table(
        "raw",
        sa.Column("hash", sa.Text, primary_key=True),
        sa.Column("size", _INT),
        sa.Column("encoding", sa.Text),
        sa.Column("content", sa.LargeBinary),
        sa.Column("first_seen", sa.Text),
    )
    op.create_table(
        "versions",
        _id(),
        sa.Column("page_id", _INT, sa.ForeignKey("pages.id")),
        sa.Column("run_id", _INT, sa.ForeignKey("runs.id")),
        *(
            sa.Column(c, sa.Text)
            for c in ("fetched_at", "content_hash", "title", "publish_time", "source", "author", "editor")
        ),
        *(sa.Column(c, sa.Text) for c in ("doc_date", "text", "attachments")),
        sa.Column("is_relevant", _INT),
        *(sa.Column(c, sa.Text) for c in ("flags", "raw_hash", "extractor_version")),
        sa.Column("relevance", _INT),
        sa.Column("year", _INT),
        sa.Column("simhash", sa.Text),
        sa.Column("copy_of", _INT),
        sa.Column("likely_mirror", _INT),
    )
    op.create_index("idx_versions_page_id_id", "versions", ["page_id", "id"])
    op.create_table(
        "changes",
        _id(),
        sa.Column("page_id", _INT, sa.ForeignKey("pages.id")),
        sa.Column("run_id", _INT, sa.ForeignKey("runs.id")),
        sa.Column("kind", sa.Text),
        sa.Column("from_version", _INT),
        sa.Column("to_version", _INT),
        sa.Column("fields", sa.Text),
        sa.Column("diff", sa.Text),
        sa.Column("detected_at", sa.Text),
        sa.Column("cause", sa.Text, server_default="page"),
    )
    op.create_index("idx_changes_detected_at", "changes", ["detected_at"])
    op.create_index("idx_changes_page_id_id", "changes", ["page_id", "id"])
    op.create_table(
        "fetches",
        _id(),
        sa.Column("page_id", _INT, sa.ForeignKey("pages.id")),
        sa.Column("run_id", _INT, sa.ForeignKey("runs.id")),
        *(sa.Column(c, sa.Text) for c in ("url", "final_url", "fetched_at")),
        sa.Column("http_status", _INT),
        *(sa.Column(c, sa.Text) for c in ("outcome", "reason", "raw_hash", "encoding")),
        sa.Column("views", _INT),
        sa.Column("flags", sa.Text),
        sa.Column("declared_encoding", sa.Text),
    )
    op.create_index("idx_fetches_page_id_id", "fetches", ["page_id", "id"])
    op.create_index("idx_fetches_run_id", "fetches", ["run_id"])
    op.create_table(
        "files",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("sha256", sa.Text),
        sa.Column("size", _INT),
        *(sa.Column(c, sa.Text) for c in ("type", "name")),
        sa.Column("http_status", _INT),
        *(sa.Column(c, sa.Text) for c in ("etag", "last_modified", "first_seen", "last_seen")),
        sa.Column("truncated", _INT),
    )
    op.create_table(
        "notifications",
        _id(),
        sa.Column("change_id", _INT, sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", _INT, server_default="0"),
        *(sa.Column(c, sa.Text) for c in ("last_error", "first_tried_at", "sent_at")),
    )
    op.create_index("idx_notifications_change_id_target", "notifications", ["change_id", "target"], unique=True)
    op.create_index("idx_notifications_target_status", "notifications", ["target", "status"])
    op.create_table(
        "notify_targets",
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("added_at", sa.Text),
        sa.Column("from_change", _INT),
    )
    op.create_table(
        "simhash_bands",
        sa.Column("band", _INT),
        sa.Column("value", _INT),
        sa.Column("version_id", _INT, sa.ForeignKey("versions.id")),
        sa.Column("page_id", _INT, sa.ForeignKey("pages.id")),
        sa.Column("fingerprint", _INT),
        sa.Column("likely_mirror", _INT),
    )
    op.create_index("idx_simhash_bands_band_value", "simhash_bands", ["band", "value"])
    op.create_index("idx_simhash_bands_page_id", "simhash_bands", ["page_id"])
    op.create_index("idx_simhash_bands_version_id", "simhash_bands", ["version_id"])
    op.create_table(
        "passages",
        _id(),
        sa.Column("key", _INT, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("idx_passages_key", "passages", ["key"], unique=True)
    op.execute("CREATE INDEX idx_passages_trgm ON passages USING gin (text gin_trgm_ops)")
    op.execute(
        "CREATE TABLE version_passages (passage_id BIGINT NOT NULL, version_id BIGINT NOT NULL, "
        "PRIMARY KEY (passage_id, version_id))"
    )
    op.create_table(
        "frontier",
        sa.Column("page_id", _INT, sa.ForeignKey("pages.id"), primary_key=True, autoincrement=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("next_check_at", sa.Text, nullable=False),
        sa.Column("priority", _INT, nullable=False, server_default="1"),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("checks", _INT, nullable=False, server_default="0"),
        sa.Column("changes", _INT, nullable=False, server_default="0"),
        *(sa.Column(c, sa.Text) for c in ("stable_since", "last_check_at", "last_change_at", "reason")),
    )
    op.create_index("idx_frontier_due", "frontier", ["site", "priority", "next_check_at"])
    op.execute(FETCH_LOG_VIEW)
    op.execute(PASSAGE_PAGES_VIEW)
