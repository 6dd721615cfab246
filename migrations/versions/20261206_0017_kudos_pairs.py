"""standing kudos per (giver, receiver) and UTC quarter, kept by triggers on `kudos`

Promise health's reciprocal pairs (bot/reports/health.py) grouped the period's raw kudos per
(giver, receiver): a quarter at a million kudos is 87,000 rows, most of `/kudos health`'s
time. `kudos_pairs` counts them per UTC quarter, and a partial index holds the few rows with
at least two kudos: a pair exchanges at least four kudos, so in a period of one quarter
bucket and raw edges, one of its two directions has two or more in the bucket (or it shows
up in the edges), and only those candidates are looked up.

Kept by triggers on `kudos`, not by the write path: a bot still running yesterday's release
goes on recording kudos and withdrawals after this migration, and the triggers count those
too, so the table is exact from the moment this commits (an insert adds 1 to the kudos's
pair and quarter, a withdrawal, an undo or a deleted row takes 1 away, a changed row moves
its count). A kudos inserted and a kudos counted are one statement's work, so they can't
drift apart; `missionbot db rebuild-summaries` has nothing to do for it.

Filled here from the kudos already recorded, after the triggers exist and in the same
transaction: on PostgreSQL creating the trigger locks `kudos` against writes until the
migration commits, so every kudos is counted once, by the fill or by the trigger (at a
million kudos the fill took a few seconds; kudos wait meanwhile, reads go on). On SQLite the
migration holds the write lock throughout.

A later migration that rebuilds `kudos` on SQLite (batch mode's copy and move) drops these
triggers with the old table: it must create them again (`create_triggers`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "team_id, bucket, giver_id, receiver_id"
_COLUMNS = f"{_KEY}, kudos"
_CHANGES = "team_id, created_at, withdrawn_at, giver_id, receiver_id"
# SQLite's triggers: a kudos added, removed, or changed (counted out as it was, in as it is).
_SQLITE_TRIGGERS = (
    "kudos_pairs_add",
    "kudos_pairs_remove",
    "kudos_pairs_move_out",
    "kudos_pairs_move_in",
)


def _quarter(dialect: str, created_at: str) -> str:
    """The first day of the UTC quarter of `created_at`, as a date, in `dialect`'s SQL."""
    if dialect == "postgresql":
        return f"CAST(date_trunc('quarter', {created_at} AT TIME ZONE 'UTC') AS DATE)"
    # SQLite keeps UTC datetimes as text, 'YYYY-MM-DD HH:MM:SS…', and dates as 'YYYY-MM-DD'.
    return (
        f"printf('%s-%02d-01', substr({created_at}, 1, 4), "
        f"(CAST(substr({created_at}, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1)"
    )


def _add(dialect: str, row: str) -> str:
    return (
        f"INSERT INTO kudos_pairs ({_COLUMNS}) VALUES ({row}.team_id, "
        f"{_quarter(dialect, row + '.created_at')}, {row}.giver_id, {row}.receiver_id, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET kudos = kudos_pairs.kudos + 1"
    )


def _take(dialect: str, row: str) -> str:
    return (
        f"UPDATE kudos_pairs SET kudos = kudos - 1 WHERE team_id = {row}.team_id "
        f"AND bucket = {_quarter(dialect, row + '.created_at')} "
        f"AND giver_id = {row}.giver_id AND receiver_id = {row}.receiver_id"
    )


def create_triggers(dialect: str) -> None:
    """The triggers that keep `kudos_pairs` current with every change to `kudos`."""
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION kudos_pairs_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP <> 'INSERT' AND OLD.withdrawn_at IS NULL THEN {_take(dialect, 'OLD')};"
            " END IF;\n"
            f"  IF TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NULL THEN {_add(dialect, 'NEW')};"
            " END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER kudos_pairs_count AFTER INSERT OR DELETE ON kudos "
            "FOR EACH ROW EXECUTE FUNCTION kudos_pairs_count()"
        )
        # Only a change that moves a count: the bot updates other columns of kudos too.
        op.execute(
            f"CREATE TRIGGER kudos_pairs_move AFTER UPDATE OF {_CHANGES} ON kudos "
            "FOR EACH ROW WHEN ((OLD.team_id, OLD.created_at, OLD.withdrawn_at, OLD.giver_id, "
            "OLD.receiver_id) IS DISTINCT FROM (NEW.team_id, NEW.created_at, NEW.withdrawn_at, "
            "NEW.giver_id, NEW.receiver_id)) EXECUTE FUNCTION kudos_pairs_count()"
        )
        return
    triggers = dict(
        zip(
            _SQLITE_TRIGGERS,
            [
                ("INSERT", "NEW", _add),
                ("DELETE", "OLD", _take),
                (f"UPDATE OF {_CHANGES}", "OLD", _take),
                (f"UPDATE OF {_CHANGES}", "NEW", _add),
            ],
            strict=True,
        )
    )
    for name, (event, row, action) in triggers.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos FOR EACH ROW "
            f"WHEN {row}.withdrawn_at IS NULL BEGIN {action(dialect, row)}; END"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS kudos_pairs_move ON kudos")
        op.execute("DROP TRIGGER IF EXISTS kudos_pairs_count ON kudos")
        op.execute("DROP FUNCTION IF EXISTS kudos_pairs_count()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "kudos_pairs",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("receiver_id", sa.String(length=32), nullable=False),
        sa.Column("kudos", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "bucket", "giver_id", "receiver_id", name=op.f("pk_kudos_pairs")
        ),
    )
    create_triggers(dialect)
    quarter = _quarter(dialect, "created_at")
    op.execute(
        f"INSERT INTO kudos_pairs ({_COLUMNS}) "
        f"SELECT team_id, {quarter}, giver_id, receiver_id, count(*) FROM kudos "
        f"WHERE withdrawn_at IS NULL GROUP BY team_id, {quarter}, giver_id, receiver_id"
    )
    op.create_index(
        "ix_kudos_pairs_repeated",
        "kudos_pairs",
        ["team_id", "bucket", "giver_id", "receiver_id"],
        postgresql_where=sa.text("kudos >= 2"),
        sqlite_where=sa.text("kudos >= 2"),
    )
    # Statistics now, not at autovacuum's leisure: without them PostgreSQL guessed a bucket
    # of the new table at 24 rows and read all 87,000 of this quarter's instead of seeking.
    op.execute("ANALYZE kudos_pairs")


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_index("ix_kudos_pairs_repeated", table_name="kudos_pairs")
    op.drop_table("kudos_pairs")
