"""Test helper: write pages and edits straight through the Store (no crawl), and a JSON webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlite_utils import Database

from qmcrawler.monitor.changes import CONTENT
from qmcrawler.monitor.content import content_hash
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store

BODY = (
    "为深入贯彻党的十九大精神，推动高质量发展。市场监管总局联合33个部门开展2018年全国“质量月”活动。"
    "活动主题为“全面提高质量，推动高质量发展”。\n各地要加强组织领导。"
)


def record(
    db: Database,
    url: str,
    title: str,
    text: str,
    run_id: int | None = None,
    site: str = "demo",
    relevant: bool = True,
    publish_time: str = "2018-08-31",
) -> str:
    """Store one download of a page with this content; return the fetch outcome."""
    fields: dict[str, Any] = {
        "title": title,
        "text": text,
        "publish_time": publish_time,
        "source": "市场监管总局",
        "author": None,
        "attachments": [],
    }
    version = {
        **fields,
        "is_relevant": relevant,
        "flags": [],
        "editor": None,
        "doc_date": None,
        "extractor_version": "test",
    }
    rec = FetchRecord(
        url=url,
        site=site,
        kind=CONTENT,
        http_status=200,
        version=version,
        content_hash=content_hash(fields),
        raw=text.encode("utf-8"),
        encoding="utf-8",
    )
    return Store(db).record(rec, run_id)


def page_with_edit(
    db: Database,
    url: str = "http://127.0.0.1:1/news/a1.html",
    title: str = "关于开展2018年全国“质量月”活动的通知",
    old: str = BODY,
    new: str | None = None,
    relevant: bool = True,
) -> None:
    """A page first seen in run 1 and edited in run 2 (33 → 34 departments): one `new`, one `changed`."""
    store = Store(db)
    run1 = store.begin_run("site", "demo")
    record(db, url, title, old, run1, relevant=relevant)
    store.finish_run(run1, "finished", {})
    run2 = store.begin_run("site", "demo")
    record(db, url, title, new if new is not None else old.replace("33个部门", "34个部门"), run2, relevant=relevant)
    store.finish_run(run2, "finished", {})


@dataclass
class Receiver:
    """A JSON webhook on 127.0.0.1 that records POST bodies and answers `status`."""

    server: ThreadingHTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    got: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve a Receiver in a daemon thread for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            box.posts.append(json.loads(body))
            self.send_response(box.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            box.got.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
