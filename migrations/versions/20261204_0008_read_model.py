"""the read model: kudos tallied per UTC day, month and year (bot/reports/summaries.py)

`kudos_tallies` counts the standing kudos each person received and gave per UTC month and
year (per principle, and for every principle together as principle 0), and each principle's
per UTC day; the reports read whole buckets from it and the edges of a period from the kudos.
`tally_rebuilds` marks a `missionbot db rebuild-summaries` under way, so that it resumes.

The tallies are filled here from the kudos already recorded, in the database (INSERT …
SELECT … GROUP BY), in the same transaction as the table's creation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The UTC day, month and year of `created_at`, as a date, in each dialect.
_BUCKETS = {
    "postgresql": {
        "d": "CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
        "m": "CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS DATE)",
        "y": "CAST(date_trunc('year', created_at AT TIME ZONE 'UTC') AS DATE)",
    },
    "sqlite": {
        "d": "date(created_at)",
        "m": "date(created_at, 'start of month')",
        "y": "date(created_at, 'start of year')",
    },
}


def upgrade() -> None:
    op.create_table(
        "kudos_tallies",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("principle_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kudos", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id",
            "role",
            "grain",
            "principle_id",
            "bucket",
            "user_id",
            name=op.f("pk_kudos_tallies"),
        ),
    )
    op.create_table(
        "tally_rebuilds",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("next_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_tally_rebuilds")),
    )
    buckets = _BUCKETS[op.get_bind().dialect.name]
    columns = "team_id, role, grain, principle_id, bucket, user_id, kudos"
    for role, who in (("r", "receiver_id"), ("g", "giver_id")):
        for grain in ("m", "y"):
            bucket = buckets[grain]
            op.execute(
                f"INSERT INTO kudos_tallies ({columns}) "
                f"SELECT team_id, '{role}', '{grain}', principle_id, {bucket}, {who}, count(*) "
                "FROM kudos WHERE withdrawn_at IS NULL "
                f"GROUP BY team_id, principle_id, {bucket}, {who}"
            )
            op.execute(
                f"INSERT INTO kudos_tallies ({columns}) "
                f"SELECT team_id, '{role}', '{grain}', 0, {bucket}, {who}, count(*) "
                "FROM kudos WHERE withdrawn_at IS NULL "
                f"GROUP BY team_id, {bucket}, {who}"
            )
    day = buckets["d"]
    op.execute(
        f"INSERT INTO kudos_tallies ({columns}) "
        f"SELECT team_id, 'p', 'd', principle_id, {day}, '', count(*) "
        "FROM kudos WHERE withdrawn_at IS NULL "
        f"GROUP BY team_id, principle_id, {day}"
    )


def downgrade() -> None:
    op.drop_table("tally_rebuilds")
    op.drop_table("kudos_tallies")
