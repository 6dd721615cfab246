"""the dashboard's sign-in links: single use, bound to a person and a workspace

`dashboard_signins` keeps a hash of each link's token (bot/web/signin.py), when it expires
and when it was used; sessions themselves are signed cookies and need no table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_signins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_dashboard_signins")),
    )
    op.create_index(
        op.f("ix_dashboard_signins_expires_at"), "dashboard_signins", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_signins_expires_at"), table_name="dashboard_signins")
    op.drop_table("dashboard_signins")
