"""Order-independent content hashes of a table's rows, the same on SQLite and PostgreSQL.

`copy-db` checks a copy with them: each row becomes the SHA-256 of its values in a canonical
form, and a table's hash is the sum of its rows' hashes modulo 2^256, so the order the rows
come in does not matter (a sum, not an XOR: two equal rows do not cancel out). The canonical
form hides what differs between the drivers and not the data: a BLOB read from SQLite is
`bytes`, PostgreSQL's `bytea` may come as a `memoryview`; a whole number stored as REAL in one
and as an integer in the other is the same number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_MOD = 1 << 256


def canonical(value: Any) -> Any:
    """A value as both databases' drivers would agree on it (bytes for blobs, int for whole numbers)."""
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: the types both drivers return alike (most values): no need to look at each
_PLAIN = frozenset({str, int, bytes, type(None)})


def row_hash(row: Sequence[Any]) -> int:
    """The SHA-256 of one row's canonical values (as an integer)."""
    values = tuple(row) if _PLAIN.issuperset(map(type, row)) else tuple(map(canonical, row))
    return int.from_bytes(hashlib.sha256(repr(values).encode("utf-8", "surrogatepass")).digest(), "big")


@dataclass
class TableDigest:
    """Row count and order-independent content hash of the rows added so far."""

    rows: int = 0
    total: int = 0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.rows += 1
            self.total = (self.total + row_hash(row)) % _MOD

    @property
    def hexdigest(self) -> str:
        return f"{self.total:064x}"
