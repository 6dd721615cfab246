"""how many people have each count in a month's or quarter's tallies, kept by triggers

Promise health's distinct givers and receivers per principle and its top-5 share
(bot/reports/summaries.py `_people_histogram`) counted a bucket's person tallies per count:
a quarter at ten million kudos is ~400,000 rows a role, most of `/kudos health`'s 500 ms.
`kudos_tally_histogram` holds those counts: per team, role, grain (month, quarter),
principle (0: any) and bucket, how many people have exactly `kudos` kudos. A bucket is a
few hundred rows.

Kept by triggers on `kudos_tallies`: a person tally of those grains that changes moves its
person from the old count to the new one (counts of 0 or less hold no one). So the table
follows whatever writes the tallies: the write path, a bot still on yesterday's release, a
rebuild, a hand fix. PostgreSQL: statement-level triggers reading the transition tables
(one upsert of the histogram per tally statement, not one per tally row), each first taking
a transaction advisory lock per (team, UTC quarter) the statement touches, in order. The
histogram's rows are hot (every kudos moves someone out of "1" or "2"), and the upsert's
INSERT and UPDATE halves fire one trigger each: without the lock two kudos could each hold
one histogram row and wait for the other's. SQLite: row-level triggers (its write lock
already serialises writers).

Filled here from the tallies. On PostgreSQL a bot may be writing kudos meanwhile: as in
0017, the triggers first count only buckets from this UTC month on, then each older month's
buckets (and a quarter's with its first month) are filled in a short transaction that holds
tally writes (SHARE ROW EXCLUSIVE: reads go on) and lowers the triggers' threshold to that
month; the oldest step takes everything before it and leaves the triggers without one. A
tally is counted once: by the triggers if it changes after its bucket was filled, by the
fill otherwise. On SQLite the migration holds the write lock throughout.

A later migration that rebuilds `kudos_tallies` on SQLite (batch mode's copy and move) drops
these triggers with the old table: it must create them again (`create_triggers`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:00:00.000000
"""

import datetime as dt
import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_KEY = "team_id, role, grain, principle_id, bucket, kudos"
_COLUMNS = f"{_KEY}, people"
_COUNTED = "role IN ('r', 'g') AND grain IN ('m', 'q')"
# The second key of the triggers' advisory locks (the first is a hash of team and quarter):
# a two-key lock never collides with the one-key locks of bot/db/dialect.py.
LOCK_CLASS = 18
_TRIGGERS_POSTGRESQL = {
    "kudos_tally_histogram_insert": "INSERT",
    "kudos_tally_histogram_update": "UPDATE",
    "kudos_tally_histogram_delete": "DELETE",
    "kudos_tally_histogram_truncate": "TRUNCATE",
}
_SQLITE_TRIGGERS = (
    "kudos_tally_histogram_add",
    "kudos_tally_histogram_remove",
    "kudos_tally_histogram_move_out",
    "kudos_tally_histogram_move_in",
)


def lock_key(team: str, bucket: str) -> str:
    """PostgreSQL: the advisory lock's key of the team and the UTC quarter of `bucket` (SQL
    expressions), as the triggers and the rebuild's recount take it."""
    quarter = f"to_char(date_trunc('quarter', {bucket}), 'YYYY-MM-DD')"
    return f"hashtext({team} || '/' || {quarter})"


def _function(since: dt.date | None) -> str:
    """PostgreSQL's trigger function; `since`: count only buckets from then on (the older are
    yet to be filled). The transition tables a firing has: `new_rows` (INSERT, UPDATE),
    `old_rows` (UPDATE, DELETE)."""
    only = _COUNTED + " AND kudos > 0"
    if since is not None:
        only += f" AND bucket >= DATE '{since.isoformat()}'"
    moved = (
        f"SELECT team_id, role, grain, principle_id, bucket, kudos, -1 AS d FROM old_rows "
        f"WHERE {only}",
        f"SELECT team_id, role, grain, principle_id, bucket, kudos, 1 AS d FROM new_rows "
        f"WHERE {only}",
    )
    lock = (
        f"PERFORM pg_advisory_xact_lock({LOCK_CLASS}, k) FROM (SELECT DISTINCT "
        f"{lock_key('team_id', 'bucket')} AS k FROM ({{rows}}) r) l ORDER BY k"
    )
    count = (
        f"INSERT INTO kudos_tally_histogram ({_COLUMNS}) "
        f"SELECT {_KEY}, sum(d) FROM ({{rows}}) r GROUP BY {_KEY} HAVING sum(d) <> 0 "
        f"ORDER BY {_KEY} "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET people = kudos_tally_histogram.people + "
        "excluded.people"
    )
    branches = {
        "INSERT": moved[1],
        "UPDATE": f"{moved[0]} UNION ALL {moved[1]}",
        "DELETE": moved[0],
    }
    body = "".join(
        f"  {'IF' if n == 0 else 'ELSIF'} TG_OP = '{op_}' THEN\n"
        f"    {lock.format(rows=rows)};\n"
        f"    {count.format(rows=rows)};\n"
        for n, (op_, rows) in enumerate(branches.items())
    )
    # TRUNCATE fires no DELETE trigger: the histogram is emptied with the tallies.
    body += "  ELSIF TG_OP = 'TRUNCATE' THEN\n    DELETE FROM kudos_tally_histogram;\n"
    return (
        "CREATE OR REPLACE FUNCTION kudos_tally_histogram_count() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\nBEGIN\n" + body + "  END IF;\n  RETURN NULL;\nEND $$"
    )


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO kudos_tally_histogram ({_COLUMNS}) VALUES ({row}.team_id, {row}.role, "
        f"{row}.grain, {row}.principle_id, {row}.bucket, {row}.kudos, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET people = kudos_tally_histogram.people + 1"
    )


def _sqlite_take(row: str) -> str:
    return "UPDATE kudos_tally_histogram SET people = people - 1 WHERE " + " AND ".join(
        f"{c} = {row}.{c}" for c in _KEY.split(", ")
    )


def postgresql_triggers(since: dt.date | None = None) -> list[str]:
    """PostgreSQL's trigger function and its four statement-level triggers
    (bench/tally_upsert.py times them)."""
    statements = [_function(since)]
    for name, event in _TRIGGERS_POSTGRESQL.items():
        tables = {
            "INSERT": " REFERENCING NEW TABLE AS new_rows",
            "UPDATE": " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": " REFERENCING OLD TABLE AS old_rows",
            "TRUNCATE": "",
        }[event]
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos_tallies{tables} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_tally_histogram_count()"
        )
    return statements


def create_triggers(dialect: str, since: dt.date | None = None) -> None:
    """The triggers that keep `kudos_tally_histogram` current with every change to
    `kudos_tallies` (on PostgreSQL, with `since`: to buckets from then on)."""
    if dialect == "postgresql":
        for statement in postgresql_triggers(since):
            op.execute(statement)
        return
    changes = "team_id, role, grain, principle_id, bucket, kudos"
    triggers = dict(
        zip(
            _SQLITE_TRIGGERS,
            [
                ("INSERT", "NEW", _sqlite_add),
                ("DELETE", "OLD", _sqlite_take),
                (f"UPDATE OF {changes}", "OLD", _sqlite_take),
                (f"UPDATE OF {changes}", "NEW", _sqlite_add),
            ],
            strict=True,
        )
    )
    for name, (event, row, action) in triggers.items():
        when = f"{row}.role IN ('r', 'g') AND {row}.grain IN ('m', 'q') AND {row}.kudos > 0"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos_tallies FOR EACH ROW "
            f"WHEN {when} BEGIN {action(row)}; END"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for name in _TRIGGERS_POSTGRESQL:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON kudos_tallies")
        op.execute("DROP FUNCTION IF EXISTS kudos_tally_histogram_count()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # An interrupted run (PostgreSQL commits it month by month) starts over.
    drop_triggers(dialect)
    op.execute("DROP TABLE IF EXISTS kudos_tally_histogram")
    op.create_table(
        "kudos_tally_histogram",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("principle_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("kudos", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id",
            "role",
            "grain",
            "principle_id",
            "bucket",
            "kudos",
            name=op.f("pk_kudos_tally_histogram"),
        ),
    )
    if dialect == "postgresql":
        _fill_by_months()
    else:
        create_triggers(dialect)
        _fill(dialect, None, None)
    op.execute("ANALYZE kudos_tally_histogram")


def _fill(dialect: str, first: dt.date | None, last: dt.date | None) -> None:
    """Count the person tallies of buckets in [first, last) (None: unbounded) into the
    histogram. On PostgreSQL every key column before the bucket is named (the teams, roles,
    grains and principles there are), so each step seeks its buckets in the tallies' key
    instead of reading the whole table."""
    where = [_COUNTED, "kudos > 0"]
    if dialect == "postgresql":
        bind = op.get_bind()
        teams = bind.scalars(sa.text(_TEAMS)).all()
        if not teams:
            return
        principles = [0, *bind.scalars(sa.text("SELECT id FROM principles")).all()]
        listed = ", ".join(sorted({"'" + t.replace("'", "''") + "'" for t in teams}))
        where.append(f"team_id IN ({listed})")
        where.append(f"principle_id IN ({', '.join(str(int(p)) for p in principles)})")
    if first is not None:
        where.append(f"bucket >= '{first.isoformat()}'")
    if last is not None:
        where.append(f"bucket < '{last.isoformat()}'")
    op.execute(
        f"INSERT INTO kudos_tally_histogram ({_COLUMNS}) "
        f"SELECT {_KEY}, count(*) FROM kudos_tallies WHERE {' AND '.join(where)} "
        f"GROUP BY {_KEY} "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET people = kudos_tally_histogram.people + "
        "excluded.people"
    )


# The teams that have tallies, one seek of the tallies' key each.
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos_tallies UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos_tallies WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)


def _month_before(month: dt.date) -> dt.date:
    return dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _fill_by_months() -> None:
    """PostgreSQL: the triggers from this UTC month on, then each older month's buckets filled
    and handed to the triggers in a transaction of its own that holds tally writes (module
    docstring), newest first; the oldest takes everything before it."""
    oldest = op.get_bind().scalar(sa.text("SELECT min(created_at) FROM kudos"))
    today = dt.datetime.now(dt.UTC).date()
    since = today.replace(day=1)
    lock = "LOCK TABLE kudos_tallies IN SHARE ROW EXCLUSIVE MODE"
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute(lock)
        create_triggers("postgresql", since)
        _fill("postgresql", since, None)
        op.execute("COMMIT")
        while True:
            last, since = since, _month_before(since)
            done = oldest is None or oldest.astimezone(dt.UTC).date() >= since
            started = time.monotonic()
            op.execute("BEGIN")
            op.execute(lock)
            _fill("postgresql", None if done else since, last)
            op.execute(_function(None if done else since))
            op.execute("COMMIT")
            log.info(
                "kudos_tally_histogram: buckets %s to %s filled, tally writes held %.2f s",
                "the first" if done else since,
                last,
                time.monotonic() - started,
            )
            if done:
                return


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table("kudos_tally_histogram")
