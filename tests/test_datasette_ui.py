"""Datasette as the browsing UI, on the demo database: the qmcrawler plugin and datasette.yaml, in real Chromium.

Checks what an analyst sees: coloured diffs, Beijing times, titles with room, labelled page ids,
the per-day view, page history headers, search that answers short and multi-term queries like
the CLI (the bigram index, one-character scans); and that the screenshots show Chinese glyphs, not
tofu boxes (`make test` installs a CJK font: the Makefile's `cjk-font` target).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from qmcrawler.run.runner import PROJECT_ROOT
from tests.test_datasette import serve_datasette
from tests.test_report import chromium

#: the module builds the demo database first (three crawls): slow on a loaded machine
pytestmark = pytest.mark.timeout(900)

CORRECTED = "关于开展2018年全国“质量月”活动的通知（更正）"
#: where the screenshots are kept for people to look at (QMC_SCREENSHOTS=dir), else the test's tmp dir
SHOTS_ENV = "QMC_SCREENSHOTS"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo database served by Datasette with datasette.yaml (and so the qmcrawler plugin)."""
    tmp = tmp_path_factory.mktemp("ui")
    db = tmp / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "qmcrawler.demo", "--db", str(db), "--report", str(tmp / "r.html")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=600,
        check=True,
    )
    with serve_datasette(db, wait=60) as base:
        yield base + "/demo"


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:  # 127.0.0.1 only
        return json.loads(response.read())


def rows(url: str) -> list[dict[str, object]]:
    data = get(url + ("&" if "?" in url else "?") + "_shape=array")
    assert isinstance(data, list)
    return data


def test_canned_search_answers_like_the_cli(ui: str) -> None:
    short = rows(f"{ui}/search.json?q={quote('抽检')}")  # two characters: one bigram
    assert [r["title"] for r in short] == ["市场监管总局通报2023年上半年食品安全监督抽检情况"]
    assert "【抽检】" in str(short[0]["snippet"])
    both = rows(f"{ui}/search.json?q={quote('质量月 筹备工作会')}")
    assert [(r["title"], r["status"]) for r in both] == [("质量发展局召开2018年全国“质量月”活动筹备工作会", "removed")]
    assert "，" in str(both[0]["snippet"])  # the page's own text
    assert "\n" not in str(both[0]["snippet"])
    cli = subprocess.run(
        [sys.executable, "-m", "qmcrawler", "search", "--db", ui_db(ui), "--json", "--limit", "100", "质量月 2018"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    canned = rows(f"{ui}/search.json?q={quote('质量月 2018')}")
    assert sorted(r["url"] for r in canned) == sorted(json.loads(line)["url"] for line in cli)
    assert len(canned) >= 3


def ui_db(ui: str) -> str:
    databases = get(ui.rsplit("/", 1)[0] + "/-/databases.json")
    assert isinstance(databases, list)
    return str(databases[0]["path"])


def test_canned_search_one_character_and_order_like_the_cli(ui: str) -> None:
    for q in ("检", "质量强国", "（更正）"):  # a scan; the index; a folded term
        cli = subprocess.run(
            [sys.executable, "-m", "qmcrawler", "search", "--db", ui_db(ui), "--json", "--limit", "100", q],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        canned = rows(f"{ui}/search.json?q={quote(q)}")
        assert [r["url"] for r in canned] == [json.loads(line)["url"] for line in cli], q
        assert canned, q
    assert CORRECTED in {r["title"] for r in rows(f"{ui}/search.json?q={quote('（更正）')}")}


def test_per_day_view_history_headers_and_labels(ui: str) -> None:
    per_day = rows(f"{ui}/changes_per_day.json")
    totals: dict[str, dict[str, int]] = {}
    for row in per_day:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(row["day"]))
        site = totals.setdefault(str(row["site"]), {})
        for kind in ("new", "changed", "removed", "total"):
            site[kind] = site.get(kind, 0) + int(row[kind])  # type: ignore[call-overload]
    assert totals["samr"] == {"new": 12, "changed": 1, "removed": 1, "total": 14}
    assert sum(t["total"] for t in totals.values()) == 21
    changed = rows(f"{ui}/recent_changes.json?site=samr")[1]
    assert changed["kind"] == "changed"
    url = str(changed["url"])
    history = get(f"{ui}/page_history.json?url={quote(url + '?utm_source=x#top')}")
    assert isinstance(history, dict)
    assert history["columns"] == ["at", "what", "id", "title", "fields", "cause", "content_hash", "diff"]
    by_id = rows(f"{ui}/page_history.json?url={changed['page_id']}")
    assert [r["what"] for r in by_id] == ["version", "change: new", "version", "change: changed"]
    assert by_id == [dict(zip(history["columns"], r, strict=True)) for r in history["rows"]]
    labelled = get(f"{ui}/changes.json?_labels=on&_shape=array&id={changed['id']}")
    assert isinstance(labelled, list)
    assert labelled[0]["page_id"] == {"value": changed["page_id"], "label": url}


def _glyph(shot: Path, box: dict[str, float]) -> Image.Image:
    image = Image.open(shot).convert("L")
    return image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))


def _ink(glyph: Image.Image) -> int:
    return sum(1 for v in glyph.tobytes() if v < 128)  # "L" mode: one byte per pixel


@pytest.fixture(scope="module")
def seen(ui: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What real Chromium shows on the Datasette pages (tests/ui_probe.py), with screenshots."""
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path_factory.mktemp("shots"))
    changed = rows(f"{ui}/recent_changes.json?site=samr")[1]
    probe = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent / "ui_probe.py"),
            chromium(),
            ui,
            str(folder),
            str(changed["page_id"]),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    result: dict[str, Any] = json.loads(probe.stdout)
    return result


def test_recent_changes_in_chromium(ui: str, seen: dict[str, Any]) -> None:
    assert seen["headers"][:6] == ["detected_at", "site", "kind", "title", "fields", "diff"]
    # coloured diff lines and marked characters
    assert seen["ins_background"] == "rgb(218, 251, 225)"
    assert seen["del_lines"] > 0
    assert (seen["marked_34"], seen["marked_33"]) == (1, 1)
    # Beijing time, the UTC value kept in the tooltip
    data = rows(f"{ui}/recent_changes.json?site=samr")
    utc = datetime.fromisoformat(str(data[0]["detected_at"]).replace("Z", "+00:00"))
    assert seen["time_text"] == (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") + " +08:00"
    assert seen["time_utc"] == data[0]["detected_at"]
    # titles have room: the corrected title on at most two lines, not squeezed by the URL
    assert seen["title_box"]["width"] >= 200
    assert seen["title_text_height"] <= 2 * seen["line_height"] + 2


def test_screenshot_shows_chinese_glyphs_not_tofu(seen: dict[str, Any]) -> None:
    glyphs = [_glyph(Path(seen["screenshot"]), box) for box in seen["glyph_boxes"]]
    assert len(glyphs) == 9
    assert all(g.width >= 8 and g.height >= 8 for g in glyphs)
    assert len({g.tobytes() for g in glyphs}) == len(glyphs)  # tofu boxes would all be the same box
    assert all(_ink(g) >= 12 for g in glyphs)  # and strokes were drawn


def test_per_day_and_history_in_chromium(seen: dict[str, Any]) -> None:
    assert seen["per_day_headers"] == ["day", "site", "new", "changed", "removed", "restored", "moved", "total"]
    assert seen["history_headers"] == ["at", "what", "id", "title", "fields", "cause", "content_hash", "diff"]
    assert seen["history_titles"] == 2  # the second version and its change
    assert seen["history_marked"] == 1


def test_a_cjk_font_is_installed() -> None:
    assert shutil.which("fc-list") is not None, "fontconfig missing: `make cjk-font`"
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert fonts.strip(), "no CJK font: `make cjk-font` (apt-get install -y fonts-wqy-microhei)"


def test_plugin_escapes_diffs_and_converts_times() -> None:
    from zoneinfo import ZoneInfo

    from qmcrawler.outputs.datasette_plugin import diff_html, local_time

    html = diff_html("- <script>alert(1)</script>\n+ 新的\n? [-<b>-]{+新+}的")
    assert "<script>" not in html
    assert '<div class="qmc-del">- &lt;script&gt;alert(1)&lt;/script&gt;</div>' in html
    assert '<div class="qmc-mark">? <del>&lt;b&gt;</del><ins>新</ins>的</div>' in html
    assert local_time("2026-11-22T13:48:18Z", ZoneInfo("Asia/Shanghai")) == "2026-11-22 21:48:18 +08:00"
    assert local_time("2026-11-22T13:48:18Z", ZoneInfo("Europe/Berlin")) == "2026-11-22 14:48:18 +01:00"
