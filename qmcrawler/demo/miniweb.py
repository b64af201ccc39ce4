"""A small static web server on 127.0.0.1 for the offline demo and the tests ("mini-web").

It serves files from one or more layer directories: a file in a later layer replaces the same
path in an earlier one, so a "next day" overlay is just another directory. An optional
`_routes.json` at a layer root overrides single paths:

    {"/samr/a.html": {"status": 404, "headers": {"Content-Type": "text/html"},
                      "body": "<html>页面不存在</html>", "delay": 0.5}}

Layers can be swapped while the server runs (`set_layers`), which is how tests and the demo
switch between days without restarting anything. With `validators=True` every 200 answer from
a file carries an ETag and a Last-Modified header and conditional requests get 304 (a server
that supports them); `log` records each request's time, path, status and conditional headers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".js": "application/javascript",
    ".css": "text/css",
    ".xml": "text/xml",
    ".pdf": "application/pdf",
    ".xls": "application/vnd.ms-excel",
    ".doc": "application/msword",
}
ROUTES_FILE = "_routes.json"
#: a dynamic answer: query parameters → (status, headers, body)
DynamicHandler = Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]


class MiniWeb:
    """Serve layered directories on 127.0.0.1 (random port) in a daemon thread.

    Use as a context manager; `url(path)` gives an absolute URL. `requests` records every
    request path served, for tests that count fetches.
    """

    def __init__(
        self, layers: Sequence[Path | str], host: str = "127.0.0.1", port: int = 0, validators: bool = False
    ) -> None:
        self.layers: list[Path] = [Path(p) for p in layers]
        self.routes: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.log: list[dict[str, Any]] = []
        self.validators = validators
        self.handlers: dict[str, DynamicHandler] = {}
        self._lock = threading.Lock()
        self._load_routes()
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """The origin, e.g. `http://127.0.0.1:41234`."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL for a server path."""
        return self.base + ("" if path.startswith("/") else "/") + path

    def set_layers(self, layers: Sequence[Path | str]) -> None:
        """Replace the served layers (e.g. add the next-day overlay)."""
        with self._lock:
            self.layers = [Path(p) for p in layers]
            self._load_routes()

    def add_handler(self, path: str, handler: DynamicHandler) -> None:
        """Answer `path` dynamically: `handler(query)` gets the query parameters (first values)
        and returns (status, headers, body). For APIs whose answer depends on the query."""
        self.handlers[path] = handler

    def start(self) -> MiniWeb:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> MiniWeb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _load_routes(self) -> None:
        routes: dict[str, dict[str, Any]] = {}
        for layer in self.layers:
            path = layer / ROUTES_FILE
            if path.is_file():
                routes.update(json.loads(path.read_text(encoding="utf-8")))
        self.routes = routes

    def resolve(self, path: str) -> tuple[int, dict[str, str], bytes, float]:
        """Return (status, headers, body, delay) for a request path."""
        with self._lock:
            layers = list(self.layers)
            route = dict(self.routes.get(path, {}))
        rel = unquote(path).lstrip("/")
        if not rel or rel.endswith("/"):
            rel += "index.html"
        found: Path | None = None
        for layer in reversed(layers):
            candidate = (layer / rel).resolve()
            if candidate.is_relative_to(layer.resolve()) and candidate.is_file():
                found = candidate
                break
        headers = {"Content-Type": CONTENT_TYPES.get(Path(rel).suffix.lower(), "application/octet-stream")}
        if "body" in route:
            body = str(route["body"]).encode(route.get("encoding", "utf-8"))
            status = int(route.get("status", 200))
        elif found is not None:
            body = found.read_bytes()
            status = int(route.get("status", 200))
        else:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            status = int(route.get("status", 404))
            headers["Content-Type"] = "text/html"
        if self.validators and found is not None and status == 200 and "body" not in route:
            headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers["Last-Modified"] = formatdate(int(found.stat().st_mtime), usegmt=True)
        headers.update(route.get("headers", {}))
        return status, headers, body, float(route.get("delay", 0))

    @staticmethod
    def not_modified(request_headers: Any, headers: dict[str, str]) -> bool:
        """True if a conditional request matches the validators of the answer (→ 304)."""
        etag, inm = headers.get("ETag"), request_headers.get("If-None-Match")
        if etag and inm:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        last, ims = headers.get("Last-Modified"), request_headers.get("If-Modified-Since")
        if last and ims:
            try:
                return parsedate_to_datetime(last) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False


def _make_handler(web: MiniWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            web.requests.append(self.path)
            handler = web.handlers.get(path)
            if handler is not None:
                status, headers, body = handler({k: v[0] for k, v in parse_qs(parts.query).items()})
                delay = 0.0
            else:
                status, headers, body, delay = web.resolve(path)
            if status == 200 and web.validators and web.not_modified(self.headers, headers):
                status, body = 304, b""
            web.log.append(
                {
                    "time": time.monotonic(),
                    "path": self.path,
                    "status": status,
                    "if_none_match": self.headers.get("If-None-Match"),
                    "if_modified_since": self.headers.get("If-Modified-Since"),
                    "user_agent": self.headers.get("User-Agent"),
                }
            )
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # client gave up (e.g. a timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve_forever(layers: Sequence[Path | str], port: int = 8000) -> None:
    """Serve layers in the foreground (handy for looking at the demo sites in a browser)."""
    with MiniWeb(layers, port=port) as web:
        print(f"serving {', '.join(map(str, layers))} on {web.base}/ (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
