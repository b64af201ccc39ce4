"""How each site's last crawl went: when, its status, failed downloads and changes (`sites`, `schedule.py --list`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from qmcrawler.config import Site

#: fetch outcomes that are a failed download (the page was not read)
FAILED_OUTCOMES = ("failed", "blocked")
#: runs looked at, newest first, to find each site's last one
RECENT_RUNS = 500


@dataclass(frozen=True)
class LastRun:
    """One site's newest run."""

    run_id: int
    started_at: str
    finished_at: str | None
    status: str
    failed: int  # downloads of this site that failed or were blocked
    changes: int  # page changes of this site found by the run


def last_runs(db: Database, sites: Sequence[Site]) -> dict[str, LastRun]:
    """The newest run that crawled each site (by `runs.sites`), with that site's failures and changes.

    A run of several sites counts each download for the site whose page it is; a list page (no
    page row) for the site whose `start_urls`/`follow`/`articles` match its URL.
    """
    wanted = {s.id: s for s in sites}
    newest: dict[str, dict[str, object]] = {}
    for run in db.query(
        "SELECT id, sites, started_at, finished_at, status FROM runs ORDER BY id DESC LIMIT ?", [RECENT_RUNS]
    ):
        for site_id in str(run["sites"] or "").split(","):
            if site_id in wanted and site_id not in newest:
                newest[site_id] = dict(run)
        if len(newest) == len(wanted):
            break
    out = {}
    for site_id, run in newest.items():
        run_id = int(str(run["id"]))
        solo = str(run["sites"]) == site_id
        out[site_id] = LastRun(
            run_id=run_id,
            started_at=str(run["started_at"]),
            finished_at=str(run["finished_at"]) if run["finished_at"] else None,
            status=str(run["status"]),
            failed=_failed(db, run_id, wanted[site_id], solo),
            changes=site_changes(db, run_id, site_id),
        )
    return out


def _failed(db: Database, run_id: int, site: Site, solo: bool) -> int:
    marks = ", ".join("?" for _ in FAILED_OUTCOMES)
    rows = db.query(
        f"SELECT f.url, p.site FROM fetch_log f LEFT JOIN pages p ON p.id = f.page_id "  # noqa: S608
        f"WHERE f.run_id = ? AND f.outcome IN ({marks})",
        [run_id, *FAILED_OUTCOMES],
    )
    return sum(1 for row in rows if solo or _belongs(row["site"], row["url"], site))


def _belongs(page_site: str | None, url: str | None, site: Site) -> bool:
    if page_site is not None:
        return page_site == site.id
    return bool(url) and (url in site.start_urls or site.is_list(str(url)) or site.is_article(str(url)))


def summary(db: Database, run_id: int) -> str:
    """`downloads: 1 changed, 1 new, 3 noise_only …; changes: 2`: what one run did, in one line."""
    outcomes = db.query(
        "SELECT outcome, count(*) AS n FROM fetches WHERE run_id = ? GROUP BY outcome ORDER BY outcome", [run_id]
    )
    downloads = ", ".join(f"{r['n']} {r['outcome']}" for r in outcomes) or "none"
    return f"downloads: {downloads}; changes: {run_changes(db, run_id)}"


def run_changes(db: Database, run_id: int) -> int:
    """Page changes a run found (what `changes` lists for it)."""
    sql = "SELECT count(*) AS n FROM changes WHERE run_id = ? AND COALESCE(cause, 'page') = 'page'"
    return int(next(iter(db.query(sql, [run_id])))["n"])


def site_changes(db: Database, run_id: int, site: str) -> int:
    """Page changes a run found on one site's pages (a run of several sites counts each site's own)."""
    sql = (
        "SELECT count(*) AS n FROM changes c JOIN pages p ON p.id = c.page_id "
        "WHERE c.run_id = ? AND p.site = ? AND COALESCE(c.cause, 'page') = 'page'"
    )
    return int(next(iter(db.query(sql, [run_id, site])))["n"])
