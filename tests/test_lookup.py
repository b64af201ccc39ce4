"""Search and lookup on the demo database, through the real commands: qmcrawler, sqlite-utils.

The demo database is built on both backends (SQLite and PostgreSQL) and every qmcrawler
command gives the same answers on both; sqlite-utils reads only the SQLite one.

`search` takes whitespace-separated terms that must all occur, shows each page's status and one
line of the page's own text; `history`/`diff` take a page id or any URL form of the page and
print JSON with `--json`; output into a pipe is never cut to 80 columns.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from qmcrawler.run.runner import PROJECT_ROOT
from qmcrawler.storage.dialects import is_postgres_url
from tests.conftest import BACKENDS, pg_server

#: the module builds the demo database first (three crawls): slow on a loaded machine
pytestmark = pytest.mark.timeout(900)

SQLITE_UTILS = str(Path(sys.executable).parent / "sqlite-utils")
CORRECTED = "关于开展2018年全国“质量月”活动的通知（更正）"


def run(*args: str, ok: bool = True, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, cwd=PROJECT_ROOT)
    if ok:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def qmc(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "qmcrawler", *args, ok=ok)


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The `make demo` database (three crawls of the bundled sites): a file, or a PostgreSQL database."""
    tmp = tmp_path_factory.mktemp("demo")
    target = str(tmp / "demo.db") if request.param == "sqlite" else pg_server().new_database()
    demo_args = ("--db", target, "--report", str(tmp / "r.html"))
    run(sys.executable, "-m", "qmcrawler.demo", *demo_args, timeout=800)
    return target


def sqlite_only(demo: str) -> None:
    if is_postgres_url(demo):
        pytest.skip("sqlite-utils reads SQLite files")


def search(db: str, *args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in qmc("search", "--db", db, "--json", *args).stdout.splitlines()]


def test_search_terms_must_all_match(demo: str) -> None:
    both = search(demo, "质量月 2018")
    assert both  # the phrase "质量月 2018" occurs nowhere; both terms do
    titles = {str(r["title"]) for r in both}
    assert CORRECTED in titles
    assert "市场监管总局等21部门关于开展2022年全国“质量月”活动的通知" not in titles  # no 2018 in it
    assert {str(r["title"]) for r in search(demo, "2018 质量月")} == titles  # order does not matter
    assert search(demo, "质量月 没有这个词") == []
    assert search(demo, "（更正）") == search(demo, "(更正)")  # width folded like the index
    assert [r["title"] for r in search(demo, "（更正）")] == [CORRECTED]


def test_search_shows_status_and_one_line_snippets(demo: str) -> None:
    rows = search(demo, "质量月 筹备工作会")
    assert [(r["title"], r["status"]) for r in rows] == [("质量发展局召开2018年全国“质量月”活动筹备工作会", "removed")]
    out = qmc("search", "--db", demo, "质量月 筹备工作会").stdout.splitlines()
    assert out[0] == "质量发展局召开2018年全国“质量月”活动筹备工作会  [samr]  (removed)"
    assert len(out) == 3  # title, url, snippet: the snippet is one line
    assert "【" in out[2]
    assert "，" in out[2]  # the page's own comma, not the folded one
    short = search(demo, "抽检")  # two characters: a scan, same rules
    assert [r["title"] for r in short] == ["市场监管总局通报2023年上半年食品安全监督抽检情况"]
    for row in search(demo, "质量月", "--limit", "50"):
        assert "\n" not in str(row["snippet"])


def test_history_and_diff_accept_a_page_id_or_any_url_form(demo: str) -> None:
    page = json.loads(qmc("history", "--db", demo, "--json", "1").stdout)["page"]
    changed = json.loads(qmc("changes", "--db", demo, "--json", "--kind", "changed").stdout.splitlines()[0])
    url = changed["url"]
    noisy = url + "?utm_source=wechat&utm_medium=share#top"
    by_url = json.loads(qmc("history", "--db", demo, "--json", noisy).stdout)
    by_id = json.loads(qmc("history", "--db", demo, "--json", str(changed["page_id"])).stdout)
    assert by_url == by_id
    assert by_url["page"]["url"] == url
    assert page["id"] == 1
    assert [v["title"] for v in by_url["versions"]][-1] == CORRECTED
    assert [c["kind"] for c in by_url["changes"]] == ["new", "changed"]
    diff = json.loads(qmc("diff", "--db", demo, "--json", noisy).stdout)
    assert (diff["from"]["n"], diff["to"]["n"], diff["fields"]) == (1, 2, ["title", "text"])
    assert "[-33-]{+34+}" in diff["diff"]
    assert f"+ title: {CORRECTED}" in diff["diff"]
    missing = qmc("history", "--db", demo, "http://127.0.0.1/nope.html", ok=False)
    assert (missing.returncode, missing.stderr.strip()) == (1, "Error: http://127.0.0.1/nope.html: not in the database")


def test_output_into_a_pipe_is_not_cut_to_80_columns(demo: str) -> None:
    changed = json.loads(qmc("changes", "--db", demo, "--json", "--kind", "changed").stdout.splitlines()[0])
    out = qmc("history", "--db", demo, changed["url"]).stdout
    row = next(line for line in out.splitlines() if CORRECTED in line)
    assert len(row) > 80
    assert "…" not in row  # the table cell is whole
    diff = qmc("diff", "--db", demo, changed["url"]).stdout
    assert any(len(line) > 80 and "34个部门共同组织开展。" in line for line in diff.splitlines())


def test_sqlite_utils_reads_the_bigram_index_with_plain_sql(demo: str) -> None:
    sqlite_only(demo)
    tables = json.loads(run(SQLITE_UTILS, "tables", demo, "--fts5").stdout)
    assert {"table": "search_grams"} in tables
    base = "select distinct p.site, v.title from pages p join versions v on v.id = p.current_version "
    scanned = json.loads(run(SQLITE_UTILS, demo, base + "where v.text like '%质量强国%' order by v.title").stdout)
    indexed = (
        "select distinct p.site, v.title from search_grams g join versions v on v.id = g.rowid "
        "join pages p on p.current_version = v.id where search_grams match '质量 AND 量强 AND 强国' "
        "and v.text like '%质量强国%' order by v.title"
    )
    assert json.loads(run(SQLITE_UTILS, demo, indexed).stdout) == scanned
    assert {"site": "samr", "title": CORRECTED} in scanned
    assert len(scanned) >= 5


def _readme_commands() -> list[list[str]]:
    """The lookup commands of the README's "Querying the data" section, as argument lists."""
    section = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split("## Querying the data", 1)[1]
    section = section.split("\n## ", 1)[0]
    lines: list[str] = []
    for block in section.split("```sh\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            if line.startswith("  ") and lines:
                lines[-1] += " " + line.strip()  # a continued command
            else:
                lines.append(line)
    wanted = ("qmcrawler history", "qmcrawler diff", "qmcrawler search", "sqlite-utils")
    return [shlex.split(line, comments=True) for line in lines if any(w in line for w in wanted)]


def test_readme_lookup_examples_run(demo: str) -> None:
    commands = _readme_commands()
    assert len(commands) >= 8
    changed = json.loads(qmc("changes", "--db", demo, "--json", "--kind", "changed").stdout.splitlines()[0])
    tools = {".venv/bin/python": sys.executable, ".venv/bin/sqlite-utils": SQLITE_UTILS}
    for argv in commands:
        if is_postgres_url(demo) and "sqlite-utils" in argv[0]:
            continue  # the README's sqlite-utils examples read the file
        args = [tools.get(a, a) for a in argv]
        args = [demo if a == "qm.db" else changed["url"] if a == "URL" else a for a in args]
        if "history" in args and "--json" in args:  # the README's example page id
            args = [str(changed["page_id"]) if a.isdigit() else a for a in args]
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "QMC_DB": demo}
        )
        assert proc.returncode == 0, (argv, proc.stderr[-1000:])
        assert proc.stdout.strip(), argv
        assert "no matches" not in proc.stdout, argv
