"""a covering index on the kudos by channel: the dashboard's channel filter reads it alone

The read model counts by principle and person, not by channel, so the dashboard's pages
filtered by a channel read the raw kudos (bot/insights/numbers.py). The only index leading
with the channel was (team_id, channel_id, message_ts), for reactions: its entries say
nothing of a kudos's time, withdrawal or people, so a channel's month was every one of the
team's kudos of the month visited in the table (at ten million kudos, a channel holding
them all: the overview 2.0-2.3 s, the principles page 1.7-2.3 s). This one carries every
column those pages filter and group on after the channel and the time, as the other
covering indexes do (plain trailing columns: SQLite has no INCLUDE), so both databases
answer from the index alone, and only the channel's kudos are read.

PostgreSQL: built CONCURRENTLY (in an autocommit block: it can't run in a transaction), so
a running bot goes on recording kudos while it builds (41.7 s at ten million kudos); a run
interrupted mid-build leaves an invalid index, which the next run drops and builds again.
SQLite: created in the migration's transaction (SQLite writes one at a time anyway).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_kudos_team_id_channel_id_covering"
_COLUMNS = [
    "team_id",
    "channel_id",
    "created_at",
    "withdrawn_at",
    "receiver_id",
    "giver_id",
    "principle_id",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(_NAME, "kudos", _COLUMNS)
        return
    with op.get_context().autocommit_block():
        valid = op.get_bind().scalar(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
            ),
            {"name": _NAME},
        )
        if valid is False:  # left behind by an interrupted build
            op.execute(f"DROP INDEX CONCURRENTLY {_NAME}")
        if not valid:
            op.execute(f"CREATE INDEX CONCURRENTLY {_NAME} ON kudos ({', '.join(_COLUMNS)})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="kudos")
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
