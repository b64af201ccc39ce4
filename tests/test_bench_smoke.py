"""The benchmark scripts run in a tiny mode so they cannot rot (real numbers come from `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qmcrawler.run.runner import PROJECT_ROOT


def bench(argv: list[str], timeout: int) -> str:
    """Run a bench script from the project root; its standard output (the run must succeed)."""
    proc = subprocess.run(
        [sys.executable, *argv], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_render_bench_prints_its_table() -> None:
    stdout = bench(["bench/render.py", "--pages", "2"], timeout=300)
    rows = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| mode | pages | seconds | pages/s")
    plain, rendered = rows[1].split("|"), rows[2].split("|")
    assert plain[6].strip().startswith("0 ")  # the body needs JavaScript: nothing stored plain
    assert rendered[6].strip() == "2"  # both articles stored when rendered


@pytest.mark.timeout(600)  # eight crawls, each its own process
def test_revisit_bench_prints_its_table() -> None:
    stdout = bench(["bench/revisit.py", "--days", "4", "--per-day", "2"], timeout=600)
    rows = [line.split("|") for line in stdout.splitlines() if line.startswith("| ")]
    assert rows[0][1].strip() == "policy"
    assert rows[0][2].strip() == "fetches, day 4"
    frontier, everything = rows[1], rows[2]
    assert frontier[1].strip() == "frontier"
    assert everything[1].strip() == "re-check everything"
    assert int(everything[2]) == 2 + 4 * 2  # day 4: two list pages and every article published so far
    assert int(frontier[2]) <= int(everything[2])


def test_searchindex_bench_prints_its_tables(tmp_path: Path) -> None:
    from qmcrawler.storage import open_db
    from tests.changedb import page_with_edit

    db = open_db(tmp_path / "qm.db")
    page_with_edit(db)
    db.close()
    stdout = bench(["bench/searchindex.py", str(tmp_path / "qm.db")], timeout=300)
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in stdout.splitlines()}
    assert "4 characters: works" in rows[("one row per passage (passages_fts)", "full")]
    assert "phrase queries are not supported" in rows[("one row per passage (passages_fts)", "none")]
    store = rows[("bigrams of each whole version (search_grams, the store)", "none")]
    assert int(store.split("|")[3].strip().replace(",", "")) > 0
    assert any(line.startswith("| zstd level 1 (the store) |") for line in stdout.splitlines())


@pytest.mark.timeout(600)  # 2 + 1 schedule.py ticks, each with crawl processes
def test_schedstart_bench_prints_its_table() -> None:
    stdout = bench(["bench/schedstart.py", "--sites", "2", "--pages", "1", "--repeat", "1"], timeout=600)
    rows = [line.split("|") for line in stdout.splitlines() if line.startswith("| ")]
    assert rows[0][2].strip() == "crawl processes"
    assert [r[2].strip() for r in rows[1:]] == ["2", "1"]  # one process per site, then one for both
    assert rows[1][7].strip() == "1.00× / 1.00×"  # the baseline against itself


@pytest.mark.timeout(900)  # a PostgreSQL server, workers and crawl processes
def test_scaleout_bench_prints_its_table() -> None:
    argv = ["bench/scaleout.py", "--sites", "4", "--pages", "1", "--workers", "1,2", "--sites-per-job", "2"]
    stdout = bench([*argv, "--delay", "0.05"], timeout=900)
    rows = [line.split("|") for line in stdout.splitlines() if line.startswith("| ")]
    assert rows[0][1].strip() == "setup"
    assert [(r[1].strip(), r[2].strip()) for r in rows[1:]] == [
        ("PostgreSQL", "1"),
        ("PostgreSQL", "2"),
        ("SQLite", "1"),
    ]
    assert rows[1][5].strip() == "1.00×"  # the baseline against itself
    assert all(r[11].strip() == "0" for r in rows[1:])  # no duplicate crawls


def test_stages_bench_prints_its_table() -> None:
    stdout = bench(["bench/stages.py", "--pages", "4", "--repeat", "1"], timeout=300)
    cells = [line.split("|")[1:3] for line in stdout.splitlines() if line.startswith("| ")][1:]  # after the header
    rows = {name.strip(): float(ms) for name, ms in cells}
    total = rows.pop("**total, without Scrapy**")
    for stage in (
        "decode the body (decode_html), numpy not loaded",
        "classify the download (validate)",
        "extraction (extract)",
        "store: search index, building the bigram documents",
    ):
        assert rows[stage] >= 0, stage
    assert any(name.startswith("decode the body, numpy loaded") for name in rows)
    counted = [ms for name, ms in rows.items() if "not in the total" not in name]
    assert total == pytest.approx(sum(counted), abs=0.01 * len(counted))  # each row rounded to 0.01
