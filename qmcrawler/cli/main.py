"""The `qmcrawler` command line: each command wraps one storage or library call.

The commands live in `lookup` (changes, history, diff, search), `maintain` (reprocess, sites),
`reports` (report, feed, notify), `frontier` (frontier) and `copydb` (copy-db); this module only makes the group and
registers them, so imports run one way: main -> command modules -> common.

Library errors become one-line messages and a non-zero exit in the commands, and only there.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from qmcrawler.cli import copydb, frontier, lookup, maintain, reports
from qmcrawler.cli.common import OneLineGroup
from qmcrawler.distributed import commands as distributed


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qmcrawler")
def cli() -> None:
    """Query and maintain a qmcrawler database."""


for command in (
    lookup.changes,
    lookup.history,
    lookup.diff,
    lookup.search,
    maintain.reprocess,
    maintain.sites,
    reports.report,
    reports.feed,
    reports.notify,
    frontier.frontier,
    distributed.worker,
    distributed.enqueue_command,
    copydb.copy_db,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="qmcrawler")
