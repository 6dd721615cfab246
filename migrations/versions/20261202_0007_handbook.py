"""the living handbook: the managers' App Home chart cache

`health_charts` remembers the promise-health chart uploaded for a manager this week, so the
App Home shows it by file ID instead of uploading a new image each time the tab opens.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
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


def downgrade() -> None:
    op.drop_table("health_charts")
