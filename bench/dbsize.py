"""Where an SQLite database's bytes go: bytes per table and index.

`breakdown(db)` uses SQLite's `dbstat` virtual table when the library is compiled with it;
otherwise it counts pages itself: it walks every b-tree from its root page (sqlite_schema's
`rootpage`), following interior pages' child pointers and each cell's overflow chain, as the
file format (https://www.sqlite.org/fileformat2.html) lays them out. Both give bytes as pages
× page size, so the two agree (tests/test_bench_peers.py checks that they do).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def in_use(db: Path) -> int:
    """Bytes in use after a WAL checkpoint: pages minus free pages, times the page size."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    finally:
        conn.close()
    return (pages - free) * page_size


def breakdown(db: Path, use_dbstat: bool = True) -> dict[str, int]:
    """Bytes per table or index (name → bytes), largest first."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        parts: dict[str, int] | None = None
        if use_dbstat:
            try:
                parts = {str(n): int(s) for n, s in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")}
            except sqlite3.OperationalError:  # SQLite built without dbstat
                parts = None
        if parts is None:
            roots = [
                (str(n), int(r)) for n, r in conn.execute("SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0")
            ]
            parts = count_pages(db, [("sqlite_schema", 1), *roots])
    finally:
        conn.close()
    return dict(sorted(parts.items(), key=lambda kv: -kv[1]))


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `at`: (value, next offset)."""
    value = 0
    for i in range(8):
        byte = buf[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | buf[at + 8], at + 9


def count_pages(db: Path, roots: list[tuple[str, int]]) -> dict[str, int]:
    """Bytes of each b-tree (pages reachable from its root, overflow pages included)."""
    data = db.read_bytes()
    page_size = int.from_bytes(data[16:18], "big") or 65536
    usable = page_size - data[20]

    def page(n: int) -> bytes:
        return data[(n - 1) * page_size : n * page_size]

    def overflow_pages(first: int) -> int:
        count = 0
        while first:
            count += 1
            first = int.from_bytes(page(first)[:4], "big")
        return count

    def tree_pages(root: int) -> int:
        count, todo = 0, [root]
        while todo:
            n = todo.pop()
            buf, head = page(n), 100 if n == 1 else 0
            kind = buf[head]
            count += 1
            cells = int.from_bytes(buf[head + 3 : head + 5], "big")
            interior = kind in (2, 5)
            if interior:
                todo.append(int.from_bytes(buf[head + 8 : head + 12], "big"))
            pointers = head + (12 if interior else 8)
            for c in range(cells):
                at = int.from_bytes(buf[pointers + 2 * c : pointers + 2 * c + 2], "big")
                if interior:
                    todo.append(int.from_bytes(buf[at : at + 4], "big"))
                if kind == 5:  # table interior: child pointer and rowid only
                    continue
                payload, at = _varint(buf, at + (4 if kind == 2 else 0))
                if kind == 13:
                    _, at = _varint(buf, at)  # rowid
                big = usable - 35 if kind == 13 else (usable - 12) * 64 // 255 - 23
                if payload > big:
                    small = (usable - 12) * 32 // 255 - 23
                    local = small + (payload - small) % (usable - 4)
                    local = local if local <= big else small
                    count += overflow_pages(int.from_bytes(buf[at + local : at + local + 4], "big"))
        return count

    return {name: tree_pages(root) * page_size for name, root in roots}
