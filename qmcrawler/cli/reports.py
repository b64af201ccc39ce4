"""The `report`, `feed` and `notify` commands, registered on the group by `qmcrawler.cli.main`.

python -m qmcrawler report -o report.html --since 7d --site samr
python -m qmcrawler feed -o changes.atom --relevant
python -m qmcrawler notify --dry-run
"""

from __future__ import annotations

import click

from qmcrawler.cli.common import (
    CONFIG_OPTION,
    DB_OPTION,
    RELEVANT_OPTION,
    SINCE_OPTION,
    SITE_OPTION,
    TZ_OPTION,
    check_site,
    display_zone,
    limit_option,
    one_line_errors,
)
from qmcrawler.config import load_config
from qmcrawler.outputs.feed import DEFAULT_ID, write_feed
from qmcrawler.outputs.notify import NotifyError, send_pending
from qmcrawler.outputs.report import write_report
from qmcrawler.storage import open_db


@click.command()
@DB_OPTION
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="HTML file to write."
)
@SINCE_OPTION
@SITE_OPTION
@RELEVANT_OPTION
@limit_option(500, help="At most this many changes (0: all).")
@TZ_OPTION
@one_line_errors
def report(
    db_path: str, output: str, since: str | None, site: str | None, relevant: bool, limit: int, tz_name: str | None
) -> None:
    """Write a self-contained HTML report of changes with side-by-side diffs."""
    db = open_db(db_path, create=False)
    check_site(db, site)
    tz = display_zone(tz_name)
    try:
        n = write_report(
            db,
            output,
            since=since,
            site=site,
            relevant_only=relevant,
            limit=limit or None,
            tz=tz,
        )
    except OSError as e:
        raise click.ClickException(f"{output}: cannot write: {e.strerror}") from None
    click.echo(f"wrote {output} ({n} changes)")


@click.command()
@DB_OPTION
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Atom file to write (-: standard output).",
)
@SINCE_OPTION
@SITE_OPTION
@RELEVANT_OPTION
@limit_option(100, help="At most this many entries (0: all).")
@click.option("--id", "feed_id", default=DEFAULT_ID, show_default=True, help="The feed's Atom id.")
@click.option("--self-url", help="The URL the feed will be published at (rel=self link).")
@TZ_OPTION
@one_line_errors
def feed(
    db_path: str,
    output: str,
    since: str | None,
    site: str | None,
    relevant: bool,
    limit: int,
    feed_id: str,
    self_url: str | None,
    tz_name: str | None,
) -> None:
    """Write an Atom feed of changes, newest first (entry text in local time; Atom dates in UTC)."""
    db = open_db(db_path, create=False)
    check_site(db, site)
    tz = display_zone(tz_name)
    try:
        n = write_feed(
            db,
            output,
            since=since,
            site=site,
            relevant_only=relevant,
            limit=limit or None,
            feed_id=feed_id,
            self_url=self_url,
            tz=tz,
        )
    except OSError as e:
        raise click.ClickException(f"{output}: cannot write: {e.strerror}") from None
    entries = "1 entry" if n == 1 else f"{n} entries"
    click.echo(f"wrote {'standard output' if output == '-' else output} ({entries})", err=output == "-")


@click.command()
@DB_OPTION
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="Check the URLs and print the digests; send nothing, mark nothing.")
@click.option("--backfill", is_flag=True, help="Also send changes from before a target was added.")
@SINCE_OPTION
@TZ_OPTION
@one_line_errors
def notify(
    db_path: str, config_path: str, dry_run: bool, backfill: bool, since: str | None, tz_name: str | None
) -> None:
    """Send each notification URL a digest of the changes it has not received yet."""
    config = load_config(config_path)
    db = open_db(db_path, create=False)
    failed = False
    tz = display_zone(tz_name, config_path)
    try:
        for result in send_pending(db, config.notify, dry_run=dry_run, since=since, backfill=backfill, tz=tz):
            failed = failed or result.error is not None
            click.echo(result.message)
    except NotifyError as e:
        raise click.ClickException(str(e)) from None
    if failed and dry_run:
        raise click.ClickException("some notification URLs are not usable (a real send would fail for them)")
    if failed:
        raise click.ClickException("some notifications failed; the changes stay pending for the next run")
