"""the tallies' counts in their key's index (PostgreSQL); quarter and all-time person tallies

`kudos_tallies`'s primary key is every column but `kudos`, so each tally a report read was a
visit to the table: a month bucket's rows lie one to a page (the rebuild and the write path
interleave roles and principles), and a month leaderboard at ten million kudos read as many
pages as rows. The key's index now carries `kudos` (`INCLUDE`), and reports are index-only
scans. The key itself is unchanged (same columns, same name, same `ON CONFLICT` target).

Built without stopping the bot: the new unique index is created CONCURRENTLY (outside a
transaction: kudos go on being written meanwhile), then swapped in as the primary key in one
short transaction (`ADD PRIMARY KEY USING INDEX`: no rebuild, a moment's lock). SQLite has no
INCLUDE and reads a row from its key cheaply: nothing to do there.

Each person's tallies gain two grains (bot/reports/summaries.py): the UTC quarter (a local
quarter is one bucket, not three months grouped again) and all time (`all` reads one row per
person, not one per person and year). They are summed here from the months and the years, in
the database: the quarters before this one (which no longer change) first, while kudos go
on, then this quarter while kudos wait (PostgreSQL: a SHARE lock on the tallies; reads go on).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 13:00:00.000000
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "team_id, role, grain, principle_id, bucket, user_id"
_BUILDING = "ix_kudos_tallies_key_building"
_COLUMNS = "team_id, role, grain, principle_id, bucket, user_id, kudos"
_ALL_TIME = {"postgresql": "DATE '1970-01-01'", "sqlite": "'1970-01-01'"}
# The first day of a month bucket's quarter, in each dialect.
_QUARTER = {
    "postgresql": "CAST(date_trunc('quarter', bucket) AS DATE)",
    "sqlite": "printf('%s-%02d-01', substr(bucket, 1, 4), "
    "(CAST(substr(bucket, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1)",
}


def upgrade() -> None:
    _swap_key(" INCLUDE (kudos)")
    dialect = op.get_bind().dialect.name
    quarter, all_time = _QUARTER[dialect], _ALL_TIME[dialect]
    # The months of quarters before this one don't change any more (the undo window is
    # hours): summed without holding kudos back. PostgreSQL, outside the transaction.
    settled = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    settled = dt.date(settled.year, (settled.month - 1) // 3 * 3 + 1, 1)
    op.execute("DELETE FROM kudos_tallies WHERE grain IN ('q', 'a') AND role IN ('r', 'g')")
    with op.get_context().autocommit_block():
        _sum("q", quarter, "m", f"bucket < '{settled.isoformat()}'", dialect)
        _sum("a", all_time, "q", "true", dialect)
    if dialect == "postgresql":
        # The rest while kudos wait (reads go on): this quarter's months, a few weeks' rows.
        op.execute("LOCK TABLE kudos_tallies IN SHARE MODE")
    _sum("q", quarter, "m", f"bucket >= '{settled.isoformat()}'", dialect)
    _sum("a", all_time, "m", f"bucket >= '{settled.isoformat()}'", dialect)


def _sum(grain: str, bucket: str, finer: str, where: str, dialect: str) -> None:
    """Add the sums of `finer`'s person rows (those meeting `where`) into `grain`'s."""
    conflict = (
        " ON CONFLICT (team_id, role, grain, principle_id, bucket, user_id) "
        "DO UPDATE SET kudos = kudos_tallies.kudos + excluded.kudos"
    )
    op.execute(
        f"INSERT INTO kudos_tallies ({_COLUMNS}) "
        f"SELECT team_id, role, '{grain}', principle_id, {bucket}, user_id, sum(kudos) "
        f"FROM kudos_tallies WHERE grain = '{finer}' AND role IN ('r', 'g') AND {where} "
        "GROUP BY 1, 2, 4, 5, 6 HAVING sum(kudos) != 0" + conflict
    )


def downgrade() -> None:
    op.execute("DELETE FROM kudos_tallies WHERE grain IN ('q', 'a')")
    _swap_key("")


def _swap_key(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        covering = op.get_bind().scalar(
            sa.text(
                "SELECT indnkeyatts < indnatts FROM pg_index "
                "WHERE indexrelid = 'pk_kudos_tallies'::regclass"
            )
        )
        if bool(covering) == bool(include):
            return  # already so (an upgrade interrupted after the swap)
        # Left behind by an interrupted run, an invalid index is dropped and built again.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_BUILDING}")
        op.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY {_BUILDING} ON kudos_tallies ({_KEY}){include}"
        )
        op.execute(
            "ALTER TABLE kudos_tallies DROP CONSTRAINT pk_kudos_tallies, "
            f"ADD CONSTRAINT pk_kudos_tallies PRIMARY KEY USING INDEX {_BUILDING}"
        )
