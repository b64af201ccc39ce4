"""The crawl scheduler behind `schedule.py`: one APScheduler job per site, notifications after each crawl.

    python schedule.py                 # daemon: crawl every site on its cron schedule (Asia/Shanghai)
    python schedule.py --once          # crawl every site now, notify, exit 1 if a crawl failed (cron)
    python schedule.py --list          # the jobs and their next run times

Each job (fixed id `crawl:ID`, `coalesce`, a misfire grace time) hands its site to a batcher
(qmcrawler.run.batcher): the sites due together are crawled in one subprocess,
`python -m scrapy crawl site -a sites=A,B,C` (qmcrawler.run.supervisor), up to `--sites-per-crawl`
sites each, with one run row, lock and log line per site.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor as Pool
from datetime import datetime, tzinfo
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from qmcrawler.config import Config, ConfigError, Site, load_config
from qmcrawler.crawl.settingcheck import check_settings
from qmcrawler.outputs.clock import LocalFormatter, local, zone
from qmcrawler.outputs.notify import NotifyError, register_targets, send_pending
from qmcrawler.outputs.targets import notify_urls
from qmcrawler.run.batcher import Batcher
from qmcrawler.run.locks import NOTIFY, LockBusy, SiteLock
from qmcrawler.run.supervisor import CrawlOptions, CrawlResult, Supervisor
from qmcrawler.storage import StoreError, db_path, open_db
from qmcrawler.storage.dialects import is_postgres_url
from qmcrawler.storage.lastrun import LastRun, last_runs

log = logging.getLogger(__name__)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TZ: tzinfo = ZoneInfo("Asia/Shanghai")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SchedulerError(Exception):
    """A bad schedule or option; one-line message."""


def cron_trigger(expr: str, jitter: int = 0, site: str = "?") -> CronTrigger:
    """A trigger from a standard 5-field crontab line (0 and 7 = Sunday), in Asia/Shanghai."""
    fields = expr.split()
    if len(fields) != 5:
        raise SchedulerError(f"site {site!r} key 'schedule': must be a 5-field cron expression, got {expr!r}")
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_dow(dow),
            timezone=TZ,
            jitter=jitter or None,
        )
    except ValueError as e:
        raise SchedulerError(f"site {site!r} key 'schedule': {expr!r}: {e}") from None


def _crontab_dow(field: str) -> str:
    """Crontab weekday numbers (0 = Sunday) as names, since APScheduler 3 counts 0 as Monday."""

    def name(number: str) -> str:
        return _DOW_NAMES[int(number)] if number.isdigit() and int(number) <= 7 else number

    out = []
    for part in field.split(","):
        rng, _, step = part.partition("/")
        lo, dash, hi = rng.partition("-")
        if dash and lo == "0" and hi.isdigit():
            span = "*" if int(hi) >= 6 else "sun" + (f",mon-{name(hi)}" if int(hi) >= 1 else "")
            out.append(span if not step else f"{span}/{step}")
        else:
            out.append(f"{name(lo)}-{name(hi)}" if dash else name(lo))
            out[-1] += f"/{step}" if step else ""
    return ",".join(out)


class CrawlScheduler:
    """APScheduler jobs over a Batcher and a Supervisor; `run_sites` is also what `--once` calls."""

    def __init__(
        self,
        config: Config,
        supervisor: Supervisor,
        jitter: int = 300,
        misfire_grace: int = 3600,
        workers: int = 2,
        trigger: Callable[[Site], BaseTrigger] | None = None,
        window: float = 60.0,
        per_crawl: int = 8,
    ) -> None:
        self.config = config
        self.supervisor = supervisor
        self.workers = max(1, workers)
        self.per_crawl = max(1, per_crawl)
        # the jitter delays each batch, not each site: jittered sites would not be due together
        self.trigger = trigger or (lambda site: cron_trigger(site.schedule, 0, site.id))
        self.batcher = Batcher(self.run_sites, window, self.per_crawl, self.workers, jitter)
        self.scheduler = BackgroundScheduler(
            timezone=TZ,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace},
        )
        for site in config.sites.values():
            self.scheduler.add_job(
                self.batcher.add,
                self.trigger(site),
                args=[site.id],
                id=f"crawl:{site.id}",
                name=f"crawl {site.id}",
                replace_existing=True,
            )

    def run_sites(self, sites: Sequence[str]) -> list[CrawlResult]:
        """Crawl these sites, `per_crawl` to a process, then send the notification digest.

        Never raises for a notify failure. One result per site, in order.
        """
        results = [r for chunk in self._chunks(sites) for r in self.supervisor.crawl_many(chunk)]
        if any(r.status != "skipped" for r in results):
            self.notify()
        return results

    def run_site(self, site: str) -> CrawlResult:
        """Crawl one site, then send the notification digest."""
        return self.run_sites([site])[0]

    def _chunks(self, sites: Sequence[str]) -> list[list[str]]:
        sites = list(dict.fromkeys(sites))
        return [sites[i : i + self.per_crawl] for i in range(0, len(sites), self.per_crawl)]

    def notify(self) -> None:
        """Send pending notifications; failures are logged and retried after the next crawl."""
        try:
            if not notify_urls(self.config.notify):
                return
            with SiteLock.for_site(self.supervisor.options.db, NOTIFY, wait=120):
                db = open_db(self.supervisor.options.db)
                try:
                    for result in send_pending(db, self.config.notify, tz=zone(self.config.timezone)):
                        log.log(logging.ERROR if result.error else logging.INFO, "notify: %s", result)
                finally:
                    db.close()
        except (NotifyError, LockBusy, StoreError, ConfigError) as e:
            log.error("notify: %s", e)

    def register_targets(self) -> None:
        """New notification targets start now, before the first crawl (so they get its changes)."""
        if notify_urls(self.config.notify):
            db = open_db(self.supervisor.options.db)
            try:
                register_targets(db, self.config.notify)
            finally:
                db.close()

    def next_runs(self, now: datetime | None = None) -> list[tuple[str, str, datetime | None]]:
        """(job id, schedule, next run time) per job, without jitter."""
        now = now or datetime.now(TZ)
        out = []
        for site in self.config.sites.values():
            trigger = self.trigger(site)
            if isinstance(trigger, CronTrigger):
                trigger = cron_trigger(site.schedule, 0, site.id)
            out.append((f"crawl:{site.id}", site.schedule, trigger.get_next_fire_time(None, now)))
        return out

    def run_forever(self, stop: threading.Event) -> None:
        """Run the jobs until `stop` is set; then stop the running crawls and wait for their rows."""
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("scheduled %s, next run %s", job.id, job.next_run_time)
        stop.wait()
        log.info("stopping: no new crawls, telling running crawls to stop")
        self.supervisor.request_stop()
        self.scheduler.shutdown(wait=True)
        self.batcher.close(wait=True)

    def run_once(self) -> list[CrawlResult]:
        """Crawl every site now, `per_crawl` to a process and `workers` processes at a time, then notify once."""
        with Pool(self.workers, thread_name_prefix="qmc-once") as pool:
            done = list(pool.map(self.supervisor.crawl_many, self._chunks(list(self.config.sites))))
        results = [r for chunk in done for r in chunk]
        if any(r.status != "skipped" for r in results):
            self.notify()
        return results


def main(argv: Sequence[str] | None = None) -> int:
    """`schedule.py` entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        config = load_config(args.config)
        tz = zone(args.tz or config.timezone)
        for handler in logging.getLogger().handlers:  # one zone per log line: the display zone
            handler.setFormatter(LocalFormatter(LOG_FORMAT, tz))
        if is_postgres_url(db_path(args.db)) and not args.list:  # the dispatcher: queue, never crawl
            from qmcrawler.distributed import dispatcher

            return dispatcher.main(args, config, lambda expr: cron_trigger(expr, 0, expr))
        options = CrawlOptions(
            config=config.path.resolve(),
            db=_db_target(args.db),
            timeout=args.timeout,
            stop_grace=args.stop_grace,
            settings=_settings(args.set),
        )
        check_settings(dict(options.settings))  # a bad --set: one line and exit 2, not a failed run per site
        sched = CrawlScheduler(
            config,
            Supervisor(options),
            args.jitter,
            args.misfire_grace,
            args.workers,
            window=args.batch_window,
            per_crawl=args.sites_per_crawl,
        )
        if args.list:
            last = _last_runs(options.db, config)
            for job_id, expr, when in sched.next_runs():
                next_run = local(when.isoformat(), tz) if when else "never"
                print(f"{job_id:<24} {expr:<16} next run {next_run}  last run {_describe(last.get(job_id[6:]), tz)}")
            return 0
        open_db(options.db).close()  # fail now, with one line, on an unusable database
        sched.register_targets()
    except (ConfigError, SchedulerError, StoreError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.warning("received %s", signal.Signals(signum).name)
        stop.set()
        sched.supervisor.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.once:
        results = sched.run_once()
        failed = [r for r in results if not r.ok]
        for r in results:
            print(f"{r.site}: {r.status}" + (f" ({r.message})" if r.message else ""))
        return 1 if failed else 0
    sched.run_forever(stop)
    return 0


def _db_target(arg: str | None) -> str:
    """The database the crawls use: an absolute path (they run in the project directory), or a URL as given."""
    target = db_path(arg)
    return target if is_postgres_url(target) else str(Path(target).resolve())


def _last_runs(path: str, config: Config) -> dict[str, LastRun]:
    """Each site's last run, or nothing when there is no database yet (`--list` creates none)."""
    try:
        db = open_db(path, create=False)
    except StoreError:
        return {}
    try:
        return last_runs(db, list(config.sites.values()))
    finally:
        db.close()


def _describe(run: LastRun | None, tz: tzinfo) -> str:
    if run is None:
        return "never"
    return (
        f"{local(run.started_at, tz)} {run.status}, {run.failed} failed fetch{'es' if run.failed != 1 else ''}, "
        f"{run.changes} change{'s' if run.changes != 1 else ''}"
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="schedule.py", description="Crawl the sites in sites.toml on schedule.")
    p.add_argument("--config", help="sites.toml (default: env QMC_SITES, else ./sites.toml)")
    p.add_argument("--db", help="SQLite file or postgresql://user@host:port/db (default: env QMC_DB, else ./qm.db)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="crawl every site now and exit (for cron)")
    mode.add_argument("--list", action="store_true", help="print the jobs and their next run times")
    p.add_argument("--timeout", type=_positive, default=3600.0, help="time limit per crawl, s (3600)")
    p.add_argument(
        "--stop-grace", type=_positive, default=30.0, help="seconds a crawl gets to stop before it is killed (30)"
    )
    p.add_argument("--jitter", type=int, default=300, help="random delay per job run, up to N s (300)")
    p.add_argument("--misfire-grace", type=int, default=3600, help="a run missed by up to N s still runs (3600)")
    p.add_argument("--workers", type=_whole, default=2, help="crawl processes at once (2)")
    p.add_argument(
        "--sites-per-crawl", type=_whole, default=8, help="sites crawled together in one crawl process, at most (8)"
    )
    p.add_argument(
        "--batch-window",
        type=_not_negative,
        default=60.0,
        help="a batch of due sites starts N s after its first site became due; later ones join it (60)",
    )
    p.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting for every crawl, e.g. -s DOWNLOAD_DELAY=5 (repeatable)",
    )
    p.add_argument("--every", type=_positive, help="PostgreSQL dispatcher: every site is due every N s (tests)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--tz", help="time zone of log and --list times (default: [defaults] timezone, Asia/Shanghai)")
    return p


def _settings(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"--set {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def _whole(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return number


def _not_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return number


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return number
