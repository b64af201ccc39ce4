"""The qmcrawler CLI against a database filled through the store: output, JSON, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.monitor.content import content_hash
from qmcrawler.storage import open_db
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

URL = "http://127.0.0.1/samr/art_1.html"


def fill(path: Path | str) -> None:
    db = open_db(path)
    store = Store(db)
    texts = ["市场监管总局联合33个部门开展活动。共160项活动。", "市场监管总局联合34个部门开展活动。共160项活动。"]
    for n, text in enumerate(texts):
        run = store.begin_run("site", "samr")
        v = {
            "title": "关于开展2018年全国“质量月”活动的通知",
            "text": text,
            "publish_time": "2018-08-31",
            "source": "质量发展局",
            "author": None,
            "attachments": [],
            "is_relevant": True,
        }
        store.record(
            FetchRecord(
                url=URL,
                site="samr",
                kind="content",
                raw=f"<html>{n}</html>".encode(),
                version=v,
                content_hash=content_hash(v),
            ),
            run,
        )
        store.finish_run(run, "finished", {})
    db.close()


@pytest.fixture
def db(tmp_path: Path, backend: str) -> Path | str:
    """A database with one page in two versions: a file (SQLite) or a PostgreSQL URL."""
    target = db_target(backend, tmp_path)
    fill(target)
    return target


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_changes_json_lines(db: Path | str) -> None:
    result = invoke("changes", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in rows] == ["changed", "new"]
    for key in ("id", "run_id", "url", "site", "kind", "fields", "title", "detected_at", "diff"):
        assert key in rows[0], key
    assert rows[0]["fields"] == ["text"]
    assert rows[0]["url"] == URL
    assert rows[0]["site"] == "samr"
    assert "[-33-]{+34+}" in rows[0]["diff"]


def test_changes_text_output_and_filters(db: Path | str) -> None:
    result = invoke("changes", "--db", db)
    assert result.exit_code == 0
    assert "changed" in result.output
    assert "关于开展2018年全国“质量月”活动的通知" in result.output
    assert "+ 市场监管总局联合34个部门开展活动。" in result.output
    assert invoke("changes", "--db", db, "--since", "2999-01-01").output.strip() == "no changes"
    unknown = invoke("changes", "--db", db, "--site", "other")  # issue 12: not "no changes"
    assert (unknown.exit_code, unknown.output.strip()) == (
        2,
        "Error: --site 'other': no such site in the database (sites: samr)",
    )
    only_new = invoke("changes", "--db", db, "--kind", "new", "--json").output.splitlines()
    assert [json.loads(x)["kind"] for x in only_new] == ["new"]
    assert invoke("changes", "--db", db, "--since", "1d", "--json").output.count("\n") == 2


def test_history_diff_search(db: Path | str) -> None:
    history = invoke("history", "--db", db, URL)
    assert history.exit_code == 0
    assert "versions" in history.output
    assert "changed" in history.output
    assert "质量发展局" in history.output
    diff = invoke("diff", "--db", db, URL)
    assert diff.exit_code == 0
    assert "[-33-]{+34+}" in diff.output
    same = invoke("diff", "--db", db, URL, "--from", "2", "--to", "2")
    assert "no differences" in same.output
    search = invoke("search", "--db", db, "34个部门")
    assert search.exit_code == 0
    assert URL in search.output
    assert "no matches" in invoke("search", "--db", db, "没有这个词").output
    short = invoke("search", "--db", db, "部门", "--json")
    assert json.loads(short.output.splitlines()[0])["url"] == URL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["changes", "--db", "{tmp}/missing.db"], "database not found"),
        (["history", "--db", "{db}", "http://nope/"], "not in the database"),
        (["diff", "--db", "{db}", URL, "--from", "7"], "no version 7"),
        (["diff", "--db", "{db}", URL, "--from", "0"], "no version 0 (versions 1-2)"),
        (["diff", "--db", "{db}", URL, "--to", "0"], "no version 0 (versions 1-2)"),
        (["sites", "--config", "{tmp}/missing.toml"], "config file not found"),
        (["sites", "--config", "{tmp}/bad.toml"], "invalid TOML"),
    ],
)
def test_errors_are_one_line(db: Path | str, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.toml").write_text("[sites.x\n", encoding="utf-8")
    argv = [a.format(tmp=tmp_path, db=db) for a in args]
    result = invoke(*argv)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error:")
    assert message in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["changes", "--since", "yesterday"], "Invalid value for '--since': expected an ISO date/time"),
        (["changes", "--since", "99999999999d"], "reaches back before the year 1"),
        (["changes", "--since", "9999999w"], "reaches back before the year 1"),
        (["feed", "-o", "{tmp}/f.atom", "--since", "99999999999d"], "reaches back before the year 1"),
        (["changes", "--limit", "99999999999999999999999"], "Invalid value for '--limit'"),
        (["changes", "--limit", "-1"], "Invalid value for '--limit'"),
        (["search", "质量月", "--limit", "-1"], "Invalid value for '--limit'"),
        (["search", "质量月", "--limit", "0"], "Invalid value for '--limit': 0 is not in the range 1<="),
        (["search", "   "], "Invalid value for 'TEXT': nothing to search for (the text is empty)"),
        (["report", "-o", "{tmp}/r.html", "--limit", "-5"], "Invalid value for '--limit'"),
        (["changes", "--site", "nope"], "--site 'nope': no such site in the database"),
        (["feed", "-o", "{tmp}/f.atom", "--site", "nope"], "--site 'nope': no such site in the database"),
        (["report", "-o", "{tmp}/r.html", "--site", "nope"], "--site 'nope': no such site in the database"),
        (["reprocess", "--site", "nope"], "--site 'nope': no such site in the database"),
        (["changes", "--bogus"], "No such option '--bogus'"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(db: Path | str, tmp_path: Path, args: list[str], message: str) -> None:
    """Issue 12 §5: overflowing spans and limits, negative limits, unknown sites."""
    argv = [args[0], "--db", str(db), *(a.format(tmp=tmp_path) for a in args[1:])]
    result = invoke(*argv)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error:")
    assert message in lines[0]
    assert not (tmp_path / "f.atom").exists()
    assert not (tmp_path / "r.html").exists()


def test_bad_arguments_through_the_real_entry_point(db: Path | str) -> None:
    """The console script prints the same one line (no traceback) and exits 2."""
    result = subprocess.run(
        [sys.executable, "-m", "qmcrawler", "changes", "--db", str(db), "--since", "99999999999d"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: Invalid value for '--since': '99999999999d' reaches back before the year 1"
    assert result.stdout == ""


def test_sites_lists_the_config(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    result = invoke("sites", "--config", root / "sites.toml", "--db", tmp_path / "none.db")
    assert result.exit_code == 0
    assert "samr" in result.output


def test_sites_names_the_sites_of_the_database_the_config_does_not_list(tmp_path: Path) -> None:
    """`sites --db demo.db` against the shipped sites.toml: the demo's sites are said to be there, not hidden."""
    root = Path(__file__).parent.parent
    db = open_db(tmp_path / "qm.db")
    db.execute("INSERT INTO pages (url, site, status) VALUES ('http://127.0.0.1/a.html', 'demo-farm', 'live')")
    db.execute("INSERT INTO pages (url, site, status) VALUES ('https://www.samr.gov.cn/a.html', 'samr', 'live')")
    db.conn.commit()
    db.close()
    result = invoke("sites", "--config", root / "sites.toml", "--db", tmp_path / "qm.db")
    assert result.exit_code == 0, result.output
    hint = f"the database also holds sites {root / 'sites.toml'} does not list: demo-farm (see them with --config FILE)"
    assert result.output.splitlines()[-1] == hint
    assert "samr" not in hint
    only = invoke("sites", "--config", root / "sites.toml", "--db", tmp_path / "qm.db", "samr")
    assert only.exit_code == 0
    assert "also holds" not in only.output  # a selection shows what was asked for


def test_module_entry_point_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qmcrawler", "changes", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: {tmp_path / 'x.db'}: database not found"]
    assert not (tmp_path / "x.db").exists()  # a read command never creates a database


def test_changes_text_marks_likely_mirrors(tmp_path: Path, backend: str) -> None:
    """Issue 13: the README says the text output marks mirrors; a likely mirror with no canonical page too."""
    path = db_target(backend, tmp_path)
    db = open_db(path)
    store = Store(db)
    run = store.begin_run("site", "spam")
    v = {
        "title": "我國(guó)质量月",
        "text": "我國(guó)质量(zhì)月活动。",
        "publish_time": None,
        "source": None,
        "author": None,
        "attachments": [],
        "is_relevant": True,
        "flags": ["pinyin_artifact", "likely_mirror"],
    }
    url = "http://127.0.0.1/spam/1.html"
    store.record(FetchRecord(url=url, site="spam", kind="content", version=v, content_hash=content_hash(v)), run)
    db.close()
    result = CliRunner().invoke(cli, ["changes", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].startswith("    mirror: likely")


def test_make_browse_without_the_database_says_how(tmp_path: Path) -> None:
    from qmcrawler.run.runner import PROJECT_ROOT

    missing = tmp_path / "qm.db"
    result = subprocess.run(
        ["make", "-s", "browse", f"DB={missing}"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"{missing} not found: run make crawl first, or make demo and then make browse DB=demo.db" in result.stdout
