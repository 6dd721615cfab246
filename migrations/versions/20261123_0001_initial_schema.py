"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:32:40.506535
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kudos_allowances",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "giver_id", "day", name=op.f("pk_kudos_allowances")),
    )
    op.create_table(
        "missions",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_missions")),
    )
    op.create_table(
        "principles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("emoji", sa.String(length=100), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principles")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_principles_team_id_key")),
    )
    with op.batch_alter_table("principles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_principles_team_id_position"), ["team_id", "position"], unique=False
        )

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_events_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("post_time", sa.String(length=5), nullable=False),
        sa.Column("weekdays", sa.String(length=27), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("paused_reason", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "team_id", "channel_id", name=op.f("uq_subscriptions_team_id_channel_id")
        ),
    )
    op.create_table(
        "daily_principles",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("principle_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principle_id"],
            ["principles.id"],
            name=op.f("fk_daily_principles_principle_id_principles"),
        ),
        sa.PrimaryKeyConstraint("team_id", "day", name=op.f("pk_daily_principles")),
    )
    op.create_table(
        "kudos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("receiver_id", sa.String(length=32), nullable=False),
        sa.Column("principle_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_channel_id", sa.String(length=32), nullable=True),
        sa.Column("public_message_ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["principle_id"], ["principles.id"], name=op.f("fk_kudos_principle_id_principles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kudos")),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kudos_team_id_created_at"), ["team_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kudos_team_id_giver_id_created_at"),
            ["team_id", "giver_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_kudos_team_id_group_id"), ["team_id", "group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kudos_team_id_principle_id_created_at"),
            ["team_id", "principle_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_kudos_team_id_receiver_id_created_at"),
            ["team_id", "receiver_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("principle_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principle_id"],
            ["principles.id"],
            name=op.f("fk_scheduled_posts_principle_id_principles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "local_date",
            "kind",
            name=op.f("uq_scheduled_posts_team_id_channel_id_local_date_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("scheduled_posts")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kudos_team_id_receiver_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_kudos_team_id_principle_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_kudos_team_id_group_id"))
        batch_op.drop_index(batch_op.f("ix_kudos_team_id_giver_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_kudos_team_id_created_at"))

    op.drop_table("kudos")
    op.drop_table("daily_principles")
    op.drop_table("subscriptions")
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_received_at"))

    op.drop_table("processed_events")
    with op.batch_alter_table("principles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_principles_team_id_position"))

    op.drop_table("principles")
    op.drop_table("missions")
    op.drop_table("kudos_allowances")
