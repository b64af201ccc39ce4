"""Named migrations: a database at an old step upgrades with its data intact."""

from __future__ import annotations

from sqlite_utils import Database

from qmcrawler.storage import open_db, queries
from qmcrawler.storage.schema import migrations


def test_fresh_database_has_the_contract_tables(memdb: Database) -> None:
    for table, columns in {
        "runs": {"id", "spider", "sites", "started_at", "finished_at", "status", "stats"},
        "pages": {"id", "url", "site", "first_seen", "last_seen", "status", "current_version"},
        "versions": {
            "id",
            "page_id",
            "run_id",
            "fetched_at",
            "content_hash",
            "title",
            "publish_time",
            "source",
            "author",
            "text",
            "is_relevant",
        },
        "changes": {"id", "page_id", "run_id", "kind", "from_version", "to_version", "fields", "diff", "detected_at"},
        "fetches": {"id", "page_id", "run_id", "fetched_at", "http_status", "outcome"},
    }.items():
        assert columns <= set(memdb.table(table).columns_dict), table
    assert migrations.pending(memdb) == []


def test_upgrade_from_the_first_migration(tmp_path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="0002_fulltext_search")
    assert not old.table("versions_fts").exists()
    old.table("pages").insert(
        {"id": 1, "url": "http://x/a.html", "site": "demo", "status": "live", "current_version": 1}
    )
    old.table("versions").insert({"id": 1, "page_id": 1, "title": "旧库里的通知", "text": "建设质量强国。"})
    old.table("versions").insert({"id": 2, "page_id": 1, "title": "不是当前版本", "text": "早已被替换的文字。"})
    old.table("fetches").insert(
        {"id": 1, "page_id": 1, "url": "http://x/a.html", "final_url": "http://x/a.html", "http_status": 200}
    )
    old.close()
    db = open_db(path)  # applies every pending migration
    assert migrations.pending(db) == []
    assert [h["title"] for h in queries.search(db, "质量强国")] == ["旧库里的通知"]  # old rows indexed
    assert queries.search(db, "被替换的") == []  # only current versions
    assert [h["title"] for h in queries.search(db, "被替换的", all_versions=True)] == ["不是当前版本"]
    assert db.execute("SELECT url, final_url FROM fetches").fetchone() == (None, None)  # 0007
    assert db.execute("SELECT url, final_url FROM fetch_log").fetchone() == ("http://x/a.html",) * 2
    applied = [m.name for m in migrations.applied(db)]
    assert applied[:2] == ["0001_core_tables", "0002_fulltext_search"]


def test_opening_twice_applies_nothing(tmp_path) -> None:
    open_db(tmp_path / "a.db").close()
    db = open_db(tmp_path / "a.db")
    assert len(migrations.applied(db)) == len(migrations.pending(Database(memory=True)))


def _open_and_count(path: str, start: float) -> str:
    import time

    time.sleep(max(0.0, start - time.time()))  # all processes open the new file at the same moment
    try:
        db = open_db(path)
        n = len(migrations.applied(db))
        db.close()
        return str(n)
    except Exception as e:  # the error text is the evidence
        return f"{type(e).__name__}: {e}"


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path) -> None:
    """A crawl creating the database while readers open it: nobody gets 'database is locked'."""
    import multiprocessing
    import time

    expected = str(len(migrations.pending(Database(memory=True))))
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(3):  # several fresh files: the race needs the opens to overlap
        path = str(tmp_path / f"race{attempt}.db")
        with ctx.Pool(6) as pool:
            start = time.time() + 1.0
            results = pool.starmap(_open_and_count, [(path, start)] * 6)
        assert results == [expected] * 6, results


def test_0011_makes_the_passages_index_visible_to_sqlite_utils_until_0014(tmp_path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="0011_search_detectable_fts")
    old.table("pages").insert(
        {"id": 1, "url": "http://x/a.html", "site": "demo", "status": "live", "current_version": 1}
    )
    old.table("versions").insert({"id": 1, "page_id": 1, "title": "旧库里的通知", "text": "建设质量强国。"})
    from qmcrawler.storage import passages

    passages.index_version(old, 1, "旧库里的通知", "建设质量强国。")
    old.conn.commit()
    assert old.table("passages").detect_fts() is None  # content='passages': not found
    old.close()
    db = Database(path)
    migrations.apply(db, stop_before="0012_frontier")
    assert db.table("passages").detect_fts() == "passages_fts"
    assert [r["text"] for r in db.table("passages").search("质量强国")] == ["建设质量强国。"]  # the old rows, reindexed
    rows = list(db.query("SELECT passage, title, status FROM passage_pages ORDER BY passage_id"))
    assert rows == [
        {"passage": "旧库里的通知", "title": "旧库里的通知", "status": "live"},
        {"passage": "建设质量强国。", "title": "旧库里的通知", "status": "live"},
    ]
    db.close()
    db = open_db(path)  # 0012-0014: the passages give way to the bigram index, built from the versions
    assert [h["title"] for h in queries.search(db, "质量强国")] == ["旧库里的通知"]
    assert not {"passages", "version_passages", "passages_fts", "passage_pages"} & set(
        db.table_names() + db.view_names()
    )
