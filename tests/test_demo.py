"""`make demo` end to end: the bundled sites give exactly the changes qmcrawler/demo/README.md promises."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, run_crawl
from qmcrawler.storage import open_db, queries

README = PROJECT_ROOT / "README.md"
#: the README block that shows what `make demo` prints (between this heading and the next ``` fence)
README_MARK = "The database is left in `demo.db`:\n\n```\n"


def _normalize(text: str) -> list[str]:
    """Lines of demo output with what varies per run made constant: seconds, times, the port."""
    text = re.sub(r"\d+\.\d s;", "S s;", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d", "TIME", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+/", "http://127.0.0.1:PORT/", text)
    # changes found by one crawl get their ids in download order, which varies: compare them as a set
    text = re.sub(r"^#\d+ ", "#N ", text, flags=re.M)
    return sorted(text.rstrip("\n").split("\n\n"))


@pytest.mark.timeout(300)  # three crawls and the README's queries; slow on a shared 2-core machine
def test_demo_reports_the_expected_changes(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.db"
    report = tmp_path / "demo-report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "qmcrawler.demo", "--db", str(db_path), "--report", str(report)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[3/3]" in proc.stdout
    assert "[-33-]{+34+}" in proc.stdout
    # the README shows exactly what the demo prints (up to seconds, times and the port)
    printed = proc.stdout.replace(str(db_path), "demo.db").replace(str(report), "demo-report.html")
    readme = README.read_text(encoding="utf-8")
    start = readme.index(README_MARK) + len(README_MARK)
    block = readme[start : readme.index("```\n", start)]
    if os.environ.get("QMC_README_UPDATE") == "1":  # regenerate: QMC_README_UPDATE=1 pytest tests/test_demo.py
        README.write_text(readme[:start] + printed.rstrip("\n") + "\n" + readme[start + len(block) :], "utf-8")
        block = printed
    assert _normalize(block) == _normalize(printed), (
        "README demo output is stale: run QMC_README_UPDATE=1 pytest tests/test_demo.py"
    )
    db = open_db(db_path, create=False)
    run1, run2, run3 = (r["id"] for r in reversed(queries.runs(db, limit=3)))

    def kinds(run: int) -> list[tuple[str, list[str]]]:
        return sorted((c["kind"], c["fields"]) for c in queries.changes(db, run_id=run, limit=None))

    first = queries.changes(db, run_id=run1, limit=None)
    assert len(first) == 18
    assert {c["kind"] for c in first} == {"new"}
    assert sum(c["is_relevant"] for c in first) == 14
    assert queries.run_outcomes(db, run2) == {"changed": 1, "new": 1, "noise_only": 3, "removed": 1, "unchanged": 13}
    second = kinds(run2)
    assert [k for k, _ in second] == ["changed", "new"]
    assert second[0][1] == ["title", "text"]
    assert queries.run_outcomes(db, run3) == {"removed": 1, "unchanged": 18}
    third = queries.changes(db, run_id=run3, limit=None)
    assert [c["kind"] for c in third] == ["removed"]
    assert third[0]["title"] == "质量发展局召开2018年全国“质量月”活动筹备工作会"
    # the counter-only page kept its single version, and its views were recorded per download
    company = queries.page(db, next(u for u in queries.known_urls(db, "company") if u.endswith("show-640.html")))
    assert company is not None
    assert len(queries.versions(db, company["id"])) == 1
    assert [f["views"] for f in reversed(queries.page_fetches(db, company["id"]))] == [21327, 21420, 21420]
    changed = next(c for c in queries.changes(db, run_id=run2, limit=None) if c["kind"] == "changed")
    assert changed["title"] == "关于开展2018年全国“质量月”活动的通知（更正）"  # the page's own full-width brackets
    assert json.dumps(changed["fields"]) == '["title", "text"]'
    db.close()
    # every `qmcrawler` example of the README's "Querying the data" works on the demo database
    for argv in _readme_queries(changed["url"]):
        ran = CliRunner().invoke(cli, [*argv, "--db", str(db_path)])
        assert ran.exit_code == 0, f"{argv}: {ran.output[-1500:]}"
        if argv[0] == "reprocess":  # the extractor is unchanged: nothing may change (issue 13)
            assert ": 0 changed by the extractor," in ran.stdout, ran.stdout


def _readme_queries(url: str) -> list[list[str]]:
    """The `python -m qmcrawler` lines of the README's "Querying the data" block, as argv lists.

    `URL` becomes a demo page, `[optional]` parts and `| pipes` are dropped, `--check` (which
    goes online) is left out.
    """
    readme = README.read_text(encoding="utf-8")
    start = readme.index("## Querying the data")
    block = readme[readme.index("```sh\n", start) + 6 : readme.index("```\n", readme.index("```sh\n", start) + 6)]
    out = []
    for line in block.splitlines():
        command = re.sub(r"\[[^\]]*\]", "", line.split("#")[0].split("|")[0])
        words = shlex.split(command)  # the README line as a shell reads it (quoted terms)
        if words[:3] != [".venv/bin/python", "-m", "qmcrawler"]:
            continue
        out.append([url if w == "URL" else w for w in words[3:]])
    assert len(out) >= 8, out
    return out


def test_demo_serve_keeps_the_sites_up_for_crawling_by_hand(tmp_path: Path) -> None:
    """`python -m qmcrawler.demo --serve`: the sample sites stay up, with a sites file that crawls them."""
    sites = tmp_path / "demo-sites.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmcrawler.demo", "--serve", "--port", "0", "--sites-out", str(sites)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.match(r"serving the sample sites \(day 1\) on (http://127\.0\.0\.1:\d+)/ ; wrote ", first)
        assert match, first + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        assert "{base}" not in sites.read_text(encoding="utf-8")
        assert match.group(1) in sites.read_text(encoding="utf-8")
        db_path = tmp_path / "mine.db"
        crawl = run_crawl(sites, db_path, settings=LOCAL_SETTINGS, timeout=120)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        db = open_db(db_path, create=False)
        assert len(queries.changes(db, limit=None)) == 18
        db.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _served(layer: list[str], sites: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """`qmcrawler.demo --serve` on `port`, and its lines up to the last one before it waits."""
    argv = [sys.executable, "-m", "qmcrawler.demo", "--serve", "--port", str(port), "--sites-out", str(sites), *layer]
    proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    while not (line := proc.stdout.readline()).rstrip().endswith("Ctrl-C stops."):
        assert line, lines
        lines.append(line.rstrip())
    return proc, lines


@pytest.mark.timeout(300)
def test_the_by_hand_walkthrough_finds_the_next_days_edits(tmp_path: Path) -> None:
    """Found by a walkthrough: the README's by-hand crawl of the next day found no edit (its pages were
    not due on the real clock a minute later); the next-day server now prints a crawl a day on."""
    db, sites = tmp_path / "mine.db", tmp_path / "demo-sites.toml"
    with socket.socket() as s:  # one port for both days, as the README's 8000: the same URLs
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for layer in ([], ["--next-day"]):
        server, lines = _served(layer, sites, port)
        try:
            crawl = next(shlex.split(line) for line in lines if "scrapy crawl site" in line)
            crawl[0] = sys.executable  # `.venv/bin/python` of a checkout
            crawl = [f"QMC_DB={db}" if arg == "QMC_DB=mine.db" else arg for arg in crawl] + ["-s", "LOG_LEVEL=ERROR"]
            done = subprocess.run(crawl, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    conn = open_db(db, create=False)
    try:
        kinds = dict(conn.execute("SELECT kind, count(*) FROM changes GROUP BY kind").fetchall())
    finally:
        conn.close()
    assert kinds.get("changed", 0) >= 1, kinds  # the day's correction
