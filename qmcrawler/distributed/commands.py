"""The `worker` and `enqueue` commands (registered in qmcrawler.cli.main).

Procrastinate and psycopg are imported when one of these commands runs, not when the
`qmcrawler` command line starts (every other command would pay for them).

python -m qmcrawler worker --db postgresql://crawler@db/qm [--concurrency 4]
python -m qmcrawler enqueue samr cnca --db postgresql://crawler@db/qm
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from qmcrawler.cli.common import CONFIG_OPTION, BadInput, one_line_errors
from qmcrawler.config import load_config
from qmcrawler.outputs.clock import LocalFormatter, zone
from qmcrawler.run.scheduler import LOG_FORMAT, _settings
from qmcrawler.run.supervisor import CrawlOptions

QUEUE_DB_OPTION = click.option(
    "--db",
    "db_path",
    envvar="QMC_DB",
    required=True,
    help="PostgreSQL database of the store and the queue (env QMC_DB).",
)


@click.command()
@QUEUE_DB_OPTION
@CONFIG_OPTION
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True, help="Crawls at once.")
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True, help="Time limit per crawl, s."
)
@click.option(
    "--stop-grace", type=click.FloatRange(min=0), default=30.0, show_default=True, help="Seconds a crawl gets to stop."
)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=2),
    default=60.0,
    show_default=True,
    help="A worker silent this long is dead: its jobs go back to the queue.",
)
@click.option(
    "--drain", is_flag=True, help="On SIGTERM let the running crawls finish (default: stop and requeue them)."
)
@click.option("-s", "--set", "pairs", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting for every crawl.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="INFO")
@one_line_errors
def worker(
    db_path: str,
    config_path: str,
    concurrency: int,
    timeout: float,
    stop_grace: float,
    stalled_after: float,
    drain: bool,
    pairs: tuple[str, ...],
    log_level: str,
) -> None:
    """Crawl the jobs of the queue in PostgreSQL, one crawl process per job (SIGTERM: stop cleanly)."""
    from qmcrawler.distributed.app import QueueError  # the queue's modules load only when used
    from qmcrawler.distributed.worker import WorkerConfig, serve

    config = load_config(config_path)  # fail now, with one line, on a bad config
    crawl = CrawlOptions(Path(config.path).resolve(), _url(db_path), timeout, stop_grace, _settings(pairs))
    _logging(log_level, config.timezone)
    options = WorkerConfig(crawl, concurrency=concurrency, stalled_after=stalled_after, drain=drain)
    try:
        sys.exit(asyncio.run(serve(options)))
    except QueueError as e:
        raise click.ClickException(str(e)) from None


@click.command("enqueue")
@QUEUE_DB_OPTION
@CONFIG_OPTION
@click.option("--sites-per-job", type=click.IntRange(1), default=1, show_default=True, help="Sites crawled together.")
@click.argument("sites", nargs=-1, required=True)
@one_line_errors
def enqueue_command(db_path: str, config_path: str, sites_per_job: int, sites: tuple[str, ...]) -> None:
    """Queue a crawl of these sites now (a site already waiting in the queue is not queued twice)."""
    from qmcrawler.distributed.app import QueueError, ensure_schema, make_app
    from qmcrawler.distributed.tasks import batches, enqueue, job_key

    config = load_config(config_path)
    unknown = [s for s in sites if s not in config.sites]
    if unknown:
        raise BadInput(f"unknown site{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} (not in {config.path})")
    url = _url(db_path)

    async def run() -> list[tuple[str, int | None]]:
        async with make_app(url, max_size=1).open_async() as app:
            return [(job_key(batch), await enqueue(app, batch)) for batch in batches(sites, sites_per_job)]

    try:
        ensure_schema(url)
        done = asyncio.run(run())
    except QueueError as e:
        raise click.ClickException(str(e)) from None
    for key, job_id in done:
        click.echo(f"{key}: " + (f"queued as job {job_id}" if job_id is not None else "already queued"))


def _url(db_path: str) -> str:
    from qmcrawler.distributed.app import QueueError, check_url

    try:
        return check_url(db_path)
    except QueueError as e:
        raise BadInput(str(e)) from None


def _logging(level: str, tz_name: str) -> None:
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(LocalFormatter(LOG_FORMAT, zone(tz_name)))
    logging.getLogger("procrastinate").setLevel(max(logging.getLevelName(level), logging.INFO))
