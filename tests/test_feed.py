"""The Atom feed parses as XML, with one entry per change and the page content escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.outputs.feed import ATOM, write_feed
from qmcrawler.storage import open_db
from tests.changedb import BODY, page_with_edit
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

NS = {"a": ATOM}


def test_feed_parses_with_one_entry_per_change(tmp_path: Path, backend: str) -> None:
    db = open_db(db_target(backend, tmp_path))
    page_with_edit(db, title="标题 <b>&</b> \x01控制符", old=BODY + "\n<script>x</script>")
    out = tmp_path / "changes.atom"
    assert write_feed(db, out, self_url="https://example.org/changes.atom") == 2
    root = ET.parse(out).getroot()  # noqa: S314 - our own output
    assert root.tag == f"{{{ATOM}}}feed"
    entries = root.findall("a:entry", NS)
    assert [e.findtext("a:title", namespaces=NS) for e in entries] == [
        "[changed] 标题 <b>&</b> 控制符",
        "[new] 标题 <b>&</b> 控制符",
    ]
    ids = [e.findtext("a:id", namespaces=NS) for e in entries]
    assert len(set(ids)) == 2
    assert all(i and i.startswith("tag:qmcrawler") for i in ids)
    assert entries[0].find("a:link", NS).get("href") == "http://127.0.0.1:1/news/a1.html"  # type: ignore[union-attr]
    assert "[-33-]{+34+}" in (entries[0].findtext("a:content", namespaces=NS) or "")
    assert root.findtext("a:updated", namespaces=NS) == entries[0].findtext("a:updated", namespaces=NS)


def test_feed_command(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    page_with_edit(db)
    db.close()
    out = tmp_path / "f.atom"
    result = CliRunner().invoke(cli, ["feed", "--db", str(target), "-o", str(out), "--relevant"])
    assert result.exit_code == 0, result.output
    assert len(ET.parse(out).getroot().findall("a:entry", NS)) == 2  # noqa: S314 - our own output
    bad = CliRunner().invoke(cli, ["feed", "--db", str(target), "-o", str(out), "--since", "soon"])
    assert bad.exit_code == 2  # a usage error
    assert len(bad.output.strip().splitlines()) == 1
