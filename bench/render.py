"""Rendered vs plain: pages per second of a crawl through Chromium against a plain crawl.

    .venv/bin/python bench/render.py [--pages 40]

Serves N copies of an article whose body a script inserts after 400 ms (the F08 fixture) on
127.0.0.1, crawls them once with `render = "static"` and once with `render = "playwright"`
(both into throwaway databases), and prints one table. Times are Scrapy's own
`elapsed_time_seconds` (crawl only, not process start-up), measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qmcrawler.demo.miniweb import MiniWeb  # noqa: E402
from qmcrawler.run.runner import LOCAL_SETTINGS, run_crawl  # noqa: E402
from qmcrawler.storage import open_db, queries  # noqa: E402

ARTICLE = ROOT / "tests" / "fixtures" / "jsweb" / "js" / "news" / "js1.html"
CONFIG = """[sites.bench]
start_urls = ["{base}/news/index.html"]
allowed_domains = ["127.0.0.1"]
articles = ['/news/js\\d+\\.html$']
render = "{render}"
"""


def build(root: Path, pages: int) -> None:
    """N article copies and one list page linking them."""
    news = root / "news"
    news.mkdir(parents=True)
    html = ARTICLE.read_text(encoding="utf-8")
    links = []
    for i in range(pages):
        (news / f"js{i}.html").write_text(html.replace("2024年", f"2024年第{i}篇"), encoding="utf-8")
        links.append(f'<li><a href="js{i}.html">第{i}篇</a></li>')
    (news / "index.html").write_text(f"<html><body><ul>{''.join(links)}</ul></body></html>", encoding="utf-8")


def crawl(base: str, tmp: Path, render: str) -> tuple[float, int]:
    """Crawl once; return (elapsed seconds, versions stored)."""
    config = tmp / f"{render}.toml"
    config.write_text(CONFIG.format(base=base, render=render), encoding="utf-8")
    db_path = tmp / f"{render}.db"
    result = run_crawl(config, db_path, settings={**LOCAL_SETTINGS, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"{render} crawl failed:\n{result.stderr[-2000:]}")
    db = open_db(db_path, create=False)
    stats = json.loads(queries.runs(db, limit=1)[0]["stats"])
    return float(stats["elapsed_time_seconds"]), db.table("versions").count


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="article pages (default 40)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="qmc-bench-render-"))
    try:
        build(tmp / "web", args.pages)
        with MiniWeb([tmp / "web"]) as web:
            plain_s, plain_v = crawl(web.base, tmp, "static")
            rendered_s, rendered_v = crawl(web.base, tmp, "playwright")
        pages = args.pages + 1  # articles + the list page
        print("| mode | pages | seconds | pages/s | s/page | versions stored | time ÷ plain |")
        print("|---|---|---|---|---|---|---|")
        print(
            f"| plain (static) | {pages} | {plain_s:.2f} | {pages / plain_s:.1f} | {plain_s / pages:.3f} | "
            f"{plain_v} (body needs JS: js_required) | 1.0x |"
        )
        print(
            f"| rendered (Chromium) | {pages} | {rendered_s:.2f} | {pages / rendered_s:.1f} | "
            f"{rendered_s / pages:.3f} | {rendered_v} | {rendered_s / plain_s:.1f}x |"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
