"""the kudos' receiver index carries the giver: who gave a receiver their kudos, from the index

The dashboard's weighted board scores only the receivers who can reach its top (bot/insights/
numbers.py: `weighted_top`), counting each one's kudos per giver. The receiver index
(`ix_kudos_team_id_receiver_id_covering`) had every column those counts read but the giver,
so each kudos was a visit to the table: at a million kudos, the top twenty receivers' 85,000
kudos were 25,000 pages (350 ms). The index now ends with `giver_id` (a plain trailing
column, as the other covering indexes: SQLite has no INCLUDE), same name, same leading
columns, so every query that used it still does.

PostgreSQL: built CONCURRENTLY beside the old one (kudos go on being written), then the old
one dropped CONCURRENTLY and the new one given its name: the bot keeps an index on receivers
throughout. A run interrupted after the drop builds it again. SQLite: dropped and created in
the migration's transaction (SQLite writes one at a time anyway).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_kudos_team_id_receiver_id_covering"
_BUILDING = "ix_kudos_receiver_covering_building"
_BEFORE = ["team_id", "receiver_id", "created_at", "withdrawn_at", "principle_id"]
_AFTER = [*_BEFORE, "giver_id"]


def upgrade() -> None:
    _replace(_AFTER)


def downgrade() -> None:
    _replace(_BEFORE)


def _replace(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="kudos")
        op.create_index(_NAME, "kudos", columns)
        return
    with op.get_context().autocommit_block():
        # Left behind by an interrupted run, an invalid index is dropped and built again.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_BUILDING}")
        op.execute(f"CREATE INDEX CONCURRENTLY {_BUILDING} ON kudos ({', '.join(columns)})")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
    op.execute(f"ALTER INDEX {_BUILDING} RENAME TO {_NAME}")
