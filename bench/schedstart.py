"""What a scheduler tick costs: N small sites due together, one crawl process per site or one for all.

    .venv/bin/python bench/schedstart.py [--sites 10] [--pages 2] [--repeat 3] [--json [FILE]]

Serves N tiny sites (a list page and `--pages` articles each, MiniWeb on 127.0.0.1) and runs
`schedule.py --once --workers 1` over them twice per repeat, in the same run: with
`--sites-per-crawl 1` (one crawl process per site, what the scheduler did before issue 16) and
with `--sites-per-crawl N` (one process for the sites due together). Each mode does a first
tick on a fresh database and a recheck tick a day later (every known page due again, mostly
304s). CPU is user + system of the whole `schedule.py` process tree (os.wait4, the crawls and
their workers included; the server runs in this process and is not counted), medians over
`--repeat`; the ratio is against one process per site, measured in the same run. Every tick
must end with each site's own `finished` run row, and the number of crawl processes is
counted from `runs.pid`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crawlrun import measured  # noqa: E402
from qmcrawler.demo.miniweb import MiniWeb  # noqa: E402
from qmcrawler.run.runner import LOCAL_SETTINGS, PROJECT_ROOT  # noqa: E402

ARTICLE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="header"><a href="/">首页</a></div>
<div class="article"><h1>{title}</h1><div class="info">发布时间：2026-09-0{day} 来源：市场监管总局</div>
<div class="content"><p>为深入开展全国“质量月”活动，{site}站第{n}号通知现将有关事项通知如下。</p>
<p>各地要围绕质量强国建设，组织开展质量提升行动，推动企业落实质量安全主体责任，提升产品和服务质量水平。</p>
<p>请各单位于九月底前报送活动总结，联系人：质量发展局。</p></div></div>
<div class="footer">版权所有</div></body></html>
"""
TICKS = ("first", "recheck")


def make_sites(root: Path, sites: int, pages: int, base: str) -> str:
    """Write the sites' pages under `root`; return their sites.toml text."""
    config = []
    for s in range(sites):
        folder = root / f"s{s}"
        (folder / "art").mkdir(parents=True)
        links = "".join(f'<li><a href="/s{s}/art/p{i}.htm">通知{i}</a></li>' for i in range(pages))
        (folder / "index.htm").write_text(f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
        for i in range(pages):
            page = ARTICLE.format(title=f"关于开展质量月活动的通知（站{s}第{i}号）", site=s, n=i, day=i % 9 + 1)
            (folder / "art" / f"p{i}.htm").write_text(page, encoding="utf-8")
        config.append(
            f"[sites.s{s}]\nstart_urls = [\"{base}/s{s}/index.htm\"]\narticles = ['/s{s}/art/p\\d+\\.htm$']\n"
        )
    return "\n".join(config)


def tick(config: Path, db: Path, per_crawl: int, now: str) -> dict[str, Any]:
    """One `schedule.py --once` over every site: its CPU, wall time and crawl processes."""
    settings = [f"--set={k}={v}" for k, v in {**LOCAL_SETTINGS, "QMC_NOW": now}.items()]
    argv = [sys.executable, "schedule.py", "--once", "--workers", "1", "--sites-per-crawl", str(per_crawl)]
    argv += ["--config", str(config), "--db", str(db), "--log-level", "WARNING", *settings]
    before = _max_run(db)
    run = measured(argv, PROJECT_ROOT)
    if run.returncode != 0:
        raise SystemExit(f"error: schedule.py exited {run.returncode} ({per_crawl} sites per crawl)")
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT sites, status, pid FROM runs WHERE id > ?", [before]).fetchall()
    finally:
        conn.close()
    if any(status != "finished" for _, status, _ in rows):
        raise SystemExit(f"error: a site's run did not finish: {rows}")
    return {"cpu": run.cpu, "wall": run.wall, "processes": len({pid for _, _, pid in rows}), "runs": len(rows)}


def _max_run(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])
    finally:
        conn.close()


def table(results: dict[str, dict[str, list[dict[str, Any]]]], sites: int) -> list[str]:
    """The README table: medians per mode and tick, CPU ratio against one process per site."""
    lines = [
        f"| N = {sites} sites due together, one tick | crawl processes | CPU s, first tick | CPU s, recheck tick "
        "| CPU s per site (first) | wall s (first) | CPU vs one process per site |",
        "|---|---|---|---|---|---|---|",
    ]
    med = {
        mode: {t: {k: statistics.median(r[k] for r in runs[t]) for k in ("cpu", "wall", "processes")} for t in TICKS}
        for mode, runs in results.items()
    }
    base = med["per_site"]
    labels = {
        "per_site": "one process per site (`--sites-per-crawl 1`)",
        "batched": f"one process (`--sites-per-crawl {sites}`)",
    }
    for mode, m in med.items():
        ratio = " / ".join(f"{m[t]['cpu'] / base[t]['cpu']:.2f}×" for t in TICKS)
        lines.append(
            f"| {labels[mode]} | {m['first']['processes']:.0f} | {m['first']['cpu']:.1f} | {m['recheck']['cpu']:.1f} "
            f"| {m['first']['cpu'] / sites:.2f} | {m['first']['wall']:.1f} | {ratio} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sites", type=int, default=10)
    p.add_argument("--pages", type=int, default=2, help="articles per site")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", nargs="?", const="-", help="also write the measurements as JSON (to FILE, or stdout)")
    args = p.parse_args(argv)
    modes = {"per_site": 1, "batched": args.sites}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {m: {t: [] for t in TICKS} for m in modes}
    start = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "web").mkdir()
        with MiniWeb([tmp / "web"]) as web:
            config = tmp / "sites.toml"
            config.write_text(make_sites(tmp / "web", args.sites, args.pages, web.base), encoding="utf-8")
            for n in range(args.repeat):
                for mode, per_crawl in modes.items():  # the same sites, one after the other, in each repeat
                    db = tmp / f"{mode}-{n}.db"
                    for day, name in enumerate(TICKS):
                        now = (start + timedelta(days=day, hours=1)).isoformat()
                        results[mode][name].append(tick(config, db, per_crawl, now))
                    print(f"repeat {n + 1}/{args.repeat} {mode}: {results[mode]['first'][-1]}", file=sys.stderr)
    print("\n".join(table(results, args.sites)))
    if args.json:
        text = json.dumps({"sites": args.sites, "pages": args.pages, "results": results}, indent=1)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
