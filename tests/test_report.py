"""The HTML report: escaped content, character-level marks, and what headless Chromium renders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from qmcrawler.cli.main import cli
from qmcrawler.outputs.report import mark_pair, write_report
from qmcrawler.storage import open_db
from tests.changedb import BODY, page_with_edit
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

SCRIPT = "<script>document.title='PWNED';document.body.innerHTML='PWNED'</script>"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
    "--window-size=1200,1400",
]
INS_GREEN = (0xAC, 0xF2, 0xBD)


def chromium() -> str:
    """The Chromium binary (`make test` installs it when missing): fail, never skip, without it."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Chromium not found: run `make chromium` (apt-get install -y chromium)")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def report(tmp_path: Path, backend: str) -> Path:
    db = open_db(db_target(backend, tmp_path))
    page_with_edit(db, old=BODY + f"\n示例代码：{SCRIPT}")
    out = tmp_path / "report.html"
    assert write_report(db, out) == 2
    db.close()
    return out


def test_mark_pair_marks_characters_and_escapes() -> None:
    left, right = mark_pair("联合33个部门<b>", "联合34个部门<b>")
    assert left == "联合<del>33</del>个部门&lt;b&gt;"
    assert right == "联合<ins>34</ins>个部门&lt;b&gt;"


def test_report_html_is_escaped_and_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;document.title=" in html
    assert "<ins>34</ins>" in html
    assert "<del>33</del>" in html
    assert "Content-Security-Policy" in html
    assert "http://" not in html.replace('href="http://127.0.0.1:1/news/a1.html"', "").replace(
        "http://127.0.0.1:1/news/a1.html", ""
    )  # no external resources


def test_report_renders_in_chromium_without_running_page_scripts(report: Path, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>qmcrawler: changes</title>" in dom.stdout  # the script would have renamed the page
    assert dom.stdout.count('<section id="c') == 2  # ... and replaced the body
    assert "&lt;script&gt;document.title='PWNED'" in dom.stdout  # shown as text
    assert "<ins>34</ins>" in dom.stdout
    shot = tmp_path / "report.png"
    result = run_chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists()
    image = Image.open(shot).convert("RGB")
    colours: list[tuple[int, tuple[int, int, int]]] = image.getcolors(maxcolors=1_000_000) or []  # type: ignore[assignment]
    assert len(colours) > 20  # text was drawn, not a blank page
    near = [n for n, (r, g, b) in colours if abs(r - INS_GREEN[0]) + abs(g - INS_GREEN[1]) + abs(b - INS_GREEN[2]) < 12]
    assert sum(near) > 50  # the inserted "34" is highlighted on screen


def test_report_command(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    page_with_edit(db)
    db.close()
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", "--db", str(target), "-o", str(out), "--site", "demo", "--since", "1d"])
    assert result.exit_code == 0, result.output
    assert "(2 changes)" in result.output
    assert out.exists()
    missing = CliRunner().invoke(cli, ["report", "--db", str(tmp_path / "nope.db"), "-o", str(out)])
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == [f"Error: {tmp_path / 'nope.db'}: database not found"]
