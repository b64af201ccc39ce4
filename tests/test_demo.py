"""`make demo` end to end: the bundled sites give exactly the changes qmcrawler/demo/README.md promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from qmcrawler.run.runner import PROJECT_ROOT
from qmcrawler.storage import open_db, queries


def test_demo_reports_the_expected_changes(tmp_path: Path) -> None:
    db_path = tmp_path / "demo.db"
    proc = subprocess.run(
        [sys.executable, "-m", "qmcrawler.demo", "--db", str(db_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[3/3]" in proc.stdout
    assert "[-33-]{+34+}" in proc.stdout
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
