"""One `runs` row per site of a crawl process (QMC_RUN_PER_SITE): each row's stats and final status.

`schedule.py` crawls the sites due together in one process; each site still gets its own run
row, so its downloads, changes, removals (qmcrawler.storage.outage), status and summary line
are its own. The process's Scrapy stats (downloader counts, memory, times) are shared: every
row of the process carries them, with the site's own counters (`qmcrawler/store/*`,
`qmcrawler/revisit/*`, `qmcrawler/outage/*`) in place of the process totals, and
`qmcrawler/process/sites` naming the sites the numbers were shared with.

A site whose every download of the run failed or was blocked (its start page answered 500,
its host did not resolve, its robots.txt answered 5xx) could not be read at all: its run ends
`failed` with a one-line reason in `qmcrawler/site/error`, and the other sites' runs are not
touched by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from qmcrawler.storage.lastrun import FAILED_OUTCOMES
from qmcrawler.storage.runs import STORE_ERROR_STAT

#: why a site's run failed while the crawl process went on (one line)
SITE_ERROR_STAT = "qmcrawler/site/error"
#: the sites crawled by the same process, comma-separated (their rows share the process's stats)
PROCESS_SITES_STAT = "qmcrawler/process/sites"
_STORE = "qmcrawler/store/"
_REVISIT = "qmcrawler/revisit/"
_OUTAGE = "qmcrawler/outage/"


def site_stats(
    stats: Mapping[str, Any], site: str, sites: Sequence[str], outcomes: Mapping[str, int]
) -> dict[str, Any]:
    """The stats of one site's row: the process's, with the site's own counters in place of the totals.

    `outcomes` counts the site's stored downloads by outcome (`qmcrawler/store/<outcome>`).
    """
    others = {s for s in sites if s != site}
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if key.startswith(_STORE) and key != STORE_ERROR_STAT:
            continue  # the site's own counts follow
        if key.startswith((_REVISIT, _OUTAGE)) and key.removeprefix(_REVISIT).removeprefix(_OUTAGE).split("/")[0] in (
            others
        ):
            continue
        out[key] = value
    own = f"{_REVISIT}{site}/"
    for key in [k for k in out if k.startswith(own)]:
        out[_REVISIT + key[len(own) :]] = out[key]
    for outcome, n in outcomes.items():
        out[_STORE + outcome] = n
    out[PROCESS_SITES_STAT] = ",".join(sites)
    return out


def site_failure(db: Database, run_id: int, site: str) -> str | None:
    """Why a site's run failed when every one of its downloads failed or was blocked, else None."""
    marks = ", ".join("?" for _ in FAILED_OUTCOMES)
    row = db.execute(
        f"SELECT count(*), sum(CASE WHEN outcome IN ({marks}) THEN 1 ELSE 0 END) FROM fetches WHERE run_id = ?",  # noqa: S608
        [*FAILED_OUTCOMES, run_id],
    ).fetchone()
    total, failed = int(row[0] or 0), int(row[1] or 0)
    if not total or failed < total:
        return None
    first = db.execute(
        "SELECT url, reason, outcome FROM fetch_log WHERE run_id = ? ORDER BY fetched_at LIMIT 1", [run_id]
    ).fetchone()
    example = f" (first: {first[0]}: {first[1] or first[2]})" if first else ""
    return f"{site}: none of its {total} download{'s' if total != 1 else ''} succeeded{example}"


def process_runs(db: Database, pid: int, started_after: str) -> list[dict[str, Any]]:
    """The runs one crawl process wrote (runs.pid), started at or after `started_after` (ISO UTC), oldest first."""
    sql = "SELECT * FROM runs WHERE pid = ? AND started_at >= ? ORDER BY id"
    return [dict(r) for r in db.query(sql, [pid, started_after])]
