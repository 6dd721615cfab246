"""each kudos remembers the allowance day it was counted against

A withdrawal (`/kudos undo`, a reaction removed, a kudos message deleted) gives the allowance
back. It used to work out which day from the giver's timezone as the directory has it at
withdrawal time; a giver whom Slack had not yet described when they gave (counted in UTC) and
whose timezone the directory learnt a moment later was refunded on another day, and kept a
used kudos for nothing (seen at 01:30 UTC with a New York giver). The day is now stored with
the kudos (`allowance_day`) and the refund goes to it.

A nullable column with no default: PostgreSQL adds it without rewriting the table, so kudos go
on being written throughout; a bot still running the previous release neither writes nor reads
it, and its rows (like every row from before) fall back to the timezone, as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos") as batch:
        batch.add_column(sa.Column("allowance_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kudos") as batch:
        batch.drop_column("allowance_day")
