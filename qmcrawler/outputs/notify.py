"""Change notifications through Apprise: one digest per target per run, delivery tracked per change.

Each Apprise URL in `[notify] urls` is a target. A change is pending for a target until a digest
containing it was delivered there (`notifications` table, keyed by a hash of the URL so no
secret lands in the database). A failed delivery is recorded and the same changes go out with
the next digest: a notification failure never loses a change.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import apprise
from sqlite_utils import Database

from qmcrawler.config import NotifyConfig
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
    """`scheme://host/…` without credentials, tokens or path, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}/…"


def build_digest(rows: Sequence[dict[str, Any]], cfg: NotifyConfig) -> Digest:
    """The digest of some changes: counts in the title; title, fields, diff excerpt and link per change."""
    counts = Counter(r["kind"] for r in rows)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    title = f"qmcrawler: {len(rows)} change{'s' if len(rows) != 1 else ''} ({summary})"
    blocks = [_block(r, cfg.diff_chars) for r in rows[: cfg.max_items]]
    if len(rows) > cfg.max_items:
        blocks.append(f"… and {len(rows) - cfg.max_items} more: python -m qmcrawler report -o report.html")
    return Digest(title, "\n\n".join(blocks), tuple(int(r["id"]) for r in rows))


def _block(row: dict[str, Any], limit: int) -> str:
    lines = [
        f"[{row['kind']}] {row.get('title') or '（无标题）'}",
        f"{row['site']} · {row['detected_at']}" + (f" · {', '.join(row['fields'])}" if row["fields"] else ""),
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


def pending(db: Database, cfg: NotifyConfig, url: str | None, since: str | None = None) -> list[dict[str, Any]]:
    """Changes not yet delivered to `url` (all matching changes when `url` is None)."""
    key = target_key(url) if url else PREVIEW
    return queries.pending_notifications(db, key, list(cfg.kinds), relevant_only=cfg.only_relevant, since=since)


def send(url: str, digest: Digest) -> str | None:
    """Deliver one digest through Apprise; None when delivered, else a one-line error."""
    ap = apprise.Apprise()
    if not ap.add(url):
        return f"{redact(url)}: not a supported Apprise URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
        ok = ap.notify(title=digest.title, body=digest.body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    details = [line.strip() for line in str(captured.getvalue()).splitlines() if line.strip()]
    return f"{redact(url)}: delivery failed" + (f": {details[-1][:200]}" if details else "")


def send_pending(
    db: Database, cfg: NotifyConfig, dry_run: bool = False, since: str | None = None
) -> Iterator[TargetResult]:
    """Send each target its digest of pending changes; yield what happened per target."""
    if not cfg.urls and not dry_run:
        raise NotifyError("no notification URLs: add [notify] urls = [...] to sites.toml")
    store = Store(db)
    for url in cfg.urls or (None,):
        name = redact(url) if url else "(no URL configured)"
        rows = pending(db, cfg, url, since)
        if not rows:
            yield TargetResult(name, 0, f"{name}: nothing to send")
            continue
        digest = build_digest(rows, cfg)
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
