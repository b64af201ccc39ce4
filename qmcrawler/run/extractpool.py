"""The extraction workers of a crawl: fresh interpreters, started when the first new page needs one.

A worker used to be forked from the crawl process when the spider opened. A forked worker
shares the crawl's pages only until the crawl writes to them, and the crawl writes to nearly
all of them (reference counts, the garbage collector's passes over every object): every page
it had at the fork became the worker's own copy, about 45 MB of Scrapy, Twisted and SQLite
state the worker never uses. A spawned worker is a new interpreter that imports only the
extractor (about 30 MB, 0.3 s of CPU), and the pool starts one only when a page needs
extracting, so a crawl that finds nothing new (every page answered 304, or its raw bytes
unchanged) starts none and pays neither.

A worker is `python -c "...; serve()"` with a pipe on each side, not a stdlib
`ProcessPoolExecutor`: a spawn-context executor also starts multiprocessing's resource tracker
(one more interpreter, 6-7 MB of PSS, for semaphores this pool does not need), keeps a feeder
and a management thread in the crawl process, and wraps every call in its own work items and
queues. Here a worker reads one length-prefixed pickled call from stdin and writes one answer to
stdout; it imports this module, the extraction and the two monitor modules below, nothing of
Scrapy, Twisted or the store, and it exits at end of file on stdin, which is also what it reads
when the crawl process dies (SIGKILL, a crash): no thread polls for the parent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, NamedTuple

from qmcrawler.extraction.article import Article
from qmcrawler.monitor.content import ContentForms, content_forms
from qmcrawler.monitor.copies import fingerprint_text, simhash


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


class WorkerDied(RuntimeError):
    """An extraction worker exited with calls unanswered: the pool takes no more."""


class ExtractionPool:
    """Up to `workers` extraction processes, started by the first `submit`.

    Each worker has two threads in the crawl process: one sends it the queued calls, at most
    `AHEAD` unanswered (so it starts the next page the moment it answers one), the other reads
    its answers and completes their futures. The reactor thread only pickles a call and queues
    it: it never writes to a pipe, where a worker still importing or busy would hold it.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._threads: list[threading.Thread] = []
        self._queue: deque[tuple[Future[Any], bytes]] = deque()
        self._lock = threading.Condition()
        self._closing = False
        self._broken: str | None = None

    @property
    def started(self) -> bool:
        """True once a page was submitted (the workers and their threads exist) until `shutdown`."""
        return bool(self._threads)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `fn(*args)` in a worker (a module-level function: it is pickled by name)."""
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        future: Future[Any] = Future()
        with self._lock:
            if self._broken is not None:
                raise WorkerDied(self._broken)
            if not self._threads:
                self._closing = False
                for _ in range(self.workers):
                    self._start(_Worker(_spawn()))
            self._queue.append((future, payload))
            self._lock.notify()
        return future

    def shutdown(self) -> None:
        """Cancel what has not started, wait for the rest, and reap the workers."""
        with self._lock:
            self._closing = True
            for future, _ in self._queue:
                future.cancel()
            self._queue.clear()
            self._lock.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _start(self, worker: _Worker) -> None:
        for target in (self._send, self._receive):
            thread = threading.Thread(target=target, args=(worker,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _send(self, worker: _Worker) -> None:
        """A worker's sending thread: the queued calls, until shutdown or its death; then EOF."""
        stdin = worker.stdin
        try:
            while worker.slots.acquire() and (payload := self._next(worker)) is not None:
                stdin.write(_HEADER.pack(len(payload)) + payload)
                stdin.flush()
        except OSError:
            pass  # it died: its reading thread says so
        finally:
            with contextlib.suppress(OSError):
                stdin.close()  # the worker answers what it has and exits

    def _next(self, worker: _Worker) -> bytes | None:
        """The next call for `worker`, now counted as unanswered (None: shut down, or the pool broke)."""
        with self._lock:
            while True:
                while not self._queue and not self._closing and self._broken is None:
                    self._lock.wait()
                if not self._queue or self._broken is not None:
                    return None
                future, payload = self._queue.popleft()
                if future.set_running_or_notify_cancel():
                    worker.unanswered.append(future)
                    return payload

    def _receive(self, worker: _Worker) -> None:
        """A worker's reading thread: complete each answered call's future, in order."""
        stdout = worker.stdout
        while (answer := _read_frame(stdout)) is not None:
            try:
                ok, value = pickle.loads(answer)  # noqa: S301 - our own worker's answer, on a pipe only we hold
            except Exception as error:  # e.g. an exception class the crawl process cannot import
                ok, value = False, error
            with self._lock:
                future = worker.unanswered.popleft()
            worker.slots.release()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        code = worker.proc.wait()
        stdout.close()
        with self._lock:
            if self._closing and not worker.unanswered:
                return
            why = f"extraction worker {worker.proc.pid} exited with {code}"
            self._broken = why
            failed = list(worker.unanswered)
            worker.unanswered.clear()
            queued = [future for future, _ in self._queue]
            self._queue.clear()
            self._lock.notify_all()
        worker.slots.release()  # a sender waiting for a slot sees the pool broken
        for future in failed:
            future.set_exception(WorkerDied(why))
        for future in queued:
            if future.set_running_or_notify_cancel():
                future.set_exception(WorkerDied(why))


#: calls sent to a worker before its answer to the first of them (the next page waits in its pipe)
AHEAD = 2


class _Worker:
    """One worker process, its unanswered calls (oldest first) and the sending slots left."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.stdin is None or proc.stdout is None:
            raise ValueError("a worker needs pipes on stdin and stdout")
        self.proc = proc
        self.stdin, self.stdout = proc.stdin, proc.stdout
        self.unanswered: deque[Future[Any]] = deque()
        self.slots = threading.Semaphore(AHEAD)


def _spawn() -> subprocess.Popen[bytes]:
    """A fresh interpreter running `serve`, this checkout first on its import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [sys.executable, "-c", "from qmcrawler.run.extractpool import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """One length-prefixed frame, None at end of file."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def serve() -> None:
    """A worker's loop: read a pickled call from stdin, answer on stdout, until stdin closes.

    The crawl process holds the only write end of stdin, so the worker reads end of file when
    the crawl closes it or dies (SIGKILL, a crash) and exits then. Ctrl-C is the crawl's to
    handle. Anything the extractor prints goes to stderr: stdout carries only answers.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    calls = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while (frame := _read_frame(calls)) is not None:
        fn, args = pickle.loads(frame)  # noqa: S301 - the crawl process's call, on a pipe only it holds
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except Exception as error:
            reply = (False, error)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an unpicklable result or exception
            data = pickle.dumps((False, RuntimeError(f"{fn!r} returned what cannot be pickled: {error!r}")))
        try:
            answers.write(_HEADER.pack(len(data)) + data)
            answers.flush()
        except BrokenPipeError:
            return


_HEADER = struct.Struct("<I")
_ROOT = Path(__file__).resolve().parents[2]
