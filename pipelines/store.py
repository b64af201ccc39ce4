"""Stage 5: one transaction per download: fetch log, page, version if changed, change + diff.

With `QMC_BATCH_SIZE` > 1 (the default) the writes run on one writer thread (sqlite3 and zstd
release the GIL, so the reactor keeps fetching) and downloads are grouped into transactions of
up to `QMC_BATCH_SIZE` downloads or `QMC_BATCH_SECONDS` seconds. Each download is still written
in its own savepoint (all or nothing), so a crash loses at most the open batch, never half of a
download; the run row is committed at once when the crawl starts and when it ends.

When a write fails (the disk is full, the database became unwritable, another writer held the
lock past the busy timeout) the open batch is rolled back, the crawl is stopped and its run is
closed as `failed` with the reason; the crawl command prints that one line and exits 1. Other
crawls may write the same database at once: every transaction starts with BEGIN IMMEDIATE.

Removals are confirmed when the crawl ends (qmcrawler.storage.outage), site by site, so a site
that answers 404 for most of its known pages in one run is a site outage, not mass deletion.

With `QMC_RUN_PER_SITE` (what `schedule.py` sets when it crawls several sites in one process)
every site gets its own `runs` row: its downloads and changes point to it, and it ends with its
own status, stats and summary line (qmcrawler.storage.siteruns).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter, defaultdict
from typing import Any, cast

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from qmcrawler.crawl.perf import Batch, PerfOptions
from qmcrawler.extraction import EXTRACTOR_VERSION
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import FAILED
from qmcrawler.monitor.content import stored_text
from qmcrawler.monitor.revisit import Policy
from qmcrawler.options import Options, setting_bool
from qmcrawler.run.locks import LockBusy
from qmcrawler.storage import db_errors, lastrun, memo, open_db, outage, sitelocks, siteruns
from qmcrawler.storage.dialects import safe_url
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.runs import STOPPED_STAT, STORE_ERROR_STAT
from qmcrawler.storage.writer import Store

log = logging.getLogger(__name__)
#: the crawl's one summary line is logged as "qmcrawler" (the name people see in the log)
summary_log = logging.getLogger("qmcrawler")


def write_errors() -> tuple[type[Exception], ...]:
    """What stops a crawl's writes: the database failing, or a site's lock lost to another crawl."""
    return (*db_errors(), LockBusy)


#: outcomes after which the page's validators describe content we hold
STORED_OUTCOMES = ("new", "changed", "unchanged", "noise_only")


class StorePipeline:
    """Write items to the database named by QMC_DB (empty QMC_DB: dry run, stage disabled)."""

    def __init__(self, crawler: Crawler, options: Options, perf: PerfOptions | None = None) -> None:
        self.crawler = crawler
        self.options = options
        self.perf = perf or PerfOptions()
        self.store: Store | None = None
        self.run_id: int | None = None
        self.batch = Batch(self.perf.batch_size, self.perf.batch_seconds)
        self.writer: ThreadPool | None = None
        self.flusher: LoopingCall | None = None
        self.failed: str | None = None
        self.started = time.monotonic()
        self.per_site = setting_bool(crawler.settings, "QMC_RUN_PER_SITE", False)
        self.run_ids: dict[str, int] = {}  # site id -> its run (all the same one unless per_site)
        self.outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        options = Options.from_settings(crawler.settings)
        if not options.db:
            raise NotConfigured("QMC_DB is empty: dry run, nothing is stored")
        pipeline = cls(crawler, options, PerfOptions.from_settings(crawler.settings))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        site_list = getattr(spider, "site_list", [])
        revisit = {s.id: Policy(s.revisit_min, s.revisit_max) for s in site_list}
        self.store = Store(open_db(self.options.db), revisit, defer_removals=True, batch_index=True)
        self.started = time.monotonic()
        self.sites = [s.id for s in site_list]
        try:
            for run in self.store.close_dead_runs(self.sites, sitelocks.held_sites(self.options.db)):
                log.warning("run %s (pid %s) was left running by a process that is gone: marked killed", *run)
            name = spider.name if spider else "site"
            if self.per_site and self.sites:
                self.run_ids = {site: self.store.begin_run(name, site) for site in self.sites}
                self.run_id = self.run_ids[self.sites[0]]
            else:
                self.run_id = self.store.begin_run(name, ",".join(self.sites))
                self.run_ids = dict.fromkeys(self.sites, self.run_id)
        except db_errors() as e:
            self._failed(e)
            return
        from twisted.internet import reactor  # the installed one

        # A SIGTERM while the engine is still opening stops the reactor without spider_closed: the
        # run rows would stay `running` and the writer thread (not a daemon) would keep the
        # process from ever exiting. So the reactor's shutdown closes them too, unless spider_closed did.
        core: Any = reactor  # Twisted's interface stub drops `self`, so mypy reads its arguments one off
        core.addSystemEventTrigger("before", "shutdown", self._reactor_stopping)
        if self.perf.batched:
            self.writer = ThreadPool(minthreads=1, maxthreads=1, name="qmc-store")
            self.writer.start()
            self.flusher = LoopingCall(self._flush_due)
            self.flusher.start(self.perf.batch_seconds, now=False)

    def _reactor_stopping(self) -> None:
        if self.store is not None:
            log.warning("the crawl stopped before its spider closed: its runs are closed as shutdown")
            self.spider_closed(cast(Spider, self.crawler.spider), "shutdown")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None:
            return
        if self.run_id is None:  # the run row could not even be written (the failure is logged)
            self.store.db.close()
            self.store = None
            return
        self._stop_writer()
        self._commit(index_all=True)
        runs: dict[int, list[str]] = {}
        for site, run_id in self.run_ids.items():
            runs.setdefault(run_id, []).append(site)
        for run_id, sites in (runs or {self.run_id: []}).items():
            self._close_run(run_id, sites, reason)
        self.store.db.close()
        self.store = None

    def _close_run(self, run_id: int, sites: list[str], reason: str) -> None:
        """Settle the run's removals site by site, then close it with its status, stats and summary line."""
        assert self.store is not None  # noqa: S101 - set in open_spider
        if not self.failed:
            try:
                for site in outage.settle_removals(self.store, run_id, sites):
                    log.warning("%s", site.message)
                    if self.crawler.stats is not None:
                        self.crawler.stats.set_value(f"qmcrawler/outage/{site.site}", site.gone)
            except db_errors() as e:
                self._failed(e)
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        if self.per_site and len(self.sites) > 1:
            stats = siteruns.site_stats(stats, sites[0], self.sites, self.outcomes[sites[0]])
        status = "failed" if self.failed else "finished" if reason == "finished" else reason
        error = siteruns.site_failure(self.store.db, run_id, ",".join(sites)) if status == "finished" else None
        if error:
            status, stats[siteruns.SITE_ERROR_STAT] = "failed", error
        try:
            self.store.finish_run(run_id, status, stats)
        except db_errors() as e:
            log.error(
                "could not close run %s as %s (%s): the next crawl of its sites marks it killed", run_id, status, e
            )
        if status == "shutdown":
            self._note_stopped(run_id)
        # one line instead of Scrapy's stats dump (STATS_DUMP = False; the stats are in runs.stats)
        summary_log.log(
            logging.ERROR if error else logging.INFO,
            "run %s %s: %.1f s; %s%s%s",
            run_id,
            status,
            time.monotonic() - self.started,
            f"site {sites[0]}; " if self.per_site and len(sites) == 1 else "",
            lastrun.summary(self.store.db, run_id),
            f"; {error}" if error else "",
        )

    def _note_stopped(self, run_id: int) -> None:
        """Name the run in the crawl stat (not stored) from which `scrapy crawl` exits 1 (commands/crawl.py)."""
        if self.crawler.stats is not None:
            stopped = self.crawler.stats.get_value(STOPPED_STAT)
            self.crawler.stats.set_value(STOPPED_STAT, f"{stopped}, {run_id}" if stopped else f"run {run_id}")

    async def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if self.store is None or self.failed:
            return item
        if self.writer is None:
            outcome = self._write(item)
        else:
            from twisted.internet import reactor  # the installed one

            outcome = await maybe_deferred_to_future(deferToThreadPool(reactor, self.writer, self._write, item))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/store/{outcome}")
        self.outcomes[item.site][outcome] += 1
        return item

    def _write(self, item: PageItem | FetchFailure) -> str:
        """Record one download (on the writer thread when batched); on a database error stop the crawl."""
        if self.failed:
            return "not_stored"
        try:
            return self._write_one(item)
        except write_errors() as e:
            self._failed(e)
            return "not_stored"

    def _failed(self, error: Exception) -> None:
        """A write failed: roll the open batch back, remember why, and stop the crawl (any thread)."""
        if self.failed:
            return
        if self.store is not None and self.store.db.conn.in_transaction:
            with contextlib.suppress(*db_errors()):
                self.store.rollback()
        self.batch.committed()
        run = f"run {self.run_id} failed" if self.run_id is not None else "no run recorded"
        # one line, without a password: PostgreSQL's messages run over several lines
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        self.failed = f"{safe_url(self.options.db)}: {reason}: crawl stopped, {run}"
        log.error("store: %s", self.failed)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(STORE_ERROR_STAT, self.failed)
        from twisted.internet import reactor  # the installed one

        reactor.callFromThread(self._stop_crawl)

    def _stop_crawl(self) -> None:
        deferred_from_coro(self._close_engine())

    async def _close_engine(self) -> None:
        """Close the spider unless the engine closed it meanwhile: the check runs in the task's
        first step, with the call (a check before scheduling it raced an ending crawl's own close,
        and Scrapy raised 'Spider not opened' as an unhandled traceback)."""
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            await engine.close_spider_async(reason="store_failed")

    def _write_one(self, item: PageItem | FetchFailure) -> str:
        """Record one download (on the writer thread when batched); commit a full batch."""
        assert self.store is not None  # noqa: S101 - set in open_spider
        db = self.store.db
        if not db.conn.in_transaction:
            sitelocks.keep(self.options.db)  # PostgreSQL: the sites' locks survived any server restart
        if self.writer is not None and not db.conn.in_transaction:
            db.begin()  # SQLite: BEGIN IMMEDIATE, the write lock first (other crawls write too)
        with self.store.atomic():  # the fetch, its validators, files, index rows: all or nothing
            outcome = self.store.record(to_record(item), self.run_ids.get(item.site, self.run_id))
            if isinstance(item, PageItem):
                remember(self.store, item, outcome)
        if self.writer is not None and self.batch.added():
            self._commit()
        return outcome

    def _commit(self, index_all: bool = False) -> None:
        """Commit the open batch; `index_all` (the crawl's end): with every version still waiting
        for the search index (qmcrawler.storage.indexlag), in a transaction of its own if none is open."""
        store = self.store
        if store is not None and not self.failed:
            queued = index_all and store.pending is not None and store.pending.queues(store.db)
            try:
                if queued:
                    store.db.begin()  # a no-op inside the open batch
                if store.db.conn.in_transaction:
                    store.commit(index_all)  # with the batch's search index rows if due
            except db_errors() as e:
                self._failed(e)
        self.batch.committed()

    def _commit_if_due(self) -> None:
        if self.batch.due():
            self._commit()

    def _flush_due(self) -> None:
        """Every QMC_BATCH_SECONDS: commit the open batch if it is that old (on the writer thread)."""
        if self.writer is not None:
            self.writer.callInThread(self._commit_if_due)

    def _stop_writer(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        if self.flusher is not None and self.flusher.running:
            self.flusher.stop()
        self.flusher = None
        if self.writer is not None:
            self.writer.stop()
            self.writer = None


def remember(store: Store, item: PageItem, outcome: str) -> None:
    """Save what lets the next run fetch less: validators of stored content, attachment files."""
    for row in item.files:
        memo.save_file(store.db, row)
    if outcome in STORED_OUTCOMES:
        memo.save_validators(
            store.db,
            item.moved_to or item.url,
            item.headers.get("Etag") or item.headers.get("ETag"),
            item.headers.get("Last-Modified"),
        )


def to_record(item: PageItem | FetchFailure) -> FetchRecord:
    """Translate a pipeline item into the store's FetchRecord."""
    if isinstance(item, FetchFailure):
        return FetchRecord(
            url=item.url,
            site=item.site,
            kind=FAILED,
            fetched_at=item.fetched_at,
            http_status=item.http_status,
            reason=item.reason,
        )
    article = item.article
    version = None
    if item.fields is not None and article is not None:
        # the worker's stored text when the fields are the worker's (title and text: no stage changes them)
        content = item.content
        stored = content.stored if content is not None and content.fields is item.fields else None
        version = {
            **item.fields,
            **(stored if stored is not None else stored_text(article, item.fields)),
            "editor": article.editor,
            "doc_date": article.doc_date,
            "is_relevant": item.is_relevant,
            "flags": list(article.flags),
            "extractor_version": EXTRACTOR_VERSION,
        }
    return FetchRecord(
        url=item.url,
        site=item.site,
        kind=item.kind,
        fetched_at=item.fetched_at,
        http_status=item.status,
        reason=item.reason,
        final_url=item.final_url,
        moved_to=item.moved_to,
        raw=item.body if item.body else None,
        encoding=item.encoding,
        version=version,
        content_hash=item.content_hash,
        views=article.views if article else None,
        flags=tuple(dict.fromkeys([*item.flags, *(article.flags if article else ())])),
        declared_encoding=item.declared_encoding,
        fingerprint=item.fingerprint,
    )
