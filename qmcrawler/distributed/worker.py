"""`python -m qmcrawler worker`: take crawl jobs from the queue and run them, N at a time.

A Procrastinate worker with what a crawler fleet needs on top:

- **stalled jobs**: a worker sends a heartbeat every `stalled_after / 4` seconds; a job whose
  worker has been silent for `stalled_after` (killed with `kill -9`, machine gone) is put back in
  the queue by any other worker. A worker checks only after its own connection has been up for
  `stalled_after`, so after a database restart the others have had time to send theirs.
- **a database restart**: heartbeats, the job fetch, the LISTEN connection and the recording
  of a job's outcome retry until the server answers again instead of stopping the worker;
  running crawls carry on (the store reconnects between transactions).
- **signals**: SIGTERM or SIGINT stop taking jobs and stop the running crawls (Scrapy closes
  the spider, the run ends `stopped`, the job goes back to the queue for another worker); with
  `drain` the running crawls finish first. A second signal stops the crawls in any case.

The crawls are `scrapy crawl` subprocesses started through qmcrawler.distributed.tied, so a
worker killed with `kill -9` does not leave its crawl running.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import App, exceptions, jobs
from procrastinate.worker import Worker

from qmcrawler.distributed.app import ensure_schema, make_app
from qmcrawler.distributed.tasks import QUEUE, WorkerState
from qmcrawler.run.runner import crawl_command
from qmcrawler.run.supervisor import CrawlOptions, Supervisor

log = logging.getLogger(__name__)

#: seconds between two tries of a database call that found the server gone
RETRY_PAUSE = 1.0
#: how long a finished job's outcome is retried before it is left to the stalled-job recovery
PERSIST_PATIENCE = 600.0


@dataclass(frozen=True)
class WorkerConfig:
    """A worker's options (the `worker` command's): its crawls' (`crawl.db` is the PostgreSQL URL) and its own."""

    crawl: CrawlOptions
    concurrency: int = 1
    stalled_after: float = 60.0
    poll: float = 5.0
    drain: bool = False


def connection_lost(error: BaseException) -> bool:
    """True if a Procrastinate error comes from a lost or refused connection (worth retrying)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, psycopg.OperationalError | OSError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class CrawlWorker(Worker):
    """A Procrastinate worker that rides out database restarts and retries the jobs of dead workers."""

    def __init__(self, app: App, stalled_after: float, **options: Any) -> None:
        super().__init__(
            app,
            update_heartbeat_interval=max(0.5, stalled_after / 4),
            stalled_worker_timeout=stalled_after,
            **options,
        )
        self.connected_since = time.monotonic()
        self.down = False

    def _up(self) -> None:
        if self.down:
            log.warning("database reachable again")
            self.down = False
            self.connected_since = time.monotonic()

    def _lost(self, error: BaseException, doing: str) -> None:
        if not connection_lost(error):
            raise error
        if not self.down:
            log.warning("database unreachable (%s): %s; retrying", doing, _first_line(error))
        self.down = True
        self.connected_since = time.monotonic()

    async def _update_heartbeat(self) -> None:
        while True:
            await asyncio.sleep(RETRY_PAUSE if self.down else self.update_heartbeat_interval)
            try:
                assert self.worker_id is not None  # noqa: S101 - registered before the side tasks start
                await self.app.job_manager.update_heartbeat(self.worker_id)
                self._up()
            except exceptions.ConnectorException as e:
                self._lost(e, "heartbeat")

    async def _fetch_and_process_jobs(self) -> None:
        try:
            await super()._fetch_and_process_jobs()  # type: ignore[no-untyped-call]
            self._up()
        except exceptions.ConnectorException as e:
            self._lost(e, "fetching a job")
            await asyncio.sleep(RETRY_PAUSE)

    async def _persist_job_status(self, *args: Any, **kwargs: Any) -> None:
        deadline = time.monotonic() + PERSIST_PATIENCE
        while True:
            try:
                await super()._persist_job_status(*args, **kwargs)
                self._up()
                return
            except exceptions.ConnectorException as e:
                self._lost(e, "recording a job's outcome")
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(RETRY_PAUSE)

    def _start_side_tasks(self) -> list[asyncio.Task[Any]]:
        return [
            asyncio.create_task(self._update_heartbeat(), name="update_heartbeats"),
            asyncio.create_task(self._poll_jobs_to_abort(), name="poll_jobs_to_abort"),  # type: ignore[no-untyped-call]
            asyncio.create_task(self._listen(), name="listener"),
            asyncio.create_task(self._recover_stalled(), name="stalled_jobs"),
        ]

    async def _listen(self) -> None:
        """LISTEN for new jobs; reconnect when the server goes away (polling covers the gap)."""
        while True:
            try:
                await self.app.job_manager.listen_for_jobs(
                    on_notification=self._handle_notification,
                    queues=self.queues,
                )
            except exceptions.ConnectorException as e:
                self._lost(e, "listening for jobs")
            await asyncio.sleep(RETRY_PAUSE)

    async def _recover_stalled(self) -> None:
        """Put back in the queue the running jobs of workers that stopped sending heartbeats."""
        timeout = self.stalled_worker_timeout
        while True:
            await asyncio.sleep(max(1.0, timeout / 4))
            if self.down or time.monotonic() - self.connected_since < timeout:
                continue
            try:
                stalled = await self.app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=timeout)
            except exceptions.ConnectorException as e:
                self._lost(e, "looking for stalled jobs")
                continue
            for job in stalled:
                if job.worker_id == self.worker_id:
                    continue
                log.warning("job %s (%s): worker %s is gone; back in the queue", job.id, job.call_string, job.worker_id)
                try:
                    await self.app.job_manager.retry_job(job)
                except exceptions.ConnectorException as e:  # another worker was first, or the server went away
                    if connection_lost(e):
                        self._lost(e, "retrying a stalled job")
                        break


def tied_command(config: WorkerConfig) -> Any:
    """The Supervisor's command: the crawl of some sites, killed if this worker dies."""
    settings = {"QMC_RUN_PER_SITE": "true", **config.crawl.settings}

    def command(sites: str) -> list[str]:
        argv = crawl_command(config.crawl.config, config.crawl.db, sites, settings)
        return [sys.executable, "-m", "qmcrawler.distributed.tied", str(os.getpid()), *argv]

    return command


async def serve(config: WorkerConfig) -> int:
    """Run a worker until it is told to stop; the exit status."""
    url = config.crawl.db
    ensure_schema(url)
    supervisor = Supervisor(config.crawl, command=tied_command(config))
    pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="qmc-job")
    state = WorkerState(url, supervisor, pool)
    app = make_app(url, max_size=config.concurrency + 4)
    name = f"{socket.gethostname()}:{os.getpid()}"
    async with app.open_async():
        worker = CrawlWorker(
            app,
            config.stalled_after,
            queues=[QUEUE],
            name=name,
            concurrency=config.concurrency,
            install_signal_handlers=False,
            additional_context={"qmc": state},
            fetch_job_polling_interval=config.poll,
            delete_jobs=jobs.DeleteJobCondition.NEVER,
        )
        signals = {"count": 0}

        def on_signal(signum: int) -> None:
            signals["count"] += 1
            log.warning("received %s: %s", signal.Signals(signum).name, _stopping(config.drain, signals["count"]))
            if not config.drain or signals["count"] > 1:
                supervisor.request_stop()
            worker.stop()  # type: ignore[no-untyped-call]

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        log.info("worker %s: up to %d crawls at a time", name, config.concurrency)
        try:
            await worker.run()  # type: ignore[no-untyped-call]
        finally:
            pool.shutdown(wait=True)
    return 0


def _stopping(drain: bool, count: int) -> str:
    if drain and count == 1:
        return "taking no new job, letting the running crawls finish"
    return "taking no new job, stopping the running crawls (their jobs go back to the queue)"


def _first_line(error: BaseException) -> str:
    cause = error.__cause__ or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
