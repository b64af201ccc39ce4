"""What a trigram index over a database's text costs, in the layouts FTS5 offers.

    .venv/bin/python bench/searchindex.py qm.db

Reads the versions of an existing qmcrawler database (e.g. a crawl of the `bench/sitegen.py`
site) and builds, in memory, an FTS5 trigram index over their text in several layouts: one row
per passage (what `passages_fts` is), one row per paragraph run, one row per whole version;
`detail=full` (positions), `detail=column` and `detail=none`; as a crawl leaves it (one segment
per transaction merged by FTS5's automerge) and after `optimize`. Prints bytes per article
and whether a phrase query of 3 and of 4 characters works in that layout on this SQLite (every
search of 3+ characters is one: `sqlite-utils search`, Datasette `_search`, `qmcrawler search`).
And the layout the store uses since migration 0014: each version's bigrams in a contentless
`detail=none` table (`qmcrawler.storage.grams`), a term looked up as the AND of its bigrams and
checked against the text. Then the stored raw HTML recompressed: zstd at the level the store
uses (1), zlib at 1 (the stored form before), 6 and 9, and lzma, with the CPU each takes per page.
"""

from __future__ import annotations

import argparse
import lzma
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qmcrawler.monitor.content import pack_raw, unpack_raw  # noqa: E402
from qmcrawler.storage import grams  # noqa: E402
from qmcrawler.storage.passages import split_passages  # noqa: E402


def index_bytes(docs: list[str], detail: str, per_transaction: int) -> tuple[int, int, str]:
    """f_data bytes as written (`per_transaction` rows per commit), after optimize, and a phrase query's fate."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5 (text, tokenize='trigram', detail={detail})")
    for start in range(0, len(docs), per_transaction):
        conn.executemany("INSERT INTO f (text) VALUES (?)", ((d,) for d in docs[start : start + per_transaction]))
        conn.commit()

    def size() -> int:
        return int(conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'f_data'").fetchone()[0])

    written = size()
    conn.execute("INSERT INTO f (f) VALUES ('optimize')")
    conn.commit()
    fates = []
    for phrase in ('"质量月"', '"质量强国"'):  # one trigram; two trigrams (a phrase of tokens)
        try:
            conn.execute("SELECT count(*) FROM f WHERE f MATCH ?", [phrase]).fetchone()
            fates.append(f"{len(phrase) - 2} characters: works")
        except sqlite3.OperationalError as e:
            fates.append(f"{len(phrase) - 2} characters: {e}")
    return written, size(), "; ".join(fates)


def main(argv: list[str] | None = None) -> int:
    """Build the indexes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    args = parser.parse_args(argv)
    src = sqlite3.connect(args.db)
    versions = src.execute("SELECT title, text FROM versions ORDER BY id").fetchall()
    articles = src.execute("SELECT count(*) FROM pages WHERE current_version IS NOT NULL").fetchone()[0] or 1
    text_bytes = sum(len((t or "").encode()) + len((x or "").encode()) for t, x in versions)
    src.close()
    passages = [p for t, x in versions for p in split_passages(t, x)]
    per_passage = max(1, len(passages) // max(1, len(versions)))
    layouts = {
        "one row per passage (passages_fts)": (passages, per_passage),
        "one row per whole version": ([f"{t or ''}\n{x or ''}" for t, x in versions], 1),
    }
    print(f"{articles} articles, {text_bytes / articles:,.0f} bytes of UTF-8 text per article\n")
    print("| layout | detail | bytes per article, as written | optimized | phrase queries |\n|---|---|---|---|---|")
    for name, (docs, per_txn) in layouts.items():
        for detail in ("full", "column", "none"):
            written, optimized, phrase = index_bytes(docs, detail, per_txn)
            print(f"| {name} | {detail} | {written / articles:,.0f} | {optimized / articles:,.0f} | {phrase} |")
    written, optimized = bigram_bytes([f"{t or ''}\n{x or ''}" for t, x in versions])
    print(
        f"| bigrams of each whole version (search_grams, the store) | none | {written / articles:,.0f} | "
        f"{optimized / articles:,.0f} | every term of 2+ characters: AND of its bigrams, checked against the text |"
    )
    raw_table(args.db, articles)
    return 0


def bigram_bytes(bodies: list[str]) -> tuple[int, int]:
    """The store's bigram index over these bodies, one commit per version: bytes as written, after optimize."""
    conn = sqlite3.connect(":memory:")
    conn.execute(grams.DDL)
    for n, body in enumerate(bodies, 1):
        conn.execute("INSERT INTO search_grams (rowid, grams) VALUES (?, ?)", [n, grams.document(body.casefold())])
        conn.commit()

    def size() -> int:
        return int(conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_grams_%'").fetchone()[0])

    written = size()
    conn.execute("INSERT INTO search_grams (search_grams) VALUES ('optimize')")
    conn.commit()
    return written, size()


def raw_table(db: Path, articles: int) -> None:
    """Bytes per article and CPU per page of the raw HTML under each compressor."""
    src = sqlite3.connect(db)
    pages = [unpack_raw(c) for (c,) in src.execute("SELECT content FROM raw")]
    src.close()
    codecs: dict[str, Callable[[bytes], bytes]] = {
        "zstd level 1 (the store)": pack_raw,
        "zlib level 1 (the store before)": lambda b: zlib.compress(b, 1),
        "zlib level 6": lambda b: zlib.compress(b, 6),
        "zlib level 9": lambda b: zlib.compress(b, 9),
        "lzma preset 6": lambda b: lzma.compress(b, preset=6),
    }
    print("\n| raw HTML | bytes per article | CPU ms per page |\n|---|---|---|")
    for name, codec in codecs.items():
        start = time.process_time()
        size = sum(len(codec(page)) for page in pages)
        cpu = (time.process_time() - start) * 1000 / max(1, len(pages))
        print(f"| {name} | {size / articles:,.0f} | {cpu:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
