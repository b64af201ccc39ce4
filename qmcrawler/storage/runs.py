"""The run log: `runs` rows opened and closed by a crawl (or by the supervisor for it), and notification deliveries."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from qmcrawler.storage.records import utcnow

#: the crawl stat holding the one line that says why the store failed (the crawl exits 1 with it)
STORE_ERROR_STAT = "qmcrawler/store/error"
#: the crawl stat naming the runs a SIGTERM or Ctrl-C closed before they finished (the crawl exits 1)
STOPPED_STAT = "qmcrawler/store/stopped"


_JSON: dict[str, Any] = {"ensure_ascii": False, "default": str}


class RunLog:
    """Writes `runs` and `notifications` rows; each call is one transaction."""

    db: Database

    def begin_run(self, spider: str, sites: str) -> int:
        """Insert a `runs` row with status `running`; return its id."""
        with self.db.atomic():
            row = self.db.execute(
                "INSERT INTO runs (spider, sites, started_at, status, stats, pid) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [spider, sites, utcnow(), "running", "{}", os.getpid()],
            ).fetchone()
            return int(row[0])

    def close_dead_runs(self, sites: Collection[str], locked: Collection[str] = ()) -> list[tuple[int, int | None]]:
        """Mark `killed` the `running` runs of these sites whose process is gone; return (id, pid) each.

        A crawl killed with SIGKILL (or the machine losing power) cannot close its run; when it
        was not started by the scheduler nobody else does. The next crawl of the same site holds
        the site's lock, so a `running` row of that site whose pid no longer exists is such a run.
        `finished_at` is its last download (or its start).

        `locked` are the sites whose database-wide lock this process holds (PostgreSQL: the lock
        is the server's, qmcrawler.storage.sitelocks). A crawl of such a site by any other process
        would hold that lock too, so another process's `running` run of it is dead whatever its
        pid: the pid may belong to another machine, where this one cannot look it up.
        """
        wanted, mine = set(sites), set(locked)
        dead = [
            (int(r["id"]), r["pid"])
            for r in self.db.query("SELECT id, sites, pid FROM runs WHERE status = 'running'")
            if wanted & set(run_sites := (r["sites"] or "").split(","))
            and r["pid"] != os.getpid()
            and (not _alive(r["pid"]) or bool(mine & set(run_sites)))
        ]
        if dead:
            with self.db.atomic():
                for run_id, _ in dead:
                    self.db.execute(
                        "UPDATE runs SET status = 'killed', finished_at = coalesce("
                        "(SELECT max(fetched_at) FROM fetches WHERE run_id = runs.id), started_at) WHERE id = ?",
                        [run_id],
                    )
        return dead

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any]) -> None:
        """Close a run with its final status and stats."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
                [utcnow(), status, json.dumps(dict(stats), ensure_ascii=False, default=str), run_id],
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
            if run_id is None:
                row = self.db.execute(
                    "INSERT INTO runs (spider, sites, started_at, finished_at, status, stats) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    [spider, sites, started_at or utcnow(), utcnow(), status, json.dumps(dict(stats), **_JSON)],
                ).fetchone()
                return int(row[0])
            old = json.loads(next(self.db.query("SELECT stats FROM runs WHERE id = ?", [run_id]))["stats"] or "{}")
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, stats = ? WHERE id = ?",
                [utcnow(), status, json.dumps({**old, **stats}, **_JSON), run_id],
            )
            return run_id

    def add_target(self, target: str) -> int:
        """Register a notification target starting after the newest change; return its start."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO notify_targets (target, added_at, from_change) "
                "SELECT ?, ?, COALESCE(MAX(id), 0) FROM changes WHERE true ON CONFLICT DO NOTHING",
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
                    "attempts = notifications.attempts + 1, last_error = excluded.last_error, "
                    "sent_at = excluded.sent_at",
                    [change_id, target, status, error, now, None if error else now],
                )


def _alive(pid: int | None) -> bool:
    """True if a process with this pid exists and is not a zombie (an exited child nobody waited for)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
