"""Smoke test of bench/extraction.py on a tiny slice of the shared dev corpus (skipped without it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "eval" / "dev" / "zh"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared eval corpus not available")
def test_bench_tiny_prints_one_table() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "extraction.py"), str(CORPUS), "--tiny", "2"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows = [ln for ln in out.splitlines() if ln.startswith("| ")]
    assert rows[0].startswith("| extractor | pages | P | R | F1 | shingle F1 | title exact | date | pages/s")
    assert [r.split(" | ")[0] for r in rows[1:]] == [
        "| qmcrawler (text)",
        "| qmcrawler (norm_text)",
        "| readability-lxml",
        "| trafilatura",
    ]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared eval corpus not available")
def test_fold_bench_prints_one_row_per_fold() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "extraction_folds.py"), str(CORPUS.parent), "--folds", "3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    rows = [ln.split(" | ")[1] for ln in out.splitlines() if ln.startswith("| ") and not ln.startswith("| pages")]
    assert rows == ["zh fold 0", "zh fold 1", "zh fold 2", "zh (all)", "zh_aux"]
    assert sum(int(ln.split(" | ")[0][2:]) for ln in out.splitlines()[2:5]) == len(list(CORPUS.glob("*.json")))
