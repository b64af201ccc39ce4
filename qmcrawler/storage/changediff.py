"""The diff of a `new` change is made when it is read, not stored (storage growth).

A `new` change's diff is every field of the version it introduces, `+` line by `+` line: the
whole text again, which was a fifth of a first crawl's bytes (`bench/peers.py`). The version
holds all of it, so `changes.diff` is NULL for `new` changes written since migration 0013
(`qmcrawler.storage.leanchanges` empties the old ones whose stored diff is the one made here) and
everything that reads changes puts the same text back: `qmcrawler.storage.queries` (the
`changes`, `history` and notification rows, hence `--json`, digests, the feed and the report),
and the Datasette plugin's `qmc_diff()` in the canned queries.

`diff_fields({}, version, fields)` over the stored row is exactly what the writer stored before;
a version's displayed text is rewritten in place only by `reprocess` (`_refresh_display`), and
that writes the diff out first (`materialize`), so a `new` change reads as it did when it was made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from qmcrawler.extraction.article import HASHED_FIELDS
from qmcrawler.monitor.diff import diff_fields

#: the version columns the diff of a `new` change is made from (`attachments` as stored, JSON)
COLUMNS = ("title", "text", "publish_time", "source", "author", "attachments")


def new_fields(version: Mapping[str, Any]) -> list[str]:
    """The fields a `new` change lists: the hashed fields the version has."""
    return [f for f in HASHED_FIELDS if version.get(f)]


def new_diff(version: Mapping[str, Any]) -> str:
    """The diff of the `new` change that introduced `version` (attachments decoded or as stored JSON)."""
    row = dict(version)
    if isinstance(row.get("attachments"), str):
        row["attachments"] = json.loads(row["attachments"] or "[]")
    return diff_fields({}, row, new_fields(row))


def shown(kind: str | None, diff: str | None, version: Mapping[str, Any] | None) -> str | None:
    """The diff people read: the stored one, or for a `new` change without one, made from its version."""
    if diff is not None or kind != "new" or version is None:
        return diff
    return new_diff(version)


def materialize(db: Database, version_id: int) -> None:
    """Store the diff of the `new` change of this version before its displayed text is rewritten."""
    rows = list(db.query("SELECT id FROM changes WHERE to_version = ? AND kind = 'new' AND diff IS NULL", [version_id]))
    if not rows:
        return
    cols = ", ".join(COLUMNS)
    version = next(iter(db.query(f"SELECT {cols} FROM versions WHERE id = ?", [version_id])))  # noqa: S608
    diff = new_diff(version)
    db.conn.executemany("UPDATE changes SET diff = ? WHERE id = ?", [(diff, r["id"]) for r in rows])
