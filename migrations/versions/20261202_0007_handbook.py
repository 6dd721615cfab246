"""the living handbook: the managers' App Home chart cache, the onboarding drip

`health_charts` remembers the promise-health chart uploaded for a manager this week, so the
App Home shows it by file ID instead of uploading a new image each time the tab opens.
`onboarding_drips` holds each newcomer's progress through the principles (one a working day
by DM, bot/daily/drip.py).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_charts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "week_start", name=op.f("pk_health_charts")),
    )
    op.create_table(
        "onboarding_drips",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_onboarding_drips")),
    )
    op.create_index(
        op.f("ix_onboarding_drips_next_at"), "onboarding_drips", ["next_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_onboarding_drips_next_at"), table_name="onboarding_drips")
    op.drop_table("onboarding_drips")
    op.drop_table("health_charts")
