"""Where the CPU of a new page goes: each stage of the pipeline, in-process, on the generated site.

    .venv/bin/python bench/stages.py [--pages 300] [--repeat 3]

Runs the pipeline's own functions, stage by stage, over N article pages of bench/sitegen.py (the
site bench/peers.py crawls) and prints CPU milliseconds per page (time.process_time, medians
over `--repeat`), in the order a crawl runs them:

- the spider's side: decoding the body (`decode_html`) and looking for continuation pages
  (`links_of` + `continuation_urls`, only when the page can link one: `may_continue`), and the
  validate stage's `classify` (status, type, short-page and client-redirect checks);
- the extraction worker's side (pipelines/extract.py): the pickling of the HTML sent to the
  worker and of the (Article, fingerprint) sent back, `extract`, the SimHash fingerprint;
- the reactor's stages: content fields and hash (normalize), relevance and mirror signs;
- the store (a fresh SQLite file, transactions of QMC_BATCH_SIZE downloads as the writer thread
  commits them), run twice: with the search index and with it switched off. The index's cost is
  the difference (FTS5 does most of its work at later savepoints and commits, outside its own
  calls), split into the Python building each version's bigram document and SQLite's FTS5 work.

What it does not show is Scrapy itself (downloading, scheduling, middlewares): bench/peers.py
measures that as the bare Scrapy crawl, in the same run as the whole crawl.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import sitegen  # noqa: E402
from pipelines.extract import extract_and_fingerprint  # noqa: E402
from pipelines.store import to_record  # noqa: E402
from qmcrawler.crawl.classify import classify  # noqa: E402
from qmcrawler.crawl.pages import continuation_urls, may_continue  # noqa: E402
from qmcrawler.extraction import encoding, extract  # noqa: E402
from qmcrawler.extraction.encoding import decode_html  # noqa: E402
from qmcrawler.items import PageItem  # noqa: E402
from qmcrawler.monitor.changes import CONTENT  # noqa: E402
from qmcrawler.monitor.content import content_fields, content_hash  # noqa: E402
from qmcrawler.monitor.copies import fingerprint_text, mirror_reasons, simhash  # noqa: E402
from qmcrawler.monitor.relevance import score  # noqa: E402
from qmcrawler.storage import grams, open_db  # noqa: E402
from qmcrawler.storage.writer import Store  # noqa: E402
from spiders.responses import links_of  # noqa: E402

BASE = "http://127.0.0.1:8000"
#: marks a row that measures an alternative of the row before it
NOT_IN_TOTAL = "(instead of the row above: not in the total)"
BATCH = 100


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def spider_side(bodies: list[bytes], urls: list[str]) -> tuple[dict[str, float], list[str]]:
    """Decoding and the continuation-page lookup of spiders/site.py's parse_article."""
    with mock.patch.object(encoding, "_numpy_scan", return_value=False):  # as before the search index loads numpy
        decode, htmls = _cpu(lambda: [decode_html(b, "text/html").text for b in bodies])
    encoding._tables()  # numpy and the tables, loaded once per process
    with mock.patch.object(encoding, "_numpy_scan", return_value=True):
        loaded, _ = _cpu(lambda: [decode_html(b, "text/html").text for b in bodies])

    def pages() -> list[list[str]]:
        return [
            continuation_urls(u, links_of(h, u)) if may_continue(u, h, u) else []
            for u, h in zip(urls, htmls, strict=True)
        ]

    links, _ = _cpu(pages)
    kinds, _ = _cpu(lambda: [classify(200, h, "text/html; charset=utf-8") for h in htmls])
    return {
        "decode the body (decode_html), numpy not loaded": decode,
        f"decode the body, numpy loaded {NOT_IN_TOTAL}": loaded,
        "continuation pages (links_of)": links,
        "classify the download (validate)": kinds,
    }, htmls


def worker_side(htmls: list[str], urls: list[str]) -> tuple[dict[str, float], list[Any]]:
    """What the extraction worker does, and the pickling on both sides of its pipe."""
    sent, _ = _cpu(
        lambda: [
            pickle.loads(pickle.dumps((extract_and_fingerprint, h, u, ()), -1))  # noqa: S301 - our own bytes
            for h, u in zip(htmls, urls, strict=True)
        ]
    )
    took, articles = _cpu(lambda: [extract(h, u) for h, u in zip(htmls, urls, strict=True)])

    def fingerprints() -> list[int | None]:
        out = []
        for article in articles:
            fields = content_fields(article)
            out.append(simhash(fingerprint_text(fields["title"], fields["text"])))
        return out

    fp, prints = _cpu(fingerprints)
    results = list(zip(articles, prints, strict=True))
    back, _ = _cpu(lambda: [pickle.loads(pickle.dumps(r, -1)) for r in results])  # noqa: S301 - our own bytes
    return {
        "pickling, to the worker and back": sent + back,
        "extraction (extract)": took,
        "SimHash fingerprint": fp,
    }, results


def reactor_side(items: list[PageItem]) -> dict[str, float]:
    """The normalize and relevance stages."""

    def normalize() -> None:
        for item in items:
            assert item.article is not None
            item.fields = content_fields(item.article)
            item.content_hash = content_hash(item.fields)

    def relevance() -> None:
        for item in items:
            assert item.fields is not None
            assert item.article is not None
            result = score(item.fields["title"], item.fields["text"], ("质量月",), item.fields.get("publish_time"))
            item.is_relevant = result.is_relevant
            item.fields.update(
                relevance=result.score,
                year=result.year,
                likely_mirror=bool(
                    mirror_reasons(item.url, item.fields["title"], item.fields["text"], item.article.flags)
                ),
            )

    norm, _ = _cpu(normalize)
    rel, _ = _cpu(relevance)
    return {"content fields and hash (normalize)": norm, "relevance and mirror signs": rel}


def store_side(items: list[PageItem], tmp: Path, rep: int) -> dict[str, float]:
    """The store stage, twice on fresh files: with the search index, and with it switched off.

    The index's cost is the difference between the two runs, not the time spent inside its own
    calls: FTS5 keeps each insert's terms in memory and writes them out (and merges segments) at
    the next savepoint or commit, so most of its work lands in the store's later statements. Of
    that difference, the Python that builds each version's bigram document (`grams.document`) is
    timed directly; the rest is SQLite's FTS5 work. The two runs alternate which goes first.
    """
    spent = [0.0]
    document = grams.document

    def timed_document(body: str) -> str:
        start = time.process_time()
        try:
            return document(body)
        finally:
            spent[0] += time.process_time() - start

    def no_index(db: Any, rows: Any) -> int:
        return len(list(rows))

    def store(path: Path, indexed: bool) -> float:
        index_versions = grams.index_versions
        if not indexed:
            grams.index_versions = no_index
        grams.document = timed_document
        try:
            return _store_once(items, path)
        finally:
            grams.index_versions, grams.document = index_versions, document

    order = (True, False) if rep % 2 == 0 else (False, True)
    took = {indexed: store(tmp / f"stages-{rep}-{indexed}.db", indexed) for indexed in order}
    fts5 = took[True] - took[False] - spent[0]
    return {
        "store (SQLite), without the search index": took[False],
        "store: search index, building the bigram documents": spent[0],
        "store: search index, SQLite FTS5 (the rest of the difference)": fts5,
    }


def _store_once(items: list[PageItem], db_path: Path) -> float:
    """CPU seconds of storing `items` as the writer thread does (pipelines/store.py): a savepoint
    each, a commit every BATCH, the index rows inserted INDEX_LAG at a time and at the end."""
    db = open_db(db_path)
    store = Store(db, defer_removals=True, batch_index=True)
    run_id = store.begin_run("site", "bench")

    def write() -> None:
        for n, item in enumerate(items, 1):
            db.begin()
            with store.atomic():
                store.record(to_record(item), run_id)
            if n % BATCH == 0:
                store.commit()
        db.begin()
        store.commit(index_all=True)  # the crawl's end: the versions still waiting for the index

    try:
        total, _ = _cpu(write)
    finally:
        db.conn.close()
    return total


def one_run(count: int, tmp: Path, rep: int) -> dict[str, float]:
    """CPU seconds of every stage over `count` pages."""
    urls = [BASE + sitegen.article_path(i) for i in range(count)]
    bodies = [sitegen.article_html(i).encode("utf-8") for i in range(count)]
    times, htmls = spider_side(bodies, urls)
    worker, results = worker_side(htmls, urls)
    times |= worker
    items = []
    for url, body, html, (article, fp) in zip(urls, bodies, htmls, results, strict=True):
        item = PageItem(url=url, site="bench", status=200, final_url=url, fetched_at="2024-09-01T00:00:00Z")
        item.body, item.html, item.kind, item.article, item.fingerprint = body, html, CONTENT, article, fp
        item.encoding = "utf-8"
        items.append(item)
    times |= reactor_side(items)
    times |= store_side(items, tmp, rep)
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the stages `--repeat` times and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="article pages (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are shown (default 3)")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="qmc-bench-stages-") as tmp:
        runs = [one_run(args.pages, Path(tmp), rep) for rep in range(args.repeat)]
    medians = {name: statistics.median(r[name] for r in runs) * 1000 / args.pages for name in runs[0]}
    total = sum(ms for name, ms in medians.items() if NOT_IN_TOTAL not in name)
    print(f"| stage ({args.pages} new pages, medians of {args.repeat}) | CPU ms per page | share |")
    print("|---|---|---|")
    for name, ms in medians.items():
        print(f"| {name} | {ms:.2f} | {ms / total:.0%} |")
    print(f"| **total, without Scrapy** | {total:.2f} | 100% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
