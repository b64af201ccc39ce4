"""The README documents every QMC_* setting, every CLI command and every sites.toml key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qmcrawler import settings
from qmcrawler.cli.main import cli
from qmcrawler.config import SITE_KEYS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(n for n in dir(settings) if n.startswith("QMC_")))
def test_settings_are_documented(name: str) -> None:
    assert re.search(rf"^\| `{name}` \|", README, re.M), f"{name} missing from README's settings table"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_commands_are_documented(command: str) -> None:
    assert f"python -m qmcrawler {command}" in README


@pytest.mark.parametrize("key", sorted(SITE_KEYS))
def test_site_keys_are_documented(key: str) -> None:
    assert f"| `{key}` |" in README


def test_quick_start_is_at_the_top() -> None:
    head = README[:1500]
    assert "make demo" in head
    assert "make test" in head
