"""Issue 12 §5: a bad sites.toml is one line from every entry point; a site's URLs cannot hang the crawl."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qmcrawler.run.runner import PROJECT_ROOT, crawl_command
from tests.faultweb import FAULT_SETTINGS, FAULTS, serve

GOOD = """[sites.x]
start_urls = ["http://127.0.0.1:9/list/index.htm"]
articles = ['/art/\\d+\\.htm$']
"""
DEEP_ARRAY = "[sites.x]\nstart_urls = " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_TABLE = "[sites.x]\nname = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"
GROUPS = GOOD.replace("'/art/\\d+\\.htm$'", "'" + "(" * 5000 + "a" + ")" * 5000 + "'")
BAD_CONFIGS = {
    "deep_array": (DEEP_ARRAY, "nested too deeply"),
    "deep_table": (DEEP_TABLE, "nested too deeply"),
    "port": (GOOD.replace("127.0.0.1:9", "127.0.0.1:99999"), "port"),
    "port0": (GOOD.replace("127.0.0.1:9", "127.0.0.1:0"), "port must be 1-65535"),
    "space": (GOOD.replace("/list/index.htm", "/list/ index.htm"), "whitespace in URL"),
    "newline": (GOOD.replace("/list/index.htm", "/list/index.htm\\n"), "whitespace in URL"),
    "lookahead": (GOOD.replace("'/art/\\d+\\.htm$'", "'/art/(?!x)\\d+'"), "bad regex"),
    "backref": (GOOD.replace("'/art/\\d+\\.htm$'", "'/(art)/\\1'"), "bad regex"),
}
#: cases run through all three entry points (the others through `qmcrawler sites`, the same loader)
EVERY_ENTRY_POINT = {"deep_array", "deep_table", "port"}


def entry_points(config: Path, db: Path) -> dict[str, list[str]]:
    return {
        "scrapy crawl": crawl_command(config, db),
        "qmcrawler sites": [sys.executable, "-m", "qmcrawler", "sites", "--config", str(config), "--db", str(db)],
        "schedule.py": [sys.executable, "schedule.py", "--config", str(config), "--db", str(db), "--once"],
    }


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_one_line_from_every_entry_point(tmp_path: Path, case: str) -> None:
    text, message = BAD_CONFIGS[case]
    config = tmp_path / "sites.toml"
    config.write_text(text, encoding="utf-8")
    every = entry_points(config, tmp_path / "qm.db")
    for name, argv in every.items() if case in EVERY_ENTRY_POINT else [("qmcrawler sites", every["qmcrawler sites"])]:
        result = run(argv)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode in (1, 2), (name, output[-2000:])
        assert "Traceback" not in output, (name, output[-2000:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (name, output[-2000:])
        assert message in lines[0], (name, lines[0])
        assert not (tmp_path / "qm.db").exists()  # nothing written


def test_a_regex_with_5000_nested_groups_loads(tmp_path: Path) -> None:
    """Python's `re` raised RecursionError while compiling it; RE2 compiles it (and would refuse with one line)."""
    config = tmp_path / "sites.toml"
    config.write_text(GROUPS, encoding="utf-8")
    result = run(entry_points(config, tmp_path / "qm.db")["qmcrawler sites"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "x" in result.stdout


REDOS = """[sites.redos]
start_urls = ["{base}/list/index.htm"]
allowed_domains = ["127.0.0.1"]
articles = ["(a+)+$"]
"""


def test_catastrophic_pattern_against_hostile_urls_finishes(tmp_path: Path) -> None:
    """`(a+)+$` against `/x/aaaa…a!` is 2^n steps for a backtracking engine; the crawl hung at 100 % CPU."""
    root = tmp_path / "web"
    (root / "list").mkdir(parents=True)
    (root / "x").mkdir()
    article = (FAULTS / "day1" / "art" / "plain.htm").read_text(encoding="utf-8")
    (root / "x" / "aaaa").write_text(article, encoding="utf-8")
    hostile = "".join(f'<a href="/x/{"a" * n}!">{n}</a>' for n in (40, 400, 4000))
    (root / "list" / "index.htm").write_text(f'<html><body><a href="/x/aaaa">通知</a>{hostile}</body></html>')
    (root / "_routes.json").write_text(json.dumps({"/x/aaaa": {"headers": {"Content-Type": "text/html"}}}))
    with serve(tmp_path, [root], REDOS) as site:
        started = time.monotonic()
        proc = subprocess.Popen(
            crawl_command(site.config, site.db, settings=FAULT_SETTINGS),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, stderr = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("the crawl hung matching `(a+)+$`")
        elapsed = time.monotonic() - started
        assert proc.returncode == 0, stderr[-2000:]
        assert elapsed < 60
        assert site.rows("SELECT status FROM runs") == [{"status": "finished"}]
        assert [r["url"] for r in site.rows("SELECT url FROM pages")] == [site.url("/x/aaaa")]


def test_database_in_a_missing_folder_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    """A mistyped `--db` / `QMC_DB` folder is refused from every entry point; nothing is made there."""
    config = tmp_path / "sites.toml"
    config.write_text(GOOD, encoding="utf-8")
    db = tmp_path / "no" / "such" / "qm.db"
    every = entry_points(config, db)
    listing = run(every.pop("qmcrawler sites"))  # lists the config; a database it cannot find adds nothing
    assert listing.returncode == 0, listing.stderr[-2000:]
    assert not (tmp_path / "no").exists()
    for name, argv in every.items():
        result = run(argv)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode in (1, 2), (name, output[-2000:])
        assert "Traceback" not in output, (name, output[-2000:])
        assert (f"{db}: folder {db.parent} does not exist" in output) or (f"{db}: database not found" in output), name
        assert not (tmp_path / "no").exists(), name
    changes = run([sys.executable, "-m", "qmcrawler", "changes", "--db", str(db)])
    assert changes.returncode == 1
    assert changes.stderr.strip().splitlines() == [f"Error: {db}: database not found"]
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", [["changes"], ["search", "质量"], ["history", "1"], ["frontier"]])
def test_a_read_command_on_an_empty_or_foreign_file_is_refused_and_writes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    """Found by a walkthrough: `changes --db` on an empty file or another program's database created
    every qmcrawler table in it and answered "No changes" (a mistyped path changed someone's file)."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for db in (empty, other):
        result = run([sys.executable, "-m", "qmcrawler", *command, "--db", str(db)])
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.strip().splitlines() == [
            f"Error: {db}: not a qmcrawler database (crawl into it first): the file was not changed"
        ]
    assert empty.read_bytes() == b""
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "other.db"]  # no -wal, no -shm
