"""the tallies' counts in their key's index: leaderboards read the index alone (PostgreSQL)

`kudos_tallies`'s primary key is every column but `kudos`, so each tally a report read was a
visit to the table: a month bucket's rows lie one to a page (the rebuild and the write path
interleave roles and principles), and a month leaderboard at ten million kudos read as many
pages as rows. The key's index now carries `kudos` (`INCLUDE`), and reports are index-only
scans. The key itself is unchanged (same columns, same name, same `ON CONFLICT` target).

Built without stopping the bot: the new unique index is created CONCURRENTLY (outside a
transaction: kudos go on being written meanwhile), then swapped in as the primary key in one
short transaction (`ADD PRIMARY KEY USING INDEX`: no rebuild, a moment's lock). SQLite has no
INCLUDE and reads a row from its key cheaply: nothing to do there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "team_id, role, grain, principle_id, bucket, user_id"
_BUILDING = "ix_kudos_tallies_key_building"


def upgrade() -> None:
    _swap_key(" INCLUDE (kudos)")


def downgrade() -> None:
    _swap_key("")


def _swap_key(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        # Left behind by an interrupted run, an invalid index is dropped and built again.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_BUILDING}")
        op.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY {_BUILDING} ON kudos_tallies ({_KEY}){include}"
        )
    op.execute(
        "ALTER TABLE kudos_tallies DROP CONSTRAINT pk_kudos_tallies, "
        f"ADD CONSTRAINT pk_kudos_tallies PRIMARY KEY USING INDEX {_BUILDING}"
    )
