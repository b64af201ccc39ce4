"""`python -m scrapy crawl site` on bad input: one line on stderr, exit 2, no traceback, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmcrawler.run.runner import run_crawl
from tests.conftest import Site

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("config_text", "sites", "message"),
    [
        (
            "[sites.a]\nstart_urls = ['http://127.0.0.1:9/']\narticles = ['x']\nfolow = ['y']\n",
            None,
            "[sites.a] key 'folow': unknown key",
        ),
        (
            "[sites.a]\nstart_urls = ['http://127.0.0.1:9/']\narticles = ['(']\n",
            None,
            "[sites.a] key 'articles': bad regex",
        ),
        ("[sites.a]\narticles = ['x']\n", None, "[sites.a] key 'start_urls': missing"),
        (
            "[sites.a]\nstart_urls = ['http://127.0.0.1:9/']\narticles = ['x']\n",
            "a,nope",
            "unknown site id 'nope' (known: a)",
        ),
        ("not toml [", None, "invalid TOML"),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, config_text: str, sites: str | None, message: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(config_text, encoding="utf-8")
    result = run_crawl(config, tmp_path / "qm.db", sites=sites, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert not (tmp_path / "qm.db").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("QMC_BATCH_SIZE=abc", "QMC_BATCH_SIZE must be a whole number, not 'abc'"),
        ("QMC_EXTRACT_WORKERS=-1", "QMC_EXTRACT_WORKERS must be >= 0, not '-1'"),
        ("QMC_RUN_PER_SITE=maybe", "QMC_RUN_PER_SITE must be true or false"),
        ("QMC_CONDITIONAL=maybe", "QMC_CONDITIONAL must be true or false"),
        ("QMC_MAX_ATTACHMENTS=x", "QMC_MAX_ATTACHMENTS must be a whole number, not 'x'"),
        ("QMC_RETRY_BACKOFF=x", "QMC_RETRY_BACKOFF must be a number, not 'x'"),
        ("DOWNLOAD_DELAY=x", "DOWNLOAD_DELAY must be a number, not 'x'"),
        ("ROBOTSTXT_OBEY=maybe", "ROBOTSTXT_OBEY must be true or false, not 'maybe'"),
    ],
)
def test_bad_setting_is_one_line_before_anything_starts(tmp_path: Path, setting: str, message: str) -> None:
    """Found by a walkthrough: these failed inside the reactor, as a traceback and exit 1."""
    key, value = setting.split("=", 1)
    result = run_crawl(ROOT / "sites.toml", tmp_path / "qm.db", settings={key: value}, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [f"error: {message}"]
    assert not (tmp_path / "qm.db").exists()


def test_an_unknown_spider_argument_is_one_line(tmp_path: Path) -> None:
    """Found by a walkthrough: `-a site=samr` (for `sites=`) was ignored and every site was crawled."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", "site=samr", "-s", f"QMC_DB={tmp_path / 'qm.db'}"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: unknown -a argument 'site' (known: config, sites)"]
    assert not (tmp_path / "qm.db").exists()


def test_missing_config_and_unusable_database(tmp_path: Path) -> None:
    missing = run_crawl(tmp_path / "nope.toml", tmp_path / "qm.db", timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.toml'}: config file not found"]
    bad_db = tmp_path / "bad.db"
    bad_db.write_bytes(b"not a database at all" * 50)
    result = run_crawl(ROOT / "sites.toml", bad_db, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot use database" in result.stderr
    assert bad_db.read_bytes() == b"not a database at all" * 50  # nothing lost


def test_env_vars_name_config_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "env.toml"
    config.write_text("[sites.a]\nstart_urls = ['http://127.0.0.1:9/']\narticles = ['x']\n", encoding="utf-8")
    monkeypatch.setenv("QMC_SITES", str(config))
    monkeypatch.setenv("QMC_DB", str(tmp_path / "env.db"))
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "site", "-s", "LOG_LEVEL=ERROR", "-s", "RETRY_TIMES=0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]  # the crawl ran; its one site failed (data, as 404s are)
    assert (tmp_path / "env.db").exists()  # env QMC_DB used, env QMC_SITES read (site `a` only)
    assert "a: none of its 1 download succeeded (first: http://127.0.0.1:9/: connection_refused)" in result.stderr


def test_crawl_ends_with_one_summary_line_not_the_stats_dump(site: Site) -> None:
    """Issue 13: no 111-line stats dump; one human line with the downloads and changes of the run."""
    result = site.crawl(LOG_LEVEL="INFO")
    lines = result.stderr.splitlines()
    assert "Dumping Scrapy stats" not in result.stderr
    summary = [line for line in lines if "[qmcrawler] INFO: run 1 finished:" in line]
    assert len(summary) == 1, result.stderr[-2000:]
    assert summary[0].endswith("; downloads: 5 new; changes: 5")
    assert lines.index(summary[0]) >= len(lines) - 3  # at the end: only Scrapy's "Spider closed" follows
    db = site.open_db()
    stats = json.loads(db.table("runs").get(1)["stats"])
    assert stats["qmcrawler/store/new"] == 5  # the stats are still kept, in runs.stats


def test_scrapys_start_up_listings_are_at_debug_not_info(site: Site) -> None:
    """The versions, enabled components and overridden settings were 70 of a small crawl's 80 INFO lines."""
    quiet = site.crawl(LOG_LEVEL="INFO").stderr
    for listing in (
        "Versions:",
        "Enabled addons:",
        "Enabled extensions:",
        "Enabled item pipelines:",
        "Overridden settings:",
    ):
        assert listing not in quiet, quiet[-3000:]
    assert " started (bot: qmcrawler)" in quiet  # Scrapy's first line stays
    assert len(quiet.splitlines()) <= 12, quiet[-3000:]
    loud = site.crawl(LOG_LEVEL="DEBUG").stderr
    assert "DEBUG: Enabled downloader middlewares:" in loud
    assert "DEBUG: Overridden settings:" in loud


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("DownloadConnectionRefusedError", "connection_refused"),
        ("CannotResolveHostError", "dns_error"),
        ("DownloadFailedError", "no_response"),
        ("ResponseDataLossError", "connection_lost"),
        ("UnsupportedURLSchemeError", "unsupported_scheme"),
        ("DownloadTimeoutError", "timeout"),
    ],
)
def test_scrapys_download_errors_have_short_reasons(error: str, reason: str) -> None:
    """Scrapy 2.19 wraps Twisted's errors; `fetches.reason` showed the class name (`DownloadConnectionRefusedError`)."""
    import scrapy.exceptions
    from scrapy import Request

    from spiders.responses import failure_reason

    exception = getattr(scrapy.exceptions, error)("boom")
    assert failure_reason(exception, Request("http://127.0.0.1:9/")) == (reason, None)
