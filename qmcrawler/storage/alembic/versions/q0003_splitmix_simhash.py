"""Every version's SimHash made again with the cheaper hash: SQLite's 0015_splitmix_simhash.

The fingerprint moved from BLAKE2b per 3-gram to splitmix64 over numpy arrays
(`qmcrawler.monitor.copies.simhash`); the two give unrelated values, so every version's
`simhash` is recomputed and the band rows of current versions rebuilt; copy links are kept
(`qmcrawler.storage.copylinks.refingerprint_all`, the same code as on SQLite, run on
Alembic's connection inside its transaction).

Revision ID: q0003
Revises: q0002
"""

from __future__ import annotations

from typing import Any

from alembic import op

from qmcrawler.storage import copylinks
from qmcrawler.storage.pgdb import PgDatabase

revision = "q0003"
down_revision = "q0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    raw: Any = op.get_bind().connection.driver_connection  # psycopg's connection, in Alembic's transaction
    db: Any = PgDatabase.within(raw)  # the store's interface (copylinks is typed for sqlite-utils)
    copylinks.refingerprint_all(db)


def downgrade() -> None:
    raise NotImplementedError("q0003 replaced the BLAKE2b fingerprints; an older qmcrawler cannot compare with them")
