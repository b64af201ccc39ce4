"""bench/peers.py in a tiny mode (bare Scrapy, urlwatch from the package index, qmcrawler), and bench/dbsize.py.

changedetection.io is left to the real run (`bench/peers.py`, README "Benchmarks"): its
install and its batch mode (a fixed 3 s wait per run) would take the suite past its budget.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import dbsize
from qmcrawler.run.runner import PROJECT_ROOT


def _rows(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("|")[1:-1]] for line in stdout.splitlines() if line.startswith("| ")]


@pytest.mark.timeout(320)
def test_peers_bench_measures_each_tool_and_finds_exactly_the_edits(tmp_path: Path) -> None:
    argv = [sys.executable, "bench/peers.py", "--pages", "10", "--repeat", "1", "--startups", "1", "--edit", "0.2"]
    argv += ["--tools", "qmcrawler,urlwatch,scrapy", "--json", str(tmp_path / "peers.json")]
    proc = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    main, startup, storage = ({r[0].strip("*"): r for r in _rows(t)} for t in proc.stdout.split("\n\n"))
    bare, urlwatch = main["bare Scrapy (minimal spider, no pipelines)"], main["urlwatch 2.29 (html2text)"]
    ours = main["qmcrawler"]
    assert bare[1].endswith("(1.00×)")
    assert [bare[2], *bare[5:]] == ["–"] * 4  # no recheck, nothing stored
    for row in (urlwatch, ours):
        assert row[6].startswith("yes (")  # rechecks answered 304
        assert row[7] == "yes (2 of 2, no others)"
        assert int(row[5].split(" ")[0].replace(",", "")) > 10_000  # bytes kept per 10-30 KB article
    assert float(ours[1].split(" ")[0]) > 0
    assert startup["qmcrawler"][2].endswith(" s")  # its start-up above the minimal spider's
    assert float(startup["minimal Scrapy spider (bench/peerspider.py)"][1]) > 0
    assert "search_grams_data" in storage
    assert storage["total"][2] == "100%"
    assert (tmp_path / "peers.json").stat().st_size > 0


def test_peers_bench_rejects_an_unknown_tool() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/peers.py", "--tools", "scrapy,wget"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "unknown tool 'wget'" in proc.stderr


def test_page_counting_agrees_with_dbstat(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE INDEX docs_body ON docs (body)")  # index cells that overflow
    conn.execute("CREATE TABLE tags (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
    conn.execute("CREATE VIRTUAL TABLE docs_fts USING fts5(body, tokenize='trigram')")
    for i in range(400):
        body = os.urandom(3 + i * 37 % 9000).hex()  # 6 B to 18 KB: local cells and overflow chains
        conn.execute("INSERT INTO docs (body) VALUES (?)", (body,))
        conn.execute("INSERT INTO docs_fts (body) VALUES (?)", (body[:2000],))
        conn.execute("INSERT INTO tags VALUES (?, ?)", (f"k{i}", os.urandom(i * 31 % 6000)))
    conn.commit()
    conn.close()
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT count(*) FROM dbstat").fetchone()[0] > 0  # Debian's SQLite has dbstat
    counted = dbsize.breakdown(db, use_dbstat=False)
    assert counted == dbsize.breakdown(db)
    assert sum(counted.values()) == dbsize.in_use(db)
    assert counted["docs"] > 400 * 4500  # the overflow pages are counted
