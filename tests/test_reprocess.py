"""reprocess re-extracts stored raw HTML; what the extractor changes is marked, not a page change."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

import qmcrawler.cli.reprocess as reprocess_module
from qmcrawler.cli.main import cli
from qmcrawler.cli.reprocess import reprocess_db
from qmcrawler.extraction import extract
from qmcrawler.extraction.article import Article
from qmcrawler.monitor.content import content_fields, content_hash
from qmcrawler.storage import open_db, queries
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store
from tests.conftest import daily, db_target
from tests.dbtools import count

HTML = """<html><head><title>关于开展质量月活动的通知</title></head><body>
<h1>关于开展质量月活动的通知</h1>
<div class="content"><p>为推动高质量发展，市场监管总局联合有关部门开展全国质量月活动。</p>
<p>今年活动的主题是建设质量强国，各地要结合实际认真组织实施。</p></div></body></html>"""
URL = "http://127.0.0.1/news/a1.html"

pytestmark = pytest.mark.both_backends


def store_page(db: Database, html: str = HTML) -> None:
    store = Store(db)
    article = extract(html, URL)
    fields = content_fields(article)
    run = store.begin_run("site", "demo")
    store.record(
        FetchRecord(
            url=URL,
            site="demo",
            kind="content",
            raw=html.encode(),
            encoding="utf-8",
            version={**fields, "is_relevant": True},
            content_hash=content_hash(fields),
        ),
        run,
    )


def test_same_extractor_changes_nothing(memdb: Database) -> None:
    store_page(memdb)
    result = reprocess_db(memdb)
    assert (result.pages, result.changed, result.skipped) == (1, 0, 0)
    assert count(memdb, "versions") == 1


def test_new_extractor_output_is_an_extractor_change(memdb: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    store_page(memdb)

    def better(html: str, url: str | None = None) -> Article:
        a = extract(html, url)
        return Article(title=a.title, text=a.text + "\n新的提取器多找到了一段。", publish_time=a.publish_time)

    monkeypatch.setattr(reprocess_module, "extract", better)
    assert reprocess_db(memdb).changed == 1
    assert reprocess_db(memdb).changed == 0  # idempotent
    page_changes = queries.changes(memdb)
    assert [c["kind"] for c in page_changes] == ["new"]  # not shown as a page change by default
    extractor = [c for c in queries.changes(memdb, include_extractor=True) if c["cause"] == "extractor"]
    assert len(extractor) == 1
    assert "+ 新的提取器多找到了一段。" in extractor[0]["diff"]
    assert count(memdb, "versions") == 2


def test_reprocess_command(tmp_path: Any, backend: str) -> None:
    path = str(db_target(backend, tmp_path))
    db = open_db(path)
    store_page(db)
    db.close()
    result = CliRunner().invoke(cli, ["reprocess", "--db", str(path), "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 0, result.output
    assert "reprocessed 1 pages: 0 changed by the extractor, 0 without raw HTML" in result.output


def test_changes_shows_extractor_changes_on_request(
    tmp_path: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(db_target(backend, tmp_path))
    db = open_db(path)
    store_page(db)
    other = Article(title="新标题", text="完全不同的正文内容，已经超过二十个字符了。")
    monkeypatch.setattr(reprocess_module, "extract", lambda html, url=None: other)
    reprocess_db(db)
    db.close()
    plain = CliRunner().invoke(cli, ["changes", "--db", str(path), "--json"])
    everything = CliRunner().invoke(cli, ["changes", "--db", str(path), "--json", "--include-extractor"])
    assert [json.loads(line)["cause"] for line in plain.output.splitlines()] == ["page"]
    assert [json.loads(line)["cause"] for line in everything.output.splitlines()] == ["extractor", "page"]


def test_reprocess_keeps_attachment_hashes_and_the_next_crawl_writes_nothing(tmp_path: Any, backend: str) -> None:
    """Issue 13: an unchanged extractor on a page with attachments must change nothing, then or later."""
    from qmcrawler.demo.__main__ import DAY1, HERE
    from qmcrawler.demo.miniweb import MiniWeb
    from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl

    db_path = db_target(backend, tmp_path, "demo.db")
    with MiniWeb(DAY1) as web:
        config = tmp_path / "sites.toml"
        config.write_text((HERE / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), "utf-8")

        def crawl(day: int) -> None:  # daily runs: the next day the stored pages are due again
            now = daily(datetime(2026, 9, 1, tzinfo=UTC), day)
            result = run_crawl(config, db_path, sites="samr", settings={**LOCAL_SETTINGS, "QMC_NOW": now}, timeout=120)
            assert result.returncode == 0, result.stderr[-3000:]

        crawl(0)
        db = open_db(db_path, create=False)
        with_files = [
            r
            for r in db.query("SELECT attachments FROM versions")
            if any(a.get("sha256") for a in json.loads(r["attachments"]))
        ]
        assert with_files, "the demo's samr notice has attachments with sha256"
        counts = (count(db, "versions"), count(db, "changes"))
        db.close()
        result = CliRunner().invoke(cli, ["reprocess", "--db", str(db_path), "--site", "samr", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "0 changed by the extractor" in result.output
        crawl(1)
    db = open_db(db_path, create=False)
    assert (count(db, "versions"), count(db, "changes")) == counts
    assert [r["outcome"] for r in db.query("SELECT DISTINCT outcome FROM fetches WHERE run_id = 2")] == ["unchanged"]
