"""The PostgreSQL side of `open_db`: placeholders, transactions, the schema's history, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from qmcrawler.storage import NewerDatabase, StoreError, open_db, pgschema
from qmcrawler.storage.pgdb import translate
from tests.pgserver import PgServer


@pytest.mark.parametrize(
    ("sqlite", "psycopg_form"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("UPDATE t SET a = :a WHERE id = :id", "UPDATE t SET a = %(a)s WHERE id = %(id)s"),
        (
            "SELECT '?', 'it''s :x %' , \"a?\" FROM t WHERE c LIKE ?",
            "SELECT '?', 'it''s :x %%' , \"a?\" FROM t WHERE c LIKE %s",
        ),
        ("SELECT 50 % 7, x::text FROM t", "SELECT 50 %% 7, x::text FROM t"),
    ],
)
def test_translate_placeholders_and_keeps_literals(sqlite: str, psycopg_form: str) -> None:
    assert translate(sqlite) == psycopg_form


def _insert_and_fail(db: Any, spider: str) -> None:
    with db.atomic():
        db.execute("INSERT INTO runs (spider) VALUES (?)", [spider])
        raise RuntimeError


def test_statements_and_transactions(pg_server: PgServer) -> None:
    db = open_db(pg_server.new_database())
    db.execute("INSERT INTO runs (spider, status) VALUES (?, ?)", ["a", "finished"])  # commits by itself
    with db.atomic():
        db.execute("INSERT INTO runs (spider, status) VALUES (:s, 'finished')", {"s": "b"})
        with pytest.raises(RuntimeError):  # a savepoint: only its own rows go
            _insert_and_fail(db, "gone")
    with pytest.raises(RuntimeError):
        _insert_and_fail(db, "also gone")
    other = open_db(db.url)  # another connection sees exactly the committed rows
    assert [r["spider"] for r in other.query("SELECT spider FROM runs ORDER BY id")] == ["a", "b"]
    db.begin()  # a batch: nothing is visible to others until commit
    db.execute("INSERT INTO runs (spider) VALUES (?)", ["batched"])
    assert [r["n"] for r in other.query("SELECT count(*) AS n FROM runs")] == [2]
    db.conn.commit()
    assert [r["n"] for r in other.query("SELECT count(*) AS n FROM runs")] == [3]
    assert db.execute("SELECT id FROM runs WHERE spider = ?", ["a"]).fetchone()[0] == 1
    db.close()
    other.close()


def test_percent_signs_with_and_without_parameters(pg_server: PgServer) -> None:
    db = open_db(pg_server.new_database())
    assert [r["v"] for r in db.query("SELECT '100%' AS v")] == ["100%"]
    assert [r["v"] for r in db.query("SELECT '100%' || ? AS v", ["!"])] == ["100%!"]
    assert db.execute("SELECT 7 % 4").fetchone()[0] == 3
    assert db.execute("SELECT 7 % ?", [4]).fetchone()[0] == 3
    db.close()


def test_a_c_locale_database_is_refused_in_one_line(pg_server: PgServer) -> None:
    url = pg_server.empty_database("qm_c_locale", locale="C")
    with pytest.raises(StoreError) as e:
        open_db(url)
    message = str(e.value)
    assert "\n" not in message
    assert "LC_CTYPE is 'C'" in message
    assert "createdb --template=template0 --encoding=UTF8 --locale=C.UTF-8 qm_c_locale" in message
    with psycopg.connect(url) as conn:  # nothing was created in it
        assert conn.execute("SELECT to_regclass('pages')").fetchone() == (None,)


def test_a_new_database_gets_the_schema_once_and_a_newer_one_is_refused(pg_server: PgServer) -> None:
    url = pg_server.empty_database("qm_fresh")
    open_db(url).close()
    db = open_db(url)  # up to date: nothing runs again
    assert [r["version_num"] for r in db.query("SELECT version_num FROM alembic_version")] == [pgschema.HEAD]
    assert pgschema.upgrade_postgres(db, url) == []
    db.execute("UPDATE alembic_version SET version_num = 'q9999'")
    db.close()
    with pytest.raises(NewerDatabase, match="unknown revision 'q9999'"):
        open_db(url)


def test_an_unreachable_server_is_one_line_at_once() -> None:
    import time

    from tests.pgserver import free_port

    started = time.monotonic()
    with pytest.raises(StoreError) as e:
        open_db(f"postgresql://postgres:secret@127.0.0.1:{free_port()}/qm")
    assert "\n" not in str(e.value)
    assert "cannot connect" in str(e.value)
    assert "secret" not in str(e.value)
    assert time.monotonic() - started < 5  # the first connection is not retried


def test_sqlite_databases_are_stamped_with_the_alembic_baseline(tmp_path: Path) -> None:
    db = open_db(f"sqlite:///{tmp_path / 'qm.db'}")
    assert (tmp_path / "qm.db").exists()
    assert [r["version_num"] for r in db.query("SELECT version_num FROM alembic_version")] == [pgschema.BASELINE]
    db.execute("UPDATE alembic_version SET version_num = 'q9999'")
    db.conn.commit()
    db.close()
    with pytest.raises(NewerDatabase):
        open_db(tmp_path / "qm.db")


def test_a_sqlite_crawl_imports_no_postgresql_driver(tmp_path: Path) -> None:
    """psycopg, SQLAlchemy, Alembic and Procrastinate cost 0.2-0.5 s of start-up: a crawl, the CLI and the
    scheduler on SQLite never import them."""
    import subprocess
    import sys

    code = (
        "import sys, pipelines.store, spiders.site, qmcrawler.cli.main, qmcrawler.run.scheduler\n"
        "import qmcrawler.commands.crawl, qmcrawler.storage as s\n"
        f"db = s.open_db({str(tmp_path / 'qm.db')!r}); db.close(); s.open_db({str(tmp_path / 'qm.db')!r})\n"
        "print(sorted(m for m in ('psycopg', 'sqlalchemy', 'alembic', 'procrastinate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
