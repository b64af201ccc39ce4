"""Database schema as named, ordered migrations (sqlite-utils `Migrations`).

Never edit a migration that has shipped: add a new one. `tests/test_schema.py` builds a
database at an old step and upgrades it.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from qmcrawler.storage import copylinks, frontier, indexlag, leanchanges, passages, searchindex
from qmcrawler.storage.records import utcnow

migrations = Migrations("qmcrawler")

#: the views of the contract, as 0007 and 0011 created them (PostgreSQL's baseline creates the same)
FETCH_LOG_VIEW = """CREATE VIEW fetch_log AS
SELECT f.id, f.page_id, f.run_id, coalesce(f.url, p.url) AS url,
  CASE WHEN f.http_status IS NULL THEN f.final_url ELSE coalesce(f.final_url, f.url, p.url) END AS final_url,
  f.fetched_at, f.http_status, f.outcome, f.reason,
  f.raw_hash, f.encoding, f.declared_encoding, f.views, f.flags
FROM fetches f LEFT JOIN pages p ON p.id = f.page_id"""
PASSAGE_PAGES_VIEW = """CREATE VIEW passage_pages AS
SELECT vp.passage_id, ps.text AS passage, p.id AS page_id, p.site, p.status, v.title, p.url,
  v.publish_time, v.fetched_at, v.id AS version_id
FROM version_passages vp
JOIN passages ps ON ps.id = vp.passage_id
JOIN versions v ON v.id = vp.version_id
JOIN pages p ON p.id = v.page_id AND p.current_version = v.id"""


@migrations(name="0001_core_tables")
def core_tables(db: Database) -> None:
    """runs, pages, versions, changes, fetches (contract) and raw (compressed HTML by sha256)."""
    db.table("runs").create(
        {
            "id": int,
            "spider": str,
            "sites": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "stats": str,
            "pid": int,
        },
        pk="id",
    )
    db.table("pages").create(
        {
            "id": int,
            "url": str,
            "site": str,
            "first_seen": str,
            "last_seen": str,
            "status": str,
            "current_version": int,
            "missing_runs": int,
            "last_missing_run": int,
            "last_raw_hash": str,
        },
        pk="id",
        not_null={"url", "site", "status"},
        defaults={"status": "live", "missing_runs": 0},
    )
    db.table("pages").create_index(["url"], unique=True)
    db.table("pages").create_index(["site", "status"])
    db.table("raw").create({"hash": str, "size": int, "encoding": str, "content": bytes, "first_seen": str}, pk="hash")
    db.table("versions").create(
        {
            "id": int,
            "page_id": int,
            "run_id": int,
            "fetched_at": str,
            "content_hash": str,
            "title": str,
            "publish_time": str,
            "source": str,
            "author": str,
            "editor": str,
            "doc_date": str,
            "text": str,
            "attachments": str,
            "is_relevant": int,
            "flags": str,
            "raw_hash": str,
            "extractor_version": str,
        },
        pk="id",
        foreign_keys=[("page_id", "pages", "id"), ("run_id", "runs", "id")],
    )
    db.table("versions").create_index(["page_id", "id"])
    db.table("changes").create(
        {
            "id": int,
            "page_id": int,
            "run_id": int,
            "kind": str,
            "from_version": int,
            "to_version": int,
            "fields": str,
            "diff": str,
            "detected_at": str,
            "cause": str,
        },
        pk="id",
        foreign_keys=[("page_id", "pages", "id"), ("run_id", "runs", "id")],
        defaults={"cause": "page"},
    )
    db.table("changes").create_index(["detected_at"])
    db.table("changes").create_index(["page_id", "id"])
    db.table("fetches").create(
        {
            "id": int,
            "page_id": int,
            "run_id": int,
            "url": str,
            "final_url": str,
            "fetched_at": str,
            "http_status": int,
            "outcome": str,
            "reason": str,
            "raw_hash": str,
            "encoding": str,
            "views": int,
            "flags": str,
        },
        pk="id",
        foreign_keys=[("page_id", "pages", "id"), ("run_id", "runs", "id")],
    )
    db.table("fetches").create_index(["page_id", "id"])
    db.table("fetches").create_index(["run_id"])


@migrations(name="0002_fulltext_search")
def fulltext_search(db: Database) -> None:
    """FTS5 over versions(title, text) with the trigram tokenizer (works for Chinese, >= 3 chars)."""
    db.table("versions").enable_fts(["title", "text"], tokenize="trigram", create_triggers=True)


@migrations(name="0003_fetch_validators")
def fetch_validators(db: Database) -> None:
    """ETag / Last-Modified per page, the declared charset per fetch, downloaded attachment files."""
    db.table("pages").add_column("etag", str)
    db.table("pages").add_column("last_modified", str)
    db.table("fetches").add_column("declared_encoding", str)
    db.table("files").create(
        {
            "url": str,
            "sha256": str,
            "size": int,
            "type": str,
            "name": str,
            "http_status": int,
            "etag": str,
            "last_modified": str,
            "first_seen": str,
            "last_seen": str,
            "truncated": int,
        },
        pk="url",
    )


@migrations(name="0004_notifications")
def notifications(db: Database) -> None:
    """Delivery of each change to each notification target (a hash of the Apprise URL, never the URL)."""
    db.table("notifications").create(
        {
            "id": int,
            "change_id": int,
            "target": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "first_tried_at": str,
            "sent_at": str,
        },
        pk="id",
        foreign_keys=[("change_id", "changes", "id")],
        not_null={"change_id", "target", "status"},
        defaults={"attempts": 0},
    )
    db.table("notifications").create_index(["change_id", "target"], unique=True)
    db.table("notifications").create_index(["target", "status"])


@migrations(name="0005_relevance_and_copies")
def relevance_and_copies(db: Database) -> None:
    """Quality Month score and campaign year, SimHash fingerprint, copy link and mirror flag per version.

    `simhash_bands` buckets each version's fingerprint by band (qmcrawler.monitor.copies.BANDS) so that
    finding near-identical pages is an indexed lookup, not a scan.
    """
    versions = db.table("versions")
    for column, kind in (("relevance", int), ("year", int), ("simhash", str), ("copy_of", int), ("likely_mirror", int)):
        versions.add_column(column, kind)
    db.table("simhash_bands").create(
        {"band": int, "value": int, "version_id": int, "page_id": int},
        foreign_keys=[("version_id", "versions", "id"), ("page_id", "pages", "id")],
    )
    db.table("simhash_bands").create_index(["band", "value"])
    db.table("simhash_bands").create_index(["version_id"])


@migrations(name="0006_simhash_bands_by_page")
def simhash_bands_by_page(db: Database) -> None:
    """Only current versions keep band rows: index by page so replacing them is not a table scan."""
    db.table("simhash_bands").create_index(["page_id"])
    db.execute(
        "DELETE FROM simhash_bands WHERE version_id NOT IN (SELECT current_version FROM pages "
        "WHERE current_version IS NOT NULL)"
    )


@migrations(name="0007_compact_fetch_log")
def compact_fetch_log(db: Database) -> None:
    """`fetches.url` is NULL when it is the page's URL, `final_url` when it is `url` (storage growth).

    A recrawl of unchanged pages writes one fetch row per page; the two URLs were about 90 of
    its 160 bytes. The `fetch_log` view puts them back (a download that got no response, with
    no `http_status`, has no final URL) for people reading the log in Datasette
    or with the sqlite-utils CLI. When a page moves, its NULL rows get the old URL written out
    first (qmcrawler.storage.writer), so the log keeps the URL each download really asked for.
    """
    db.execute("UPDATE fetches SET final_url = NULL WHERE final_url = url")
    db.execute(
        "UPDATE fetches SET url = NULL WHERE page_id IS NOT NULL "
        "AND url = (SELECT p.url FROM pages p WHERE p.id = fetches.page_id)"
    )
    db.execute(FETCH_LOG_VIEW)


@migrations(name="0008_passage_search")
def passage_search(db: Database) -> None:
    """Full-text search over deduplicated passages instead of whole versions (storage growth).

    See qmcrawler.storage.passages: each paragraph is indexed once, not once per version that
    repeats it. Replaces `versions_fts` and its triggers; existing versions are indexed here.
    """
    for trigger in ("versions_ai", "versions_ad", "versions_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS versions_fts")
    for sql in (  # the DDL as it was when this migration shipped (qmcrawler.storage.passages)
        "CREATE TABLE passages (id INTEGER PRIMARY KEY, key INTEGER NOT NULL, text TEXT NOT NULL)",
        "CREATE UNIQUE INDEX idx_passages_key ON passages (key)",
        "CREATE TABLE version_passages (passage_id INTEGER NOT NULL, version_id INTEGER NOT NULL, "
        "PRIMARY KEY (passage_id, version_id DESC)) WITHOUT ROWID",
        "CREATE VIRTUAL TABLE passages_fts USING fts5 "
        "(text, tokenize='trigram', content='passages', content_rowid='id')",
        "CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN "
        "INSERT INTO passages_fts (rowid, text) VALUES (new.id, new.text); END",
    ):
        db.execute(sql)
    rows = db.execute("SELECT id, title, text FROM versions ORDER BY id")
    while batch := rows.fetchmany(1000):
        passages.index_all(db, batch)


@migrations(name="0009_simhash_over_shingle_sets")
def simhash_over_shingle_sets(db: Database) -> None:
    """SimHash over the set of 3-grams (qmcrawler.monitor.copies.simhash); band rows carry the fingerprint.

    Count-weighted fingerprints took unrelated notices for copies (their stock phrases outvoted
    the rest), and the lookup read each candidate's wide `versions` row. Current versions get new
    fingerprints, band rows and copy links, replayed in the order their pages were first seen;
    old versions keep the fingerprint they were stored with.
    """
    db.table("simhash_bands").add_column("fingerprint", int)
    db.table("simhash_bands").add_column("likely_mirror", int)
    copylinks.relink_all(db)


@migrations(name="0010_notify_targets")
def notify_targets(db: Database) -> None:
    """Where each notification target starts: a new (or edited) URL gets changes from then on.

    `from_change` is the highest change id when the target was first seen; `notify --backfill`
    ignores it. Targets that already received digests keep their whole history (0).
    """
    db.table("notify_targets").create({"target": str, "added_at": str, "from_change": int}, pk="target")
    db.execute(
        "INSERT INTO notify_targets (target, added_at, from_change) "
        "SELECT target, MIN(first_tried_at), 0 FROM notifications GROUP BY target"
    )


@migrations(name="0011_search_detectable_fts")
def search_detectable_fts(db: Database) -> None:
    """`passages_fts` declared as sqlite-utils and Datasette detect it (`content="passages"`); `passage_pages`.

    Both tools find a table's FTS index by the text `content="table"` (or `content=[table]`) in
    its `CREATE VIRTUAL TABLE`; 0008 wrote `content='passages'`, so `sqlite-utils search` and
    Datasette's `_search` did not see it. The index is rebuilt from `passages` (the same rows).
    `passage_pages` joins each passage to the current versions that contain it, for searching
    pages in Datasette (`fts_table`/`fts_pk` in datasette.yaml) and with SQL.
    """
    db.execute("DROP TRIGGER IF EXISTS passages_ai")
    db.execute("DROP TABLE IF EXISTS passages_fts")
    for sql in (
        'CREATE VIRTUAL TABLE passages_fts USING fts5 (text, tokenize="trigram", content="passages", '
        'content_rowid="id")',
        "INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')",
        "CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN "
        "INSERT INTO passages_fts (rowid, text) VALUES (new.id, new.text); END",
        PASSAGE_PAGES_VIEW,
    ):
        db.execute(sql)


@migrations(name="0012_frontier")
def frontier_table(db: Database) -> None:
    """The revisit frontier (qmcrawler.storage.frontier): when each known page is next due.

    Known pages get an entry due at a moment spread over the revisit window they would have
    now (qmcrawler.monitor.revisit.upgraded_entry): no thundering herd on the first run after
    upgrading; pages seen gone once are due at once, so their removal is still confirmed.
    """
    for sql in (  # the DDL as it was when this migration shipped
        "CREATE TABLE frontier (page_id INTEGER PRIMARY KEY REFERENCES pages(id), site TEXT NOT NULL, "
        "next_check_at TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 1, interval_s REAL NOT NULL, "
        "checks INTEGER NOT NULL DEFAULT 0, changes INTEGER NOT NULL DEFAULT 0, stable_since TEXT, "
        "last_check_at TEXT, last_change_at TEXT, reason TEXT)",
        "CREATE INDEX idx_frontier_due ON frontier (site, priority, next_check_at)",
    ):
        db.execute(sql)
    frontier.spread_known_pages(db, utcnow())


@migrations(name="0013_lean_new_changes")
def lean_new_changes(db: Database) -> None:
    """A `new` change's diff is made from its version when read (qmcrawler.storage.changediff).

    Stored diffs equal to that are emptied, others kept; the passages index is compacted
    (qmcrawler.storage.leanchanges). Every change reads as before.
    """
    leanchanges.empty_new_diffs(db)
    leanchanges.compact_passage_index(db)


@migrations(name="0014_bigram_search")
def bigram_search(db: Database) -> None:
    """Search through each version's bigrams (`search_grams`) instead of passages and a trigram index.

    The passages held the text a second time and their trigram index twice its size (about 59 KB
    of an article's 92): `qmcrawler.storage.grams`. Every version is indexed from its title and
    text in their comparison forms, then `passages`, `version_passages`, `passages_fts` and the
    `passage_pages` view are dropped; `upgrade` then gives the freed pages back (VACUUM).
    """
    searchindex.build(db)
    for sql in (
        "DROP VIEW IF EXISTS passage_pages",
        "DROP TRIGGER IF EXISTS passages_ai",
        "DROP TABLE IF EXISTS passages_fts",
        "DROP TABLE IF EXISTS version_passages",
        "DROP TABLE IF EXISTS passages",
    ):
        db.execute(sql)


@migrations(name="0015_splitmix_simhash")
def splitmix_simhash(db: Database) -> None:
    """Every version's SimHash made again with the cheaper hash, and the band rows; copy links kept (copylinks)."""
    copylinks.refingerprint_all(db)


@migrations(name="0016_search_queue")
def search_queue(db: Database) -> None:
    """Versions stored but not indexed yet, which search reads too (qmcrawler.storage.indexlag)."""
    indexlag.create(db)


def newer_migrations(db: Database) -> list[str]:
    """Applied migrations this version does not know (a newer qmcrawler wrote the file); read-only."""
    known = {m.name for m in migrations.pending(Database(memory=True))}  # every migration this version has
    return [m.name for m in migrations.applied(db) if m.name not in known]


def upgrade(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied.

    Several processes may open a new database at once (a crawl and the scheduler); each migration
    reads, then writes, and in WAL mode a stale reader gets SQLITE_BUSY at once. So the upgrade runs
    under one `BEGIN IMMEDIATE` (the write lock, waited for) and re-reads what is pending once it
    holds it: the others wait, then find nothing to do (each migration is a savepoint in it).
    """
    if not migrations.pending(db):
        return []
    db.execute("BEGIN IMMEDIATE")
    try:
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.rollback()
        raise
    db.conn.commit()
    if "0014_bigram_search" in pending and "0001_core_tables" not in pending:
        searchindex.give_back_space(db)
    return pending
