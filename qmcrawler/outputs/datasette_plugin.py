"""Datasette plugin (entry point `datasette: qmcrawler`): qmcrawler databases as a daily browsing UI.

Datasette's own hooks do the work (https://docs.datasette.io/en/stable/plugin_hooks.html):

- `render_cell`: a `diff` column is drawn as a coloured diff (`-` red, `+` green, the `?` line
  with the deleted and inserted characters marked, as `qmcrawler changes` does in a terminal);
  UTC times (`2026-11-22T13:48:18Z`) are shown in the configured zone (default Asia/Shanghai),
  the UTC value kept in the cell's tooltip and in every JSON/CSV export.
- `prepare_connection`: SQL functions the canned queries in datasette.yaml use: `qmc_fold(q)`
  (a search term's comparison form), `qmc_grams(q)` (the bigram index's query for its longest term),
  `qmc_matches(title, text, flags, q)` (every term occurs), `qmc_snippet(title, text, flags, q)`
  (one line of the page's own text around the match), `qmc_day(ts)` (local calendar day),
  `qmc_canonical(url)` (the crawler's canonical form of a URL), `qmc_diff(kind, diff, version
  columns…)` (a change's diff as people read it: a `new` change's is made from its version,
  `qmcrawler.storage.changediff`).
- `extra_css_urls` + `register_routes`: a small stylesheet (titles get room, URLs wrap).

Configure the zone in datasette.yaml: `plugins: {qmcrawler: {timezone: Asia/Shanghai}}`.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import pluggy
from datasette.utils.asgi import Response
from markupsafe import Markup

from qmcrawler.crawl.urls import canonical_url
from qmcrawler.storage import changediff
from qmcrawler.storage.grams import match_expression
from qmcrawler.storage.textsearch import contains_all, snippet, terms_of

#: datasette's own `hookimpl` is this marker (pluggy's is typed)
hookimpl = pluggy.HookimplMarker("datasette")
DEFAULT_TZ = "Asia/Shanghai"
CSS_PATH = "/-/qmcrawler.css"
#: columns holding UTC timestamps written by qmcrawler
TIME_COLUMNS = frozenset(
    {"detected_at", "fetched_at", "first_seen", "last_seen", "started_at", "finished_at", "at", "sent_at"}
    | {"first_tried_at"}
)
_UTC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$")
_MARK_RE = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")
_LINE_CLASS = {"-": "qmc-del", "+": "qmc-ins", "@": "qmc-hunk", "?": "qmc-mark"}
CSS = """
.qmc-diff{font-family:"WenQuanYi Micro Hei Mono","Noto Sans Mono CJK SC",monospace;font-size:.9em;
white-space:pre-wrap;min-width:28em;line-height:1.5}
.qmc-diff div{padding:0 .3em}.qmc-del{background:#ffebe9;color:#82071e}.qmc-ins{background:#dafbe1;color:#116329}
.qmc-hunk{color:#6e7781}.qmc-mark{color:#57606a}.qmc-mark del{background:#ff8182;color:#000;text-decoration:none}
.qmc-mark ins{background:#6fdd8b;color:#000;text-decoration:none}
td.col-title,td.col-passage,td.col-snippet{min-width:16em}
td.col-url{min-width:12em;max-width:20em;word-break:break-all;font-size:.85em}
td.col-text{min-width:24em;max-width:48em}
time.qmc-time{white-space:nowrap}
"""


def _zone(datasette: Any) -> ZoneInfo:
    config = datasette.plugin_config("qmcrawler") or {}
    return ZoneInfo(str(config.get("timezone") or DEFAULT_TZ))


def local_time(value: str, zone: ZoneInfo) -> str:
    """`2026-11-22T13:48:18Z` as `2026-11-22 21:48:18 +08:00` in `zone`."""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone)
    offset = at.strftime("%z")
    return at.strftime("%Y-%m-%d %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"


def diff_html(diff: str) -> str:
    """A qmcrawler diff as HTML lines (escaped), one class per kind of line."""
    lines = []
    for line in diff.splitlines():
        cls = _LINE_CLASS.get(line[:1], "qmc-ctx")
        body = _marked(line) if cls == "qmc-mark" else escape(line)
        lines.append(f'<div class="{cls}">{body or "&nbsp;"}</div>')
    return '<div class="qmc-diff">' + "".join(lines) + "</div>"


def _marked(line: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MARK_RE.finditer(line):
        out.append(escape(line[pos : m.start()]))
        if m.group(1) is not None:
            out.append(f"<del>{escape(m.group(1))}</del>")
        else:
            out.append(f"<ins>{escape(m.group(2))}</ins>")
        pos = m.end()
    out.append(escape(line[pos:]))
    return "".join(out)


@hookimpl
def render_cell(row: Any, value: object, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """Coloured diffs and local times; None leaves every other cell to Datasette."""
    if value is None and column == "diff" and table == "changes":
        return _new_diff_cell(row, database, datasette)
    if not isinstance(value, str) or not value:
        return None
    if column == "diff":
        return Markup(diff_html(value))  # noqa: S704 - every piece of the value is escaped in diff_html
    if column in TIME_COLUMNS and _UTC_RE.match(value):
        shown = local_time(value, _zone(datasette))
        return Markup(f'<time class="qmc-time" datetime="{escape(value)}" title="{escape(value)} (UTC)">{shown}</time>')  # noqa: S704
    return None


def _new_diff_cell(row: Any, database: str, datasette: Any) -> Any:
    """The `changes` table's empty diff of a `new` change: made from its version (an awaitable), as `qmc_diff` does."""
    try:
        kind, version_id = row["kind"], row["to_version"]
    except (IndexError, KeyError):  # the columns were not selected (`_col`)
        return None
    if kind != "new" or version_id is None:
        return None

    async def cell() -> Markup | None:
        cols = ", ".join(changediff.COLUMNS)
        found = await datasette.get_database(database).execute(
            f"SELECT {cols} FROM versions WHERE id = ?",  # noqa: S608 - constant column names
            [version_id],
        )
        version = found.first()
        return Markup(diff_html(changediff.new_diff(dict(version)))) if version else None  # noqa: S704 - escaped

    return cell


def _has_all(title: str | None, text: str | None, flags: str | None, query: str | None) -> int:
    return int(contains_all(title, text, flags, terms_of(query or "")))


def _grams(query: str | None) -> str:
    """The bigram index's query for the longest term; `""` (no rows) when it has no bigram (one character)."""
    terms = terms_of(query or "")
    longest = max(terms, key=len) if terms else ""
    return match_expression(longest) or '""'


def _snippet(title: str | None, text: str | None, flags: str | None, query: str | None) -> str:
    return snippet(title, text or "", terms_of(query or ""), "t2s_applied" in (flags or ""))


def _diff(kind: str | None, diff: str | None, version_id: int | None, *columns: Any) -> str | None:
    """`qmc_diff(c.kind, c.diff, vt.id, vt.title, vt.text, vt.publish_time, vt.source, vt.author, vt.attachments)`."""
    version = dict(zip(changediff.COLUMNS, columns, strict=True)) if version_id is not None else None
    return changediff.shown(kind, diff, version)


@hookimpl
def prepare_connection(conn: sqlite3.Connection, datasette: Any) -> None:
    """Register the qmc_* SQL functions (deterministic, so SQLite may use them freely)."""
    zone = _zone(datasette)
    conn.create_function("qmc_fold", 1, lambda q: " ".join(terms_of(q or "")), deterministic=True)
    conn.create_function("qmc_grams", 1, _grams, deterministic=True)
    conn.create_function("qmc_matches", 4, _has_all, deterministic=True)
    conn.create_function("qmc_snippet", 4, _snippet, deterministic=True)
    conn.create_function(
        "qmc_day", 1, lambda ts: local_time(ts, zone)[:10] if ts and _UTC_RE.match(ts) else ts, deterministic=True
    )
    conn.create_function("qmc_diff", 3 + len(changediff.COLUMNS), _diff, deterministic=True)
    conn.create_function("qmc_canonical", 1, lambda u: canonical_url(u.strip()) if u else u, deterministic=True)


@hookimpl
def extra_css_urls() -> list[str]:
    return [CSS_PATH]


async def _css() -> Response:
    return Response(CSS, content_type="text/css; charset=utf-8")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/qmcrawler\.css$", _css)]
