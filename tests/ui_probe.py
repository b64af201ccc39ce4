"""Drive real Chromium (Playwright, the system binary) over Datasette pages; print what it saw as JSON.

Run as a subprocess by tests/test_datasette_ui.py (pytest-twisted keeps an event loop running in
the test process, where Playwright's sync API refuses to start):

    python tests/ui_probe.py CHROMIUM BASE_URL OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

CORRECTED = "关于开展2018年全国“质量月”活动的通知（更正）"
GLYPHS = "关于开展质量月通知"
TEXT_HEIGHT = """cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return range.getBoundingClientRect().height;
}"""
HEADERS = "ths => ths.map(t => t.textContent.trim())"
BACKGROUND = "e => getComputedStyle(e).backgroundColor"
CHAR_BOX = """(cell, index) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const node = walker.nextNode();
    const range = document.createRange();
    range.setStart(node, index); range.setEnd(node, index + 1);
    const r = range.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height};
}"""


def recent_changes(page: Page, base: str, out: Path) -> dict[str, Any]:
    page.goto(f"{base}/recent_changes?site=samr")
    title = page.locator("td.col-title", has_text=CORRECTED)
    title.scroll_into_view_if_needed()
    shot = out / "datasette-recent-changes.png"
    page.screenshot(path=str(shot))
    time = page.locator("td.col-detected_at time").first
    return {
        "headers": page.eval_on_selector_all("table.rows-and-columns th", HEADERS),
        "ins_background": page.locator("td.col-diff .qmc-ins").first.evaluate(
            "e => getComputedStyle(e).backgroundColor"
        ),
        "del_lines": page.locator("td.col-diff .qmc-del").count(),
        "marked_34": page.locator("td.col-diff .qmc-mark ins", has_text="34").count(),
        "marked_33": page.locator("td.col-diff .qmc-mark del", has_text="33").count(),
        "time_text": time.inner_text(),
        "time_utc": time.get_attribute("datetime"),
        "title_box": title.bounding_box(),
        "title_text_height": title.evaluate(TEXT_HEIGHT),
        "line_height": page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('td.col-title')).lineHeight)"
        ),
        "screenshot": str(shot),
        "glyph_boxes": [title.evaluate(CHAR_BOX, CORRECTED.index(c)) for c in GLYPHS],
    }


def per_day_and_history(page: Page, base: str, page_id: str, out: Path) -> dict[str, Any]:
    page.goto(f"{base}/changes_per_day")
    per_day = page.eval_on_selector_all("table.rows-and-columns th", HEADERS)
    page.screenshot(path=str(out / "datasette-changes-per-day.png"))
    page.goto(f"{base}/page_history?url={page_id}")
    result = {
        "per_day_headers": per_day,
        "history_headers": page.eval_on_selector_all("table.rows-and-columns th", HEADERS),
        "history_titles": page.locator("td.col-title", has_text=CORRECTED).count(),
        "history_marked": page.locator("td.col-diff .qmc-mark ins", has_text="（更正）").count(),
    }
    page.screenshot(path=str(out / "datasette-page-history.png"))
    return result


def main() -> None:
    chromium, base, out_dir, page_id = sys.argv[1:5]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        seen = {**recent_changes(page, base, out), **per_day_and_history(page, base, page_id, out)}
        browser.close()
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main()
