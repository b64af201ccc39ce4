"""`copy-db SOURCE TARGET`: move a whole database between SQLite and PostgreSQL (ids kept, verified).

python -m qmcrawler copy-db qm.db postgresql://qmc@db.example/qm
python -m qmcrawler copy-db postgresql://qmc@db.example/qm backup.db --replace
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from qmcrawler.cli.common import one_line_errors
from qmcrawler.storage.dialects import is_postgres_url, safe_url

if TYPE_CHECKING:
    from qmcrawler.storage.copydb import CopyResult

#: seconds between two progress lines of one table
EVERY = 2.0


class ProgressLines:
    """Progress on stderr: each table's row count when done, and every few seconds while it lasts."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, step: str, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and (done == 0 or now - self.last < EVERY):
            return
        self.last = now
        verb = "copied" if step == "copy" else "verified"
        click.echo(f"{verb} {table}: {done:,}/{total:,} rows", err=True)


def show(result: CopyResult) -> None:
    """The verification table: rows and content hash of every table on both sides."""
    head = f"{'table':<17} {'source rows':>12} {'target rows':>12}  {'source hash':<12}  {'target hash':<12}  check"
    click.echo(head)
    for c in result.checks:
        click.echo(
            f"{c.table:<17} {c.source.rows:>12,} {c.target.rows:>12,}  {c.source.hexdigest[:12]}  "
            f"{c.target.hexdigest[:12]}  {'ok' if c.ok else 'MISMATCH'}"
        )


@click.command("copy-db")
@click.argument("source")
@click.argument("target")
@click.option("--replace", is_flag=True, help="Overwrite a target that already holds data.")
@one_line_errors
def copy_db(source: str, target: str, replace: bool) -> None:
    """Copy a whole database from SOURCE to TARGET (paths, sqlite:///…, postgresql://…), ids kept.

    Every table is checked on both sides by row count and content hash; the target is written
    in one transaction, committed only when all of them match. The source is only read.
    """
    from qmcrawler.storage.copydb import copy_database  # psycopg: only when this command runs

    result = copy_database(source, target, replace=replace, progress=ProgressLines())
    show(result)
    shown = safe_url(target) if is_postgres_url(target) else target
    if not result.ok:
        bad = ", ".join(c.table for c in result.checks if not c.ok)
        raise click.ClickException(f"verification failed ({bad}): {shown} was not changed")
    click.echo(f"copied {result.rows:,} rows in {len(result.checks)} tables to {shown}: verified")
