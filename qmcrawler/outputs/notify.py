"""Change notifications through Apprise: one digest per target per run, delivery tracked per change.

Each Apprise URL (`qmcrawler.outputs.targets`: sites.toml, a URL file, env) is a target. A
change is pending for a target until a digest containing it was delivered there
(`notifications` table, keyed by a hash of the URL so no secret lands in the database). A
failed delivery is recorded and the same changes go out with the next digest: a notification
failure never loses a change. A target seen for the first time (a new or edited URL, such as a
rotated token) starts from the newest change (`notify_targets`); `backfill` sends it history.
JSON webhooks (`json://`, `jsons://`) also get the changes as structured objects.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from urllib.parse import urlsplit

import apprise
from apprise.plugins.custom_json import NotifyJSON
from sqlite_utils import Database

from qmcrawler.config import NotifyConfig
from qmcrawler.outputs.clock import local
from qmcrawler.outputs.targets import notify_urls
from qmcrawler.storage import queries
from qmcrawler.storage.writer import Store

log = logging.getLogger(__name__)
#: target key used by `--dry-run` when no URL is configured (nothing was ever delivered there)
PREVIEW = "preview"


class NotifyError(Exception):
    """Notifications cannot be sent at all (e.g. no URL configured); one-line message."""


@dataclass(frozen=True)
class Digest:
    """The message for one target: a title and a plain-text body."""

    title: str
    body: str
    change_ids: tuple[int, ...]
    #: one object per change (all of them, not cut at max_items), for JSON webhooks
    changes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class TargetResult:
    """What happened for one target: `message` is one line (the digest too on dry runs)."""

    target: str
    changes: int
    message: str
    error: str | None = None

    def __str__(self) -> str:
        return self.message


def target_key(url: str) -> str:
    """A stable key for a notification URL that does not reveal it (sha256 prefix)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def redact(url: str) -> str:
    """`scheme://host/…` without credentials, tokens or path, for logs and messages.

    Many schemes carry the token where a host would be (`dingtalk://TOKEN/`, `wecombot://KEY`):
    the host part is Apprise's privacy form of the URL (`dingtalk://a...6/…`), and only the
    scheme when Apprise cannot read the URL at all.
    """
    scheme = urlsplit(url).scheme
    plugin = _quiet_instantiate(url)
    if plugin is None:
        return f"{scheme}://…"
    parts = urlsplit(str(plugin.url(privacy=True)))
    host = parts.netloc.rpartition("@")[2]
    return f"{scheme}://{host}/…"


def _quiet_instantiate(url: str) -> Any:
    """Apprise's notifier for `url`, or None; Apprise's own log lines (they quote tokens) silenced."""
    apprise_log = logging.getLogger("apprise")
    was = apprise_log.disabled
    apprise_log.disabled = True
    try:
        return apprise.Apprise.instantiate(url)
    finally:
        apprise_log.disabled = was


#: the keys of each structured change (UTC times, as in `changes --json`)
PAYLOAD_KEYS = ("id", "url", "site", "kind", "fields", "title", "detected_at", "diff", "is_relevant", "cause")


def build_digest(rows: Sequence[dict[str, Any]], cfg: NotifyConfig, tz: tzinfo | None = None) -> Digest:
    """The digest of some changes: counts in the title; title, fields, local time, diff excerpt and link per change."""
    counts = Counter(r["kind"] for r in rows)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    title = f"qmcrawler: {len(rows)} change{'s' if len(rows) != 1 else ''} ({summary})"
    blocks = [_block(r, cfg.diff_chars, tz) for r in rows[: cfg.max_items]]
    if len(rows) > cfg.max_items:
        blocks.append(f"… and {len(rows) - cfg.max_items} more: python -m qmcrawler report -o report.html")
    changes = tuple({k: r.get(k) for k in PAYLOAD_KEYS} for r in rows)
    return Digest(title, "\n\n".join(blocks), tuple(int(r["id"]) for r in rows), changes)


def _block(row: dict[str, Any], limit: int, tz: tzinfo | None) -> str:
    lines = [
        f"[{row['kind']}] {row.get('title') or '（无标题）'}",
        f"{row['site']} · {local(row['detected_at'], tz)}"
        + (f" · {', '.join(row['fields'])}" if row["fields"] else ""),
    ]
    excerpt = diff_excerpt(row.get("diff") or "", limit) if row["kind"] != "new" else ""
    if excerpt:
        lines.append(excerpt)
    lines.append(row["url"])
    return "\n".join(lines)


def diff_excerpt(diff: str, limit: int = 300) -> str:
    """The informative lines of a stored diff (`?` marks, else `-`/`+`), cut to `limit` characters."""
    lines = diff.splitlines()
    marked = [line for line in lines if line.startswith("?")]
    if not marked:
        marked = [line for line in lines if line[:1] in "-+"]
    out = ""
    for line in marked:
        if len(out) + len(line) + 1 > limit:
            room = limit - len(out) - 2
            if room > 10:
                out += line[:room] + "…\n"
            break
        out += line + "\n"
    return out.rstrip("\n")


def pending(
    db: Database, cfg: NotifyConfig, url: str | None, since: str | None = None, after: int = 0
) -> list[dict[str, Any]]:
    """Changes not yet delivered to `url` (all matching changes when `url` is None), with ids above `after`."""
    key = target_key(url) if url else PREVIEW
    return queries.pending_notifications(
        db, key, list(cfg.kinds), relevant_only=cfg.only_relevant, since=since, after=after
    )


def notifier(url: str) -> tuple[apprise.Apprise | None, str | None]:
    """Apprise with the one notifier `url` describes, as a send builds it; else a one-line error.

    Apprise parses the URL and instantiates its plugin, which checks the plugin's required parts
    (a DingTalk token, a Telegram chat id …): `--dry-run` uses this too, so it accepts exactly
    the URLs a real send accepts.
    """
    plugin = _quiet_instantiate(url)  # Apprise logs why, but its reasons quote tokens: not shown
    if plugin is None:
        reason = "unknown scheme, or a required part such as the token is missing or malformed"
        return None, f"{redact(url)}: not a usable Apprise URL ({reason})"
    ap = apprise.Apprise()
    ap.add(plugin)
    return ap, None


def send(url: str, digest: Digest) -> str | None:
    """Deliver one digest through Apprise; None when delivered, else a one-line error.

    A JSON webhook's body is Apprise's (`version`, `title`, `message`, `type`) plus `changes`:
    the structured changes, through the plugin's payload extras (what `json://…?:key=value` sets).
    """
    ap, error = notifier(url)
    if ap is None:
        return error
    for plugin in ap:
        if isinstance(plugin, NotifyJSON):
            plugin.payload_extras["changes"] = list(digest.changes)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
        ok = ap.notify(title=digest.title, body=digest.body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    details = [line.strip() for line in str(captured.getvalue()).splitlines() if line.strip()]
    return f"{redact(url)}: delivery failed" + (f": {details[-1][:200]}" if details else "")


def register_targets(db: Database, cfg: NotifyConfig) -> None:
    """Remember every configured target that is new, starting after the newest change (scheduler start)."""
    store = Store(db)
    for url in notify_urls(cfg):
        store.add_target(target_key(url))


def send_pending(
    db: Database,
    cfg: NotifyConfig,
    dry_run: bool = False,
    since: str | None = None,
    backfill: bool = False,
    tz: tzinfo | None = None,
) -> Iterator[TargetResult]:
    """Send each target its digest of pending changes; yield what happened per target.

    A target never seen before starts after the newest change (nothing of the backlog), unless
    `backfill`. A dry run validates each URL like a send, and registers and marks nothing.
    """
    urls = notify_urls(cfg)
    if not urls and not dry_run:
        raise NotifyError(
            "no notification URLs: add [notify] urls = [...] (or urls_file) to sites.toml, or set QMC_NOTIFY_URLS"
        )
    store = Store(db)
    for url in urls or (None,):
        name = redact(url) if url else "(no URL configured)"
        after = 0
        if url is not None:
            _, error = notifier(url)
            if error:
                yield TargetResult(name, 0, error, error)
                continue
            start = queries.target_start(db, target_key(url))
            if start is None:
                start = queries.last_change_id(db) if dry_run else store.add_target(target_key(url))
            after = 0 if backfill else start
        rows = pending(db, cfg, url, since, after)
        if not rows:
            earlier = len(pending(db, cfg, url, since)) if after else 0
            hint = (
                f" ({earlier} earlier change(s) before this target was added: --backfill sends them)" if earlier else ""
            )
            yield TargetResult(name, 0, f"{name}: nothing to send{hint}")
            continue
        digest = build_digest(rows, cfg, tz)
        if dry_run or url is None:
            yield TargetResult(
                name, len(rows), f"{name}: would send {len(rows)} change(s)\n{digest.title}\n\n{digest.body}"
            )
            continue
        error = send(url, digest)
        store.mark_notified(list(digest.change_ids), target_key(url), error)
        if error:
            log.error("notify %s (will retry with the next digest)", error)
            yield TargetResult(name, len(rows), f"{error}; {len(rows)} change(s) kept for the next digest", error)
        else:
            yield TargetResult(name, len(rows), f"{name}: sent {len(rows)} change(s)")
