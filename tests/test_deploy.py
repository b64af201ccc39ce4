"""The deployment recipe: the systemd units parse, and every command the recipe shows exists.

The README's "Several machines" section and the unit files in deploy/systemd/ name commands and
options; each one that this checkout has must answer `--help` and list the options used.
"""

from __future__ import annotations

import configparser
import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qmcrawler.cli.main import cli
from qmcrawler.run.runner import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy" / "systemd"
UNITS = sorted(DEPLOY.glob("*.service"))
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
RECIPE = README[README.index("## Several machines") : README.index("## Faults")]
#: commands the recipe names that another part of issue 17 builds (pg-queue): checked once they exist
COMING = {"worker", "enqueue"}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def test_there_are_worker_and_dispatcher_units() -> None:
    assert [p.name for p in UNITS] == ["qmcrawler-dispatcher.service", "qmcrawler-worker.service"]
    for path in UNITS:
        assert f"deploy/systemd/{path.name}" in RECIPE


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_have_what_a_service_needs(path: Path) -> None:
    parsed = unit(path)
    assert set(parsed.sections()) == {"Unit", "Service", "Install"}
    for section, key in (
        ("Unit", "Description"),
        ("Unit", "After"),
        ("Service", "ExecStart"),
        ("Service", "User"),
        ("Service", "WorkingDirectory"),
        ("Service", "EnvironmentFile"),
        ("Service", "Restart"),
        ("Install", "WantedBy"),
    ):
        assert parsed.get(section, key, fallback=""), f"{path.name}: [{section}] {key}"
    env = (DEPLOY / "qmcrawler.env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z_]+)=", env, re.M))
    used = set(re.findall(r"\$\{(\w+)\}", parsed.get("Service", "ExecStart")))
    assert used
    assert used <= defined, used - defined


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze on this machine")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """systemd's own check, with the checkout in place of /srv/qmcrawler (it wants the binary to exist)."""
    for path in UNITS:
        text = path.read_text(encoding="utf-8").replace("/srv/qmcrawler", str(PROJECT_ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / p.name) for p in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Unknown" not in proc.stderr, proc.stderr  # an unknown key or section is only a warning


def shown_commands() -> list[list[str]]:
    """Every `python -m qmcrawler …` and `schedule.py …` the recipe and the units show, as words."""
    texts = [RECIPE, *(unit(p).get("Service", "ExecStart") for p in UNITS)]
    found = []
    for text in texts:
        for match in re.finditer(r"(?:python -m qmcrawler|schedule\.py)(?: [^`\n|#]*)?", text):
            words = match.group(0).replace("python -m qmcrawler", "qmcrawler").split()
            found.append(words)
    return found


def test_the_recipe_shows_the_commands_it_is_about() -> None:
    names = {w[1] for w in shown_commands() if w[0] == "qmcrawler" and len(w) > 1}
    assert {"copy-db", "worker", "enqueue"} <= names
    assert any(w[0] == "schedule.py" for w in shown_commands())


@functools.cache
def help_text(name: str) -> str:
    if name == "schedule.py":
        args = [sys.executable, str(PROJECT_ROOT / "schedule.py"), "--help"]
    else:
        args = [sys.executable, "-m", "qmcrawler", name, "--help"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_command_shown_exists_with_its_options() -> None:
    checked = set()
    for words in shown_commands():
        name = words[0] if words[0] == "schedule.py" else words[1]
        if name not in cli.commands and name != "schedule.py":
            assert name in COMING, f"the recipe shows `{' '.join(words)}`: no such command"
            continue
        shown = help_text(name)
        for option in (w.strip("[]") for w in words[2:]):
            if option.startswith("--"):
                assert option in shown, f"{' '.join(words)}: {option} not in --help"
        checked.add(name)
    assert {"copy-db", "schedule.py"} <= checked
