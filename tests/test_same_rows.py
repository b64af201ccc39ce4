"""The same crawls into SQLite and into PostgreSQL store the same rows (ids and clock times aside).

The demo's sites (copies, attachments, a GBK page, edits and removals the next day) are
crawled on day 1 and day 2 into one database of each kind, then re-extracted by `reprocess`
with an extractor that reads titles differently; every table the write path fills is then
compared row for row, with page ids replaced by URLs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import qmcrawler.cli.reprocess as reprocess_module
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.extraction import extract
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, run_crawl
from qmcrawler.storage import open_db
from tests.conftest import daily, pg_server
from tests.dbtools import rows

DEMO = PROJECT_ROOT / "qmcrawler" / "demo"

#: each table the write path fills, without clock times or ids (pages by URL; run ids are 1, 2, 3... on both)
SNAPSHOT = {
    "pages": "SELECT url, site, status, missing_runs, etag, last_modified, last_raw_hash, "
    "last_missing_run, "
    "(SELECT count(*) FROM versions v WHERE v.page_id = pages.id) AS versions FROM pages",
    "versions": "SELECT p.url, v.content_hash, v.raw_hash, v.title, v.text, v.publish_time, v.source, v.author, "
    "v.editor, v.doc_date, v.attachments, v.is_relevant, v.flags, v.relevance, v.year, v.likely_mirror, "
    "v.simhash, c.url AS copy_of, v.extractor_version, v.id = p.current_version AS is_current, "
    "v.run_id FROM versions v JOIN pages p ON p.id = v.page_id "
    "LEFT JOIN pages c ON c.id = v.copy_of",
    "changes": "SELECT p.url, c.kind, c.fields, c.diff, c.cause, fv.content_hash AS old, tv.content_hash AS new, "
    "c.run_id FROM changes c JOIN pages p ON p.id = c.page_id "
    "LEFT JOIN versions fv ON fv.id = c.from_version LEFT JOIN versions tv ON tv.id = c.to_version",
    "fetches": "SELECT f.url, f.final_url, f.http_status, f.outcome, f.reason, f.raw_hash, f.encoding, f.views, "
    "f.flags, f.declared_encoding, f.run_id FROM fetch_log f",
    "raw": "SELECT hash, size, encoding, content FROM raw",
    "frontier": "SELECT p.url, f.site, f.priority, f.interval_s, f.checks, f.changes, f.reason "
    "FROM frontier f JOIN pages p ON p.id = f.page_id",
    "simhash_bands": "SELECT b.band, b.value, p.url, b.fingerprint, b.likely_mirror FROM simhash_bands b "
    "JOIN pages p ON p.id = b.page_id",
    "files": "SELECT url, sha256, size, type, name, http_status, etag, last_modified, truncated FROM files",
    "runs": "SELECT spider, sites, status FROM runs",
}


def snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as sorted tuples (floats as text: REAL and DOUBLE PRECISION print alike)."""
    out = {}
    for table, sql in SNAPSHOT.items():
        found = [tuple(str(v) if isinstance(v, float) else v for v in r.values()) for r in rows(db, sql)]
        out[table] = sorted(found, key=repr)
    return out


@pytest.mark.timeout(600)  # four crawls on a shared 2-core machine
def test_the_demo_crawled_into_sqlite_and_postgresql_stores_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets: dict[str, Path | str] = {"sqlite": tmp_path / "qm.db", "postgresql": pg_server().new_database()}
    with MiniWeb([DEMO / "site"]) as web:
        config = tmp_path / "sites.toml"
        config.write_text((DEMO / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), "utf-8")
        for day, layers in enumerate(([DEMO / "site"], [DEMO / "site", DEMO / "nextday"])):
            web.set_layers(layers)
            now = {"QMC_NOW": daily(datetime(2026, 9, 1, tzinfo=UTC), day)}
            for db in targets.values():
                result = run_crawl(config, db, settings={**LOCAL_SETTINGS, **now}, timeout=300)
                assert result.returncode == 0, result.stderr[-3000:]

    def retitled(html: str, url: str | None = None) -> Any:  # an extractor that reads titles differently
        article = extract(html, url)
        if not article.title:
            return article
        return replace(
            article, title="【新】" + article.title, norm_title="【新】" + (article.norm_title or article.title)
        )

    monkeypatch.setattr(reprocess_module, "extract", retitled)
    for db in targets.values():
        opened = open_db(db)
        try:
            assert reprocess_module.reprocess_db(opened).changed > 0
        finally:
            opened.close()

    sqlite, postgresql = (snapshot(db) for db in targets.values())
    assert sqlite["changes"], "the demo makes changes"
    assert {kind for _, kind, *_ in sqlite["changes"]} >= {"new", "changed"}
    assert any(cause == "extractor" for _, _, _, _, cause, *_ in sqlite["changes"])
    for table in SNAPSHOT:
        assert postgresql[table] == sqlite[table], table
