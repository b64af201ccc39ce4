"""What every `qmcrawler` command shares: --db/--config/--since/--limit/--site, output helpers, one-line errors.

Bad input is one line and exit status 2: option values are checked by click (usage errors are
printed without the usage block, by `OneLineGroup`), and a `--site` the database has never
seen raises `BadInput`. Library errors (a missing database, a bad config) are exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import tzinfo
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from qmcrawler.cli.timeparse import parse_since
from qmcrawler.config import ConfigError, load_config
from qmcrawler.config import config_path as config_path_of
from qmcrawler.outputs.clock import zone
from qmcrawler.storage import NewerDatabase, StoreError, db_errors, queries

F = TypeVar("F", bound=Callable[..., Any])
DB_OPTION = click.option(
    "--db",
    "db_path",
    envvar="QMC_DB",
    default="qm.db",
    show_default=True,
    help="SQLite file or postgresql://user@host:port/db (env QMC_DB).",
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


class RefusedDatabase(click.ClickException):
    """A database this version must not touch (written by a newer qmcrawler): exit status 2."""

    exit_code = 2


def one_line_errors(func: F) -> F:
    """Turn known library and database errors into click errors (one line, exit status 1; 2 for a newer database)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewerDatabase as e:
            raise RefusedDatabase(str(e)) from None
        except (StoreError, ConfigError, ValueError) as e:
            raise click.ClickException(str(e)) from None
        except db_errors() as e:  # the server went away mid-command, a damaged file: its first line
            raise click.ClickException(
                f"database error: {(str(e).strip().splitlines() or [type(e).__name__])[0]}"
            ) from None

    return wrapper  # type: ignore[return-value]


#: the largest --limit (more rows than any database holds; SQLite's LIMIT is a 64-bit integer)
MAX_LIMIT = 1_000_000_000


class BadInput(click.ClickException):
    """A bad argument that click's types cannot see (an unknown --site): one line, exit status 2."""

    exit_code = 2


class OneLineGroup(click.Group):
    """A click group whose usage errors are one line (`Error: Invalid value for '--limit': ...`), exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            e.ctx = None  # click prints the usage block and a hint only when the error has a context
            raise

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            e.ctx = None
            raise


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as e:
        raise click.BadParameter(str(e).removeprefix("--since: ")) from None


def limit_option(default: int, help: str = "At most this many (0: all).", minimum: int = 0) -> Callable[[F], F]:
    """`--limit N`, `minimum` to MAX_LIMIT (a negative or huge number is a usage error)."""
    kind = click.IntRange(minimum, MAX_LIMIT)
    option = click.option("--limit", type=kind, default=default, show_default=True, help=help)
    return option


def check_site(db: Any, site: str | None) -> None:
    """Raise BadInput when `--site` names a site the database has no page or run of."""
    if site is None:
        return
    known = queries.site_ids(db)
    if site not in known:
        shown = ", ".join(known[:20]) or "none yet"
        raise BadInput(f"--site {site!r}: no such site in the database (sites: {shown})")


SINCE_OPTION = click.option(
    "--since", callback=_since, help="ISO date/time (UTC unless it has an offset) or a span like 24h, 7d."
)
SITE_OPTION = click.option("--site", help="Only this site id.")
RELEVANT_OPTION = click.option("--relevant", is_flag=True, help="Only Quality Month pages.")


def _tz(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check `--tz` when it is parsed: an unknown zone is a usage error (exit 2), like a bad `--since`."""
    if value is not None:
        try:
            zone(value)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None
    return value


TZ_OPTION = click.option(
    "--tz",
    "tz_name",
    callback=_tz,
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
