"""The schema's history from 0013 on: Alembic revisions in `qmcrawler/storage/alembic`.

PostgreSQL gets its whole schema from Alembic. SQLite databases are built and upgraded by the
sqlite-utils migrations (`qmcrawler.storage.schema`) and stamped with the Alembic baseline (0013);
a later schema change is a pair, a migration for SQLite and a revision for PostgreSQL (0014 and
q0002: the search index, which differs between the two; 0015 and q0003: new fingerprints).
Opening an up-to-date database reads one row (`alembic_version`) and imports nothing of Alembic
or SQLAlchemy, so a crawl's start-up does not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qmcrawler.storage.dialects import safe_url

#: the newest revision this version knows (the files in alembic/versions)
HEAD = "q0003"
#: every revision this version knows, oldest first
KNOWN = ("q0001", "q0002", "q0003")
#: the baseline: what SQLite migration 0013 is in Alembic's history
BASELINE = "q0001"
#: the revision SQLite files carry (their later history is sqlite-utils migrations: 0014 = q0002, 0015 = q0003)
SQLITE_REVISION = BASELINE
#: a session-level advisory lock key: one process upgrades a database at a time
_UPGRADE_LOCK = 0x716D63  # "qmc"

SCRIPTS = Path(__file__).with_name("alembic")


class LocaleError(Exception):
    """The PostgreSQL database cannot index Chinese with trigrams (its LC_CTYPE is C or POSIX)."""


def current_revision(db: Any) -> str | None:
    """The database's Alembic revision, or None when it has none yet."""
    try:
        rows = list(db.query("SELECT version_num FROM alembic_version"))
    except Exception:
        if db.conn.in_transaction and getattr(db, "dialect", "sqlite") == "postgresql":
            db.conn.rollback()
        return None
    return str(rows[0]["version_num"]) if rows else None


def newer_revision(db: Any) -> str | None:
    """A revision this version does not know (a newer qmcrawler wrote the database), else None."""
    rev = current_revision(db)
    return rev if rev is not None and rev not in KNOWN else None


def stamp_sqlite(db: Any) -> None:
    """Mark an SQLite database built by migrations 0001-0013 as being at the Alembic baseline.

    Several processes may open a new database at once: the stamp is written under the write
    lock, and only when no revision is there yet.
    """
    if current_revision(db) is not None:
        return
    with db.atomic():
        db.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        db.execute(
            "INSERT INTO alembic_version (version_num) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM alembic_version)",
            [BASELINE],
        )


def check_locale(db: Any, url: str) -> None:
    """Refuse a database whose LC_CTYPE makes pg_trgm blind to Chinese (no trigrams at all)."""
    row = next(db.query("SELECT datctype FROM pg_database WHERE datname = current_database()"))
    ctype = str(row["datctype"])
    if ctype in ("C", "POSIX") or "utf" not in ctype.lower().replace("-", ""):
        name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "qm"
        raise LocaleError(
            f"{safe_url(url)}: LC_CTYPE is {ctype!r}, so pg_trgm cannot index Chinese; create the database with "
            f"`createdb --template=template0 --encoding=UTF8 --locale=C.UTF-8 {name}`"
        )


def upgrade_postgres(db: Any, url: str) -> list[str]:
    """Run the Alembic revisions this database lacks (under an advisory lock); return their ids."""
    if current_revision(db) == HEAD:
        return []
    db.execute("SELECT pg_advisory_lock(?)", [_UPGRADE_LOCK])
    try:
        before = current_revision(db)
        if before == HEAD:
            return []
        _alembic_upgrade(url)
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", [_UPGRADE_LOCK])
    return list(KNOWN[KNOWN.index(before) + 1 :] if before in KNOWN else KNOWN)


def _alembic_upgrade(url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1], poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(SCRIPTS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
