"""The extraction workers of a crawl: fresh interpreters, started when the first new page needs one.

A worker used to be forked from the crawl process when the spider opened. A forked worker
shares the crawl's pages only until the crawl writes to them, and the crawl writes to nearly
all of them (reference counts, the garbage collector's passes over every object): every page
it had at the fork became the worker's own copy, about 45 MB of Scrapy, Twisted and SQLite
state the worker never uses. A spawned worker is a new interpreter that imports only the
extractor (about 30 MB, 0.3 s of CPU), and the pool starts one only when a page needs
extracting, so a crawl that finds nothing new (every page answered 304, or its raw bytes
unchanged) starts none and pays neither.

Under `python -m scrapy` the parent's `__main__` is `scrapy.__main__`, which multiprocessing does
not re-import in a spawned child, so a worker never imports Scrapy: it imports this module,
the extraction and the two monitor modules below, nothing else of the crawl.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, NamedTuple

from qmcrawler.extraction.article import Article
from qmcrawler.monitor.content import ContentForms, content_forms
from qmcrawler.monitor.copies import fingerprint_text, simhash

#: how often a worker checks that the crawl process is still alive
PARENT_POLL_SECONDS = 1.0


class Extracted(NamedTuple):
    """What a worker sends back for one page."""

    article: Article
    #: SimHash of the content fields' title and text (None: too short)
    fingerprint: int | None
    #: the content fields, their hash and the stored text (the normalize stage and the store use them)
    content: ContentForms


def extract_and_fingerprint(html: str, url: str, more: tuple[str, ...] = ()) -> Extracted:
    """Extract, and compute the content fields, hash and SimHash the store will need (in the worker).

    `more` holds the HTML of a multi-page article's continuation pages: their bodies are joined to
    page 1's into one article (`Article.joined`). The fingerprint (pure Python) runs here, beside
    extraction, not on the store's writer thread, where it would hold the GIL against the reactor;
    the content fields it is computed from go back with the article, so the reactor does not
    compute them a second time (their strings are mostly the article's own: pickled once).
    """
    from qmcrawler.extraction import extract  # here: the crawl's main process never extracts

    article = extract(html, url).joined(tuple(extract(page, url) for page in more))
    content = content_forms(article)
    fields = content.fields
    return one_copy(Extracted(article, simhash(fingerprint_text(fields["title"], fields["text"])), content))


def one_copy(result: Extracted) -> Extracted:
    """`result` with equal strings made one object, so pickle sends each text once.

    A page's text is usually its original and its comparison form too, and the content fields
    and stored text hold it again: four equal strings of the body, each pickled on its own
    (78 KB back per page on the generated site instead of 27, and the crawl process decodes
    every byte of it). Pickle writes an object it has already written as a reference.
    """
    seen: dict[str, str] = {}

    def one(value: Any) -> Any:
        return seen.setdefault(value, value) if isinstance(value, str) and len(value) > SHARE_MIN_CHARS else value

    article = result.article
    shared = {f.name: one(getattr(article, f.name)) for f in dataclasses.fields(article)}
    article = dataclasses.replace(article, **{k: v for k, v in shared.items() if v is not getattr(article, k)})
    for forms in (result.content.fields, result.content.stored):
        for key, value in forms.items():
            forms[key] = one(value)
    return result._replace(article=article)


#: strings at least this long are shared by `one_copy` (short ones cost more to look up than to send)
SHARE_MIN_CHARS = 64


def worker_init(parent: int) -> None:
    """Workers leave Ctrl-C to the crawl process `parent`, and exit when it dies (SIGKILL, a crash),
    also when it died while this worker was still starting."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """The pool's queues hold both ends of their pipes in the worker, so it never sees EOF: poll instead."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


class ExtractionPool:
    """Up to `workers` spawned extraction processes, the first started by the first `submit`."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """True once a page was submitted (the executor, its queues and a worker exist)."""
        return self.executor is not None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `fn(*args)` in a worker (a module-level function: it is pickled by name)."""
        if self.executor is None:
            context = multiprocessing.get_context("spawn")
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
            )
        return self.executor.submit(fn, *args)

    def shutdown(self) -> None:
        """Cancel what has not started, wait for the rest, and reap the workers."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
