"""The crawl, storage and query benchmarks in a tiny mode (a few dozen pages), and the speed settings."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qmcrawler.crawl.perf import Batch, PerfOptions
from qmcrawler.options import OptionsError
from qmcrawler.run.runner import PROJECT_ROOT, crawl_command


def run_bench(*argv: str) -> list[list[str]]:
    proc = subprocess.run(
        [sys.executable, *argv], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=110, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [[c.strip() for c in line.split("|")[1:-1]] for line in proc.stdout.splitlines() if line.startswith("| ")]


@pytest.mark.timeout(120)
def test_crawl_bench_recrawl_is_304_and_finds_exactly_the_edits() -> None:
    rows = run_bench("bench/crawl.py", "--pages", "30", "--edit", "0.1", "--set", "QMC_BATCH_SIZE=5")
    assert rows[0][:4] == ["crawl", "pages", "seconds", "pages/s"]
    assert rows[2][0].startswith("bare Scrapy")
    assert rows[3][0].startswith("full pipeline")
    recrawl = {r[0]: r for r in rows[4:]}
    unchanged, edited = recrawl["again, unchanged"], recrawl["again, 3 articles edited"]
    assert float(unchanged[4].rstrip("%")) >= 90  # 30 of 31 answers are 304 (the list page is not)
    assert unchanged[5] == "0"
    assert edited[5] == "3"
    assert edited[6] == "exactly the edited pages"


def test_crawl_bench_rejects_a_malformed_setting() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/crawl.py", "--set", "QMC_BATCH_SIZE"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "--set expects KEY=VALUE" in proc.stderr


@pytest.mark.timeout(120)
def test_storage_bench_prints_growth_per_changed_text() -> None:
    rows = run_bench("bench/storage.py", "--pages", "30", "--crawls", "3", "--edit", "0.1")
    assert rows[0][-1] == "growth ÷ changed text"
    assert float(rows[1][-1]) > 0
    assert any(r[0] == "versions" for r in rows[3:])


def test_query_bench_prints_p50_and_p95() -> None:
    rows = run_bench("bench/queries.py", "--pages", "300", "--versions", "3000", "--runs", "10")
    assert [r[0] for r in rows[1:]] == [
        "`changes --since 1d` (limit 50)",
        "`history URL`",
        "`search` 3 characters (limit 20)",
    ]
    assert all(r[-1] == "yes" for r in rows[1:])


def test_perf_options_defaults_and_bad_values() -> None:
    assert PerfOptions.from_settings({}) == PerfOptions(extract_workers=1, batch_size=100, batch_seconds=1.0)
    assert not PerfOptions.from_settings({"QMC_BATCH_SIZE": "1"}).batched
    for bad in (
        {"QMC_BATCH_SIZE": "0"},
        {"QMC_EXTRACT_WORKERS": "-1"},
        {"QMC_BATCH_SECONDS": "0"},
        {"QMC_EXTRACT_WORKERS": "two"},
    ):
        with pytest.raises(OptionsError, match="QMC_"):
            PerfOptions.from_settings(bad)


def test_batch_commits_when_full_or_old() -> None:
    now = [0.0]
    batch = Batch(size=3, seconds=1.0, clock=lambda: now[0])
    assert not batch.due()
    assert not batch.added()
    assert not batch.added()
    assert batch.added()  # full
    batch.committed()
    assert not batch.added()
    now[0] = 1.5
    assert batch.due()  # old


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_extraction_workers_exit_when_the_crawl_is_killed(tmp_path: Path) -> None:
    from tests.faultweb import FAULT_SETTINGS, serve
    from tests.test_fault_runs import SITES, make_site

    root = make_site(tmp_path / "web", 10, {f"/art/p{i}.htm": {"delay": 0.5} for i in range(10)})
    with serve(tmp_path, [root], SITES) as site:
        argv = crawl_command(site.config, site.db, settings=FAULT_SETTINGS)
        proc = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while not workers and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert workers, "the crawl started no extraction worker"
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
