"""home states: an App Home is published only when what it shows has changed

`home_states` keeps, per person, the fingerprint of the Home last published (who, role, local
day, data version), the data version that kudos and role changes bump, the role and timezone
seen at their last opening, and whether a publish is queued (bot/home/state.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_states",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("published", sa.String(length=200), nullable=True),
        sa.Column("publishing", sa.String(length=200), nullable=True),
        sa.Column("view_hash", sa.String(length=100), nullable=True),
        sa.Column("last_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_home_states")),
    )
    op.create_index(
        "ix_home_states_team_id_last_opened_at",
        "home_states",
        ["team_id", "last_opened_at"],
        unique=False,
    )
    # A paced kind's recent sends (views.publish stays under Slack's limit, bot/outbox/queue.py).
    op.create_index(
        op.f("ix_outbox_kind_status_finished_at"),
        "outbox",
        ["kind", "status", "finished_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_kind_status_finished_at"), table_name="outbox")
    op.drop_index("ix_home_states_team_id_last_opened_at", table_name="home_states")
    op.drop_table("home_states")
