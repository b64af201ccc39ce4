"""The change report: one self-contained HTML file with side-by-side, character-level diffs.

Chinese has no spaces, so texts are aligned by sentence (`qmcrawler.monitor.diff.split_sentences`) and
edited sentences are compared character by character (numbers and Latin words kept whole), the
way `qmcrawler.monitor.diff.mark_chars` does for the terminal. Every piece of page content is escaped,
and a Content-Security-Policy forbids scripts, so a page quoting `<script>` shows it as text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import tzinfo
from difflib import SequenceMatcher
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from qmcrawler.monitor.diff import SIMILAR, split_sentences
from qmcrawler.outputs.clock import local, now_local
from qmcrawler.storage import queries

#: metadata fields shown as their own rows above the text
META_FIELDS = ("title", "publish_time", "source", "author", "attachments")
#: sentences of a new page shown as its excerpt
NEW_EXCERPT = 6
_UNIT_RE = re.compile(r"[A-Za-z0-9.%]+|.", re.DOTALL)
_CSS = """
body{font:15px/1.6 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:1200px;
padding:1em 2em;color:#222;background:#fff}
h1{font-size:1.5em}h2{font-size:1.15em;margin:0 0 .3em}a{color:#0550ae}
.meta{color:#666;font-size:.9em}.kind{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;
font-size:.85em;margin-right:.4em}
.k-new{background:#1a7f37}.k-changed{background:#bf8700}.k-removed{background:#cf222e}
.k-restored{background:#0969da}.k-moved{background:#6e7781}
section{border:1px solid #d0d7de;border-radius:6px;padding:1em;margin:1.2em 0}
table.diff{width:100%;border-collapse:collapse;table-layout:fixed;margin-top:.6em}
table.diff td,table.diff th{border:1px solid #eaeef2;padding:.25em .5em;vertical-align:top;
white-space:pre-wrap;word-break:break-all}
table.diff th{background:#f6f8fa;text-align:left;font-weight:normal;color:#57606a}
td.field{width:7em;color:#57606a;background:#f6f8fa}td.gap{color:#8c959f;text-align:center}
td.old{background:#fff5f5}td.new{background:#f3fff5}td.same{color:#444}
del{background:#fdb8c0;text-decoration:line-through}ins{background:#acf2bd;text-decoration:none}
ul.toc{padding-left:1.2em}.excerpt{white-space:pre-wrap;background:#f6f8fa;padding:.5em;border-radius:4px}
"""


def mark_pair(old: str, new: str) -> tuple[str, str]:
    """Escaped HTML of two strings with deleted (`<del>`) and inserted (`<ins>`) characters marked."""
    a, b = _UNIT_RE.findall(old), _UNIT_RE.findall(new)
    left: list[str] = []
    right: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        before, after = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if tag == "equal":
            left.append(before)
            right.append(after)
            continue
        if before:
            left.append(f"<del>{before}</del>")
        if after:
            right.append(f"<ins>{after}</ins>")
    return "".join(left), "".join(right)


def text_rows(old: str, new: str, context: int = 1) -> Iterator[str]:
    """Table rows of a side-by-side sentence diff (unchanged runs collapsed to `context`)."""
    a, b = split_sentences(old), split_sentences(new)
    groups = list(SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context))
    for n, group in enumerate(groups):
        if n or group[0][1] > 0:
            yield '<tr><td class="gap" colspan="2">⋯</td></tr>'
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for s in a[i1:i2]:
                    yield f'<tr><td class="same">{escape(s)}</td><td class="same">{escape(s)}</td></tr>'
                continue
            olds, news = a[i1:i2], b[j1:j2]
            for k in range(max(len(olds), len(news))):
                o = olds[k] if k < len(olds) else ""
                w = news[k] if k < len(news) else ""
                if o and w and SequenceMatcher(None, o, w, autojunk=False).ratio() >= SIMILAR:
                    left, right = mark_pair(o, w)
                else:
                    left = f"<del>{escape(o)}</del>" if o else ""
                    right = f"<ins>{escape(w)}</ins>" if w else ""
                yield f'<tr><td class="old">{left}</td><td class="new">{right}</td></tr>'


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v.get("name") or v.get("url") or v) if isinstance(v, dict) else str(v) for v in value)
    return "" if value is None else str(value)


def _link(url: str) -> str:
    """An escaped link, or plain escaped text when the URL is not http(s)."""
    if urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{escape(url, quote=True)}" rel="noreferrer noopener">{escape(url)}</a>'
    return escape(url)


def change_html(
    row: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None, tz: tzinfo | None = None
) -> str:
    """One change as a `<section>`: headline, link, then the diff (or an excerpt for a new page)."""
    kind = row["kind"]
    out = [
        f'<section id="c{int(row["id"])}"><h2><span class="kind k-{escape(kind)}">{escape(kind)}</span>'
        f"{escape(row.get('title') or '（无标题）')}</h2>",
        f'<div class="meta">{escape(row["site"])} · {escape(local(row["detected_at"], tz))}'
        + (f" · {escape(', '.join(row['fields']))}" if row["fields"] else "")
        + f" · change #{int(row['id'])}</div><div>{_link(row['url'])}</div>",
    ]
    if kind == "new" or (old is None and new is not None):
        body = "\n".join(split_sentences(str(new.get("text") if new else ""))[:NEW_EXCERPT])
        out.append(f'<p class="excerpt">{escape(body) or "（无正文）"}</p>')
    elif kind == "removed":
        out.append("<p>The page is gone (404/410 or a soft 404 on two consecutive runs).</p>")
    elif old is not None and new is not None:
        out.append('<table class="diff"><tr><th>before</th><th>after</th></tr>')
        for name in META_FIELDS:
            if name in row["fields"]:
                left, right = mark_pair(_show(old.get(name)), _show(new.get(name)))
                out.append(
                    f'<tr><td class="old"><b>{name}</b>: {left}</td><td class="new"><b>{name}</b>: {right}</td></tr>'
                )
        out.extend(text_rows(str(old.get("text") or ""), str(new.get("text") or "")))
        out.append("</table>")
    elif row.get("diff"):
        out.append(f'<pre class="excerpt">{escape(row["diff"])}</pre>')
    out.append("</section>")
    return "\n".join(out)


def render(
    db: Database, rows: Sequence[dict[str, Any]], heading: str = "qmcrawler: changes", tz: tzinfo | None = None
) -> str:
    """The whole report page for these change rows (times in `tz`, default Asia/Shanghai)."""
    counts = Counter(r["kind"] for r in rows)
    generated = now_local(tz)
    toc = "\n".join(
        f'<li><span class="kind k-{escape(r["kind"])}">{escape(r["kind"])}</span>'
        f'<a href="#c{int(r["id"])}">{escape(r.get("title") or "（无标题）")}</a> '
        f'<span class="meta">{escape(r["site"])} · {escape(local(r["detected_at"], tz))}</span></li>'
        for r in rows
    )
    sections = "\n".join(
        change_html(r, queries.version(db, r["from_version"]), queries.version(db, r["to_version"]), tz) for r in rows
    )
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no changes"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(heading)}</title><style>{_CSS}</style></head>
<body><h1>{escape(heading)}</h1>
<p class="meta">{len(rows)} changes ({escape(summary)}) · generated {generated}</p>
<ul class="toc">{toc}</ul>
{sections}
</body></html>
"""


def write_report(
    db: Database,
    path: str | Path,
    since: str | None = None,
    site: str | None = None,
    relevant_only: bool = False,
    limit: int | None = 500,
    tz: tzinfo | None = None,
) -> int:
    """Write the report of the matching changes (newest first) to `path`; return how many."""
    rows = queries.changes(db, since=since, site=site, relevant_only=relevant_only, limit=limit)
    heading = "qmcrawler: changes" + (f" on {site}" if site else "") + (f" since {since}" if since else "")
    Path(path).write_text(render(db, rows, heading, tz), encoding="utf-8")
    return len(rows)
