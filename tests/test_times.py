"""Times people read are Beijing time (or `[defaults] timezone`, `--tz`); the database and --json keep UTC."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.config import ConfigError, load_config
from qmcrawler.outputs.clock import local, zone
from qmcrawler.storage import open_db
from tests.changedb import page_with_edit
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

LOCAL = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00")
SITES = """[sites.demo]
start_urls = ["http://127.0.0.1:1/news/index.html"]
articles = ['/news/a\\d+\\.html$']
"""
URL = "http://127.0.0.1:1/news/a1.html"


@pytest.fixture
def db_file(tmp_path: Path, backend: str) -> Path | str:
    path = db_target(backend, tmp_path)
    db = open_db(path)
    page_with_edit(db)
    db.close()
    return path


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env={"QMC_SITES": "/nonexistent/sites.toml", **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


def test_local_formats_utc_in_shanghai_and_leaves_dates_alone() -> None:
    assert local("2026-11-22T13:48:18Z") == "2026-11-22 21:48:18 +08:00"
    assert local("2026-11-22T13:48:18Z", zone("UTC")) == "2026-11-22 13:48:18 +00:00"
    assert local("2018-08-31") == "2018-08-31"  # a publish day is not a UTC instant
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        zone("Mars/Base")


def test_changes_and_history_show_beijing_time_and_json_keeps_utc(db_file: Path | str) -> None:
    text = run("changes", "--db", str(db_file), "--no-diff")
    stamps = re.findall(r"^#\d+ \w+ +(\S+ \S+ \S+)", text, re.M)
    assert len(stamps) == 2
    assert all(LOCAL.fullmatch(s) for s in stamps), stamps
    assert "Z " not in text
    utc = run("changes", "--db", str(db_file), "--no-diff", "--tz", "UTC")
    assert re.search(r"\d\d:\d\d:\d\d \+00:00", utc)
    rows = [json.loads(line) for line in run("changes", "--db", str(db_file), "--json").splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["detected_at"]) for r in rows)
    # the same instant, shown in Beijing time
    assert stamps[0] == local(rows[0]["detected_at"])
    history = run("history", URL, "--db", str(db_file))
    assert LOCAL.search(history)
    assert not re.search(r"\d\dT\d\d:\d\d:\d\dZ", history)
    assert LOCAL.search(run("diff", URL, "--db", str(db_file)))


def test_defaults_timezone_in_the_sites_file(db_file: Path | str, tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text('[defaults]\ntimezone = "Europe/Berlin"\n' + SITES, encoding="utf-8")
    assert load_config(config).timezone == "Europe/Berlin"
    text = run("changes", "--db", str(db_file), "--no-diff", env={"QMC_SITES": str(config)})
    assert re.search(r"\d\d:\d\d:\d\d \+0[12]:00", text), text
    assert run("changes", "--db", str(db_file), "--no-diff", "--tz", "Asia/Shanghai", env={"QMC_SITES": str(config)})
    bad = tmp_path / "bad.toml"
    bad.write_text('[defaults]\ntimezone = "Beijing"\n' + SITES, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[defaults\] key 'timezone': unknown time zone 'Beijing'"):
        load_config(bad)
    wrong = CliRunner().invoke(cli, ["changes", "--db", str(db_file), "--tz", "Beijing"])
    assert wrong.exit_code == 2  # a usage error, like a bad --since
    assert wrong.output.strip().splitlines() == [
        "Error: Invalid value for '--tz': unknown time zone 'Beijing' (use an IANA name such as Asia/Shanghai or UTC)"
    ]


def test_report_and_feed_text_in_beijing_time(db_file: Path | str, tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    run("report", "--db", str(db_file), "-o", str(report))
    html = report.read_text(encoding="utf-8")
    assert len(LOCAL.findall(html)) >= 5  # generated, and each change in the list and its section
    assert not re.search(r"\d\dT\d\d:\d\d:\d\dZ", html)
    result = CliRunner().invoke(cli, ["feed", "--db", str(db_file), "-o", "-"])  # stdout, not a file named "-"
    assert result.exit_code == 0, result.output
    assert not (Path.cwd() / "-").exists()
    assert result.stderr == "wrote standard output (2 entries)\n"
    one = CliRunner().invoke(cli, ["feed", "--db", str(db_file), "-o", "-", "--limit", "1"])
    assert one.stderr == "wrote standard output (1 entry)\n", one.output
    root = ET.fromstring(result.stdout)  # noqa: S314 - our own output
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 2
    for e in entries:
        assert (e.findtext("a:updated", namespaces=ns) or "").endswith("Z")  # RFC 3339 for readers
        assert LOCAL.search(e.findtext("a:summary", namespaces=ns) or "")
