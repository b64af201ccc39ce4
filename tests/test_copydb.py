"""`qmcrawler copy-db`: a crawled SQLite database to PostgreSQL and back, row for row, verified; refusals.

The source is the fixture mini-web crawled twice with an edit in between, plus a few rows the
crawl does not write (a downloaded file, notification deliveries) with values COPY must escape.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.storage import copydb, open_db, pgschema
from qmcrawler.storage.tablehash import TableDigest, canonical
from tests.conftest import Site, pg_server, serve_site

#: two crawls before the tests start, several copies each
pytestmark = pytest.mark.timeout(600)

SQLITE_UTILS = str(Path(sys.executable).parent / "sqlite-utils")
TABLES = [t for t, _ in copydb.TABLES]
ODD = "制表\t反斜杠\\ 换行\n 回车\r 完"  # COPY's text format escapes all of these


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The mini-web crawled twice into SQLite (one edit in between), served for later crawls."""
    tmp = tmp_path_factory.mktemp("copydb")
    with serve_site(tmp, tmp / "qm.db") as site:
        site.crawl()
        site.edit("news/a1.html", "联合33个部门", "联合34个部门")
        site.crawl()
        with sqlite3.connect(site.db) as conn:
            conn.execute(
                "INSERT INTO files (url, sha256, size, type, name, http_status, first_seen, truncated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ["http://127.0.0.1/f/附件.pdf", "ab" * 32, 1234, "pdf", ODD, 200, "2026-01-01T00:00:00Z", 0],
            )
            conn.execute(
                "INSERT INTO notifications (change_id, target, status, attempts, last_error, first_tried_at) "
                "VALUES (6, 't1', 'failed', 2, ?, '2026-01-01T00:00:00Z')",
                [ODD],
            )
            conn.execute("INSERT INTO notify_targets (target, added_at, from_change) VALUES ('t1', '2026-01-01', 0)")
        conn.close()
        yield site


def copy(source: Any, target: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, ["copy-db", str(source), str(target), *args])


def table_rows(target: Any, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table (columns by name), sorted, read without opening the database as the store does."""
    if str(target).startswith("postgresql://"):
        with psycopg.connect(str(target)) as conn:
            cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608
            names = [d.name for d in cur.description or []]
            raw = cur.fetchall()
    else:
        conn = sqlite3.connect(Path(target).resolve().as_uri() + "?mode=ro", uri=True)
        cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608
        names = [d[0] for d in cur.description]
        raw = cur.fetchall()
        conn.close()
    order = sorted(range(len(names)), key=lambda i: names[i])
    return sorted((tuple(row[i] for i in order) for row in raw), key=repr)


def assert_same_tables(a: Any, b: Any) -> None:
    for table in TABLES:
        assert table_rows(a, table) == table_rows(b, table), table


def qmc(db: Any, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return str(result.output)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_untouched(source: Path, target: Any) -> Any:
    """`copy-db` from an SQLite file, which must be byte for byte as before afterwards."""
    before = file_digest(source)
    result = copy(source, target)
    assert file_digest(source) == before
    return result


@pytest.fixture(scope="module")
def on_pg(crawled: Site) -> str:
    """The crawled database copied into a PostgreSQL database that had no schema yet."""
    url = pg_server().empty_database("copydb_main")
    result = copy(crawled.db, url)
    assert result.exit_code == 0, result.output
    return url


def test_sqlite_to_postgresql_copies_every_table_row_for_row(crawled: Site, on_pg: str) -> None:
    assert_same_tables(crawled.db, on_pg)
    with psycopg.connect(on_pg) as conn:
        assert conn.execute("SELECT name FROM files").fetchone() == (ODD,)  # escaped through COPY and back
    with psycopg.connect(on_pg) as conn:
        versions = conn.execute("SELECT id FROM versions ORDER BY id").fetchall()
        assert versions
        assert conn.execute("SELECT version_id FROM version_search ORDER BY version_id").fetchall() == versions
    assert table_rows(on_pg, "alembic_version") == [(pgschema.HEAD,)]  # its own history, not the source's


def indexes(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"
        )
        return [(str(name), str(definition)) for name, definition in found.fetchall()]


def test_postgresql_indexes_are_built_again_as_the_schema_has_them(on_pg: str, pg_server: Any) -> None:
    copied = indexes(on_pg)
    assert copied == indexes(pg_server.new_database())
    assert any("gin_trgm_ops" in definition for _, definition in copied)


def test_the_copy_prints_progress_and_a_verified_table(crawled: Site, pg_server: Any) -> None:
    result = copy(crawled.db, pg_server.new_database())
    assert result.exit_code == 0, result.output
    assert "copied versions: 6/6 rows" in result.stderr
    assert "verified pages: 5/5 rows" in result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:-1]}
    assert set(lines) == set(TABLES)
    for table, (_, source_rows, target_rows, source_hash, target_hash, check) in lines.items():
        assert (source_rows, source_hash, check) == (target_rows, target_hash, "ok"), table
    assert lines["versions"][1] == "6"
    assert result.stdout.splitlines()[-1].endswith(": verified")


def test_changes_history_and_search_read_the_same_on_both(crawled: Site, on_pg: str) -> None:
    changes = qmc(crawled.db, "changes", "--json", "--limit", "0")
    assert [json.loads(line)["kind"] for line in changes.splitlines()].count("changed") == 1
    assert qmc(on_pg, "changes", "--json", "--limit", "0") == changes
    assert qmc(on_pg, "changes") == qmc(crawled.db, "changes")
    for page in (crawled.url("/news/a1.html"), "3"):
        assert qmc(on_pg, "history", page, "--json") == qmc(crawled.db, "history", page, "--json")


def test_search_reads_the_same_on_both(crawled: Site, on_pg: str) -> None:
    found = qmc(crawled.db, "search", "质量月", "--json")
    assert found
    assert qmc(on_pg, "search", "质量月", "--json") == found


def test_postgresql_back_to_sqlite_keeps_every_row_and_search(crawled: Site, on_pg: str, tmp_path: Path) -> None:
    back = tmp_path / "back.db"
    result = copy(on_pg, f"sqlite:///{back}")
    assert result.exit_code == 0, result.output
    assert_same_tables(crawled.db, back)
    for term in ("质量月", "联合34个部门", "质量 月"):  # the edited sentence too: indexed from the copied versions
        found = qmc(back, "search", term, "--json", "--all-versions")
        assert found, term
        assert found == qmc(crawled.db, "search", term, "--json", "--all-versions"), term
    sql = "SELECT v.title FROM search_grams g JOIN versions v ON v.id = g.rowid WHERE search_grams MATCH '质量'"
    assert sqlite_rows(back, sql)
    assert sqlite_rows(back, sql) == sqlite_rows(Path(crawled.db), sql)
    assert qmc(back, "changes", "--json") == qmc(crawled.db, "changes", "--json")


def highest(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT max(id) FROM {table}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def test_a_crawl_into_the_copy_continues_the_history(crawled: Site, pg_server: Any) -> None:
    url = pg_server.new_database()
    assert copy(crawled.db, url).exit_code == 0
    with psycopg.connect(url) as conn:
        before = {t: highest(conn, t) for t in ("runs", "versions", "changes", "fetches")}
    assert before == {"runs": 2, "versions": 6, "changes": 6, "fetches": 10}
    site = dataclasses.replace(crawled, db=url)
    crawled.edit("news/a1.html", "联合34个部门", "联合35个部门")
    try:
        site.crawl()
    finally:
        crawled.edit("news/a1.html", "联合35个部门", "联合34个部门")
    with psycopg.connect(url) as conn:
        run = conn.execute("SELECT max(id) FROM runs").fetchone()
        change = conn.execute(
            "SELECT id, from_version, to_version, run_id FROM changes WHERE kind = 'changed' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        fetches = conn.execute("SELECT min(id), count(*) FROM fetches WHERE run_id = %s", [before["runs"] + 1])
        first_fetch, fetched = fetches.fetchone() or (0, 0)
    assert run == (before["runs"] + 1,)
    assert change == (before["changes"] + 1, 6, before["versions"] + 1, before["runs"] + 1)
    assert first_fetch == before["fetches"] + 1
    assert fetched == 5


def test_the_source_is_never_written(crawled: Site, pg_server: Any) -> None:
    assert copy_untouched(Path(crawled.db), pg_server.new_database()).exit_code == 0


def test_a_target_with_pages_is_refused_unless_replace(crawled: Site, on_pg: str, tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    assert copy(crawled.db, target).exit_code == 0
    result = copy(on_pg, target)
    assert result.exit_code == 1
    assert result.output == f"Error: {target}: already holds data (5 pages): pass --replace to overwrite it\n"
    with sqlite3.connect(target) as conn:  # a different history in the target, replaced entirely
        conn.execute("INSERT INTO search_grams (rowid, grams) VALUES (999, '联合 合3 34 4个 个部 部门')")
        conn.execute("UPDATE pages SET site = 'other'")
    conn.close()
    result = copy(on_pg, target, "--replace")
    assert result.exit_code == 0, result.output
    assert_same_tables(crawled.db, target)
    indexed = sqlite_rows(target, "SELECT rowid FROM search_grams WHERE search_grams MATCH '联合 AND 部门'")
    assert 999 not in {r[0] for r in indexed}  # the index rebuilt: no stale rows
    assert {r[0] for r in indexed} == {
        r[0] for r in sqlite_rows(target, "SELECT id FROM versions WHERE text LIKE '%联合%部门%'")
    }


def sqlite_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(sql).fetchall())
    finally:
        conn.close()


def test_a_postgresql_target_with_pages_is_refused_unless_replace(crawled: Site, on_pg: str) -> None:
    result = copy(crawled.db, on_pg)
    assert result.exit_code == 1
    assert "already holds data (5 pages): pass --replace" in result.output
    assert len(result.output.splitlines()) == 1
    result = copy(crawled.db, on_pg, "--replace")
    assert result.exit_code == 0, result.output
    assert_same_tables(crawled.db, on_pg)


def test_sources_that_are_not_qmcrawler_databases_are_refused(tmp_path: Path, pg_server: Any) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE pages (url TEXT)")
    conn.close()
    empty_pg = pg_server.empty_database("copydb_not_qmc")
    for source, why in (
        (text, "not a qmcrawler database (file is not a database)"),
        (other, "not a qmcrawler database (no pages table or no migrations)"),
        (tmp_path / "missing.db", "database not found"),
        (empty_pg, "not a qmcrawler database (no pages table or no schema revision)"),
    ):
        result = copy(source, tmp_path / "target.db")
        assert result.exit_code == 1, source
        assert result.output == f"Error: {source}: {why}\n"
    assert not (tmp_path / "target.db").exists()
    assert copy(other, other).output == f"Error: {other}: source and target are the same database\n"


def altered(crawled: Site, path: Path, *statements: str) -> Path:
    """A copy of the crawled database at `path`, changed by `statements` (foreign keys off)."""
    shutil.copy(crawled.db, path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for sql in statements:
            conn.execute(sql)
    conn.close()
    return path


def test_a_source_from_a_newer_qmcrawler_is_refused_and_left_alone(
    crawled: Site, tmp_path: Path, pg_server: Any
) -> None:
    newer = altered(crawled, tmp_path / "newer.db", "UPDATE alembic_version SET version_num = 'q9999'")
    target = pg_server.new_database()
    result = copy_untouched(newer, target)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {newer}: written by a newer qmcrawler (unknown migration 'q9999'): upgrade qmcrawler to copy it\n"
    )
    assert table_rows(target, "pages") == []
    newer_pg = pg_server.new_database()
    with psycopg.connect(newer_pg) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'q9999'")
    result = copy(newer_pg, tmp_path / "t.db")
    assert result.exit_code == 2
    assert "written by a newer qmcrawler (unknown revision 'q9999')" in result.output


def test_a_mismatch_fails_and_leaves_the_target_unchanged(
    crawled: Site, pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy that loses a row (here: the writer drops one) is caught by the check and rolled back."""
    write = copydb.PgSide.write

    def lossy(self: copydb.PgSide, table: str, columns: list[str], batches: Any) -> None:
        if table == "fetches":
            batches = ([row for row in rows if row[columns.index("id")] != 3] for rows in batches)
        write(self, table, columns, batches)

    monkeypatch.setattr(copydb.PgSide, "write", lossy)
    target = pg_server.new_database()
    result = copy(crawled.db, target)
    assert result.exit_code == 1
    assert f"Error: verification failed (fetches): {target} was not changed" in result.output
    mismatch = [line for line in result.stdout.splitlines() if line.endswith("MISMATCH")]
    assert [line.split()[:3] for line in mismatch] == [["fetches", "10", "9"]]
    assert table_rows(target, "pages") == []


def test_a_refused_row_names_its_table_and_changes_nothing(crawled: Site, tmp_path: Path, pg_server: Any) -> None:
    # a dangling reference PostgreSQL's foreign key refuses
    broken = altered(crawled, tmp_path / "broken.db", "UPDATE fetches SET run_id = 99 WHERE id = 1")
    target = pg_server.new_database()
    result = copy(broken, target)
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert error.startswith(f"Error: {target}: fetches: cannot copy (")
    assert error.endswith("; the target was not changed")
    assert table_rows(target, "runs") == []


def test_the_table_list_is_every_table_of_a_fresh_database(pg_server: Any) -> None:
    """A table a later migration adds must be added to copydb.TABLES (or excluded here, with a reason)."""
    lite = open_db(":memory:")
    names = {r["name"] for r in lite.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    lite.close()
    fts = {n for n in names if n.startswith("search_grams")}  # the search index: built from the versions
    fts.add("search_queue")  # versions not indexed yet: the target indexes every version it gets
    assert names - fts - {"_sqlite_migrations", "alembic_version"} == set(TABLES)
    with psycopg.connect(pg_server.new_database()) as conn:
        pg = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE'"
        ).fetchall()
    pg_tables = {r[0] for r in pg if not r[0].startswith("procrastinate_")}  # jobs are not history
    assert pg_tables - {"version_search", "alembic_version"} == set(TABLES)  # built; its own history


def test_table_hashes_ignore_order_and_driver_types() -> None:
    a, b = TableDigest(), TableDigest()
    a.add([(1, "x", b"\x00\\"), (2, None, 3.0)])
    b.add([(2, None, 3), (1, "x", memoryview(b"\x00\\"))])
    assert a == b
    assert canonical(True) == 1
    twice = TableDigest()
    twice.add([(1, "x"), (1, "x")])
    once = TableDigest()
    once.add([(1, "x")])
    assert twice.total != 0
    assert (twice.rows, once.rows) == (2, 1)
    other = TableDigest()
    other.add([(1, "y")])
    assert other.total != once.total
    assert canonical(2.5) == 2.5


def test_a_database_set_up_as_the_readme_says_takes_a_copy_under_its_own_role(crawled: Site, pg_server: Any) -> None:
    """createuser; createdb --owner --template=template0 --locale=C.UTF-8; pg_trgm; then no superuser."""
    role = f"qmc{os.getpid()}"
    pg_server.admin(f"CREATE ROLE {role} LOGIN PASSWORD 'secret'")
    pg_server.admin(f"CREATE DATABASE {role} OWNER {role} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'")
    with psycopg.connect(pg_server.url(role), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    url = f"postgresql://{role}@127.0.0.1:{pg_server.port}/{role}"
    result = copy(crawled.db, url)
    assert result.exit_code == 0, result.output
    assert_same_tables(crawled.db, url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'version_search'").fetchone() == (role,)


def test_before_alembic_is_the_baseline_older_is_refused(crawled: Site, tmp_path: Path, pg_server: Any) -> None:
    """A database last opened before the Alembic baseline (0013, no alembic_version) is that baseline."""
    unstamped = altered(crawled, tmp_path / "unstamped.db", "DROP TABLE alembic_version")
    target = pg_server.new_database()
    result = copy_untouched(unstamped, target)
    assert result.exit_code == 0, result.output
    assert table_rows(target, "alembic_version") == [(pgschema.HEAD,)]
    assert table_rows(target, "versions") == table_rows(crawled.db, "versions")
    older = altered(
        crawled, tmp_path / "older.db", "DELETE FROM _sqlite_migrations WHERE name = '0013_lean_new_changes'"
    )
    result = copy(older, pg_server.new_database())
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {older}: written by an older qmcrawler: upgrade it first by opening it once "
        f"(`python -m qmcrawler changes --db {older}`), then copy it\n"
    )
