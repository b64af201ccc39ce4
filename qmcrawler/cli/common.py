"""What every `qmcrawler` command shares: the --db/--config/--since options, output helpers, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import tzinfo
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from qmcrawler.config import ConfigError, load_config
from qmcrawler.config import config_path as config_path_of
from qmcrawler.outputs.clock import zone
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


def console() -> Console:
    """A rich console on stdout (plain text when not a terminal, then never cut to 80 columns)."""
    import sys

    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 100_000)


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
TZ_OPTION = click.option(
    "--tz",
    "tz_name",
    help="Time zone for the times shown (IANA name; default: [defaults] timezone, else Asia/Shanghai).",
)


def display_zone(tz_name: str | None, config_path: str | None = None) -> tzinfo:
    """The zone times are shown in: `--tz`, else the sites file's `[defaults] timezone`, else Asia/Shanghai.

    The sites file is `config_path`, else env QMC_SITES, else ./sites.toml; commands that do not
    need one work without it: a missing or broken file means the default zone (a broken file is
    reported by the commands that need it, such as the crawl and `notify`).
    """
    if tz_name:
        return zone(tz_name)
    try:
        return zone(load_config(config_path_of(config_path)).timezone)
    except ConfigError:
        return zone()
