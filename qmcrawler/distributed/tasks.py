"""The crawl job: one crawl subprocess of one site (or a batch), and how jobs are keyed and locked.

A job's key is its comma-separated site ids. It is both the job's Procrastinate `queueing_lock`
(a site, or a batch, is never waiting in the queue twice: enqueuing it again is a no-op) and its
`lock` (a worker does not start it while another job with that key runs). While the crawl runs
the worker also holds each site's lock in the database (qmcrawler.distributed.sitelock): a site
locked by another worker is skipped, whatever job it came in.

Under that lock a `running` run row of the site cannot belong to a live crawl: it was left by
a worker that was killed (on this machine or another; its pid means nothing here), so it is
closed as `killed` before the crawl starts. Pages the killed crawl committed are not due again
and are not fetched twice; the rest of the site is crawled by the retry.

When the worker is told to stop (SIGTERM) the crawl is stopped (Scrapy closes the spider and
the run ends `stopped`) and the job raises `Released`: it goes back to the queue at once,
for this or another worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from procrastinate import App, Blueprint, JobContext, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued

from qmcrawler.distributed.sitelock import SiteLocks
from qmcrawler.run.supervisor import CrawlResult, Supervisor
from qmcrawler.storage import open_db
from qmcrawler.storage.writer import Store

log = logging.getLogger(__name__)

#: the queue every crawl job goes to
QUEUE = "crawl"
#: the crawl task's name in the queue (namespace "qmc" in qmcrawler.distributed.app)
TASK = "qmc:crawl"
blueprint = Blueprint()


class Released(Exception):
    """The worker stopped the crawl because it is stopping: the job goes back to the queue."""


@dataclass
class WorkerState:
    """What the crawl task needs from its worker (Procrastinate's `additional_context["qmc"]`)."""

    url: str
    supervisor: Supervisor
    pool: ThreadPoolExecutor


def job_key(sites: Sequence[str]) -> str:
    """The queueing lock and lock of the job crawling these sites."""
    return ",".join(sites)


@blueprint.task(name="crawl", pass_context=True, queue=QUEUE, retry=RetryStrategy(retry_exceptions=[Released]))
async def crawl(context: JobContext, sites: list[str], timestamp: int | None = None) -> dict[str, str]:
    """Crawl these sites in one subprocess; return each site's run status (`timestamp`: the tick, if any)."""
    state: WorkerState = context.additional_context["qmc"]
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(state.pool, crawl_sites, state, list(sites))


def crawl_sites(state: WorkerState, sites: list[str]) -> dict[str, str]:
    """Lock the sites in the database, close their dead runs, crawl them; their statuses."""
    statuses: dict[str, str] = {}
    results: list[CrawlResult] = []
    with SiteLocks(state.url) as locks:
        mine = locks.acquire(sites)
        for site in sites:
            if site not in mine:
                log.warning("skipping %s: another worker is crawling it", site)
                statuses[site] = "skipped"
        if mine:
            close_dead_runs(state.url, mine)
            results = state.supervisor.crawl_many(mine)
        if results and not locks.alive():
            log.warning("the database connection holding the site locks was lost during the crawl")
    statuses.update({r.site: r.status for r in results})
    if state.supervisor.stopping.is_set() and any(r.status == "stopped" for r in results):
        raise Released(f"worker stopping: {job_key(sites)} goes back to the queue")
    return {site: statuses[site] for site in sites}


def close_dead_runs(url: str, sites: list[str]) -> None:
    """Close as `killed` the `running` rows of sites this worker holds the lock of."""
    db = open_db(url)
    try:
        for run in Store(db).close_dead_runs(sites, locked=sites):
            log.warning("run %s (pid %s) was left running by a worker that is gone: marked killed", *run)
    finally:
        db.close()


async def enqueue(app: App, sites: Sequence[str], tick: int | None = None) -> int | None:
    """Queue one crawl of these sites; its job id, or None when it is already queued or was this tick.

    With `tick` (the schedule's fire time, epoch seconds) the job is queued at most once per
    (sites, tick) however many dispatchers ask: Procrastinate records the pair in the same
    statement that inserts the job (`procrastinate_periodic_defers`, a unique key).
    """
    key = job_key(sites)
    kwargs: dict[str, object] = {"sites": list(sites)}
    if tick is not None:
        kwargs["timestamp"] = tick
    deferrer = app.configure_task(TASK, lock=key, queueing_lock=key, task_kwargs=kwargs)
    try:
        if tick is None:
            return await deferrer.defer_async()
        return await app.job_manager.defer_periodic_job(deferrer.job, periodic_id=key, defer_timestamp=tick)
    except AlreadyEnqueued:
        return None


def batches(sites: Sequence[str], per_job: int) -> list[list[str]]:
    """Sites in jobs of at most `per_job`, in the order given (duplicates dropped)."""
    unique = list(dict.fromkeys(sites))
    per_job = max(1, per_job)
    return [unique[i : i + per_job] for i in range(0, len(unique), per_job)]
