"""directory fill: a resumable users.list fill under a lease, and people to check after a kudos

`directory_fills` keeps, per workspace, the cursor of the next `users.list` page, the pages and
people done, which process holds the fill (lease) and when it finished. `person_checks` keeps
the people a kudos was recorded for before Slack could say who they were, one row per person
and kudos, with the attempts and the next attempt's time (bot/kudos/checks.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_fills",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_directory_fills")),
    )
    op.create_table(
        "person_checks",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("giver", sa.Boolean(), nullable=False),
        sa.Column("counted_timezone", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "group_id", name=op.f("pk_person_checks")),
    )
    op.create_index(
        op.f("ix_person_checks_next_attempt_at"), "person_checks", ["next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_person_checks_next_attempt_at"), table_name="person_checks")
    op.drop_table("person_checks")
    op.drop_table("directory_fills")
