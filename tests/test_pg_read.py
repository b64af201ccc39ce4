"""Every read command on PostgreSQL: `--db postgresql://…` and QMC_DB, the same output as on SQLite, bad targets.

A PostgreSQL target that cannot be used (no server, a wrong password, a database whose LC_CTYPE
is C) is one line and a non-zero exit in every command and in `schedule.py`; the password never
appears in it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.run.locks import lock_dir
from qmcrawler.run.runner import PROJECT_ROOT
from qmcrawler.storage import open_db
from tests.changedb import page_with_edit
from tests.conftest import pg_server
from tests.pgserver import PgServer, free_port

URL = "http://127.0.0.1:1/news/a1.html"
SITES = """
[sites.demo]
start_urls = ["http://127.0.0.1:1/news/index.html"]
articles = ['/news/a\\d+\\.html$']
"""


def commands(tmp: Path) -> list[list[str]]:
    """Every `qmcrawler` command that reads the database, with arguments that work on a filled one."""
    config = tmp / "sites.toml"
    config.write_text(SITES, encoding="utf-8")
    return [
        ["changes"],
        ["changes", "--json", "--site", "demo"],
        ["history", URL],
        ["history", "--json", URL],
        ["diff", URL],
        ["diff", "--json", URL],
        ["search", "质量月"],
        ["search", "--json", "部门"],
        ["report", "-o", str(tmp / "r.html")],
        ["feed", "-o", "-"],
        ["notify", "--config", str(config), "--dry-run", "--backfill"],
        ["sites", "--config", str(config)],
        ["frontier", "--json"],
        ["reprocess", "--config", str(config)],
    ]


def invoke(target: str | Path, args: list[str], **kw: Any) -> Any:
    return CliRunner().invoke(cli, [*args, "--db", str(target)], **kw)


TIMES = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(Z|[+-]\d\d:\d\d)?")


def untimed(text: str) -> str:
    """Output without its times (the two databases were filled a moment apart)."""
    return TIMES.sub("<time>", text)


def test_every_command_prints_the_same_on_both(tmp_path: Path) -> None:
    """The same history in SQLite and in PostgreSQL: every read command's output is the same."""
    lite, pg = tmp_path / "qm.db", pg_server().new_database()
    for target in (lite, pg):
        db = open_db(target)
        page_with_edit(db)
        page_with_edit(db, url="http://127.0.0.1:1/news/a2.html", relevant=False)
        db.close()
    for args in commands(tmp_path):
        outputs = []
        for target in (lite, pg):
            result = invoke(target, args)
            assert result.exit_code == 0, (args, result.output)
            outputs.append(untimed(result.output))
            if args[0] == "report":
                outputs.append(untimed((tmp_path / "r.html").read_text(encoding="utf-8")))
        assert outputs[0].strip(), args
        assert outputs[: len(outputs) // 2] == outputs[len(outputs) // 2 :], args


def test_qmc_db_names_a_postgresql_database(tmp_path: Path) -> None:
    target = pg_server().new_database()
    db = open_db(target)
    page_with_edit(db)
    db.close()
    result = CliRunner().invoke(cli, ["changes", "--json"], env={"QMC_DB": target})
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["kind"] for line in result.output.splitlines()] == ["changed", "new"]
    proc = subprocess.run(
        [sys.executable, "-m", "qmcrawler", "search", "--json", "34个部门"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"QMC_DB": target, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["url"] for line in proc.stdout.splitlines()] == [URL]


@pytest.fixture(scope="module")
def password_role() -> Iterator[PgServer]:
    """A role that must give its password (scram), on the tests' server (everyone else: trust)."""
    server = pg_server()
    hba = server.data / "pg_hba.conf"
    before = hba.read_text()
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS qmc_pw")
        conn.execute("CREATE ROLE qmc_pw LOGIN PASSWORD 'right'")
        hba.write_text("host all qmc_pw 127.0.0.1/32 scram-sha-256\n" + before)
        conn.execute("SELECT pg_reload_conf()")
    yield server
    hba.write_text(before)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


def bad_targets(server: PgServer) -> dict[str, tuple[str, str]]:
    """URL and the message it must give, by what is wrong."""
    c_locale = f"c_locale_{free_port()}"
    server.admin(f"CREATE DATABASE {c_locale} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    return {
        "no server": (f"postgresql://postgres@127.0.0.1:{free_port()}/qm", "cannot connect: connection failed"),
        "wrong password": (
            f"postgresql://qmc_pw:wrong@127.0.0.1:{server.port}/postgres",
            'password authentication failed for user "qmc_pw"',
        ),
        "C locale": (server.url(c_locale), "LC_CTYPE is 'C', so pg_trgm cannot index Chinese; create the database"),
    }


@pytest.mark.parametrize("problem", ["no server", "wrong password", "C locale"])
def test_unusable_postgresql_is_one_line_in_every_command(
    tmp_path: Path, password_role: PgServer, problem: str
) -> None:
    url, message = bad_targets(password_role)[problem]
    for args in commands(tmp_path):
        result = invoke(url, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, (args, result.output)
        assert lines[0].startswith("Error: postgresql://"), (args, lines)
        assert message in lines[0], (args, lines)
        assert "wrong" not in lines[0]  # the password is not shown
    assert not (tmp_path / "r.html").exists()


def test_schedule_py_refuses_an_unusable_postgresql_in_one_line(tmp_path: Path) -> None:
    server = pg_server()
    url, message = bad_targets(server)["C locale"]
    config = tmp_path / "sites.toml"
    config.write_text(SITES, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "schedule.py", "--config", str(config), "--db", url, "--once"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: postgresql://")
    assert message in proc.stderr


def test_schedule_py_lists_last_runs_from_postgresql(tmp_path: Path) -> None:
    """`schedule.py --list --db postgresql://…` reads the runs there (the URL is not taken for a path)."""
    target = pg_server().new_database()
    db = open_db(target)
    page_with_edit(db)
    db.close()
    config = tmp_path / "sites.toml"
    config.write_text(SITES, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "schedule.py"), "--config", str(config), "--list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"QMC_DB": target, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("crawl:demo"), line
    assert "last run never" not in line
    assert line.endswith("finished, 0 failed fetches, 1 change"), line  # the second run: the edit
    assert list(tmp_path.iterdir()) == [config]  # no `postgresql:` directory made of the URL


def test_locks_of_a_postgresql_database_live_in_the_temp_dir() -> None:
    here = lock_dir("postgresql://qmc:secret@db.example:5432/qm?sslmode=require")
    assert here.name == "db.example_5432_qm"
    assert here.parent.name == "qmcrawler-locks"
    assert "secret" not in str(here)
    assert lock_dir("qm.db") == Path("qm.db-locks").resolve()


def test_make_browse_says_datasette_reads_sqlite_only() -> None:
    proc = subprocess.run(
        ["make", "-s", "browse", "DB=postgresql://qmc:secret@127.0.0.1:1/qm"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert proc.stdout.strip() == (
        "Datasette reads SQLite files only: copy the database into one (qmcrawler copy-db URL qm.db), then make browse"
    )


def test_the_commands_on_sqlite_import_no_postgresql_driver(tmp_path: Path) -> None:
    db = open_db(tmp_path / "qm.db")
    page_with_edit(db)
    db.close()
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from qmcrawler.cli.main import cli\n"
        f"for args in (['changes'], ['search', '质量月'], ['search', '部门'], ['history', {URL!r}]):\n"
        f"    assert CliRunner().invoke(cli, [*args, '--db', {str(tmp_path / 'qm.db')!r}]).exit_code == 0, args\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'sqlalchemy', 'alembic')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
