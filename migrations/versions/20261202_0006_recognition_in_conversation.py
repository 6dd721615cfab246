"""recognition in the conversation: principle reactions, kudos in a message, groups

Principles get emoji `aliases` (more reactions that mean them). A kudos given by reaction or
in a message remembers that message (`kudos.message_ts`, in its channel): a giver recognises
a message once per principle, and removing the reaction or deleting the message withdraws it.
`recognised_messages` holds each recognised message's one thread reply and whether its author
was told; `kudos_allowances.noted` the one over-allowance note a day; `workspace_settings`
what a workspace turned on or off. How a kudos was given was already in `kudos.source`
(now also `reaction` and `message`); exports show it as `given_via`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("principles") as batch:
        batch.add_column(sa.Column("aliases", sa.Text(), nullable=True))
    with op.batch_alter_table("kudos") as batch:
        batch.add_column(sa.Column("message_ts", sa.String(length=32), nullable=True))
        batch.create_index(
            "ix_kudos_team_id_channel_id_message_ts", ["team_id", "channel_id", "message_ts"]
        )
    with op.batch_alter_table("kudos_allowances") as batch:
        batch.add_column(sa.Column("noted", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "recognised_messages",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("reply_ts", sa.String(length=32), nullable=True),
        sa.Column("dm_queued", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "channel_id", "message_ts", name=op.f("pk_recognised_messages")
        ),
    )
    op.create_table(
        "workspace_settings",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("reactions", sa.Boolean(), nullable=True),
        sa.Column("messages", sa.Boolean(), nullable=True),
        sa.Column("trigger_word", sa.String(length=32), nullable=True),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_workspace_settings")),
    )


def downgrade() -> None:
    op.drop_table("workspace_settings")
    op.drop_table("recognised_messages")
    with op.batch_alter_table("kudos_allowances") as batch:
        batch.drop_column("noted")
    with op.batch_alter_table("kudos") as batch:
        batch.drop_index("ix_kudos_team_id_channel_id_message_ts")
        batch.drop_column("message_ts")
    with op.batch_alter_table("principles") as batch:
        batch.drop_column("aliases")
