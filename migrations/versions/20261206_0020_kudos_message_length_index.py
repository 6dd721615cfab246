"""an index on the kudos' message length: the digest's highlights without reading every message

The weekly digest quotes the week's longest quotable messages, latest first (bot/daily/
digest.py). It grouped every kudos of the week to compare their lengths, and a message is in
the table, not in any index: at ten million kudos a week's 63,000 kudos were as many visits to
the table (their rows lie wherever they were written), ~680 ms of the digest's second. This
index, (team_id, length(message), created_at), gives the week's kudos of one length, latest
first, by a seek, and the lengths from the longest down: the digest reads only the few kudos
it quotes (and those tied with them).

An expression index: PostgreSQL and SQLite both use it where a query says `length(message)`.
PostgreSQL: built CONCURRENTLY (kudos go on being written; a run interrupted leaves an invalid
index, dropped and built again). SQLite: in the migration's transaction.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_kudos_team_id_message_length"
_COLUMNS = "team_id, length(message), created_at"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(_NAME, "kudos", ["team_id", sa.text("length(message)"), "created_at"])
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
        op.execute(f"CREATE INDEX CONCURRENTLY {_NAME} ON kudos ({_COLUMNS})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="kudos")
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
