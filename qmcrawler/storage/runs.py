"""The run log: `runs` rows opened and closed by a crawl (or by the supervisor for it), and notification deliveries."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from qmcrawler.storage.records import utcnow


class RunLog:
    """Writes `runs` and `notifications` rows; each call is one transaction."""

    db: Database

    def begin_run(self, spider: str, sites: str) -> int:
        """Insert a `runs` row with status `running`; return its id."""
        with self.db.atomic():
            table = self.db.table("runs")
            table.insert(
                {
                    "spider": spider,
                    "sites": sites,
                    "started_at": utcnow(),
                    "status": "running",
                    "stats": "{}",
                    "pid": os.getpid(),
                }
            )
            return int(table.last_pk or 0)

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any]) -> None:
        """Close a run with its final status and stats."""
        with self.db.atomic():
            self.db.table("runs").update(
                run_id,
                {
                    "finished_at": utcnow(),
                    "status": status,
                    "stats": json.dumps(dict(stats), ensure_ascii=False, default=str),
                },
            )

    def fail_run(
        self,
        run_id: int | None,
        status: str,
        stats: Mapping[str, Any],
        spider: str = "site",
        sites: str = "",
        started_at: str | None = None,
    ) -> int:
        """Close a run the crawl could not close itself (crash, time limit); insert it if missing.

        `stats` are merged into the row's existing stats. Returns the run id.
        """
        with self.db.atomic():
            table = self.db.table("runs")
            if run_id is None:
                table.insert(
                    {
                        "spider": spider,
                        "sites": sites,
                        "started_at": started_at or utcnow(),
                        "finished_at": utcnow(),
                        "status": status,
                        "stats": json.dumps(dict(stats), ensure_ascii=False, default=str),
                    }
                )
                return int(table.last_pk or 0)
            old = json.loads(table.get(run_id)["stats"] or "{}")
            table.update(
                run_id,
                {
                    "finished_at": utcnow(),
                    "status": status,
                    "stats": json.dumps({**old, **stats}, ensure_ascii=False, default=str),
                },
            )
            return run_id

    def add_target(self, target: str) -> int:
        """Register a notification target starting after the newest change; return its start."""
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO notify_targets (target, added_at, from_change) "
                "SELECT ?, ?, COALESCE(MAX(id), 0) FROM changes",
                [target, utcnow()],
            )
            row = next(iter(self.db.query("SELECT from_change FROM notify_targets WHERE target = ?", [target])))
            return int(row["from_change"])

    def mark_notified(self, change_ids: list[int], target: str, error: str | None = None) -> None:
        """Record one delivery attempt of these changes to a target: sent, or failed with `error`."""
        now = utcnow()
        status = "failed" if error else "sent"
        with self.db.atomic():
            for change_id in change_ids:
                self.db.execute(
                    "INSERT INTO notifications (change_id, target, status, attempts, last_error, "
                    "first_tried_at, sent_at) VALUES (?, ?, ?, 1, ?, ?, ?) "
                    "ON CONFLICT (change_id, target) DO UPDATE SET status = excluded.status, "
                    "attempts = attempts + 1, last_error = excluded.last_error, sent_at = excluded.sent_at",
                    [change_id, target, status, error, now, None if error else now],
                )
