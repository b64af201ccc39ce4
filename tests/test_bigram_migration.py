"""Migration 0014: the passages and their trigram index give way to the bigram index; nothing read changes.

SQLite only: 0014 is a migration of SQLite's schema history (PostgreSQL's is Alembic's q0002,
run by every PostgreSQL test from an empty database).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from click.testing import CliRunner
from sqlite_utils import Database

from qmcrawler.cli.main import cli
from qmcrawler.outputs import datasette_plugin
from qmcrawler.storage import open_db, queries
from qmcrawler.storage.textsearch import terms_of
from tests.test_lean_changes import CANNED, SEARCHES, as_0013_layout, crawl_demo_twice

#: what the passages answered, one term of 3+ characters (the trigram index matched it alone)
TERMS = ("质量月", "质量强国", "监督抽查", "（更正）", "(更正)", "市场监管总局", "2018年全国", "联合34个部门")


def in_use(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, free, size = (
        conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
    )
    conn.close()
    return int((pages - free) * size)


def passage_hits(conn: sqlite3.Connection, term: str, every: bool) -> set[int]:
    """The versions the 0013 index named for a term: its passages' versions (current ones unless `every`)."""
    current = "" if every else "JOIN pages p ON p.current_version = vp.version_id "
    sql = (
        f"SELECT vp.version_id FROM version_passages vp {current}"  # noqa: S608 - constants
        "WHERE vp.passage_id IN (SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?)"
    )
    phrase = '"' + terms_of(term)[0].replace('"', '""') + '"'
    return {int(r[0]) for r in conn.execute(sql, [phrase])}


def readings(path: Path) -> dict[str, Any]:
    """Every version's text (plain SQL) and every change through each reader."""
    out: dict[str, Any] = {}
    conn = sqlite3.connect(path)
    out["versions"] = conn.execute("SELECT * FROM versions ORDER BY id").fetchall()
    out["changes"] = conn.execute("SELECT * FROM changes ORDER BY id").fetchall()
    datasette_plugin.prepare_connection(conn, SimpleNamespace(plugin_config=lambda name: {}))
    urls = [r[0] for r in conn.execute("SELECT url FROM pages ORDER BY id")]
    for name in ("recent_changes", "page_history"):
        out[name] = [conn.execute(CANNED[name]["sql"], {"site": "", "url": u}).fetchall() for u in urls]
    conn.close()
    db = Database(path)
    out["read_changes"] = queries.changes(db, include_extractor=True, limit=None)
    out["page_changes"] = [queries.page_changes(db, p) for p in range(1, len(urls) + 1)]
    db.close()
    return out


def test_migration_0014_keeps_every_reading_and_search_result_and_shrinks_the_file(tmp_path: Path) -> None:
    path = crawl_demo_twice(tmp_path)
    as_0013_layout(path)
    conn = sqlite3.connect(path)
    before_hits = {(t, every): passage_hits(conn, t, every) for t in TERMS for every in (False, True)}
    conn.close()
    assert all(before_hits[(t, True)] for t in TERMS if "34" not in t)  # the demo has these
    before = readings(path)
    used, size = in_use(path), path.stat().st_size

    db = open_db(path, create=False)  # applies 0014, then VACUUM
    assert "0014_bigram_search" in {r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")}
    gone = {"passages", "version_passages", "passages_fts", "passage_pages"}
    assert not gone & set(db.table_names() + db.view_names())
    after_hits = {
        (t, every): {int(h["version_id"]) for h in queries.search(db, t, limit=1000, all_versions=every)}
        for t in TERMS
        for every in (False, True)
    }
    several = {q: queries.search(db, q, limit=1000, all_versions=True) for q in SEARCHES}
    db.close()

    assert after_hits == before_hits
    assert readings(path) == before
    assert all(several[q] for q in ("质量月", "抽检", "食品 安全", "质量月 2018"))
    assert in_use(path) < used * 0.8
    assert path.stat().st_size < size * 0.8  # given back to the file system, not only free pages
    listed = CliRunner().invoke(cli, ["search", "--db", str(path), "--json", "--all-versions", "质量月"])
    assert listed.exit_code == 0, listed.output
    assert {json.loads(line)["version_id"] for line in listed.output.splitlines()} == before_hits[("质量月", True)]


def test_migration_0014_on_an_empty_0013_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    db = Database(path)
    from qmcrawler.storage.schema import migrations

    migrations.apply(db, stop_before="0014_bigram_search")
    db.close()
    db = open_db(path)
    assert db.table("search_grams").exists()
    assert queries.search(db, "质量月") == []
    db.close()
