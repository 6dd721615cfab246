"""message marks: events about one message take effect in Slack's order

`message_marks` keeps the latest thing Slack said about a message (posted, deleted) or about
one person's reaction to it (added, removed), with the event's `event_ts`, so that a removal
handled before its add leaves the add nothing to do (bot/kudos/ordering.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_marks",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("mark", sa.String(length=128), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("event_us", sa.BigInteger(), nullable=False),
        sa.Column("principle_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "channel_id", "message_ts", "user_id", "mark", name=op.f("pk_message_marks")
        ),
    )
    op.create_index(
        op.f("ix_message_marks_updated_at"), "message_marks", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_message_marks_updated_at"), table_name="message_marks")
    op.drop_table("message_marks")
