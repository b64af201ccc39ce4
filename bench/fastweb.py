"""A fast static server for the benchmarks: the whole tree in memory, asyncio, its own process.

    .venv/bin/python bench/fastweb.py ROOT [--port 0] [--no-validators]

MiniWeb (a ThreadingHTTPServer in the test process) answers a few hundred requests a second
and shares the GIL with whoever runs it; a crawl benchmark must measure the crawler, not the
server. This one pre-reads every file, answers HTTP/1.1 keep-alive GETs from a dict with an
ETag and a Last-Modified (and 304 to matching If-None-Match), and runs in a separate process.
`GET /__reload` re-reads the tree (after `sitegen.edit`); `GET /__stats` answers the counts of
200 and 304 answers since the last `/__stats` (JSON) and resets them, so a benchmark can tell
whether a tool's rechecks were conditional. `load()` is a keep-alive load loop
used to check that the server is far faster than any crawl it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import suppress
from email.utils import formatdate
from pathlib import Path

#: URL path → (validator header lines, body)
Tree = dict[str, tuple[bytes, bytes]]


def read_tree(root: Path, validators: bool = True) -> Tree:
    """Every file under root as (ETag header line or b"", body), keyed by its URL path."""
    tree: Tree = {}
    for path in root.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            extra = b""
            if validators:
                etag = hashlib.sha256(body).hexdigest()[:16]
                modified = formatdate(int(path.stat().st_mtime), usegmt=True)
                extra = f'ETag: "{etag}"\r\nLast-Modified: {modified}\r\n'.encode()
            tree["/" + path.relative_to(root).as_posix()] = (extra, body)
    return tree


class Server:
    """The asyncio protocol side: parse request heads, answer from the tree."""

    def __init__(self, root: Path, validators: bool) -> None:
        self.root, self.validators = root, validators
        self.tree = read_tree(root, validators)
        self.counts: Counter[int] = Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve requests on one keep-alive connection until the client closes it."""
        with suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1].split("?")[0]
                inm = next(
                    (line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("if-none-match:")),
                    None,
                )
                if path == "/__reload":
                    self.tree = read_tree(self.root, self.validators)
                    path = "/__ok"
                writer.write(self.answer(path, inm))
                await writer.drain()
        writer.close()

    def answer(self, path: str, inm: str | None) -> bytes:
        """The raw HTTP response for a path."""
        if path == "/__ok":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        if path == "/__stats":
            counts, self.counts = json.dumps({str(k): v for k, v in self.counts.items()}).encode(), Counter()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(counts), counts)
        entry = self.tree.get(path)
        if entry is None:
            self.counts[404] += 1
            body = b"<html><body>404 Not Found</body></html>"
            return b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
                len(body),
                body,
            )
        extra, body = entry
        if inm and extra and inm.encode() in extra:
            self.counts[304] += 1
            return b"HTTP/1.1 304 Not Modified\r\n" + extra + b"Content-Length: 0\r\n\r\n"
        self.counts[200] += 1
        ctype = b"text/html; charset=utf-8" if path.endswith(".html") else b"application/octet-stream"
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: "
            + ctype
            + b"\r\n"
            + extra
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )


async def serve(root: Path, port: int, validators: bool) -> None:
    """Serve until killed; print the port on stdout first."""
    server = Server(root, validators)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=1024)
    print(listener.sockets[0].getsockname()[1], flush=True)
    async with listener:
        await listener.serve_forever()


class FastWeb:
    """Run the server in a subprocess: `with FastWeb(root) as web: web.base`."""

    def __init__(self, root: Path, validators: bool = True) -> None:
        argv = [sys.executable, __file__, str(root)] + ([] if validators else ["--no-validators"])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def reload(self) -> None:
        """Re-read the tree (after edits) and wait until the server has."""
        asyncio.run(_get_all(self.base, ["/__reload"], 1))

    def stats(self) -> dict[int, int]:
        """Answers by status code since the last call (and reset them)."""
        with urllib.request.urlopen(self.base + "/__stats", timeout=10) as answer:
            return {int(k): int(v) for k, v in json.loads(answer.read()).items()}

    def __enter__(self) -> FastWeb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def _get_all(base: str, paths: list[str], connections: int) -> int:
    """GET every path over `connections` keep-alive connections; return the responses read."""
    host, port = base.removeprefix("http://").split(":")
    queue = list(reversed(paths))
    done = 0

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, int(port))
        while queue:
            writer.write(f"GET {queue.pop()} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            done += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done


def load(base: str, paths: list[str], connections: int = 8) -> float:
    """Requests per second a keep-alive client loop gets from the server for these paths."""
    start = time.perf_counter()
    n = asyncio.run(_get_all(base, paths, connections))
    return n / (time.perf_counter() - start)


def main() -> None:
    """Command line: serve ROOT until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-validators", action="store_true")
    args = parser.parse_args()
    with suppress(KeyboardInterrupt):
        asyncio.run(serve(args.root, args.port, not args.no_validators))


if __name__ == "__main__":
    main()
