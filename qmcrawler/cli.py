"""The `qmcrawler` command line: each command wraps one storage or library call.

    python -m qmcrawler changes --since 7d --site samr
    python -m qmcrawler changes --json | jq .title
    python -m qmcrawler history https://www.samr.gov.cn/xw/zj/art/2023/art_....html
    python -m qmcrawler diff URL --from 1 --to 2
    python -m qmcrawler search 质量强国
    python -m qmcrawler reprocess --site samr
    python -m qmcrawler sites --check

Library errors become one-line messages and a non-zero exit here, and only here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qmcrawler.config import ConfigError, load_config
from qmcrawler.diff import diff_fields
from qmcrawler.storage import StoreError, open_db, queries
from qmcrawler.timeparse import parse_since

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
HASHED = ["title", "text", "publish_time", "source", "author", "attachments"]


def console() -> Console:
    """A rich console on stdout (plain text when not a terminal)."""
    return Console(highlight=False, soft_wrap=True)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qmcrawler")
def cli() -> None:
    """Query and maintain a qmcrawler database."""


@cli.command()
@DB_OPTION
@click.option("--since", help="ISO date/time (UTC unless it has an offset) or a span like 24h, 7d.")
@click.option("--site", help="Only this site id.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["new", "changed", "removed", "restored", "moved"]),
    help="Only these kinds.",
)
@click.option("--relevant", is_flag=True, help="Only Quality Month pages.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--no-diff", is_flag=True, help="Headlines only.")
@click.option("--include-extractor", is_flag=True, help="Also changes caused by re-extraction (reprocess).")
@one_line_errors
def changes(
    db_path: str,
    since: str | None,
    site: str | None,
    kinds: tuple[str, ...],
    relevant: bool,
    limit: int,
    as_json: bool,
    no_diff: bool,
    include_extractor: bool,
) -> None:
    """Changes, newest first."""
    db = open_db(db_path, create=False)
    rows = queries.changes(
        db,
        since=parse_since(since) if since else None,
        site=site,
        kinds=list(kinds) or None,
        relevant_only=relevant,
        limit=limit or None,
        include_extractor=include_extractor,
    )
    if as_json:
        echo_json_lines(rows)
        return
    out = console()
    if not rows:
        out.print("no changes")
        return
    for row in rows:
        print_change(out, row, show_diff=not no_diff)


def print_change(out: Console, row: dict[str, Any], show_diff: bool = True) -> None:
    """One change: a headline, the URL, then the coloured diff."""
    colours = {"new": "green", "changed": "yellow", "removed": "red", "restored": "cyan"}
    colour = colours.get(row["kind"], "blue")
    head = Text()
    head.append(f"#{row['id']} ", style="dim")
    head.append(f"{row['kind']:<8}", style=f"bold {colour}")
    head.append(f" {row['detected_at']}  {row['site']}  ", style="dim")
    head.append(row.get("title") or "（无标题）", style="bold")
    if row.get("fields"):
        head.append(f"  [{', '.join(row['fields'])}]", style="dim")
    if row.get("year"):
        head.append(f"  质量月 {row['year']}", style="dim")
    out.print(head)
    out.print(Text(f"    {row['url']}", style="dim"))
    if row.get("copy_of"):
        mirror = "mirror" if row.get("likely_mirror") else "repost"
        out.print(Text(f"    {mirror}: copy of page {row['copy_of']} {row.get('copy_of_url') or ''}", style="dim"))
    if show_diff and row.get("diff") and row["kind"] != "new":
        print_diff(out, row["diff"])
    out.print()


def print_diff(out: Console, diff: str) -> None:
    """Colour a qmcrawler diff: `-` red, `+` green, `?` with marked spans, `@@` dim."""
    for line in diff.splitlines():
        style = {"-": "red", "+": "green", "@": "dim"}.get(line[:1], "")
        if line.startswith("?"):
            out.print(_marked(line))
        else:
            out.print(Text("    " + line, style=style))


def _marked(line: str) -> Text:
    text = Text("    ")
    rest = line
    while rest:
        starts = [i for i in (rest.find("[-"), rest.find("{+")) if i >= 0]
        if not starts:
            text.append(rest, style="dim")
            break
        i = min(starts)
        text.append(rest[:i], style="dim")
        close = "-]" if rest.startswith("[-", i) else "+}"
        j = rest.find(close, i + 2)
        if j < 0:
            text.append(rest[i:], style="dim")
            break
        style = "bold white on red" if close == "-]" else "bold black on green"
        text.append(rest[i : j + 2], style=style)
        rest = rest[j + 2 :]
    return text


@cli.command()
@DB_OPTION
@click.argument("url")
@one_line_errors
def history(db_path: str, url: str) -> None:
    """Versions, changes and recent downloads of one page."""
    db = open_db(db_path, create=False)
    page = _page_or_fail(db, url)
    out = console()
    out.print(
        Text(
            f"{page['url']}  [{page['site']}]  status={page['status']}  "
            f"first_seen={page['first_seen']}  last_seen={page['last_seen']}",
            style="bold",
        )
    )
    table = Table("n", "fetched_at", "hash", "title", "publish_time", "source", title="versions")
    for v in queries.versions(db, page["id"]):
        table.add_row(
            str(v["n"]),
            v["fetched_at"],
            (v["content_hash"] or "")[:10],
            v["title"] or "",
            v["publish_time"] or "",
            v["source"] or "",
        )
    out.print(table)
    for c in queries.page_changes(db, page["id"]):
        out.print(
            f"  #{c['id']} {c['kind']:<8} {c['detected_at']}  {', '.join(c['fields'])}"
            + ("  (extractor)" if c.get("cause") == "extractor" else "")
        )
    fetches = Table("fetched_at", "http", "outcome", "reason", "views", title="recent downloads")
    for f in queries.page_fetches(db, page["id"]):
        fetches.add_row(
            f["fetched_at"],
            str(f["http_status"] or ""),
            f["outcome"],
            f["reason"] or "",
            "" if f["views"] is None else str(f["views"]),
        )
    out.print(fetches)


@cli.command()
@DB_OPTION
@click.argument("url")
@click.option("--from", "from_n", type=int, help="Version number (1 = first); default: the one before --to.")
@click.option("--to", "to_n", type=int, help="Version number; default: the latest.")
@one_line_errors
def diff(db_path: str, url: str, from_n: int | None, to_n: int | None) -> None:
    """Diff two versions of a page (default: the last two)."""
    db = open_db(db_path, create=False)
    page = _page_or_fail(db, url)
    versions = queries.versions(db, page["id"])
    if len(versions) < 2 and from_n is None:
        raise click.ClickException(f"{url}: only {len(versions)} version(s), nothing to compare")
    to_n = to_n or len(versions)
    from_n = from_n or to_n - 1
    for n in (from_n, to_n):
        if not 1 <= n <= len(versions):
            raise click.ClickException(f"{url}: no version {n} (versions 1-{len(versions)})")
    old, new = versions[from_n - 1], versions[to_n - 1]
    fields = [f for f in HASHED if old.get(f) != new.get(f)]
    out = console()
    title = f"{url}: version {from_n} ({old['fetched_at']}) → {to_n} ({new['fetched_at']})"
    out.print(Text(title, style="bold"))
    if not fields:
        out.print("no differences")
        return
    print_diff(out, diff_fields(old, new, fields))


@cli.command()
@DB_OPTION
@click.argument("text")
@click.option("--all-versions", is_flag=True, help="Search old versions too.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@one_line_errors
def search(db_path: str, text: str, all_versions: bool, limit: int, as_json: bool) -> None:
    """Full-text search (FTS5 trigram for 3+ characters, LIKE for shorter queries)."""
    db = open_db(db_path, create=False)
    rows = queries.search(db, text, limit=limit, all_versions=all_versions)
    if as_json:
        echo_json_lines(rows)
        return
    out = console()
    if not rows:
        out.print("no matches")
    for row in rows:
        out.print(Text(f"{row['title'] or '（无标题）'}  [{row['site']}]", style="bold"))
        out.print(Text(f"    {row['url']}", style="dim"))
        out.print(f"    {row['snippet']}")


def _page_or_fail(db: Any, url: str) -> dict[str, Any]:
    page = queries.page(db, url)
    if page is None:
        raise click.ClickException(f"{url}: not in the database")
    return page


@cli.command()
@DB_OPTION
@CONFIG_OPTION
@click.option("--site", help="Only this site id.")
@one_line_errors
def reprocess(db_path: str, config_path: str, site: str | None) -> None:
    """Re-run extraction over stored raw HTML (no fetching); extractor-caused changes are marked."""
    from qmcrawler.reprocess import reprocess_db

    db = open_db(db_path, create=False)
    try:
        known = dict(load_config(config_path).sites)
    except ConfigError:
        known = None  # keywords fall back to the default; reprocess needs no config
    result = reprocess_db(db, site=site, sites=known, progress=lambda n: click.echo(f"  {n} pages…", err=True))
    click.echo(
        f"reprocessed {result.pages} pages: {result.changed} changed by the extractor, "
        f"{result.skipped} without raw HTML"
    )


@cli.command()
@CONFIG_OPTION
@DB_OPTION
@click.option("--check", is_flag=True, help="Fetch each site's start pages now and report what parses.")
@click.argument("ids", nargs=-1)
@one_line_errors
def sites(config_path: str, db_path: str, check: bool, ids: tuple[str, ...]) -> None:
    """List the configured sites (with --check: a live parse check of each)."""
    config = load_config(config_path)
    selected = config.select(list(ids) or None)
    out = console()
    if check:
        from qmcrawler.livecheck import check_site

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
    try:
        db = open_db(db_path, create=False)
        counts = {s.id: len(queries.known_urls(db, s.id)) for s in selected}
    except StoreError:
        pass
    table = Table("id", "name", "render", "schedule", "pages", "start_urls")
    for s in selected:
        table.add_row(s.id, s.name, s.render, s.schedule, str(counts.get(s.id, "-")), "\n".join(s.start_urls))
    out.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="qmcrawler")


from qmcrawler import cli_reports  # noqa: E402, F401 - registers report, feed, notify on `cli`
