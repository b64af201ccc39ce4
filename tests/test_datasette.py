"""Datasette with datasette.yaml: started on a free 127.0.0.1 port, a canned query answers over JSON."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml  # type: ignore[import-untyped]

from qmcrawler.run.runner import PROJECT_ROOT
from qmcrawler.storage import open_db
from tests.changedb import page_with_edit

CANNED = ("recent_changes", "changes_per_day", "relevant_pages", "page_history", "search")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_datasette(db: Path, wait: float = 30) -> Iterator[str]:
    """Serve `db` with datasette.yaml (and so the qmcrawler plugin) on a free 127.0.0.1 port;
    yield the base URL once Datasette answers, stop it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db), "-m", str(PROJECT_ROOT / "datasette.yaml"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"datasette did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()  # type: ignore[union-attr]


@pytest.fixture
def datasette(tmp_path: Path) -> Iterator[str]:
    """Serve a small qm.db; yield the base URL once Datasette answers."""
    db = open_db(tmp_path / "qm.db")
    page_with_edit(db)
    db.close()
    with serve_datasette(tmp_path / "qm.db") as base:
        yield base


def get(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1 only
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_canned_queries_are_declared_for_qm_and_demo() -> None:
    meta = yaml.safe_load((PROJECT_ROOT / "datasette.yaml").read_text(encoding="utf-8"))
    for name in ("qm", "demo"):
        assert tuple(meta["databases"][name]["queries"]) == CANNED


def test_canned_queries_answer_over_json(datasette: str) -> None:
    changes = get(f"{datasette}/qm/recent_changes.json?_shape=array&site=")
    assert [(c["kind"], c["title"]) for c in changes] == [
        ("changed", "关于开展2018年全国“质量月”活动的通知"),
        ("new", "关于开展2018年全国“质量月”活动的通知"),
    ]
    assert "[-33-]{+34+}" in str(changes[0]["diff"])
    hits = get(f"{datasette}/qm/search.json?_shape=array&q={quote('34个部门')}")
    assert len(hits) == 1
    assert "【34个部门】" in str(hits[0]["snippet"])
    assert len(get(f"{datasette}/qm/search.json?_shape=array&q={quote('质量月')}")) == 1  # one row per version
    history = get(f"{datasette}/qm/page_history.json?_shape=array&url={quote('http://127.0.0.1:1/news/a1.html')}")
    assert [h["what"] for h in history].count("version") == 2
    assert len(get(f"{datasette}/qm/relevant_pages.json?_shape=array")) == 1
