"""qmcrawler beside bare Scrapy, urlwatch and changedetection.io: CPU, memory, storage, 304s, edits.

    .venv/bin/python bench/peers.py [--pages 1000] [--repeat 3] [--tools scrapy,urlwatch,...] [--startups 7]
                                    [--json [FILE]]

Generates N article pages (bench/sitegen.py), serves them from bench/fastweb.py (its own
process, ETag/Last-Modified, 304 to If-None-Match, counts its answers by status) and, in one
run, for each repeat and each tool (bench/peertools.py) on the same bytes:

1. the first check of every article (bare Scrapy and qmcrawler crawl the list pages to find
   them; urlwatch and changedetection.io are given the N article URLs);
2. an unchanged recheck (not for bare Scrapy, which keeps nothing);
3. a recheck after editing `--edit` of the articles (the same ones for every tool, restored
   afterwards): the pages each tool reports changed must be exactly those;
4. the stored bytes after the first check.

CPU is user + system of each check's whole process tree (os.wait4), divided by N articles;
start-up is included, as each tool pays it on every run. Every tool runs from compiled bytecode,
as an installed program does (bench/crawlrun.process_env; each tool runs once unmeasured first).
Peak memory is the PSS of the tree, sampled every 50 ms. Medians over `--repeat`; ratios
against bare Scrapy's first check in the same run. Then qmcrawler's database per table and
index, and each tool's start-up: a whole run that checks one empty page, `--startups` times
for every tool, the tools alternated (one run varies by ±0.2 s of CPU on a shared machine), medians.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dbsize, fastweb, sitegen  # noqa: E402
from bench.crawlrun import measured  # noqa: E402
from bench.peertools import TOOLS, Check, Site, Tool  # noqa: E402

MB = 1024 * 1024
STARTUP_PAGE = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>空</title></head><body></body></html>"


def make_site(web_root: Path, base: str, pages: int, lists: int, tmp: Path) -> Site:
    """The Site every tool gets (and qmcrawler's two sites.toml files)."""
    config, startup = tmp / "sites.toml", tmp / "startup.toml"
    config.write_text(sitegen.CONFIG.format(base=base, lists=lists) + sitegen.CRAWL_ALL, encoding="utf-8")
    text = sitegen.CONFIG.format(base=base, lists=1).replace("/news/index.html", "/startup.html")
    startup.write_text(text, encoding="utf-8")
    urls = [base + sitegen.article_path(i) for i in range(pages)]
    return Site(base, urls, config, startup, base + "/startup.html")


def run_tool(
    tool: Tool, site: Site, web: fastweb.FastWeb, web_root: Path, work: Path, edited: list[int]
) -> dict[str, Any]:
    """First check, stored bytes, unchanged recheck, recheck after edits: one tool, one repeat."""
    work.mkdir(parents=True)
    tool.start(work, site)
    web.stats()
    checks: dict[str, Check] = {"first": tool.check()}
    checks["first"].answers = web.stats()
    if checks["first"].answers.get(200, 0) < len(site.urls):
        raise SystemExit(f"{tool.label}: {checks['first'].answers.get(200, 0)} pages fetched of {len(site.urls)}")
    stored, on_disk = tool.stored()
    out: dict[str, Any] = {"stored": stored, "on_disk": on_disk}
    if tool.rechecks:
        checks["again"] = tool.check()
        checks["again"].answers = web.stats()
        sitegen.edit(web_root, edited, 1)
        web.reload()
        try:
            checks["edited"] = tool.check()
        finally:
            for i in edited:
                (web_root / sitegen.article_path(i).lstrip("/")).write_text(sitegen.article_html(i), encoding="utf-8")
            web.reload()
        web.stats()
    for name, check in checks.items():
        out[name] = {"cpu": check.cost.cpu, "wall": check.cost.wall, "peak_pss": check.cost.peak_pss}
        out[name]["answers"] = check.answers
        out[name]["found"] = None if check.found is None else sorted(check.found)
    return out


def verdict(runs: list[dict[str, Any]], edited: set[str]) -> str:
    """Whether every repeat found exactly the edited pages (and nothing on the unchanged recheck)."""
    for run in runs:
        found, noise = set(run["edited"]["found"]), set(run["again"]["found"])
        if found != edited or noise:
            return (
                f"no: {len(found & edited)} of {len(edited)} edited, {len(found - edited)} others, "
                f"{len(noise)} on the unchanged recheck"
            )
    return f"yes ({len(edited)} of {len(edited)}, no others)"


def checks(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks of one repeat (first, again, edited: those the tool ran)."""
    return [run[c] for c in ("first", "again", "edited") if c in run]


def summary(tool: Tool, runs: list[dict[str, Any]], pages: int, edited: set[str]) -> dict[str, Any]:
    """Medians over the repeats."""

    def med(key: str, check: str = "first") -> float:
        return statistics.median(r[check][key] for r in runs)

    row: dict[str, Any] = {
        "label": tool.label,
        "first_ms": med("cpu") * 1000 / pages,
        "first_pages_s": pages / med("wall"),
        "peak_pss": statistics.median(
            max(r[c]["peak_pss"] for c in ("first", "again", "edited") if c in r) for r in runs
        ),
        "stored": statistics.median(r["stored"] for r in runs) / pages,
        "on_disk": statistics.median(r["on_disk"] for r in runs) / pages,
    }
    if tool.rechecks:
        row["again_ms"] = med("cpu", "again") * 1000 / pages
        answers = [r["again"]["answers"] for r in runs]
        row["share_304"] = statistics.median(a.get(304, 0) / max(1, a.get(200, 0) + a.get(304, 0)) for a in answers)
        row["exact"] = verdict(runs, edited)
    return row


def main_table(rows: dict[str, dict[str, Any]], pages: int) -> list[str]:
    """The side-by-side table."""
    bare = rows.get("scrapy")
    base_ms = bare["first_ms"] if bare else None

    def ratio(value: float) -> str:
        return f" ({value / base_ms:.2f}×)" if base_ms else ""

    out = [
        f"| N = {pages} | CPU ms/page, first check (÷ bare Scrapy) | CPU ms/page, unchanged recheck (÷ bare Scrapy "
        "first check) | first check, pages/s (wall) | peak PSS (MB) | stored bytes per article (on disk) "
        "| 304s on recheck | finds exactly the edited pages |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, r in rows.items():
        again = f"{r['again_ms']:.1f}{ratio(r['again_ms'])}" if "again_ms" in r else "–"
        stored = f"{r['stored']:,.0f} ({r['on_disk']:,.0f})" if r["stored"] else "–"
        share = f"{'yes' if r['share_304'] > 0.5 else 'no'} ({r['share_304']:.0%})" if "share_304" in r else "–"
        name = f"**{r['label']}**" if key == "qmcrawler" else r["label"]
        out.append(
            f"| {name} | {r['first_ms']:.1f}{ratio(r['first_ms'])} | {again} | {r['first_pages_s']:.0f} | "
            f"{r['peak_pss'] / MB:.0f} | {stored} | {share} | {r.get('exact', '–')} |"
        )
    return out


def startup_table(startups: dict[str, list[float]], labels: dict[str, str]) -> list[str]:
    """Start-up CPU: a whole run on one empty page, and qmcrawler's above the minimal spider's."""
    med = {k: statistics.median(v) for k, v in startups.items()}
    out = [
        "| start-up: one run that checks one empty page | CPU s | above the minimal Scrapy spider |",
        "|---|---|---|",
    ]
    for key, cpu in med.items():
        above = f"{cpu - med['scrapy']:+.2f} s" if "scrapy" in med and key not in ("scrapy", "import") else "–"
        out.append(f"| {labels[key]} | {cpu:.2f} | {above} |")
    return out


def storage_table(parts: dict[str, int], pages: int, text_bytes: int) -> list[str]:
    """qmcrawler's database per table and index."""
    total = sum(parts.values()) or 1
    out = [
        f"| qmcrawler table or index, after the three checks ({pages} articles, "
        f"{text_bytes / MB:.1f} MB of UTF-8 text) | MB | share | bytes per article |",
        "|---|---|---|---|",
    ]
    for name, size in list(parts.items())[:12]:
        out.append(f"| {name} | {size / MB:.1f} | {size / total:.0%} | {size / pages:,.0f} |")
    rest = sum(list(parts.values())[12:])
    if rest:
        out.append(f"| (the other {len(parts) - 12}) | {rest / MB:.1f} | {rest / total:.0%} | {rest / pages:,.0f} |")
    out.append(f"| **total** | {total / MB:.1f} | 100% | {total / pages:,.0f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    """Install the peers, run every tool `--repeat` times, print the tables (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="article pages (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every tool; medians are shown (default 3)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument(
        "--startups", type=int, default=7, help="start-up runs of every tool, alternated; medians shown (default 7)"
    )
    parser.add_argument("--edit", type=float, default=0.01, help="share of articles edited (default 0.01)")
    parser.add_argument("--venvs", type=Path, default=ROOT / ".bench-venvs", help="where the peers' venvs are kept")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="every measurement as JSON: on stdout instead of the tables, or into FILE besides them",
    )
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.tools.split(",") if k.strip()]
    if unknown := [k for k in keys if k not in TOOLS]:
        parser.error(f"unknown tool {unknown[0]!r}: choose from {','.join(TOOLS)}")
    if args.pages < 1 or args.repeat < 1 or args.startups < 1:
        parser.error("--pages, --repeat and --startups must be at least 1")
    tools = [TOOLS[k]() for k in TOOLS if k in keys]
    for tool in tools:
        tool.install(args.venvs)
    tmp = Path(tempfile.mkdtemp(prefix="qmc-bench-peers-"))
    try:
        web_root = tmp / "web"
        lists = sitegen.build(web_root, args.pages)
        (web_root / "startup.html").write_text(STARTUP_PAGE, encoding="utf-8")
        rng = random.Random(20180901)
        edited = sorted(rng.sample(range(args.pages), max(1, round(args.pages * args.edit))))
        runs: dict[str, list[dict[str, Any]]] = {t.key: [] for t in tools}
        startups: dict[str, list[float]] = {"import": []} | {t.key: [] for t in tools}
        parts: dict[str, int] = {}
        with fastweb.FastWeb(web_root) as web:
            site = make_site(web_root, web.base, args.pages, lists, tmp)
            edited_urls = {web.base + sitegen.article_path(i) for i in edited}
            for tool in tools:  # once unmeasured: the bytecode caches (crawlrun.process_env) are written
                (tmp / "warmup").mkdir()
                tool.startup(tmp / "warmup", site)
                shutil.rmtree(tmp / "warmup")
            for rep in range(args.repeat):
                for tool in tools:
                    work = tmp / f"{tool.key}-{rep}"
                    runs[tool.key].append(run_tool(tool, site, web, web_root, work, edited))
                    if tool.key == "qmcrawler" and rep == args.repeat - 1:
                        parts = dbsize.breakdown(work / "qm.db")
                    shutil.rmtree(work, ignore_errors=True)
                if rep < args.repeat - 1:  # progress: the medians so far, on stderr
                    done = {t.key: summary(t, runs[t.key], args.pages, edited_urls) for t in tools}
                    print(
                        f"after {rep + 1} of {args.repeat} repeats:",
                        *main_table(done, args.pages),
                        sep="\n",
                        file=sys.stderr,
                    )
            print(f"start-up: {args.startups} rounds of every tool, alternated", file=sys.stderr)
            for _ in range(args.startups):  # a single run varies by ±0.2 s on a shared machine
                for tool in tools:
                    (tmp / "startup").mkdir()
                    startups[tool.key].append(tool.startup(tmp / "startup", site))
                    shutil.rmtree(tmp / "startup")
                startups["import"].append(measured([sys.executable, "-c", "import scrapy"], tmp).cpu)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = {t.key: summary(t, runs[t.key], args.pages, edited_urls) for t in tools}
    text_bytes = sum(len((t + "".join(p)).encode()) for t, p in map(sitegen.article_text, range(args.pages)))
    if args.json:
        doc = {"pages": args.pages, "repeat": args.repeat, "edited": len(edited), "text_bytes": text_bytes}
        doc |= {"medians": rows, "runs": runs, "startup_cpu": startups, "qmcrawler_tables": parts}
        if args.json == "-":
            print(json.dumps(doc, ensure_ascii=False, indent=1))
            return 0
        Path(args.json).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    labels = {"import": "`python -c 'import scrapy'`", "scrapy": "minimal Scrapy spider (bench/peerspider.py)"}
    labels |= {t.key: t.label for t in tools if t.key != "scrapy"}
    print("\n".join(main_table(rows, args.pages)))
    print()
    print("\n".join(startup_table(startups, labels)))
    if parts:
        print()
        print("\n".join(storage_table(parts, args.pages, text_bytes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
