"""The extraction workers: fresh interpreters that import only the extractor, started on the first new page."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qmcrawler.extraction.encoding import decode_html
from qmcrawler.run.extractpool import AHEAD, ExtractionPool, WorkerDied, extract_and_fingerprint
from tests.conftest import Site

FIXTURES = Path(__file__).parent / "fixtures"
#: what the crawl process has imported and a worker must not carry (the memory a fork kept)
CRAWL_ONLY = ("scrapy", "twisted", "sqlite_utils", "spiders", "pipelines", "qmcrawler.storage")


def test_a_worker_imports_the_extractor_and_not_the_crawl() -> None:
    pool = ExtractionPool(1)
    assert not pool.started
    try:
        loaded = pool.submit(eval, "sorted(__import__('sys').modules)").result(timeout=60)
    finally:
        pool.shutdown()
    assert not pool.started
    assert "qmcrawler.extraction" in loaded
    assert not [m for m in loaded if m.split(".")[0] in CRAWL_ONLY or m.startswith(CRAWL_ONLY)]


def test_a_worker_extracts_what_the_crawl_process_extracts() -> None:
    pages = sorted((FIXTURES / "web").rglob("*.html"))[:6]
    assert pages
    pool = ExtractionPool(1)
    try:
        for page in pages:
            html = decode_html(page.read_bytes(), "text/html").text
            url = "http://127.0.0.1/" + page.name
            assert pool.submit(extract_and_fingerprint, html, url, ()).result(timeout=60) == extract_and_fingerprint(
                html, url
            )
    finally:
        pool.shutdown()


def _stats(site: Site, run: int) -> dict[str, int]:
    db = site.open_db()
    try:
        return dict(json.loads(next(db.query("SELECT stats FROM runs WHERE id = ?", [run]))["stats"]))
    finally:
        db.close()


def test_a_crawl_that_finds_nothing_new_starts_no_worker(site: Site) -> None:
    site.crawl()
    site.crawl()  # the same pages the next day: unchanged, nothing to extract
    first, again = _stats(site, 1), _stats(site, 2)
    assert first["qmcrawler/extract/pool_started"] == 1
    assert first["qmcrawler/store/new"] >= 5
    assert "qmcrawler/extract/pool_started" not in again
    assert again.get("qmcrawler/store/unchanged", 0) + again.get("qmcrawler/store/not_modified", 0) >= 5


def test_a_worker_that_dies_fails_its_call_and_the_queued_ones_and_the_pool_takes_no_more() -> None:
    pool = ExtractionPool(1)
    try:
        dying = pool.submit(os._exit, 3)
        queued = pool.submit(pow, 2, 10)
        with pytest.raises(WorkerDied, match="exited with 3"):
            dying.result(timeout=60)
        with pytest.raises(WorkerDied):
            queued.result(timeout=60)
        with pytest.raises(WorkerDied):
            pool.submit(pow, 2, 10)
    finally:
        pool.shutdown()


def test_a_failing_call_raises_its_own_error_and_the_worker_goes_on() -> None:
    pool = ExtractionPool(1)
    try:
        with pytest.raises(ValueError, match="invalid literal"):
            pool.submit(int, "x").result(timeout=60)
        assert pool.submit(pow, 2, 10).result(timeout=60) == 1024
    finally:
        pool.shutdown()


def test_shutdown_cancels_what_has_not_started_and_waits_for_the_rest() -> None:
    pool = ExtractionPool(1)
    running = pool.submit(time.sleep, 0.5)
    waiting = [pool.submit(pow, 2, n) for n in range(50)]
    time.sleep(0.2)  # the sleep is in the worker
    pool.shutdown()
    sent = AHEAD - 1  # sent behind the sleep, waiting in the worker's pipe
    assert running.done()
    assert running.exception() is None
    assert [future.result() for future in waiting[:sent]] == [2**n for n in range(sent)]
    assert all(future.cancelled() for future in waiting[sent:])


PARENT = """
import sys, time
from qmcrawler.run.extractpool import ExtractionPool
pool = ExtractionPool(1)
print(pool.submit(__import__("os").getpid).result(timeout=60), flush=True)
time.sleep(600)
"""


def test_a_worker_exits_when_the_crawl_process_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1]
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, already exited and not yet reaped by init, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_stage_extracts_on_the_reactor_thread_once_the_pool_is_broken() -> None:
    from scrapy.utils.test import get_crawler

    from pipelines.extract import ExtractPipeline

    page = sorted((FIXTURES / "web").rglob("*.html"))[0]
    html, url = decode_html(page.read_bytes(), "text/html").text, "http://127.0.0.1/" + page.name
    stage = ExtractPipeline.from_crawler(get_crawler())
    stage.open_spider()
    assert stage.pool is not None
    with pytest.raises(WorkerDied):
        stage.pool.submit(os._exit, 1).result(timeout=60)
    step = stage._extract(html, url, ())  # submit raises at once: the coroutine never waits
    with pytest.raises(StopIteration) as finished:
        step.send(None)
    assert finished.value.value == extract_and_fingerprint(html, url)
    assert stage.pool is None
    stage.close_spider()
