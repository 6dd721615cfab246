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

Filled here from the kudos already recorded. On PostgreSQL a bot may be writing kudos all
the while, and its requests wait at most 10 s for the database: so the fill goes a week at a
time, newest first, each week in a short transaction that holds `kudos` against writes
(SHARE ROW EXCLUSIVE: reads go on) while it counts that week and then lowers the triggers'
threshold to it. The triggers count only kudos at or after the threshold, so a kudos is
counted once: by the trigger if it changes after its week was filled, by the fill
otherwise (a withdrawal of an older kudos meanwhile is simply seen by the fill). The last
week counts everything older, and leaves the triggers without a threshold. At a million
kudos (10,000 a week) each week held writes for 0.3-0.6 s at load 12 (a month's 40,000:
0.5-2.4 s); the whole fill takes longer than one statement would (34 s against 6.5 s). On
SQLite the migration holds the write lock throughout: the triggers, then one fill.

A later migration that rebuilds `kudos` on SQLite (batch mode's copy and move) drops these
triggers with the old table: it must create them again (`create_triggers`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:10:00.000000
"""

import datetime as dt
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


def _function(since: dt.datetime | None) -> str:
    """PostgreSQL's trigger function; `since`: count only kudos created at or after it (the
    months before are yet to be filled)."""
    old = new = ""
    if since is not None:
        old = f" AND OLD.created_at >= TIMESTAMPTZ '{since.isoformat()}'"
        new = f" AND NEW.created_at >= TIMESTAMPTZ '{since.isoformat()}'"
    dialect = "postgresql"
    return (
        "CREATE OR REPLACE FUNCTION kudos_pairs_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  IF TG_OP <> 'INSERT' AND OLD.withdrawn_at IS NULL{old} THEN {_take(dialect, 'OLD')};"
        " END IF;\n"
        f"  IF TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NULL{new} THEN {_add(dialect, 'NEW')};"
        " END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def create_triggers(dialect: str, since: dt.datetime | None = None) -> None:
    """The triggers that keep `kudos_pairs` current with every change to `kudos` (on
    PostgreSQL, with `since`: to kudos created since then)."""
    if dialect == "postgresql":
        op.execute(_function(since))
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
    # An interrupted run of this migration (PostgreSQL commits it month by month) starts over.
    drop_triggers(dialect)
    op.execute("DROP TABLE IF EXISTS kudos_pairs")
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
    op.create_index(
        "ix_kudos_pairs_repeated",
        "kudos_pairs",
        ["team_id", "bucket", "giver_id", "receiver_id"],
        postgresql_where=sa.text("kudos >= 2"),
        sqlite_where=sa.text("kudos >= 2"),
    )
    if dialect == "postgresql":
        _fill_by_weeks()
    else:
        create_triggers(dialect)
        _fill(dialect, None, None)
    # Statistics now, not at autovacuum's leisure: without them PostgreSQL guessed a bucket
    # of the new table at 24 rows and read all 87,000 of this quarter's instead of seeking.
    op.execute("ANALYZE kudos_pairs")


# The teams that have kudos, one seek of the index on (team_id, created_at) each.
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)


def _fill(dialect: str, first: dt.datetime | None, last: dt.datetime | None) -> None:
    """Add the standing kudos created in [first, last) (None: unbounded) to the pairs. On
    PostgreSQL for the teams named, so that a week is a range of the (team, time) index per
    team, not a scan of every kudos (a week's transaction holds kudos writes)."""
    quarter = _quarter(dialect, "created_at")
    where = ["withdrawn_at IS NULL"]
    if dialect == "postgresql":
        teams = op.get_bind().scalars(sa.text(_TEAMS)).all()
        if not teams:
            return
        listed = ", ".join("'" + team.replace("'", "''") + "'" for team in teams)
        where.append(f"team_id IN ({listed})")
    if first is not None:
        where.append(f"created_at >= TIMESTAMPTZ '{first.isoformat()}'")
    if last is not None:
        where.append(f"created_at < TIMESTAMPTZ '{last.isoformat()}'")
    op.execute(
        f"INSERT INTO kudos_pairs ({_COLUMNS}) "
        f"SELECT team_id, {quarter}, giver_id, receiver_id, count(*) FROM kudos "
        f"WHERE {' AND '.join(where)} GROUP BY team_id, {quarter}, giver_id, receiver_id "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET kudos = kudos_pairs.kudos + excluded.kudos"
    )


def _fill_by_weeks() -> None:
    """PostgreSQL: the triggers from today (UTC) on, then each older week filled and handed
    to the triggers in a transaction of its own that holds kudos writes (module docstring),
    newest first; the oldest takes everything before it."""
    oldest = op.get_bind().scalar(sa.text("SELECT min(created_at) FROM kudos"))
    today = dt.datetime.now(dt.UTC)
    since = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
    lock = "LOCK TABLE kudos IN SHARE ROW EXCLUSIVE MODE"
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute(lock)
        create_triggers("postgresql", since)
        _fill("postgresql", since, None)
        op.execute("COMMIT")
        while True:
            last, since = since, since - dt.timedelta(days=7)
            done = oldest is None or oldest >= since
            op.execute("BEGIN")
            op.execute(lock)
            _fill("postgresql", None if done else since, last)
            op.execute(_function(None if done else since))
            op.execute("COMMIT")
            if done:
                return


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_index("ix_kudos_pairs_repeated", table_name="kudos_pairs")
    op.drop_table("kudos_pairs")
