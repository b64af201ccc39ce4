"""Whole-crawl fault tests: conditional requests (304s), SIGKILL at random moments, robots.txt policy."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qmcrawler.run.runner import PROJECT_ROOT, crawl_command
from tests.conftest import daily, db_target
from tests.consistency import check_consistent
from tests.faultweb import FAULT_SETTINGS, FAULTS, FaultWeb, serve

ARTICLE = (FAULTS / "day1" / "art" / "plain.htm").read_text(encoding="utf-8")
SITES = """[sites.many]
name = "大量页面"
start_urls = ["{base}/list/index.htm"]
allowed_domains = ["127.0.0.1"]
follow = ['/list/index_\\d+\\.htm$']
articles = ['/art/p\\d+\\.htm$']
max_list_pages = 1
"""


def make_site(root: Path, pages: int, routes: dict[str, object] | None = None) -> Path:
    """A list page linking `pages` distinct articles (generated from a fixture article)."""
    (root / "art").mkdir(parents=True)
    (root / "list").mkdir()
    links = "".join(f'<li><a href="/art/p{i}.htm">通知{i}</a></li>' for i in range(pages))
    (root / "list" / "index.htm").write_text(f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
    for i in range(pages):
        page = ARTICLE.replace("带会话参数的通知", f"第{i}号质量月通知").replace("一系列活动", f"{i + 10}项活动")
        (root / "art" / f"p{i}.htm").write_text(page, encoding="utf-8")
    (root / "_routes.json").write_text(json.dumps(routes or {}), encoding="utf-8")
    return root


@pytest.mark.both_backends
def test_second_crawl_with_validators_is_mostly_304_and_writes_nothing(tmp_path: Path, backend: str) -> None:
    root = make_site(tmp_path / "web", 60)
    with serve(tmp_path, [root], SITES, validators=True, db=db_target(backend, tmp_path)) as site:
        site.crawl()
        first = len(site.web.log)
        site.crawl()
        second = site.web.log[first:]
    share = sum(1 for r in second if r["status"] == 304) / len(second)
    assert share >= 0.95, share
    assert all(r["if_none_match"] for r in second if r["path"].startswith("/art/"))
    assert site.rows("SELECT count(*) AS n FROM versions")[0]["n"] == 60
    assert site.rows("SELECT outcome, count(*) AS n FROM fetches WHERE run_id = 2 GROUP BY outcome") == [
        {"outcome": "not_modified", "n": 60}
    ]


@pytest.mark.both_backends
def test_sigkill_at_random_moments_keeps_the_database_consistent(tmp_path: Path, backend: str) -> None:
    pages = 40
    routes = {f"/art/p{i}.htm": {"delay": 0.1} for i in range(pages)}
    root = make_site(tmp_path / "web", pages, routes)
    rng = random.Random(20180901)  # noqa: S311 - kill moments, not cryptography
    with serve(tmp_path, [root], SITES, db=db_target(backend, tmp_path)) as site:
        argv = crawl_command(site.config, site.db, settings=FAULT_SETTINGS)
        for _ in range(4):
            proc = subprocess.Popen(
                argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            time.sleep(rng.uniform(1.5, 5.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            if not isinstance(site.db, Path) or site.db.exists():
                check_consistent(site.db)
        site.crawl()
    assert check_consistent(site.db) == pages
    assert site.rows("SELECT count(*) AS n FROM pages")[0]["n"] == pages
    assert site.rows("SELECT count(*) AS n FROM changes WHERE kind != 'new'")[0]["n"] == 0


ROBOTS_SITES = """[sites.rules]
start_urls = ["{base}/art/p0.htm", "{base}/art/p1.htm", "{base}/art/p2.htm", "{base}/zt/p3.htm"]
articles = ['/(art|zt)/p\\d+\\.htm$']

[sites.html]
start_urls = ["{html}/zt/p0.htm"]
articles = ['/zt/p\\d+\\.htm$']

[sites.down]
start_urls = ["{down}/art/p1.htm"]
articles = ['/art/p\\d+\\.htm$']
"""


def test_f13_robots_rules_crawl_delay_html_and_5xx(tmp_path: Path) -> None:
    from qmcrawler.demo.miniweb import MiniWeb

    rules = make_site(tmp_path / "rules", 4)
    (rules / "zt").mkdir()
    (rules / "zt" / "p3.htm").write_text(ARTICLE, encoding="utf-8")
    (rules / "robots.txt").write_text("User-agent: *\nDisallow: /zt/\nCrawl-delay: 1\n", encoding="utf-8")
    html = make_site(tmp_path / "html", 1)
    (html / "zt").mkdir()
    (html / "zt" / "p0.htm").write_text(ARTICLE, encoding="utf-8")
    (html / "_routes.json").write_text(
        json.dumps(
            {
                "/robots.txt": {
                    "headers": {"Content-Type": "text/html"},
                    "body": "<html><body>Disallow: /zt/ 首页</body></html>",
                }
            }
        )
    )
    down = make_site(tmp_path / "down", 2)
    (down / "_routes.json").write_text(json.dumps({"/robots.txt": {"status": 503, "body": "busy"}}))
    with (
        MiniWeb([html]) as html_web,
        MiniWeb([down]) as down_web,
        serve(
            tmp_path, [rules], ROBOTS_SITES.replace("{html}", html_web.base).replace("{down}", down_web.base)
        ) as site,
    ):
        site.crawl(QMC_CONTACT="mailto:ops@example.org")
    assert "/zt/p3.htm" not in site.web.requests
    times = [r["time"] for r in site.web.log if r["path"].startswith("/art/")]
    assert len(times) == 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.9  # Crawl-delay: 1
    assert "contact: mailto:ops@example.org" in site.web.log[-1]["user_agent"]
    assert "/zt/p0.htm" in html_web.requests  # an HTML robots.txt is no rules
    assert set(down_web.requests) == {"/robots.txt"}  # 5xx (retried): the host is left alone this crawl
    failed = site.rows("SELECT url, reason FROM fetch_log WHERE outcome = 'failed' ORDER BY url")
    assert sorted((Path(f["url"]).name, f["reason"]) for f in failed) == [
        ("p1.htm", "robots_unreachable"),
        ("p3.htm", "robots_disallowed"),
    ]


@pytest.mark.timeout(120)
def test_a_host_that_refuses_robots_txt_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Nothing listens: robots.txt and the list page fail, each said in one line, and the run is failed."""
    from qmcrawler.run.runner import run_crawl

    config = tmp_path / "sites.toml"
    config.write_text(SITES.replace("{base}", "http://127.0.0.1:9"), encoding="utf-8")
    result = run_crawl(config, tmp_path / "qm.db", settings={**FAULT_SETTINGS, "RETRY_TIMES": "0"}, timeout=100)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    robots = [line for line in result.stderr.splitlines() if "[scrapy.downloadermiddlewares.robotstxt]" in line]
    assert len(robots) == 1, result.stderr[-3000:]
    assert "WARNING: robots.txt of 127.0.0.1:9 not downloaded (DownloadConnectionRefusedError: " in robots[0]
    assert robots[0].endswith("): no rules")
    assert "run 1 failed" in result.stderr
    assert "(first: http://127.0.0.1:9/list/index.htm: connection_refused)" in result.stderr, result.stderr[-3000:]


@dataclass
class Stop:
    """A crawl stopped by SIGINT: seconds from the signal to its exit, its exit code and stderr."""

    took: float
    returncode: int
    stderr: str


def interrupted(site: FaultWeb, settings: dict[str, str], asked: Callable[[list[str]], bool], wait: float = 0) -> Stop:
    """Crawl `site`, send SIGINT `wait` seconds after `asked(requests so far)` holds; how the crawl ended."""
    proc = subprocess.Popen(
        crawl_command(site.config, site.db, settings=settings),
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not asked(site.web.requests):
        assert time.monotonic() < deadline
        assert proc.poll() is None
        time.sleep(0.05)
    time.sleep(wait)
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, err = proc.communicate(timeout=60)
    return Stop(time.monotonic() - stopped, proc.returncode, err)


@pytest.mark.timeout(120)
def test_ctrl_c_during_a_retry_backoff_stops_at_once_and_sends_no_retry(tmp_path: Path) -> None:
    """The list page answers 503; its retry waits 30 s. SIGINT in that wait: the crawl ends in
    seconds, the page is not asked again, and its fetch says why (`stopped`), not a removal."""
    root = make_site(tmp_path / "web", 2, {"/list/index.htm": {"status": 503, "body": "busy"}})
    with serve(tmp_path, [root], SITES) as site:
        settings = {**FAULT_SETTINGS, "QMC_RETRY_BACKOFF": "30"}
        # the first try answered 503: the backoff runs
        stop = interrupted(site, settings, lambda requests: "/list/index.htm" in requests, wait=1)
        asked = site.web.requests.count("/list/index.htm")
    err = stop.stderr
    assert stop.took < 10, (stop.took, err[-3000:])  # it sat out the 30 s backoff, then downloaded again
    assert asked == 1, err[-3000:]
    assert stop.returncode == 1, err[-3000:]  # a stopped crawl exits 1
    assert site.rows("SELECT status FROM runs") == [{"status": "shutdown"}]
    assert site.rows("SELECT outcome, reason FROM fetches") == [{"outcome": "failed", "reason": "stopped"}]


@pytest.mark.timeout(180)
def test_ctrl_c_sends_no_request_still_queued_for_its_politeness_delay(tmp_path: Path) -> None:
    """30 articles at DOWNLOAD_DELAY 1 s: SIGINT once the first is asked for. The requests waiting in
    the downloader's queue are not sent (they were: 16 more pages, 18 s); they read `stopped`, and
    the next crawl stores every article, none of them removed."""
    root = make_site(tmp_path / "web", 30)
    with serve(tmp_path, [root], SITES) as site:
        settings = {**FAULT_SETTINGS, "DOWNLOAD_DELAY": "1", "AUTOTHROTTLE_ENABLED": "True"}
        settings["QMC_NOW"], site.crawls = daily(site.start, 0), 1  # the first of a daily series
        stop = interrupted(site, settings, lambda requests: any(p.startswith("/art/") for p in requests))
        asked = sum(1 for path in site.web.requests if path.startswith("/art/"))
        assert stop.took < 6, (stop.took, stop.stderr[-3000:])
        assert asked <= 3, stop.stderr[-3000:]  # the one asked, and at most the next ones the delay let through
        assert stop.returncode == 1, stop.stderr[-3000:]
        assert site.rows("SELECT status FROM runs") == [{"status": "shutdown"}]
        outcomes = site.rows("SELECT outcome, reason, count(*) AS n FROM fetches GROUP BY 1, 2 ORDER BY 1")
        assert {(r["outcome"], r["reason"]) for r in outcomes} <= {("failed", "stopped"), ("new", None)}
        assert sum(r["n"] for r in outcomes if r["reason"] == "stopped") >= 10, outcomes
        site.crawl()  # exit 0, or it raises
    assert site.rows("SELECT count(*) AS n FROM versions") == [{"n": 30}]
    assert site.rows("SELECT count(*) AS n FROM changes WHERE kind = 'removed'") == [{"n": 0}]
