"""The page's own text: versions keep `（更正）` and `，`; hashes, search and copies use the folded comparison form.

Databases written by extractor 1.2.0 stored the folded form as `title`/`text`. Their content
hashes must not move (a moved hash is a false change at the next crawl), and diffs between their
folded versions and the new ones must show only real edits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qmcrawler.demo.miniweb import MiniWeb
from qmcrawler.extraction import EXTRACTOR_VERSION, extract
from qmcrawler.monitor.content import content_fields, content_hash
from qmcrawler.monitor.diff import diff_text
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT, run_crawl
from qmcrawler.storage import open_db, queries
from qmcrawler.textnorm import comparison_form
from tests.conftest import db_target, pg_server
from tests.dbtools import opened, rows

#: crawls of the demo sites: slow on a loaded machine
pytestmark = pytest.mark.timeout(900)

DEMO = PROJECT_ROOT / "qmcrawler" / "demo"
#: content hashes of the fixture and demo pages as the current extractor computes them (folded
#: title/text). Pinned at 1.2.0 when versions began to keep the page's characters (the hashes did
#: not move); regenerated for 1.3.0, whose changes (authors from bylines, the body fallback) move
#: six of them on purpose; 1.4.0 moves fourteen demo pages on purpose (a department in
#: `<meta name=author>`, e.g. 质量发展局, is no longer the author: it stays the source). A change
#: of extraction that moves a hash must bump EXTRACTOR_VERSION (reprocess then reports it as
#: cause `extractor`) and regenerate: `python tests/test_page_chars.py`.
GOLDEN = Path(__file__).parent / "fixtures" / "content_hashes.json"
CORRECTED = "关于开展2018年全国“质量月”活动的通知（更正）"


def _html(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _hashes(rels: list[str]) -> dict[str, str]:
    out = {}
    for rel in rels:
        path = PROJECT_ROOT / rel
        out[rel] = content_hash(content_fields(extract(_html(path), "http://127.0.0.1/" + path.name)))
    return out


def test_content_hashes_move_only_with_the_extractor_version() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["extractor_version"] == EXTRACTOR_VERSION
    assert len(golden["hashes"]) > 30
    now = _hashes(list(golden["hashes"]))
    assert [rel for rel, h in golden["hashes"].items() if now[rel] != h] == []


def test_title_and_text_keep_full_width_comparison_form_folds() -> None:
    path = DEMO / "nextday" / "samr" / "xw" / "zj" / "art" / "2018" / "art_f250ed2a03c6ada6ea63910f1691ba09.html"
    article = extract(_html(path), "http://127.0.0.1/" + path.name)
    assert article.title == CORRECTED
    assert "，" in article.text
    assert "," not in article.text
    assert article.norm_title == "关于开展2018年全国“质量月”活动的通知(更正)"
    assert article.norm_text == comparison_form(article.text, t2s=False)


def test_diff_compares_folded_and_page_forms_alike() -> None:
    old = "今年活动围绕六个方面,共筹划安排了160项活动。各地要认真组织。"
    new = "今年活动围绕六个方面，共筹划安排了166项活动。各地要认真组织。"
    key = lambda s: comparison_form(s, t2s=False)  # noqa: E731
    shown = diff_text(old, new, key=key)
    assert "? …绕六个方面，共筹划安排了[-160-]{+166+}项活动。" in shown
    assert "[-,-]" not in shown
    assert "- 各地要认真组织" not in shown
    assert "[-,-]{+，+}" in diff_text(old, new)  # compared as stored, the width is an edit


#: the first crawl's day; the next crawl runs a day later, when the stored pages are due again
DAY0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def _crawl(config: Path, db_path: Path | str, day: int) -> int:
    now = (DAY0 + timedelta(days=day)).isoformat()
    result = run_crawl(config, db_path, settings={**LOCAL_SETTINGS, "QMC_NOW": now}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    db = open_db(db_path, create=False)
    run_id = int(queries.runs(db, limit=1)[0]["id"])
    db.close()
    return run_id


def _as_extractor_1_2_0(db_path: Path | str) -> None:
    """Rewrite the versions as extractor 1.2.0 stored them: the comparison form as title/text."""
    with opened(db_path) as db, db.atomic():
        for v in rows(db, "SELECT id, title, text, flags FROM versions"):
            t2s = "t2s_applied" in json.loads(v["flags"] or "[]")
            db.execute(
                "UPDATE versions SET title = ?, text = ?, extractor_version = '1.2.0' WHERE id = ?",
                [
                    comparison_form(v["title"], t2s) if v["title"] else v["title"],
                    comparison_form(v["text"], t2s),
                    v["id"],
                ],
            )


def _copy(source: Path | str, target_name: str) -> Path | str:
    """A copy of a database that no process has open: the file, or a database made from it as a template."""
    if isinstance(source, Path):
        target = source.with_name(target_name)
        shutil.copy(source, target)
        return target
    name = f"{source.rsplit('/', 1)[1]}_{target_name}"
    pg_server().admin(f"CREATE DATABASE {name} TEMPLATE {source.rsplit('/', 1)[1]}")
    return pg_server().url(name)


def _qmc(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "qmcrawler", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.both_backends  # a database copied from SQLite keeps 1.2.0's versions on PostgreSQL too
def test_database_of_extractor_1_2_0_keeps_working(tmp_path: Path, backend: str) -> None:
    fresh = db_target(backend, tmp_path, "fresh.db")
    with MiniWeb([DEMO / "site"]) as web:
        config = tmp_path / "sites.toml"
        config.write_text((DEMO / "sites.toml").read_text(encoding="utf-8").replace("{base}", web.base), "utf-8")
        _crawl(config, fresh, day=0)
        legacy = _copy(fresh, "legacy.db" if backend == "sqlite" else "legacy")
        _as_extractor_1_2_0(legacy)
        hashes = {r["id"]: r["content_hash"] for r in rows(legacy, "SELECT id, content_hash FROM versions")}
        assert "（" not in "".join(r["text"] for r in rows(legacy, "SELECT text FROM versions"))

        web.set_layers([DEMO / "site", DEMO / "nextday"])
        runs = {path: _crawl(config, path, day=1) for path in (fresh, legacy)}
    # the next crawl finds the same changes, with the same diff lines, in the old and the fresh database
    # (the old version's `-` lines are as 1.2.0 stored them; no line appears for width alone)
    found = {}
    for path, run_id in runs.items():
        db = open_db(path, create=False)
        found[path] = [
            (c["url"], c["kind"], c["fields"], comparison_form(c["diff"], t2s=False))
            for c in queries.changes(db, run_id=run_id)
        ]
        db.close()
    assert found[legacy] == found[fresh]
    db = open_db(legacy, create=False)
    changed = [c for c in queries.changes(db, run_id=runs[legacy]) if c["kind"] == "changed"]
    db.close()
    assert [c["fields"] for c in changed] == [["title", "text"]]
    assert f"+ title: {CORRECTED}" in changed[0]["diff"]
    assert "? title: …全国“质量月”活动的通知{+（更正）+}" in changed[0]["diff"]

    # reprocess (same raw HTML, new extractor): no change anywhere, the page's characters come back
    before = rows(legacy, "SELECT count(*) AS n FROM changes")[0]["n"]
    for site in ("company", "cjkb", "aqsiq"):  # (samr has attachments: its reprocess is another issue's)
        _qmc("reprocess", "--db", str(legacy), "--site", site)
    assert rows(legacy, "SELECT count(*) AS n FROM changes")[0]["n"] == before
    after = {r["id"]: r["content_hash"] for r in rows(legacy, "SELECT id, content_hash FROM versions")}
    assert {k: after[k] for k in hashes} == hashes
    current = "FROM versions v JOIN pages p ON p.current_version = v.id WHERE p.site = 'aqsiq'"
    texts = [r["text"] for r in rows(legacy, f"SELECT v.text {current}")]
    assert len(texts) == 3
    assert all("，" in t for t in texts)
    versions = rows(legacy, f"SELECT DISTINCT v.extractor_version AS e {current}")
    assert {r["e"] for r in versions} == {EXTRACTOR_VERSION}


if __name__ == "__main__":
    rels = list(json.loads(GOLDEN.read_text(encoding="utf-8"))["hashes"])
    data = {"extractor_version": EXTRACTOR_VERSION, "hashes": _hashes(rels)}
    GOLDEN.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
