"""Per-fold scores of qmcrawler's extractor on the dev corpus, to check that a rule generalizes.

    .venv/bin/python bench/extraction_folds.py ../shared/eval/dev
    .venv/bin/python bench/extraction_folds.py ../shared/eval/dev --folds 5 --records out.json

Pages of the `zh` split go to fold `sha1(page id) % N` (stable, independent of the rules), so a
change can be tuned on N-1 folds and checked on the one kept out, in rotation. One table is
printed: a row per fold, the whole split, and `zh_aux` (not tuned to: a regression check).
`extract(html, url).to_dict()` is scored as `score.py qmcrawler.extraction:extract` scores it,
with the shared scorer's own functions (`--scorer`), so the metrics match it exactly.
`--records` writes the per-page records, to diff two runs page by page.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.extraction import _fmt, load_scorer, qmcrawler_text  # noqa: E402


def fold_of(page_id: str, folds: int) -> int:
    """The stable fold of a page: its id's SHA-1 modulo the number of folds."""
    return int(hashlib.sha1(page_id.encode("utf-8"), usedforsecurity=False).hexdigest(), 16) % folds


def render(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One markdown table: body, shingle, title, date and author scores and empty bodies per row."""
    head = ["pages", "set", "F1", "shingle F1", "title exact", "date (n)", "author (n)", "empty body"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in rows:
        cells = [
            str(s["pages"]),
            name,
            _fmt(s.get("f1")),
            _fmt(s.get("shingle_f1")),
            _fmt(s.get("title_exact")),
            f"{_fmt(s.get('date_match'))} ({s.get('date_match_n', 0)})",
            f"{_fmt(s.get('author_match'))} ({s.get('author_match_n', 0)})",
            str(s.get("empty_outputs", 0)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="folder holding the zh/ (and zh_aux/) splits")
    ap.add_argument("--scorer", type=Path, default=REPO / ".." / "shared" / "eval" / "score.py")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--records", type=Path, help="write per-page records (JSON) here")
    args = ap.parse_args(argv)
    scorer = load_scorer(args.scorer.resolve())
    corpus = args.corpus.resolve()
    pages = scorer.load_pages(str(corpus), "zh")
    if not pages:
        raise SystemExit(f"no zh pages under {corpus}")
    records, _failures, seconds = scorer.evaluate_split(qmcrawler_text, pages, 60.0, None, 4, False)
    rows = []
    for k in range(args.folds):
        fold = [r for r in records if fold_of(r["id"], args.folds) == k]
        rows.append((f"zh fold {k}", scorer.summarize(fold, 0.0)))
    rows.append(("zh (all)", scorer.summarize(records, seconds)))
    aux = scorer.load_pages(str(corpus), "zh_aux")
    aux_records: list[dict[str, Any]] = []
    if aux:
        aux_records, _f, aux_s = scorer.evaluate_split(qmcrawler_text, aux, 60.0, None, 4, False)
        rows.append(("zh_aux", scorer.summarize(aux_records, aux_s)))
    print(render(rows))
    if args.records:
        args.records.write_text(json.dumps(records + aux_records, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
