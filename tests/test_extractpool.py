"""The extraction workers: fresh interpreters that import only the extractor, started on the first new page."""

from __future__ import annotations

import json
from pathlib import Path

from qmcrawler.extraction.encoding import decode_html
from qmcrawler.run.extractpool import ExtractionPool, extract_and_fingerprint
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
