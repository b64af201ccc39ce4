"""Confirming removals when a crawl ends, site by site, or declaring a site outage instead.

During a crawl a page that is gone (404, 410, a soft 404) for the second run in a row only
becomes a removal candidate (`Store(defer_removals=True)`); when the crawl ends this module
looks at each site as a whole. When most of a site's known pages are gone in this one run
(qmcrawler.monitor.changes.is_site_outage: at least 5 pages and at least half), the site is
down or migrating, not deleting: those downloads become `blocked` with reason `site_outage`,
the pages `blocked`, and the run does not count towards their removal. Otherwise the
candidates seen gone twice in a row get their `removed` change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qmcrawler.monitor.changes import REMOVAL_CONFIRMATIONS, is_site_outage
from qmcrawler.storage.writer import Store

#: pages whose current content can be removed (not already removed, moved, or never stored)
_KNOWN = "site = ? AND current_version IS NOT NULL AND status IN ('live', 'blocked')"


@dataclass(frozen=True)
class Outage:
    """A site most of whose known pages were gone in one run."""

    site: str
    known: int
    gone: int

    @property
    def message(self) -> str:
        return (
            f"{self.site}: site outage: {self.gone} of {self.known} known pages answered 404/410 or a soft 404 "
            "in this run; logged as blocked (site_outage), nothing removed"
        )


def settle_removals(store: Store, run_id: int | None, sites: Sequence[str]) -> list[Outage]:
    """Write this run's confirmed removals, or undo its removal candidates where a site is down."""
    if run_id is None:
        return []
    db = store.db
    outages = []
    with db.atomic():
        for site in sites:
            known = db.execute(f"SELECT count(*) FROM pages WHERE {_KNOWN}", [site]).fetchone()[0]  # noqa: S608
            gone = [
                dict(r)
                for r in db.query(
                    f"SELECT id, current_version, missing_runs FROM pages WHERE {_KNOWN} AND last_missing_run = ?",  # noqa: S608
                    [site, run_id],
                )
            ]
            if is_site_outage(known, len(gone)):
                outages.append(Outage(site, known, len(gone)))
                for page in gone:
                    db.execute(
                        "UPDATE pages SET status = 'blocked', missing_runs = ?, last_missing_run = NULL WHERE id = ?",
                        [max(0, (page["missing_runs"] or 0) - 1), page["id"]],
                    )
                    db.execute(
                        "UPDATE fetches SET outcome = 'blocked', reason = 'site_outage' "
                        "WHERE run_id = ? AND page_id = ? AND outcome = 'removed'",
                        [run_id, page["id"]],
                    )
                continue
            for page in gone:
                if (page["missing_runs"] or 0) < REMOVAL_CONFIRMATIONS:
                    continue
                at = db.execute(
                    "SELECT max(fetched_at) FROM fetches WHERE run_id = ? AND page_id = ?", [run_id, page["id"]]
                ).fetchone()[0]
                db.execute("UPDATE pages SET status = 'removed' WHERE id = ?", [page["id"]])
                store._change(page["id"], run_id, "removed", page["current_version"], None, [], "", at)
    return outages
