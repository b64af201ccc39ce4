"""A crawl's search index rows go with their versions, and a lagging index is still searched (issue 16).

The store (with `batch_index`, as pipelines/store.py opens it) keeps each version's index row
until the index takes it (`qmcrawler.storage.indexlag`): with `index_lag` 1 when its batch
commits, with the default lag (SQLite) once that many wait or the crawl ends, their ids in
`search_queue` meanwhile. A download whose savepoint rolls back must take its rows with it, and
so must a batch rolled back whole: a version id freed that way is given to the next version, so
a leftover row would index that next version under the wrong bigrams (SQLite's index would
answer the lost page's terms with another page; PostgreSQL's `version_search` would keep the
lost page's text and drop the real one's). A queued version is found by search before it is
indexed, and versions a killed crawl left queued are indexed by the next one's end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qmcrawler.storage import dialect_of, grams, open_db, queries
from qmcrawler.storage.writer import Store
from tests.consistency import check_consistent, check_index, queued_versions
from tests.dbtools import rows
from tests.test_storage import content, version

pytestmark = pytest.mark.both_backends

A, B, C = (f"http://127.0.0.1/news/{name}.html" for name in "abc")


def found(db: Any, term: str) -> list[str]:
    return [h["url"] for h in queries.search(db, term, all_versions=True)]


def indexed(db: Any, term: str) -> list[int]:
    """The versions the index itself offers for a term (before the exact check of the text)."""
    if dialect_of(db) == "postgresql":
        return [
            int(r["version_id"])
            for r in rows(db, "SELECT version_id FROM version_search WHERE body LIKE ?", [f"%{term}%"])
        ]
    return list(grams.indexed_candidates(db, term, all_versions=True))


def download_failing_after_its_record(store: Store, run: int) -> None:
    """A download whose version is written, then its savepoint rolls back (as when remember() fails)."""
    with store.atomic():
        content(store, run, version("鸭鹅鸽鹊。"), url=B)
        raise RuntimeError("after the record")


def test_a_download_rolled_back_inside_a_batch_leaves_no_index_row(memdb: Any) -> None:
    store = Store(memdb, batch_index=True, index_lag=1)
    run = store.begin_run("site", "demo")
    memdb.begin()
    with store.atomic():
        content(store, run, version("甲乙丙丁。"), url=A)
    with pytest.raises(RuntimeError, match="after the record"):
        download_failing_after_its_record(store, run)
    with store.atomic():
        content(store, run, version("龙虎豹狼。"), url=C)  # gets the id the rolled-back version had
    assert indexed(memdb, "龙虎") == []  # not yet: the rows wait for the commit
    store.commit()
    assert found(memdb, "甲乙") == [A]
    assert found(memdb, "龙虎") == [C]
    assert found(memdb, "鸭鹅") == []
    assert indexed(memdb, "鸭鹅") == []
    ids = [int(r["id"]) for r in rows(memdb, "SELECT id FROM versions ORDER BY id")]
    assert indexed(memdb, "龙虎") == [ids[-1]]


def test_a_batch_rolled_back_takes_its_index_rows_with_it(memdb: Any) -> None:
    store = Store(memdb, batch_index=True, index_lag=1)
    run = store.begin_run("site", "demo")
    memdb.begin()
    with store.atomic():
        content(store, run, version("鸭鹅鸽鹊。"), url=B)
    store.rollback()  # as the pipeline does when a write fails
    memdb.begin()
    with store.atomic():
        content(store, run, version("龙虎豹狼。"), url=C)
    store.commit()
    assert found(memdb, "龙虎") == [C]
    assert indexed(memdb, "鸭鹅") == []
    assert len(rows(memdb, "SELECT id FROM versions")) == 1


def test_outside_a_batch_each_download_is_indexed_in_its_own_transaction(memdb: Any) -> None:
    store = Store(memdb, batch_index=True, index_lag=1)
    run = store.begin_run("site", "demo")
    content(store, run, version("龙虎豹狼。"), url=C)  # its own transaction (QMC_BATCH_SIZE = 1)
    assert not memdb.conn.in_transaction
    assert store.pending is not None
    assert store.pending.rows == []
    assert found(memdb, "龙虎") == [C]


def test_a_lagging_index_is_searched_and_takes_its_versions_when_due(memdb: Any) -> None:
    store = Store(memdb, batch_index=True, index_lag=3)
    run = store.begin_run("site", "demo")
    for text, url in [("甲乙丙丁。", A), ("龙虎豹狼。", B)]:
        memdb.begin()
        with store.atomic():
            content(store, run, version(text), url=url)
        store.commit()
    assert found(memdb, "甲乙") == [A]  # committed, not indexed: search reads the queue
    assert found(memdb, "龙虎") == [B]
    assert found(memdb, "甲虎") == []
    if dialect_of(memdb) == "sqlite":
        assert indexed(memdb, "龙虎") == []
        assert len(queued_versions(memdb)) == 2
    else:  # PostgreSQL indexes at each commit
        assert len(indexed(memdb, "龙虎")) == 1
    memdb.begin()
    with store.atomic():
        content(store, run, version("鸭鹅鸽鹊。"), url=C)
    store.commit()  # the third: due
    assert queued_versions(memdb) == set()
    assert len(indexed(memdb, "龙虎")) == 1
    assert found(memdb, "鸭鹅") == [C]
    assert found(memdb, "甲乙") == [A]
    check_index(memdb)


def test_a_rollback_keeps_the_committed_queue_and_drops_its_own(memdb: Any) -> None:
    store = Store(memdb, batch_index=True, index_lag=10)
    run = store.begin_run("site", "demo")
    memdb.begin()
    with store.atomic():
        content(store, run, version("甲乙丙丁。"), url=A)
    store.commit()
    memdb.begin()
    with store.atomic():
        content(store, run, version("鸭鹅鸽鹊。"), url=B)
    store.rollback()
    assert store.pending is not None
    assert [r[0] for r in store.pending.rows] == ([first_version(memdb)] if dialect_of(memdb) == "sqlite" else [])
    memdb.begin()
    with store.atomic():
        content(store, run, version("龙虎豹狼。"), url=C)  # gets the id the rolled-back version had
    memdb.begin()
    store.commit(index_all=True)
    assert queued_versions(memdb) == set()
    assert found(memdb, "鸭鹅") == []
    assert indexed(memdb, "鸭鹅") == []
    assert found(memdb, "龙虎") == [C]
    assert found(memdb, "甲乙") == [A]
    check_index(memdb)


def test_versions_a_killed_crawl_left_queued_are_indexed_by_the_next_ones_end(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    first = Store(open_db(path), batch_index=True, index_lag=50)
    run = first.begin_run("site", "demo")
    first.db.begin()
    with first.atomic():
        content(first, run, version("甲乙丙丁。", title="第一篇"), url=A)
    first.commit()  # and then the crawl is killed: nobody indexes its queue
    second = Store(open_db(path), batch_index=True, index_lag=50)
    run2 = second.begin_run("site", "demo")
    second.db.begin()
    with second.atomic():
        content(second, run2, version("龙虎豹狼。"), url=B)
    second.commit()
    assert found(second.db, "甲乙") == [A]
    assert found(second.db, "第一") == [A]
    second.db.begin()
    second.commit(index_all=True)  # the second crawl ends: it indexes both, the first one's read back
    assert queued_versions(second.db) == set()
    assert indexed(second.db, "甲乙") == [first_version(second.db)]
    assert len(indexed(second.db, "第一")) == 1
    assert found(second.db, "龙虎") == [B]
    first.db.begin()
    first.commit(index_all=True)  # the first store's memory still holds its row: claimed already, not indexed again
    assert check_consistent(path) == 2


def first_version(db: Any) -> int:
    return int(rows(db, "SELECT min(id) AS id FROM versions")[0]["id"])
