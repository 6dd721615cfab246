"""the outbox: messages the bot sends into Slack on its own initiative

A row is written in the same transaction as the change that causes it (a kudos and its
announcement commit together) and drained by the sender (bot/outbox/), which paces, coalesces,
retries and survives crashes through row leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("update_ts", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_status_not_before"), "outbox", ["status", "not_before"])
    op.create_index(
        op.f("ix_outbox_team_id_channel_id_status"), "outbox", ["team_id", "channel_id", "status"]
    )
    op.create_index(op.f("ix_outbox_team_id_subject"), "outbox", ["team_id", "subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_team_id_subject"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_team_id_channel_id_status"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_status_not_before"), table_name="outbox")
    op.drop_table("outbox")
