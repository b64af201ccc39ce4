"""Building the search index of a whole database: migration 0014, Alembic q0002 and `copy-db`.

A crawl indexes the versions it stores (`qmcrawler.storage.indexlag`, from the comparison forms
the extractor made). Here the comparison forms are made again from the stored
title and text (`qmcrawler.textnorm.comparison_form`, with the t2s the page's flags record): the
same strings, as `tests/test_page_chars.py` checks through the content hashes.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from qmcrawler.storage import grams
from qmcrawler.textnorm import comparison_form

#: versions read and indexed per batch
BATCH = 1000


def comparison_rows(rows: Iterable[Any]) -> Iterator[tuple[int, str, str]]:
    """(id, title, text, flags) rows as (id, comparison title, comparison text)."""
    for vid, title, text, flags in rows:
        t2s = "t2s_applied" in json.loads(flags or "[]")
        yield int(vid), comparison_form(title or "", t2s), comparison_form(text or "", t2s)


def build(db: Any) -> int:
    """Create the index if missing and index every version not yet in it; return how many were indexed."""
    postgres = getattr(db, "dialect", "sqlite") == "postgresql"
    if not postgres:
        db.execute(grams.DDL.replace("CREATE VIRTUAL TABLE", "CREATE VIRTUAL TABLE IF NOT EXISTS"))
    done = 0
    last = 0
    while True:
        batch = list(
            db.execute(
                "SELECT id, title, text, flags FROM versions WHERE id > ? ORDER BY id LIMIT ?", [last, BATCH]
            ).fetchall()
        )
        if not batch:
            if not postgres and db["search_queue"].exists():  # every version is indexed now
                db.execute("DELETE FROM search_queue")
            return done
        done += grams.index_versions(db, comparison_rows(batch))
        last = int(batch[-1][0])


def give_back_space(db: Any) -> None:
    """VACUUM after 0014 dropped the passages (about half an old database): the file shrinks.

    Skipped with one line on stderr when another process holds the database (the freed pages are
    then reused by the next writes; `sqlite-utils vacuum FILE` gives them back later).
    """
    try:
        db.execute("VACUUM")
    except sqlite3.OperationalError as e:
        print(f"qmcrawler: 0014_bigram_search freed space that VACUUM could not give back now ({e})", file=sys.stderr)
