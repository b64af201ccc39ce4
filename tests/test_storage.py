"""The store writes one transaction per download and follows the change semantics."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import zstandard
from sqlite_utils import Database

from qmcrawler.monitor.content import ZSTD_MAGIC, content_hash
from qmcrawler.storage import StoreError, grams, open_db, pgsearch, queries
from qmcrawler.storage.copylinks import relink_all
from qmcrawler.storage.passages import MAX_CHARS, split_passages
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store
from tests.dbtools import count, rows

pytestmark = pytest.mark.both_backends


@pytest.fixture
def search_db() -> Iterator[Database]:
    """SQLite only: the plan of the bigram index's query (PostgreSQL's is in tests/test_search.py)."""
    db = open_db(":memory:")
    yield db
    db.close()


URL = "http://127.0.0.1/news/a1.html"


def version(text: str = "第一句。第二句。", title: str = "关于开展质量月活动的通知", **extra: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "title": title,
        "text": text,
        "publish_time": "2018-08-31T16:40:00+08:00",
        "source": "质量发展局",
        "author": None,
        "attachments": [],
        "is_relevant": True,
        "flags": [],
        "extractor_version": "test",
        **extra,
    }
    return v


def content(
    store: Store, run: int, v: dict[str, Any], raw: bytes = b"<html>1</html>", url: str = URL, **kw: Any
) -> str:
    return store.record(
        FetchRecord(
            url=url,
            site="demo",
            kind="content",
            http_status=200,
            raw=raw,
            version=v,
            content_hash=content_hash(v),
            **kw,
        ),
        run,
    )


def test_new_unchanged_noise_changed(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    assert content(store, run, version()) == "new"
    assert content(store, run, version()) == "unchanged"
    assert content(store, run, version(), raw=b"<html>counter 2</html>") == "noise_only"
    assert content(store, run, version(text="第一句。第二句改了。")) == "changed"
    assert count(memdb, "versions") == 2
    kinds = [(c["kind"], c["fields"]) for c in queries.changes(memdb)]
    assert kinds == [("changed", ["text"]), ("new", ["title", "text", "publish_time", "source"])]
    page = queries.page(memdb, URL)
    assert page is not None
    assert page["current_version"] == 2
    assert page["status"] == "live"
    outcomes = [f["outcome"] for f in rows(memdb, "SELECT outcome FROM fetches ORDER BY id")]
    assert outcomes == ["new", "unchanged", "noise_only", "changed"]


def test_raw_html_is_compressed_and_content_addressed(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    body = ("<html>" + "质量月" * 2000 + "</html>").encode()
    content(store, run, version(), raw=body)
    content(store, run, version(), raw=body)
    raw = rows(memdb, "SELECT * FROM raw")
    assert len(raw) == 1
    assert raw[0]["size"] == len(body)
    assert len(raw[0]["content"]) < len(body) / 10
    assert queries.raw_document(memdb, raw[0]["hash"]) == (body, "utf-8")


def test_removed_needs_two_runs_then_restored(memdb: Database) -> None:
    store = Store(memdb)
    r1 = store.begin_run("site", "demo")
    content(store, r1, version())
    gone = FetchRecord(url=URL, site="demo", kind="gone", http_status=404, reason="http_404")
    r2 = store.begin_run("site", "demo")
    assert store.record(gone, r2) == "removed"
    assert store.record(gone, r2) == "removed"  # twice in one run is still one run
    assert queries.changes(memdb, kinds=["removed"]) == []
    r3 = store.begin_run("site", "demo")
    store.record(gone, r3)
    assert len(queries.changes(memdb, kinds=["removed"])) == 1
    assert queries.known_urls(memdb, "demo") == [URL]  # removed pages are re-checked
    r4 = store.begin_run("site", "demo")
    assert content(store, r4, version()) == "unchanged"
    restored = queries.changes(memdb, kinds=["restored"])
    assert len(restored) == 1
    assert restored[0]["title"] == "关于开展质量月活动的通知"


def test_failed_and_blocked_never_version_or_remove(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version())
    for _ in range(3):
        r = store.begin_run("site", "demo")
        store.record(FetchRecord(url=URL, site="demo", kind="failed", reason="timeout"), r)
        store.record(FetchRecord(url=URL, site="demo", kind="blocked", http_status=521), r)
    assert count(memdb, "versions") == 1
    assert [c["kind"] for c in queries.changes(memdb)] == ["new"]


def test_failure_for_an_unknown_url_is_logged_without_a_page(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    outcome = store.record(
        FetchRecord(url="http://127.0.0.1/list.html", site="demo", kind="failed", http_status=500, reason="http_500"),
        run,
    )
    assert outcome == "failed"
    assert count(memdb, "pages") == 0
    fetch = rows(memdb, "SELECT * FROM fetches")[0]
    assert fetch["page_id"] is None
    assert fetch["url"].endswith("list.html")
    assert fetch["http_status"] == 500


def test_permanent_redirect_moves_the_page_and_keeps_history(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version())
    new_url = "http://127.0.0.1/samr/art_0123.html"
    assert content(store, run, version(), moved_to=new_url) == "unchanged"
    assert queries.page(memdb, URL) is None
    page = queries.page(memdb, new_url)
    assert page is not None
    assert len(queries.versions(memdb, page["id"])) == 1
    moved = queries.changes(memdb, kinds=["moved"])
    assert len(moved) == 1
    assert URL in moved[0]["diff"]
    assert new_url in moved[0]["diff"]


def test_fetch_rows_leave_out_repeated_urls_and_the_view_puts_them_back(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version(), final_url=URL)
    content(store, run, version(), final_url=URL + "?from=list")
    store.record(FetchRecord(url="http://127.0.0.1/x.html", site="demo", kind="failed", reason="timeout"), run)
    stored = [(r["url"], r["final_url"]) for r in memdb.query("SELECT url, final_url FROM fetches ORDER BY id")]
    assert stored == [(None, None), (None, URL + "?from=list"), ("http://127.0.0.1/x.html", None)]
    log = [(r["url"], r["final_url"]) for r in memdb.query("SELECT url, final_url FROM fetch_log ORDER BY id")]
    assert log == [(URL, URL), (URL, URL + "?from=list"), ("http://127.0.0.1/x.html", None)]  # no response
    new_url = "http://127.0.0.1/samr/art_0123.html"
    content(store, run, version(), moved_to=new_url)  # the page moves: earlier rows keep the URL they fetched
    log = [r["url"] for r in memdb.query("SELECT url FROM fetch_log ORDER BY id")]
    assert log == [URL, URL, "http://127.0.0.1/x.html", URL]
    content(store, run, version(), url=new_url)
    assert memdb.execute("SELECT url FROM fetches ORDER BY id DESC LIMIT 1").fetchone()[0] is None
    assert next(iter(memdb.query("SELECT url FROM fetch_log ORDER BY id DESC LIMIT 1")))["url"] == new_url


def test_record_is_atomic(memdb: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "_change", broken)
    with pytest.raises(OSError, match="disk I/O"):
        content(store, run, version())
    for table in ("pages", "versions", "fetches", "raw", "changes"):
        assert count(memdb, table) == 0, table


def test_runs_are_opened_and_closed(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo,samr")
    store.finish_run(run, "finished", {"qmcrawler/store/new": 3})
    row = queries.runs(memdb)[0]
    assert row["status"] == "finished"
    assert row["sites"] == "demo,samr"
    assert json.loads(row["stats"]) == {"qmcrawler/store/new": 3}
    assert row["started_at"].endswith("Z")
    assert row["finished_at"].endswith("Z")


def test_search_index_and_short_queries(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version(text="以“加强市场监管 建设质量强国”为主题。"))
    content(store, run, version(title="其他通知", text="食品安全监督抽检。"), url="http://127.0.0.1/b.html")
    hits = queries.search(memdb, "质量强国")
    assert [h["url"] for h in hits] == [URL]
    assert "【质量强国】" in hits[0]["snippet"]
    assert [h["url"] for h in queries.search(memdb, "抽检")] == ["http://127.0.0.1/b.html"]
    assert [h["url"] for h in queries.search(memdb, "抽")] == ["http://127.0.0.1/b.html"]  # 1 char: LIKE
    assert queries.search(memdb, "100%") == []
    assert queries.search(memdb, 'a"b') == []  # quotes cannot break the FTS query


EDITED_BODY = "第一段：以质量强国为主题。\n第二段写着三十三个部门。\n第三段不变。"


def store_edit_and_repost(db: Database) -> None:
    """A page, its edit (one paragraph changes) and a repost of the first text on another page."""
    store = Store(db)
    run = store.begin_run("site", "demo")
    content(store, run, version(text=EDITED_BODY))
    content(store, run, version(text=EDITED_BODY.replace("三十三", "三十四")))
    content(store, run, version(title="转载", text=EDITED_BODY), url="http://127.0.0.1/b.html")  # a repost


def indexed(db: Database, term: str) -> list[int]:
    """The versions the index itself names for a term (SQLite: bigram candidates; PostgreSQL: ILIKE), newest first."""
    if getattr(db, "dialect", "sqlite") == "postgresql":
        return list(pgsearch.iter_hits(db, term, all_versions=True))
    return list(grams.iter_candidates(db, term, all_versions=True))


def test_every_version_is_indexed_once(memdb: Database) -> None:
    """Each stored version is in the index, under its own id, with its title and text; nothing else is."""
    store_edit_and_repost(memdb)
    assert indexed(memdb, "三十三个") == [3, 1]
    assert indexed(memdb, "三十四个") == [2]
    assert indexed(memdb, "质量强国") == [3, 2, 1]
    assert indexed(memdb, "转载") == [3]  # the title
    assert indexed(memdb, "质量月活动的通知") == [2, 1]  # the repost's title is 转载
    assert indexed(memdb, "无此内容") == []


def test_search_finds_old_and_current_versions(memdb: Database) -> None:
    """Old versions stay searchable; current-only search finds the current text."""
    store_edit_and_repost(memdb)
    assert [h["url"] for h in queries.search(memdb, "三十三个")] == ["http://127.0.0.1/b.html"]  # current only
    assert [h["url"] for h in queries.search(memdb, "三十四个")] == [URL]
    old = queries.search(memdb, "三十三个", all_versions=True)
    assert sorted(h["version_id"] for h in old) == [1, 3]
    assert "【三十三个】" in old[0]["snippet"]
    assert len(queries.search(memdb, "质量强国", limit=1)) == 1
    assert sorted(h["url"] for h in queries.search(memdb, "质量强国")) == ["http://127.0.0.1/b.html", URL]


@pytest.mark.parametrize("all_versions", [False, True])
def test_search_reads_the_index_newest_first_without_sorting(search_db: Database, all_versions: bool) -> None:
    memdb = search_db  # the plan of the FTS5 query: SQLite only
    plan = [r[3] for r in memdb.execute("EXPLAIN QUERY PLAN " + grams.search_sql(all_versions), ['"质量"'])]
    assert plan[0].startswith("SCAN search_grams VIRTUAL TABLE")
    assert not any("TEMP B-TREE" in step for step in plan), plan  # a sort would read every match
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    for n in range(3):
        content(store, run, version(title=f"第{n}号", text=f"第{n}篇讲质量月。"), url=f"http://127.0.0.1/{n}.html")
    content(store, run, version(title="第2号", text="第2篇讲质量月。改。"), url="http://127.0.0.1/2.html")
    newest = queries.search(memdb, "质量月", limit=1, all_versions=all_versions)
    assert [h["version_id"] for h in newest] == [4]
    assert [h["version_id"] for h in queries.search(memdb, "第2号", all_versions=all_versions)] == (
        [4, 3] if all_versions else [4]  # newest version first
    )


def test_split_passages_cuts_long_paragraphs_at_sentence_ends() -> None:
    long = "这是一句足够长的句子，用来测试切分。" * 30
    parts = split_passages("标题", "短段落。\n\n" + long)
    assert parts[:2] == ["标题", "短段落。"]
    assert all(len(p) <= MAX_CHARS for p in parts)
    assert "".join(parts[2:]) == long
    assert all(p.endswith("。") for p in parts[2:])


def test_changes_filters(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version())
    content(store, run, version(title="抽检", text="食品安全。", is_relevant=False), url="http://127.0.0.1/b.html")
    assert len(queries.changes(memdb)) == 2
    assert len(queries.changes(memdb, relevant_only=True)) == 1
    assert queries.changes(memdb, site="other") == []
    assert queries.changes(memdb, since="2999-01-01T00:00:00Z") == []
    assert len(queries.changes(memdb, limit=1)) == 1


def test_open_db_errors(tmp_path: Any) -> None:
    with pytest.raises(StoreError, match="database not found"):
        open_db(tmp_path / "missing.db", create=False)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot use database"):
        open_db(bad)


def test_wal_mode(tmp_path: Any) -> None:  # SQLite's journal mode: no PostgreSQL counterpart
    db = open_db(tmp_path / "x.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


LONG = "以质量强国为主题的质量月活动在全国范围内开展，各地市场监管部门组织了丰富多样的质量宣传活动。" * 2
OTHER = "食品安全监督抽检结果公布，共抽检样品一千二百批次，其中不合格样品十五批次，已依法处置完毕。" * 2
B_URL = "http://127.0.0.1/b.html"


def copy_of(db: Database, url: str) -> Any:
    sql = "SELECT v.copy_of FROM pages p JOIN versions v ON v.id = p.current_version WHERE p.url = ?"
    return db.execute(sql, [url]).fetchone()[0]


def test_a_page_whose_text_became_too_short_is_no_longer_an_original(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version(text=LONG))
    content(store, run, version(title="撤回", text="通知已撤回。"))  # too short for a fingerprint
    assert memdb.execute("SELECT count(*) FROM simhash_bands").fetchone()[0] == 0
    content(store, run, version(text=LONG), url=B_URL)
    assert copy_of(memdb, B_URL) is None  # page 1 no longer has that text


def test_relink_all_keeps_the_order_versions_were_stored_in(memdb: Database) -> None:
    """A page seen first but edited later into another page's text is the copy, not the original."""
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version(text=OTHER))  # page A, first seen, other text
    content(store, run, version(text=LONG), url=B_URL)  # page B publishes the text
    content(store, run, version(text=LONG))  # A is edited into B's text: A copies B
    a_id = memdb.execute("SELECT id FROM pages WHERE url = ?", [URL]).fetchone()[0]
    b_id = memdb.execute("SELECT id FROM pages WHERE url = ?", [B_URL]).fetchone()[0]
    assert (copy_of(memdb, URL), copy_of(memdb, B_URL)) == (b_id, None)
    relink_all(memdb)
    assert (copy_of(memdb, URL), copy_of(memdb, B_URL)) == (b_id, None)
    assert a_id != b_id


def test_search_with_no_limit_left_returns_nothing(memdb: Database) -> None:
    store = Store(memdb)
    content(store, store.begin_run("site", "demo"), version(text=LONG))
    assert queries.search(memdb, "质量强国", limit=0) == []
    assert len(queries.search(memdb, "质量强国", limit=1)) == 1


def test_raw_html_is_stored_as_zstd_and_zlib_rows_of_before_read_back(memdb: Database) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    body = ("<html>" + "质量月" * 500 + "</html>").encode()
    content(store, run, version(), raw=body)
    (stored,) = rows(memdb, "SELECT * FROM raw")
    assert stored["content"].startswith(ZSTD_MAGIC)
    assert zstandard.ZstdDecompressor().decompress(stored["content"]) == body
    older = b"<html>" + "旧页面".encode() * 300 + b"</html>"  # a row as the store wrote it before zstd
    memdb.execute(
        "INSERT INTO raw (hash, size, encoding, content, first_seen) VALUES ('old', ?, 'gbk', ?, '2025-01-01')",
        [len(older), zlib.compress(older, 1)],
    )
    assert queries.raw_document(memdb, "old") == (older, "gbk")
    assert queries.raw_document(memdb, stored["hash"]) == (body, "utf-8")
