"""`queries.search` on both backends: the bigram index on SQLite, pg_trgm GIN through ILIKE on PostgreSQL.

Same versions, same order, same snippets on both; on PostgreSQL the trigram index answers
phrases of three characters or more (checked with EXPLAIN on a table large enough for the
planner to prefer it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.storage import open_db, pgsearch, queries
from qmcrawler.storage.writer import Store
from tests.conftest import db_target, pg_server
from tests.test_storage import URL, content, version

pytestmark = pytest.mark.both_backends

B_URL = "http://127.0.0.1/b.html"


def urls(db: Any, query: str, **kw: Any) -> list[str]:
    return [h["url"] for h in queries.search(db, query, **kw)]


def test_terms_short_queries_and_escapes(memdb: Any) -> None:
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version("以“加强市场监管 建设质量强国”为主题。QR码扫描，100％合格。"))
    content(store, run, version("食品安全监督抽检。a_b 与 axb。", title="其他通知"), url=B_URL)
    hits = queries.search(memdb, "质量强国")
    assert [h["url"] for h in hits] == [URL]
    assert "【质量强国】" in hits[0]["snippet"]
    assert urls(memdb, "抽检") == [B_URL]  # two characters: the bigram index (SQLite), a scan (PostgreSQL)
    assert urls(memdb, "检") == [B_URL]  # one character: the LIKE scan
    assert urls(memdb, "质量强国 抽检") == []  # every term must occur in the page
    assert urls(memdb, "抽检 其他通知") == [B_URL]  # one term in the title, one in the text
    assert urls(memdb, "qr码扫") == [URL]  # search ignores case
    assert urls(memdb, "qr码扫 100％合格") == [URL]
    assert urls(memdb, "码扫 qr") == [URL]  # every term, not only the one the index looks up
    assert urls(memdb, "a_b") == [B_URL]  # `_` is a character, not LIKE's wildcard
    assert urls(memdb, "x_b") == []
    assert urls(memdb, "1%0") == []
    assert urls(memdb, 'a"b') == []  # quotes cannot break the query
    assert urls(memdb, "a\\b") == []
    assert queries.search(memdb, "质量强国", limit=0) == []


def test_old_versions_and_order(memdb: Any) -> None:
    """Newest version first, current versions unless all are asked for."""
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    for n in range(3):
        content(store, run, version(f"第{n}篇讲质量月。", title=f"第{n}号"), url=f"http://127.0.0.1/{n}.html")
    content(store, run, version("第2篇讲质量月。改。", title="第2号"), url="http://127.0.0.1/2.html")
    assert [h["version_id"] for h in queries.search(memdb, "质量月", limit=1)] == [4]
    assert [h["version_id"] for h in queries.search(memdb, "第2号", all_versions=True)] == [4, 3]
    assert [h["version_id"] for h in queries.search(memdb, "第2号")] == [4]
    assert [h["version_id"] for h in queries.search(memdb, "讲质量月")] == [4, 2, 1]
    assert [h["version_id"] for h in queries.search(memdb, "讲质量月", all_versions=True)] == [4, 3, 2, 1]
    assert [h["version_id"] for h in queries.search(memdb, "第2篇讲质量月", all_versions=True)] == [4, 3]


def test_many_matches_are_read_newest_first_in_batches(memdb: Any) -> None:
    """More matches than one batch (pgsearch reads 64 versions, then 128, ...; so does the scan): none lost."""
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    memdb.begin()
    for n in range(300):
        content(store, run, version(f"第{n}条：质量月活动。", title=f"标题{n}"), url=f"http://127.0.0.1/{n}.html")
    memdb.conn.commit()
    every = queries.search(memdb, "质量月活动", limit=1000)
    assert [h["url"] for h in every] == [f"http://127.0.0.1/{n}.html" for n in reversed(range(300))]
    assert len(queries.search(memdb, "质量月活动", limit=100)) == 100
    assert urls(memdb, "质量月活动 第7条") == ["http://127.0.0.1/7.html"]  # found past the first batches
    short = [f"http://127.0.0.1/{n}.html" for n in reversed(range(300)) if "题7" in f"标题{n}"]
    assert urls(memdb, "题7", limit=1000) == short  # two characters: the scan, in windows, on PostgreSQL
    assert urls(memdb, "题7", limit=3) == short[:3]
    assert len(queries.search(memdb, "活动", limit=250)) == 250


def fill(db: Any) -> None:
    store = Store(db)
    run = store.begin_run("site", "demo")
    bodies = [
        "以“加强市场监管 建设质量强国”为主题。\n全国质量月活动于9月开展。",
        "食品安全监督抽检。\n抽检样品1200批次。",
        "质量强国建设纲要。\n质量月（更正）通知。",
        "Quality Month 2018：质量月。",
    ]
    for n, body in enumerate(bodies):
        content(store, run, version(body, title=f"通知{n}"), url=f"http://127.0.0.1/{n}.html")
    content(store, run, version(bodies[0].replace("9月", "10月"), title="通知0"), url="http://127.0.0.1/0.html")
    content(store, run, version(bodies[2], title="转载"), url="http://127.0.0.1/copy.html")


QUERIES = [
    "质量强国",
    "质量月",
    "抽检",
    "质量 月",
    "(更正)",
    "（更正）",
    "quality",
    "Month 2018",
    "9月",
    "10月开展",
    "无此词",
]


def untimed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "fetched_at"} for row in rows]


def test_same_results_and_order_on_both(tmp_path: Path, backend: str) -> None:
    """The same data, every query, both backends: identical rows (ids, order, snippets; not the fill's times)."""
    if backend == "sqlite":
        pytest.skip("compares both backends in one run")
    lite, pg = open_db(tmp_path / "qm.db"), open_db(db_target(backend, tmp_path))
    for db in (lite, pg):
        fill(db)
    for q in QUERIES:
        for every in (False, True):
            pg_rows, lite_rows = (untimed(queries.search(db, q, all_versions=every)) for db in (pg, lite))
            assert pg_rows == lite_rows, q
            assert pg_rows or not every or q in ("无此词", "(更正)", "（更正）"), q  # the fill stores unfolded text
    lite.close()
    pg.close()


def test_postgresql_search_uses_the_trigram_index(backend: str) -> None:
    """EXPLAIN: with 20,000 indexed versions a rare 3+ character term is a bitmap scan of the trigram index."""
    if backend == "sqlite":
        pytest.skip("PostgreSQL's plan")
    db = open_db(pg_server().new_database())
    db.execute(
        "INSERT INTO version_search (version_id, body) SELECT n, '第' || n || '段：各地市场监管部门组织质量宣传活动。' "
        "FROM generate_series(1, 20000) AS n"
    )
    db.execute("INSERT INTO version_search (version_id, body) VALUES (20001, '以质量强国为主题')")
    db.execute("VACUUM ANALYZE version_search")  # as autovacuum would: statistics, GIN pending list merged
    sql = pgsearch.hits_sql(all_versions=True)
    args = [pgsearch.like_pattern("质量强国"), 2**63 - 1, 64]
    plan = "\n".join(r["QUERY PLAN"] for r in db.query("EXPLAIN " + sql, args))
    assert "idx_version_search_trgm" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert [r["version_id"] for r in db.query(sql, args)] == [20001]
    db.close()


def test_search_command_prints_the_same_on_both(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    fill(db)
    db.close()
    out = CliRunner().invoke(cli, ["search", "--db", str(target), "质量 月"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "转载  [demo]",
        "    http://127.0.0.1/copy.html",
        "    【质量】强国建设纲要。",
        "通知0  [demo]",
        "    http://127.0.0.1/0.html",
        "    以“加强市场监管 建设【质量】强国”为主题。",
        "通知3  [demo]",
        "    http://127.0.0.1/3.html",
        "    Quality Month 2018：【质量】月。",
        "通知2  [demo]",
        "    http://127.0.0.1/2.html",
        "    【质量】强国建设纲要。",
    ]
    indexed = CliRunner().invoke(cli, ["search", "--db", str(target), "--json", "质量月 9月"])
    assert indexed.output == ""  # the current version of 0.html says 10月
    indexed = CliRunner().invoke(cli, ["search", "--db", str(target), "--json", "质量月 通知", "--all-versions"])
    assert [(r["version_id"], r["snippet"]) for r in map(json.loads, indexed.output.splitlines())] == [
        (6, "【质量月】（更正）通知。"),  # newest version first
        (5, "全国【质量月】活动于10月开展。"),
        (4, "Quality Month 2018：【质量月】。"),
        (3, "【质量月】（更正）通知。"),
        (1, "全国【质量月】活动于9月开展。"),
    ]


def test_characters_unicode61_does_not_keep_are_still_found(memdb: Any) -> None:
    """New Tai Lue vowels are letters to Python but separators to SQLite 3.40's unicode61: no bigram may vanish."""
    store = Store(memdb)
    run = store.begin_run("site", "demo")
    content(store, run, version("前言\u19b0质量\u19b0\u19b1后记。"))
    assert urls(memdb, "\u19b0质量") == [URL]  # the bigram 质 + vowel is the token 质 alone
    assert urls(memdb, "\u19b0\u19b1") == [URL]  # no token at all: scanned
    assert urls(memdb, "\u19b1质") == []
