"""A `new` change's diff is made from its version on read; migration 0013 empties the stored ones losslessly."""

from __future__ import annotations

import html
import json
import sqlite3
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner
from sqlite_utils import Database

from qmcrawler.cli.main import cli
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.extraction.article import HASHED_FIELDS
from qmcrawler.monitor.diff import diff_fields
from qmcrawler.outputs import datasette_plugin
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, run_crawl
from qmcrawler.storage import leanchanges, passages, queries, schema, searchindex
from qmcrawler.storage.schema import migrations
from qmcrawler.storage.writer import _refresh_display
from qmcrawler.textnorm import comparison_form
from tests.changedb import page_with_edit
from tests.conftest import daily
from tests.test_datasette import datasette, get  # noqa: F401 - the Datasette server fixture

DEMO = PROJECT_ROOT / "qmcrawler" / "demo"
CANNED = yaml.safe_load((PROJECT_ROOT / "datasette.yaml").read_text(encoding="utf-8"))["databases"]["qm"]["queries"]
SEARCHES = ("质量月", "质量强国", "抽检", "食品 安全", "质量月 2018", "（更正）", "(更正)", "监督抽查")


def _old_new_diff(version: dict[str, Any]) -> str:
    """What the writer stored as a `new` change's diff before 0013 (its `_describe(kind="new")`)."""
    fields = [f for f in HASHED_FIELDS if version.get(f)]
    return diff_fields({}, version, fields)


def as_0013_layout(path: Path) -> None:
    """The database as 0013 left it: passages, their trigram index and `passage_pages`, no bigram index.

    Built by the shipped migrations' own code (0008's tables, 0011's index as sqlite-utils finds
    it), holding what the writer put there: each version's passages in their comparison forms.
    0014 is marked not applied.
    """
    db = Database(path)
    with db.atomic():
        db.execute("DROP TABLE search_grams")
        schema.passage_search(db)
        db.execute("DELETE FROM version_passages")
        db.execute("DELETE FROM passages")  # 0008 indexed the displayed text; the writer, comparison forms
        stored = db.execute("SELECT id, title, text, flags FROM versions ORDER BY id").fetchall()
        passages.index_all(db, searchindex.comparison_rows(stored))
        schema.search_detectable_fts(db)  # the index rebuilt from these passages
        leanchanges.compact_passage_index(db)
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0014_bigram_search'")
    db.close()


def crawl_demo_twice(tmp_path: Path) -> Path:
    """The demo site crawled on two days (new pages, then edits and a removal): a real database."""
    path = tmp_path / "qm.db"
    with MiniWeb([DEMO / "site"]) as web:
        config = tmp_path / "sites.toml"
        config.write_text((DEMO / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), "utf-8")
        for n, layers in enumerate(([DEMO / "site"], [DEMO / "site", DEMO / "nextday"])):
            web.set_layers(layers)
            now = {"QMC_NOW": daily(datetime(2026, 9, 1, tzinfo=UTC), n)}
            result = run_crawl(config, path, settings={**LOCAL_SETTINGS, **now}, timeout=300)
            assert result.returncode == 0, result.stderr[-3000:]
    return path


def _as_before_0013(path: Path) -> int:
    """The database as the pre-0013 writer left it: every `new` change with its diff stored.

    One version's displayed text is also rewritten in place after its `new` change was made
    (as `reprocess` did before it wrote such diffs out first): its stored diff is no longer the
    one its version gives, and must survive the migration. Returns that change's id.
    """
    as_0013_layout(path)
    db = Database(path)
    rows = list(db.query("SELECT id, to_version FROM changes WHERE kind = 'new' ORDER BY id"))
    assert rows
    assert all(r["to_version"] for r in rows)
    for row in rows:
        version = queries.version(db, row["to_version"])
        assert version is not None
        db.execute("UPDATE changes SET diff = ? WHERE id = ?", [_old_new_diff(version), row["id"]])
    texts = {r["to_version"]: str((queries.version(db, r["to_version"]) or {})["text"]) for r in rows}
    edited = next(r for r in rows if "，" in texts[r["to_version"]])
    folded = comparison_form(texts[edited["to_version"]], False)
    db.execute("UPDATE versions SET text = ? WHERE id = ?", [folded, edited["to_version"]])
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0013_lean_new_changes'")
    db.conn.commit()
    db.close()
    return int(edited["id"])


def _readings(path: Path) -> dict[str, Any]:
    """Everything people read: version texts (plain SQL), changes through every reader, search results."""
    out: dict[str, Any] = {}
    conn = sqlite3.connect(path)
    out["versions"] = conn.execute("SELECT id, title, text FROM versions ORDER BY id").fetchall()
    datasette_plugin.prepare_connection(conn, SimpleNamespace(plugin_config=lambda name: {}))
    for name in ("recent_changes", "page_history"):
        sql = CANNED[name]["sql"]
        urls = [r[0] for r in conn.execute("SELECT url FROM pages ORDER BY id")]
        out[name] = [conn.execute(sql, {"site": "", "url": u}).fetchall() for u in urls]
    out["fts"] = {
        q: conn.execute(
            "SELECT rowid, text FROM passages WHERE rowid IN "
            "(SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?) ORDER BY rowid",
            [f'"{q}"'],
        ).fetchall()
        for q in ("质量强国", "质量月", "市场监管")
    }
    conn.close()
    db = Database(path)  # not open_db: that would apply 0013 before the "before" readings
    out["changes"] = queries.changes(db, include_extractor=True, limit=None)
    pages = [int(r["id"]) for r in db.query("SELECT id FROM pages ORDER BY id")]
    out["page_changes"] = [queries.page_changes(db, p) for p in pages]
    out["pending"] = queries.pending_notifications(db, "t", ["new", "changed", "removed", "restored", "moved"], False)
    out["sqlite_utils"] = {q: list(db.table("passages").search(q)) for q in ("质量强国", "质量月")}
    out["migrations"] = len(list(db.query("SELECT name FROM _sqlite_migrations")))
    db.close()
    return out


# SQLite only: 0013 is a migration of SQLite's schema history (PostgreSQL starts at the Alembic
# baseline, which is after it), and the readings include FTS5 and the Datasette plugin
def test_migration_0013_empties_new_diffs_and_every_reading_stays_the_same(tmp_path: Path) -> None:
    path = crawl_demo_twice(tmp_path)
    kept = _as_before_0013(path)
    conn = sqlite3.connect(path)
    kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM changes")}
    assert {"new", "changed"} <= kinds
    stored = conn.execute("SELECT count(*), sum(length(diff)) FROM changes WHERE kind = 'new'").fetchone()
    conn.close()
    before = _readings(path)
    assert any(h for h in before["fts"].values())
    assert before["migrations"] == len(list(migrations.pending(Database(memory=True)))) - 2  # 0013, 0014 not applied

    db = Database(path)
    migrations.apply(db, stop_before="0014_bigram_search")  # 0013 alone
    assert "0013_lean_new_changes" in {r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")}
    db.close()
    conn = sqlite3.connect(path)
    emptied = conn.execute("SELECT count(*) FROM changes WHERE kind = 'new' AND diff IS NULL").fetchone()[0]
    left = conn.execute("SELECT id FROM changes WHERE kind = 'new' AND diff IS NOT NULL").fetchall()
    after_bytes = conn.execute("SELECT coalesce(sum(length(diff)), 0) FROM changes WHERE kind = 'new'").fetchone()[0]
    conn.close()
    assert left == [(kept,)]  # the one whose version was rewritten keeps its own diff
    assert emptied == stored[0] - 1
    assert after_bytes < stored[1] / 5

    after = _readings(path)
    assert after.pop("migrations") == before.pop("migrations") + 1
    assert after == before
    runner = CliRunner()  # and through the commands: every `new` change shows its version's text
    listed = runner.invoke(cli, ["changes", "--db", str(path), "--json", "--limit", "0", "--include-extractor"])
    assert listed.exit_code == 0, listed.output
    shown = [json.loads(line) for line in listed.output.splitlines()]
    assert [c["diff"] for c in shown] == [c["diff"] for c in before["changes"]]


@pytest.mark.both_backends
def test_new_change_stores_no_diff_and_reads_as_before(memdb: Database) -> None:
    page_with_edit(memdb)
    rows = list(memdb.query("SELECT kind, diff, to_version FROM changes ORDER BY id"))
    assert [(r["kind"], r["diff"] is None) for r in rows] == [("new", True), ("changed", False)]
    version = queries.version(memdb, rows[0]["to_version"])
    assert version is not None
    new = next(c for c in queries.changes(memdb) if c["kind"] == "new")
    assert new["diff"] == _old_new_diff(version)
    assert new["diff"].startswith("- title: （空）\n+ title: 关于开展2018年全国“质量月”活动的通知")
    assert f"+ {version['text'].splitlines()[-1]}" in new["diff"]


@pytest.mark.both_backends
def test_rewriting_a_displayed_text_writes_the_new_diff_out_first(memdb: Database) -> None:
    page_with_edit(memdb)
    first = next(c for c in queries.changes(memdb) if c["kind"] == "new")
    old = queries.version(memdb, first["to_version"])
    assert old is not None
    with memdb.atomic():
        _refresh_display(memdb, old, {**old, "text": old["text"].replace("，", ","), "extractor_version": "next"})
    assert "，" not in str(queries.version(memdb, first["to_version"])["text"])  # type: ignore[index]
    stored = memdb.execute("SELECT diff FROM changes WHERE id = ?", [first["id"]]).fetchone()[0]
    assert stored == first["diff"]
    assert next(c for c in queries.changes(memdb) if c["kind"] == "new")["diff"] == first["diff"]


def test_datasette_qmc_diff_makes_the_new_diff(memdb: Database) -> None:  # the Datasette plugin: SQLite only
    page_with_edit(memdb)
    conn = memdb.conn
    datasette_plugin.prepare_connection(conn, SimpleNamespace(plugin_config=lambda name: {}))
    rows = conn.execute(CANNED["recent_changes"]["sql"], {"site": ""}).fetchall()
    diffs = {r[2]: r[5] for r in rows}  # kind → diff
    assert diffs["new"] == next(c for c in queries.changes(memdb) if c["kind"] == "new")["diff"]
    assert diffs["new"].startswith("- title: （空）\n+ title: ")
    assert "[-33-]{+34+}" in diffs["changed"]


def test_datasette_changes_table_shows_the_new_diff(datasette: str) -> None:  # noqa: F811 - the fixture
    with urllib.request.urlopen(f"{datasette}/qm/changes?kind=new", timeout=10) as response:  # 127.0.0.1 only
        page = response.read().decode("utf-8")
    assert '<div class="qmc-diff">' in page
    assert "+ title: 关于开展2018年全国“质量月”活动的通知" in html.unescape(page)
    assert "市场监管总局联合33个部门开展2018年全国“质量月”活动。" in html.unescape(page)
    rows = get(f"{datasette}/qm/changes.json?_shape=array&kind=new")
    assert [r["diff"] for r in rows] == [None]  # the stored value: NULL, the version holds it
