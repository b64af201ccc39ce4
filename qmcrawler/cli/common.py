"""What every `qmcrawler` command shares: the --db/--config/--since options, output helpers, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from qmcrawler.config import ConfigError
from qmcrawler.storage import StoreError

F = TypeVar("F", bound=Callable[..., Any])
DB_OPTION = click.option(
    "--db", "db_path", envvar="QMC_DB", default="qm.db", show_default=True, help="SQLite database (env QMC_DB)."
)
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    envvar="QMC_SITES",
    default="sites.toml",
    show_default=True,
    help="sites.toml (env QMC_SITES).",
)


#: line width for output that is not a terminal (a pipe, a file): never cut to rich's default 80
PIPE_WIDTH = 10_000


def console() -> Console:
    """A rich console on stdout (plain text when not a terminal, then as wide as its content)."""
    out = Console(highlight=False, soft_wrap=True)
    if out.is_terminal:
        return out
    # not COLUMNS either: readline exports it (80) into the environment of every child process
    return Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH)


def echo_json_lines(rows: Sequence[dict[str, Any]]) -> None:
    """One JSON object per line (for jq and scripts)."""
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))


def one_line_errors(func: F) -> F:
    """Turn known library errors into click errors (one line, exit status 1)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (StoreError, ConfigError, ValueError) as e:
            raise click.ClickException(str(e)) from None

    return wrapper  # type: ignore[return-value]


SINCE_OPTION = click.option("--since", help="ISO date/time (UTC unless it has an offset) or a span like 24h, 7d.")
SITE_OPTION = click.option("--site", help="Only this site id.")
RELEVANT_OPTION = click.option("--relevant", is_flag=True, help="Only Quality Month pages.")
