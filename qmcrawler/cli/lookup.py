"""The read commands: `changes`, `history`, `diff`, `search`.

python -m qmcrawler changes --since 7d --site samr
python -m qmcrawler changes --json | jq .title
python -m qmcrawler history https://www.samr.gov.cn/xw/zj/art/2023/art_....html   (or a page id)
python -m qmcrawler diff URL --from 1 --to 2 --json
python -m qmcrawler search "质量月 2018"
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qmcrawler.cli.common import (
    DB_OPTION,
    SINCE_OPTION,
    SITE_OPTION,
    TZ_OPTION,
    check_site,
    console,
    display_zone,
    echo_json_lines,
    limit_option,
    one_line_errors,
)
from qmcrawler.crawl.urls import canonical_url
from qmcrawler.monitor.content import comparison_key
from qmcrawler.monitor.diff import diff_fields
from qmcrawler.outputs.clock import local
from qmcrawler.storage import open_db, queries

HASHED = ["title", "text", "publish_time", "source", "author", "attachments"]


@click.command()
@DB_OPTION
@SINCE_OPTION
@SITE_OPTION
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["new", "changed", "removed", "restored", "moved"]),
    help="Only these kinds.",
)
@click.option("--relevant", is_flag=True, help="Only Quality Month pages.")
@limit_option(50)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--no-diff", is_flag=True, help="Headlines only.")
@click.option("--include-extractor", is_flag=True, help="Also changes caused by re-extraction (reprocess).")
@TZ_OPTION
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
    tz_name: str | None,
) -> None:
    """Changes, newest first (times in Asia/Shanghai or --tz; --json keeps UTC)."""
    db = open_db(db_path, create=False)
    check_site(db, site)
    rows = queries.changes(
        db,
        since=since,
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
    tz = display_zone(tz_name)
    for row in rows:
        print_change(out, row, show_diff=not no_diff, tz=tz)


def print_change(out: Console, row: dict[str, Any], show_diff: bool = True, tz: tzinfo | None = None) -> None:
    """One change: a headline, the URL, then the coloured diff."""
    colours = {"new": "green", "changed": "yellow", "removed": "red", "restored": "cyan"}
    colour = colours.get(row["kind"], "blue")
    head = Text()
    head.append(f"#{row['id']} ", style="dim")
    head.append(f"{row['kind']:<8}", style=f"bold {colour}")
    head.append(f" {local(row['detected_at'], tz)}  {row['site']}  ", style="dim")
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
    elif row.get("likely_mirror"):
        out.print(Text("    mirror: likely (pinyin artifacts, spam words or an official page shape on another host)"))
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


@click.command()
@DB_OPTION
@click.argument("page_ref", metavar="PAGE")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: page, versions, changes, downloads.")
@TZ_OPTION
@one_line_errors
def history(db_path: str, page_ref: str, as_json: bool, tz_name: str | None) -> None:
    """Versions, changes and recent downloads of one page (PAGE: a page id or any URL form of it)."""
    db = open_db(db_path, create=False)
    page = _page_or_fail(db, page_ref)
    if as_json:
        versions = [{k: v for k, v in row.items() if k != "text"} for row in queries.versions(db, page["id"])]
        changes = queries.page_changes(db, page["id"])
        downloads = queries.page_fetches(db, page["id"])
        click.echo(
            json.dumps(
                {"page": page, "versions": versions, "changes": changes, "downloads": downloads}, ensure_ascii=False
            )
        )
        return
    out = console()
    tz = display_zone(tz_name)
    out.print(
        Text(
            f"{page['url']}  [{page['site']}]  status={page['status']}  "
            f"first_seen={local(page['first_seen'], tz)}  last_seen={local(page['last_seen'], tz)}",
            style="bold",
        )
    )
    table = Table("n", "fetched_at", "hash", "title", "publish_time", "source", title="versions")
    for v in queries.versions(db, page["id"]):
        table.add_row(
            str(v["n"]),
            local(v["fetched_at"], tz),
            (v["content_hash"] or "")[:10],
            v["title"] or "",
            v["publish_time"] or "",
            v["source"] or "",
        )
    out.print(table)
    for c in queries.page_changes(db, page["id"]):
        out.print(
            f"  #{c['id']} {c['kind']:<8} {local(c['detected_at'], tz)}  {', '.join(c['fields'])}"
            + ("  (extractor)" if c.get("cause") == "extractor" else "")
        )
    fetches = Table("fetched_at", "http", "outcome", "reason", "views", title="recent downloads")
    for f in queries.page_fetches(db, page["id"]):
        fetches.add_row(
            local(f["fetched_at"], tz),
            str(f["http_status"] or ""),
            f["outcome"],
            f["reason"] or "",
            "" if f["views"] is None else str(f["views"]),
        )
    out.print(fetches)


@click.command()
@DB_OPTION
@click.argument("page_ref", metavar="PAGE")
@click.option("--from", "from_n", type=int, help="Version number (1 = first); default: the one before --to.")
@click.option("--to", "to_n", type=int, help="Version number; default: the latest.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the two versions, fields, diff.")
@TZ_OPTION
@one_line_errors
def diff(db_path: str, page_ref: str, from_n: int | None, to_n: int | None, as_json: bool, tz_name: str | None) -> None:
    """Diff two versions of a page (default: the last two; PAGE: a page id or any URL form of it)."""
    db = open_db(db_path, create=False)
    page = _page_or_fail(db, page_ref)
    url = page["url"]
    versions = queries.versions(db, page["id"])
    if len(versions) < 2 and from_n is None:
        raise click.ClickException(f"{url}: only {len(versions)} version(s), nothing to compare")
    to_n = len(versions) if to_n is None else to_n  # `or` would read --to 0 / --from 0 as unset
    from_n = to_n - 1 if from_n is None else from_n
    for n in (to_n, from_n):  # --to first: an out-of-range --to makes the default --from one less
        if not 1 <= n <= len(versions):
            raise click.ClickException(f"{url}: no version {n} (versions 1-{len(versions)})")
    old, new = versions[from_n - 1], versions[to_n - 1]
    key = comparison_key(old, new)
    fields = [f for f in HASHED if _compared(old.get(f), key) != _compared(new.get(f), key)]
    text = diff_fields(old, new, fields, key=key) if fields else ""
    if as_json:
        ends = {
            side: {"n": n, "version_id": v["id"], "fetched_at": v["fetched_at"], "content_hash": v["content_hash"]}
            for side, n, v in (("from", from_n, old), ("to", to_n, new))
        }
        click.echo(
            json.dumps({"page_id": page["id"], "url": url, **ends, "fields": fields, "diff": text}, ensure_ascii=False)
        )
        return
    out = console()
    tz = display_zone(tz_name)
    title = f"{url}: version {from_n} ({local(old['fetched_at'], tz)}) → {to_n} ({local(new['fetched_at'], tz)})"
    out.print(Text(title, style="bold"))
    if not fields:
        out.print("no differences")
        return
    print_diff(out, text)


@click.command()
@DB_OPTION
@click.argument("text")
@click.option("--all-versions", is_flag=True, help="Search old versions too.")
@limit_option(20, help="At most this many (1 or more: a search is never unbounded).", minimum=1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@one_line_errors
def search(db_path: str, text: str, all_versions: bool, limit: int, as_json: bool) -> None:
    """Full-text search: every whitespace-separated term must occur in the page (bigram index; 1 char scans)."""
    if not text.split():
        raise click.BadParameter("nothing to search for (the text is empty)", param_hint="'TEXT'")
    db = open_db(db_path, create=False)
    rows = queries.search(db, text, limit=limit, all_versions=all_versions)
    if as_json:
        echo_json_lines(rows)
        return
    out = console()
    if not rows:
        out.print("no matches")
    for row in rows:
        head = Text(f"{row['title'] or '（无标题）'}  [{row['site']}]", style="bold")
        if row["status"] != "live":
            head.append(f"  ({row['status']})", style="bold red")
        out.print(head)
        out.print(Text(f"    {row['url']}", style="dim"))
        out.print(Text(f"    {row['snippet']}"))


def _compared(value: object, key: Callable[[str], str]) -> object:
    return key(value) if isinstance(value, str) else value


def _page_or_fail(db: Any, ref: str) -> dict[str, Any]:
    """A page by id, by its stored URL, or by any URL the crawler canonicalizes to it."""
    page = queries.page_by_id(db, int(ref)) if ref.isdigit() else queries.page(db, ref)
    if page is None and not ref.isdigit():
        page = queries.page(db, canonical_url(ref.strip()))
    if page is None:
        raise click.ClickException(f"{ref}: not in the database")
    return page
