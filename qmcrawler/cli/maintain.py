"""The maintenance commands: `reprocess` (re-extract stored HTML) and `sites` (list, live check).

python -m qmcrawler reprocess --site samr
python -m qmcrawler sites --check
"""

from __future__ import annotations

import sys

import click
from rich.table import Table

from qmcrawler.cli.common import CONFIG_OPTION, DB_OPTION, SITE_OPTION, TZ_OPTION, check_site, console, one_line_errors
from qmcrawler.config import ConfigError, load_config
from qmcrawler.outputs.clock import local, zone
from qmcrawler.storage import NewerDatabase, StoreError, open_db, queries
from qmcrawler.storage import db_path as db_path_of
from qmcrawler.storage.dialects import is_postgres_url
from qmcrawler.storage.lastrun import LastRun, last_runs


@click.command()
@DB_OPTION
@CONFIG_OPTION
@SITE_OPTION
@one_line_errors
def reprocess(db_path: str, config_path: str, site: str | None) -> None:
    """Re-run extraction over stored raw HTML (no fetching); extractor-caused changes are marked."""
    from qmcrawler.cli.reprocess import reprocess_db

    db = open_db(db_path, create=False)
    check_site(db, site)
    try:
        known = dict(load_config(config_path).sites)
    except ConfigError:
        known = None  # keywords fall back to the default; reprocess needs no config
    result = reprocess_db(db, site=site, sites=known, progress=lambda n: click.echo(f"  {n} pages…", err=True))
    click.echo(
        f"reprocessed {result.pages} pages: {result.changed} changed by the extractor, "
        f"{result.skipped} without raw HTML"
    )


@click.command()
@CONFIG_OPTION
@DB_OPTION
@click.option("--check", is_flag=True, help="Fetch each site's start pages now and report what parses.")
@TZ_OPTION
@click.argument("ids", nargs=-1)
@one_line_errors
def sites(config_path: str, db_path: str, check: bool, tz_name: str | None, ids: tuple[str, ...]) -> None:
    """List the configured sites with their last run: when, status, failed downloads (--check: a live parse check)."""
    config = load_config(config_path)
    selected = config.select(list(ids) or None)
    out = console()
    if check:
        from qmcrawler.cli.livecheck import check_site

        table = Table("site", "list", "reachable", "list items", "sample title", "date", "verdict")
        failures = 0
        for site in selected:
            r = check_site(site)
            failures += not r.verdict.startswith("ok")
            table.add_row(
                site.id,
                site.list_strategy + (" +render" if site.render == "playwright" else ""),
                r.reachable,
                str(r.items),
                r.title or "",
                r.date or "",
                r.verdict,
            )
        out.print(table)
        if failures:
            sys.exit(1)
        return
    counts: dict[str, int] = {}
    last: dict[str, LastRun] = {}
    unlisted: list[str] = []  # sites the database holds that the sites file does not name
    try:
        db = open_db(db_path, create=False)
        counts = {s.id: len(queries.known_urls(db, s.id)) for s in selected}
        last = last_runs(db, selected)
        unlisted = [] if ids else [i for i in queries.site_ids(db) if i not in config.sites]
    except NewerDatabase:
        raise
    except StoreError:
        if is_postgres_url(db_path_of(db_path)):
            raise  # a server that cannot be used is an error; a missing file only means no crawl yet
    tz = zone(tz_name or config.timezone)
    table = Table("id", "name", "render", "schedule", "pages", "last run", "status", "failed", "start_urls")
    for s in selected:
        run = last.get(s.id)
        table.add_row(
            s.id,
            s.name,
            s.render,
            s.schedule,
            str(counts.get(s.id, "-")),
            local(run.started_at, tz) if run else "never",
            run.status if run else "-",
            str(run.failed) if run else "-",
            "\n".join(s.start_urls),
        )
    out.print(table)
    if unlisted:  # e.g. the demo's database listed against the shipped sites.toml
        shown = ", ".join(unlisted[:10]) + (f" and {len(unlisted) - 10} more" if len(unlisted) > 10 else "")
        click.echo(f"the database also holds sites {config_path} does not list: {shown} (see them with --config FILE)")
