"""Benchmark qmcrawler's extractor against readability-lxml and trafilatura on a corpus folder.

    .venv/bin/python bench/extraction.py ../shared/eval/dev/zh
    .venv/bin/python bench/extraction.py ../shared/eval/dev/zh --tiny 5

The folder holds `<id>.html` + `<id>.json` pairs (the layout of shared/eval/dev/zh). Scoring
reuses the functions of the shared scorer (`--scorer`, default `../shared/eval/score.py`
relative to the repository root), imported by path, so the metrics match it exactly. One table
is printed; the last columns give qmcrawler's speed as a multiple of each other extractor's,
measured in the same run. Two qmcrawler rows are shown: `text` / `title` (the contract: the page
in its own script, which is what a script-preserving ground truth measures) and `norm_text` /
`norm_title` (the comparison form, gated t2s: traditional pages come out simplified).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qmcrawler.extraction import extract as qmc_extract  # noqa: E402

Extractor = Callable[[str, "str | None"], dict[str, Any]]


def load_scorer(path: Path) -> ModuleType:
    """Import the shared scorer from a file path."""
    spec = importlib.util.spec_from_file_location("qmc_bench_scorer", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import scorer {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def qmcrawler_text(html: str, url: str | None) -> dict[str, Any]:
    """qmcrawler, contract output (`text`, `title`: the page's own script)."""
    return qmc_extract(html, url).to_dict()


def qmcrawler_norm(html: str, url: str | None) -> dict[str, Any]:
    """qmcrawler, the comparison form `norm_text` / `norm_title` (score.py-compatible adapter)."""
    data = qmc_extract(html, url).to_dict()
    data["text"], data["title"] = data["norm_text"], data["norm_title"]
    return data


extract_norm = qmcrawler_norm


def readability_lxml(html: str, url: str | None) -> dict[str, Any]:
    """readability-lxml 0.9: `summary()` to text, one block per line; `short_title()`."""
    import lxml.html
    from readability import Document

    doc = Document(html, url=url)
    summary = lxml.html.fromstring(doc.summary(html_partial=True))
    for el in summary.iter("p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "td"):
        el.tail = "\n" + (el.tail or "")
    return {"text": summary.text_content(), "title": doc.short_title()}


def trafilatura_default(html: str, url: str | None) -> dict[str, Any]:
    """trafilatura 2.x with metadata (text, title, date)."""
    import trafilatura

    out = trafilatura.extract(html, url=url, output_format="json", with_metadata=True)
    if not out:
        return {"text": ""}
    data = json.loads(out)
    return {"text": data.get("text") or "", "title": data.get("title"), "publish_time": data.get("date")}


EXTRACTORS: dict[str, Extractor] = {
    "qmcrawler (text)": qmcrawler_text,
    "qmcrawler (norm_text)": qmcrawler_norm,
    "readability-lxml": readability_lxml,
    "trafilatura": trafilatura_default,
}


def _fmt(x: float | None, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def run(corpus: Path, scorer: ModuleType, tiny: int | None, timeout: float) -> list[tuple[str, dict[str, Any]]]:
    """Score every extractor on the corpus; return (name, summary) rows."""
    pages = scorer.load_pages(str(corpus.parent), corpus.name, tiny)
    if not pages:
        raise SystemExit(f"no <id>.json/<id>.html pairs in {corpus}")
    rows = []
    warm_html = Path(pages[0][1]).read_text(encoding="utf-8", errors="replace")
    for name, fn in EXTRACTORS.items():
        fn(warm_html, pages[0][2].get("url"))  # imports and caches outside the timed run
        records, _failures, seconds = scorer.evaluate_split(fn, pages, timeout, None, 4, False)
        rows.append((name, scorer.summarize(records, seconds)))
    return rows


def render(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One markdown table with speed ratios of qmcrawler (text) to every other extractor."""
    others = [name for name, _ in rows if not name.startswith("qmcrawler")]
    qmc_speed = rows[0][1].get("pages_per_second") or 0.0
    head = ["extractor", "pages", "P", "R", "F1", "shingle F1", "title exact", "date", "pages/s"]
    head += [f"qmc ÷ {o}" for o in others]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    speeds = {name: s.get("pages_per_second") or 0.0 for name, s in rows}
    for name, s in rows:
        cells = [
            name,
            str(s["pages"]),
            _fmt(s.get("precision")),
            _fmt(s.get("recall")),
            _fmt(s.get("f1")),
            _fmt(s.get("shingle_f1")),
            _fmt(s.get("title_exact")),
            _fmt(s.get("date_match")),
            _fmt(s.get("pages_per_second"), 1),
        ]
        cells += [(f"{qmc_speed / speeds[o]:.2f}x" if speeds[o] else "-") if name == rows[0][0] else "" for o in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="folder of <id>.html + <id>.json pairs")
    ap.add_argument("--scorer", type=Path, default=REPO / ".." / "shared" / "eval" / "score.py")
    ap.add_argument("--tiny", type=int, metavar="N", help="only the first N pages")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-page seconds")
    args = ap.parse_args(argv)
    scorer = load_scorer(args.scorer.resolve())
    print(render(run(args.corpus.resolve(), scorer, args.tiny, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
