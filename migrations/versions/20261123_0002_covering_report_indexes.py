"""covering indexes for the reports

The leaderboards and the principle report read kudos by team and time or by team and person;
these indexes carry the columns those queries filter and group on, so they are answered from
the index alone. They replace the narrower indexes with the same leading columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = {
    "ix_kudos_team_id_created_at_covering": [
        "team_id",
        "created_at",
        "withdrawn_at",
        "receiver_id",
        "giver_id",
        "principle_id",
    ],
    "ix_kudos_team_id_receiver_id_covering": [
        "team_id",
        "receiver_id",
        "created_at",
        "withdrawn_at",
        "principle_id",
    ],
    "ix_kudos_team_id_giver_id_covering": [
        "team_id",
        "giver_id",
        "created_at",
        "withdrawn_at",
        "principle_id",
    ],
}
OLD = {
    "ix_kudos_team_id_created_at": ["team_id", "created_at"],
    "ix_kudos_team_id_receiver_id_created_at": ["team_id", "receiver_id", "created_at"],
    "ix_kudos_team_id_giver_id_created_at": ["team_id", "giver_id", "created_at"],
}


def upgrade() -> None:
    _replace(OLD, NEW)


def downgrade() -> None:
    _replace(NEW, OLD)


def _replace(drop: dict[str, list[str]], create: dict[str, list[str]]) -> None:
    # Create first, so that no query is left without an index while the old ones go.
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        for name, columns in create.items():
            batch_op.create_index(name, columns, unique=False)
        for name in drop:
            batch_op.drop_index(name)
