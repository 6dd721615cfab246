"""kudos audience and the conversations it was given in

Every kudos records who could read it where it was given (public channel, private channel,
shared channel, group DM, DM, unknown); only public kudos are quoted elsewhere. Kudos recorded
before this revision get "unknown", which counts as private: nothing they said is quoted again.
`conversations` keeps what the bot last learnt of each conversation's audience.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kudos") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(length=16), server_default="unknown", nullable=False)
        )
    op.create_table(
        "conversations",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name=op.f("pk_conversations")),
    )


def downgrade() -> None:
    op.drop_table("conversations")
    with op.batch_alter_table("kudos") as batch:
        batch.drop_column("audience")
