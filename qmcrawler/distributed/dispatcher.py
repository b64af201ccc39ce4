"""`schedule.py --db postgresql://…`: the dispatcher, which queues the due sites instead of crawling them.

Sites with the same cron schedule are due together: at each of the schedule's fire times (a
"tick", Asia/Shanghai) the dispatcher queues their crawl, `--sites-per-crawl` sites to a job,
the same batches every time (config order). Each job is queued with its tick
(qmcrawler.distributed.tasks.enqueue): a second dispatcher, or one restarted within the tick,
queues nothing more for that tick, and a batch still waiting from an earlier tick is not queued
twice (its `queueing_lock`). A restarted dispatcher starts with the next tick.

The dispatcher also sends the notification digest (sites.toml `[notify]`) every
`NOTIFY_EVERY` seconds, under a lock in the database, so a second dispatcher sends nothing twice.

`--every N` makes every site due every N seconds (ticks at whole multiples of N since the
epoch) instead of on its schedule: for tests and benchmarks. `--once` queues every site now and
exits. Workers (`python -m qmcrawler worker`) do the crawling.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from procrastinate import App, exceptions

from qmcrawler.config import Config, ConfigError
from qmcrawler.distributed.app import QueueError, ensure_schema, make_app
from qmcrawler.distributed.sitelock import SiteLocks
from qmcrawler.distributed.tasks import batches, enqueue, job_key
from qmcrawler.outputs.clock import zone
from qmcrawler.outputs.notify import NotifyError, register_targets, send_pending
from qmcrawler.outputs.targets import notify_urls
from qmcrawler.storage import DB_ERRORS, StoreError, db_path, open_db

log = logging.getLogger(__name__)

#: seconds between two tries to queue a tick's jobs while the database is unreachable
RETRY_PAUSE = 5.0
#: seconds between two sendings of the notification digest (the changes the workers' crawls found)
NOTIFY_EVERY = 60.0
#: the lock name (qmcrawler.distributed.sitelock) of the digest sender
NOTIFY_LOCK = "_notify"
#: a schedule's trigger (qmcrawler.run.scheduler.cron_trigger: passed in, since the scheduler imports this module)
Trigger = Callable[[str], BaseTrigger]


class Dispatcher:
    """Ticks of each schedule (or every `every` seconds), each queuing its sites' jobs once."""

    def __init__(
        self,
        app: App,
        config: Config,
        trigger: Trigger,
        per_job: int = 8,
        every: float | None = None,
    ) -> None:
        self.app = app
        self.trigger = trigger
        self.per_job = max(1, per_job)
        self.every = every
        self.groups: dict[str, list[str]] = {}
        for site in config.sites.values():
            self.groups.setdefault("*" if every else site.schedule, []).append(site.id)

    def next_tick(self, schedule: str, after: float) -> float:
        """The first fire time of `schedule` strictly after `after` (epoch seconds)."""
        if self.every:
            return (math.floor(after / self.every) + 1) * self.every
        trigger = self.trigger(schedule)
        when = trigger.get_next_fire_time(None, datetime.fromtimestamp(math.floor(after) + 1, trigger.timezone))
        return float(when.timestamp()) if when else math.inf

    async def dispatch(self, sites: Sequence[str], tick: int | None) -> list[str]:
        """Queue the jobs of these sites for this tick (None: now, no tick); the keys of the jobs queued."""
        queued = []
        for batch in batches(sites, self.per_job):
            job_id = await enqueue(self.app, batch, tick)
            if job_id is None:
                log.info("%s: already queued%s", job_key(batch), "" if tick is None else f" (tick {tick})")
            else:
                log.info("%s: queued as job %s%s", job_key(batch), job_id, "" if tick is None else f" (tick {tick})")
                queued.append(job_key(batch))
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        """Queue each tick's jobs as it comes, until `stop` is set."""
        now = time.time()
        due = {schedule: self.next_tick(schedule, now) for schedule in self.groups}
        for schedule, when in due.items():
            log.info("schedule %s (%d sites): next tick %s", schedule, len(self.groups[schedule]), _shown(when))
        while not stop.is_set() and due:
            schedule = min(due, key=due.__getitem__)
            when = due[schedule]
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, when - time.time()))
                break
            except TimeoutError:
                pass
            while not stop.is_set():
                try:
                    await self.dispatch(self.groups[schedule], int(when))
                    break
                except exceptions.ConnectorException as e:
                    cause = e.__cause__ or e
                    log.error("tick %s of %s: cannot queue (%s); retrying", int(when), schedule, cause)
                    if self.next_tick(schedule, when) <= time.time():
                        break  # the next tick is due: this one is skipped
                    await asyncio.sleep(RETRY_PAUSE)
            due[schedule] = self.next_tick(schedule, max(when, time.time()))


def notify(config: Config, url: str) -> None:
    """Send the pending notifications unless another dispatcher is sending them; failures are logged."""
    if not notify_urls(config.notify):
        return
    try:
        with SiteLocks(url) as locks:
            if not locks.acquire([NOTIFY_LOCK]):
                return
            db = open_db(url)
            try:
                for result in send_pending(db, config.notify, tz=zone(config.timezone)):
                    log.log(logging.ERROR if result.error else logging.INFO, "notify: %s", result)
            finally:
                db.close()
    except (NotifyError, StoreError, ConfigError) as e:
        log.error("notify: %s", e)
    except DB_ERRORS as e:
        log.error("notify: %s", e)


async def notify_forever(config: Config, url: str, stop: asyncio.Event, every: float = NOTIFY_EVERY) -> None:
    """`notify` every `every` seconds until `stop` is set, and once more then."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        await loop.run_in_executor(None, notify, config, url)


def main(args: argparse.Namespace, config: Config, trigger: Trigger) -> int:
    """The dispatcher behind `schedule.py` for a PostgreSQL `--db`: the exit status."""
    url = db_path(args.db)
    try:
        ensure_schema(url)
        if notify_urls(config.notify):  # new targets start now, before the first crawl (as schedule.py does)
            db = open_db(url)
            try:
                register_targets(db, config.notify)
            finally:
                db.close()
    except (QueueError, StoreError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return asyncio.run(_main(url, args, config, trigger))


async def _main(url: str, args: argparse.Namespace, config: Config, trigger: Trigger) -> int:
    app = make_app(url, max_size=2)
    async with app.open_async():
        dispatcher = Dispatcher(app, config, trigger, args.sites_per_crawl, getattr(args, "every", None))
        if args.once:
            for key in await dispatcher.dispatch(list(config.sites), None):
                print(f"{key}: queued")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stop, stop, signum)
        sender = asyncio.create_task(notify_forever(config, url, stop, getattr(args, "every", None) or NOTIFY_EVERY))
        await dispatcher.run(stop)
        await sender
    return 0


def _stop(stop: asyncio.Event, signum: int) -> None:
    log.warning("received %s: stopping (queued jobs stay queued)", signal.Signals(signum).name)
    stop.set()


def _shown(when: float) -> str:
    return "never" if math.isinf(when) else datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")
