"""Multi-page articles (issue 14, class 7): a real crawl of a people.com.cn-style article over
`…-2.html`, `…-3.html` on the local mini-web; the pages are joined into one version."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qmcrawler.cli.reprocess import reprocess_db
from qmcrawler.crawl.pages import continuation_urls
from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.extraction import extract
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl
from qmcrawler.storage import open_db, queries
from tests.conftest import daily, db_target
from tests.dbtools import rows

FIXTURE = Path(__file__).parent / "fixtures" / "multipage"
ARTICLE = "/n1/2026/0901/c1004-40001111.html"
PAGE2 = "n1/2026/0901/c1004-40001111-2.html"
PAGE3 = "/n1/2026/0901/c1004-40001111-3.html"
DAY0 = datetime(2026, 9, 1, tzinfo=UTC)

pytestmark = pytest.mark.both_backends


@dataclass
class PagedWeb:
    web: MiniWeb
    root: Path
    tmp: Path
    config: Path
    db: Path | str
    crawls: int = 0

    def crawl(self) -> subprocess.CompletedProcess[str]:
        """One crawl, a day after the one before (QMC_NOW), when the stored article is due again."""
        now = daily(DAY0, self.crawls)
        self.crawls += 1
        result = run_crawl(self.config, self.db, settings={**LOCAL_SETTINGS, "QMC_NOW": now}, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def article(self) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """(versions, changes) of the article page."""
        db = open_db(self.db, create=False)
        try:
            page = queries.page(db, self.web.url(ARTICLE))
            assert page is not None
            return queries.versions(db, page["id"]), queries.page_changes(db, page["id"])
        finally:
            db.close()

    def fetch_outcomes(self) -> list[tuple[str, str | None]]:
        db = open_db(self.db, create=False)
        try:
            page = queries.page(db, self.web.url(ARTICLE))
            assert page is not None
            return [(f["outcome"], f["reason"]) for f in queries.page_fetches(db, page["id"])]
        finally:
            db.close()


@pytest.fixture
def paged(tmp_path: Path, backend: str) -> Iterator[PagedWeb]:
    root = tmp_path / "web"
    shutil.copytree(FIXTURE, root)
    with MiniWeb([root], validators=True) as web:  # ETag + 304: page 1 alone must not hide page 2
        config = tmp_path / "sites.toml"
        config.write_text((root / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), "utf-8")
        yield PagedWeb(web=web, root=root, tmp=tmp_path, config=config, db=db_target(backend, tmp_path))


def test_continuations_are_the_article_own_pages_only() -> None:
    base = "http://h.cn/n1/2026/0901/c1004-40001111"
    links = [
        f"{base}-3.html",
        f"{base}-2.html#top",
        "http://h.cn/n1/2026/0901/c1004-40001112.html",  # another article
        "http://other.cn/n1/2026/0901/c1004-40001111-2.html",  # another host
        "http://h.cn/n1/index_2.html",  # list pagination
        f"{base}-99.html",  # beyond the bound
    ]
    assert continuation_urls(f"{base}.html", links) == [f"{base}-2.html", f"{base}-3.html"]
    assert continuation_urls("http://a.gov.cn/x/t20240903_5.html", ["http://a.gov.cn/x/t20240903_5_2.html"]) == [
        "http://a.gov.cn/x/t20240903_5_2.html"
    ]


@pytest.mark.timeout(600)  # three crawls, each bounded by its own 180 s subprocess timeout
def test_pages_are_joined_and_an_edit_on_page_2_is_a_change(paged: PagedWeb) -> None:
    paged.crawl()
    versions, changes = paged.article()
    assert len(versions) == 1
    text = str(versions[0]["text"])
    assert text.startswith("今年9月")
    assert "检查企业8600家" in text  # page 2
    assert text.endswith("持续提升质量水平。")  # page 3
    assert "下一页" not in text
    assert [c["kind"] for c in changes] == ["new"]
    # the continuation pages are parts of the article, never pages of their own
    assert [p["url"] for p in rows(paged.db, "SELECT url FROM pages")] == [paged.web.url(ARTICLE)]

    paged.crawl()  # nothing changed: no new version
    assert len(paged.article()[0]) == 1

    old = (paged.root / PAGE2).read_text(encoding="utf-8")
    (paged.root / PAGE2).write_text(old.replace("检查企业8600家", "检查企业8700家"), encoding="utf-8")
    paged.crawl()
    versions, changes = paged.article()
    assert [c["kind"] for c in changes] == ["new", "changed"]
    diff = str(changes[-1]["diff"])
    assert "8700" in diff
    assert "8600" in diff
    assert "检查企业8700家" in str(versions[-1]["text"])

    db = open_db(paged.db, create=False)
    try:  # the stored raw body holds every page: re-extraction reads the same joined article
        assert reprocess_db(db).changed == 0
    finally:
        db.close()


@pytest.mark.timeout(400)  # two crawls
def test_a_failed_continuation_is_a_failed_fetch_not_a_shorter_version(paged: PagedWeb) -> None:
    paged.crawl()
    (paged.root / PAGE2).write_text((paged.root / PAGE2).read_text(encoding="utf-8") + " ", encoding="utf-8")
    paged.web.routes[PAGE3] = {"status": 503, "body": "busy"}
    paged.crawl()
    versions, changes = paged.article()
    assert len(versions) == 1
    assert [c["kind"] for c in changes] == ["new"]
    outcome, reason = paged.fetch_outcomes()[0]  # the latest fetch
    assert outcome == "failed"
    assert str(reason).startswith("page_incomplete")


def test_joined_article_keeps_page_1_metadata() -> None:
    pages = [(FIXTURE / ARTICLE.lstrip("/")).read_text(encoding="utf-8")]
    pages += [(FIXTURE / PAGE2).read_text(encoding="utf-8"), (FIXTURE / PAGE3.lstrip("/")).read_text(encoding="utf-8")]
    first = extract(pages[0])
    joined = first.joined(tuple(extract(p) for p in pages[1:]))
    assert (joined.title, joined.publish_time, joined.editor) == (first.title, first.publish_time, "王小明")
    assert joined.text.count("\n") == 5
    assert "multi_page" in joined.flags
