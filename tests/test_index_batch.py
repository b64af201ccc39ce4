"""A crawl's search index rows are inserted when its batch commits, and go with their versions (issue 16).

The store (with `batch_index`, as pipelines/store.py opens it) keeps each version's index row
until the batch's commit (`grams.Pending`). A download whose savepoint rolls back must take its
rows with it, and so must a batch rolled back whole: a version id freed that way is given to the
next version, so a leftover row would index that next version under the wrong bigrams (SQLite's
index would answer the lost page's terms with another page; PostgreSQL's `version_search` would
keep the lost page's text and drop the real one's).
"""

from __future__ import annotations

from typing import Any

import pytest

from qmcrawler.storage import dialect_of, grams, queries
from qmcrawler.storage.writer import Store
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
    return list(grams.iter_candidates(db, term, all_versions=True))


def download_failing_after_its_record(store: Store, run: int) -> None:
    """A download whose version is written, then its savepoint rolls back (as when remember() fails)."""
    with store.atomic():
        content(store, run, version("鸭鹅鸽鹊。"), url=B)
        raise RuntimeError("after the record")


def test_a_download_rolled_back_inside_a_batch_leaves_no_index_row(memdb: Any) -> None:
    store = Store(memdb, batch_index=True)
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
    store = Store(memdb, batch_index=True)
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
    store = Store(memdb, batch_index=True)
    run = store.begin_run("site", "demo")
    content(store, run, version("龙虎豹狼。"), url=C)  # its own transaction (QMC_BATCH_SIZE = 1)
    assert not memdb.conn.in_transaction
    assert store.pending is not None
    assert store.pending.rows == []
    assert found(memdb, "龙虎") == [C]
