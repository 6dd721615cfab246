"""person tallies per UTC week (`kudos_tallies.grain = 'w'`) and their histogram

Promise health for a week had no person tally to read: the week's people per principle were
its raw kudos grouped per principle and person, per role (at ten million kudos 62,000 kudos a
week, ~480 ms of the ~520 of `/kudos health week`, bench/RESULTS.md §46). A week grain in the
person tallies (UTC weeks, Monday to Sunday, named by the Monday; both roles, per principle
and for every principle: no new column) makes a local week what a local month is: its UTC
week's bucket less and plus a few hours (bot/reports/summaries.py `cover`), and its people
the bucket's histogram corrected for the people of those hours. The write path
(`summaries._apply`) writes the week's rows beside the month's; `missionbot db
rebuild-summaries` counts them again.

Migration 0018's histogram trigger function now counts week rows too (`grain IN ('w', 'm',
'q')`), still doing nothing while `missionbot.rebuilding` is on (0022). A week's histogram
rows get an advisory lock of their own (the team and the week), taken after the quarters'
locks: a week may straddle two UTC quarters, and its kudos of each hold their own quarter's
lock from the moment their row is written (0023's channel trigger).

Filled here from the kudos: on PostgreSQL a few weeks per transaction (`FILL_WEEKS`), per
team, each with the triggers quiet (`missionbot.rebuilding`) and the weeks' histogram counted
from the rows just written; no lock is held against writers (nothing but this migration
writes week rows until the new release runs). A bot of the previous release keeps working
against the new schema (it neither reads nor writes week rows), but the kudos and
withdrawals it commits after the fill has read their week are not in the week tallies: stop
it for the upgrade, or run `missionbot db rebuild-summaries` once the new release serves (it
counts every week again from the kudos: exact). On SQLite, in the migration's transaction,
which holds the write lock throughout.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 01:00:00.000000
"""

import datetime as dt
import logging
import time
from collections.abc import Sequence
from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_HISTOGRAM = "bot.migrations.versions.20261206_0018_kudos_tally_histogram"
_QUIETED = "bot.migrations.versions.20261206_0022_rebuild_quiets_tally_triggers"
_KEY = "team_id, role, grain, principle_id, bucket, kudos"
_COLUMNS = f"{_KEY}, people"
_TALLY_KEY = "team_id, role, grain, principle_id, bucket, user_id"
_COUNTED = "role IN ('r', 'g') AND grain IN ('w', 'm', 'q')"
# How many UTC weeks one transaction of PostgreSQL's fill counts: at ten million kudos
# ~250,000 kudos, ~750,000 rows.
FILL_WEEKS = 4


def _function() -> str:
    """PostgreSQL's trigger function (0018's, quieted as 0022's), counting week rows too,
    with the weeks' own locks after the quarters'."""
    histogram = import_module(_HISTOGRAM)
    quiet: str = import_module(_QUIETED).QUIET
    only = _COUNTED + " AND kudos > 0"
    moved = (
        f"SELECT team_id, role, grain, principle_id, bucket, kudos, -1 AS d FROM old_rows "
        f"WHERE {only}",
        f"SELECT team_id, role, grain, principle_id, bucket, kudos, 1 AS d FROM new_rows "
        f"WHERE {only}",
    )
    week_key = "hashtext(team_id || '/w/' || to_char(bucket, 'YYYY-MM-DD'))"
    quarter_key = histogram.lock_key("team_id", "bucket")
    lock = (
        f"PERFORM pg_advisory_xact_lock({histogram.LOCK_CLASS}, k) FROM (SELECT DISTINCT "
        f"grain = 'w' AS w, CASE WHEN grain = 'w' THEN {week_key} ELSE {quarter_key} END AS k "
        "FROM ({rows}) r) l ORDER BY w, k"
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
    body = quiet + "".join(
        f"  {'IF' if n == 0 else 'ELSIF'} TG_OP = '{op_}' THEN\n"
        f"    {lock.format(rows=rows)};\n"
        f"    {count.format(rows=rows)};\n"
        for n, (op_, rows) in enumerate(branches.items())
    )
    body += "  ELSIF TG_OP = 'TRUNCATE' THEN\n    DELETE FROM kudos_tally_histogram;\n"
    return (
        "CREATE OR REPLACE FUNCTION kudos_tally_histogram_count() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\nBEGIN\n" + body + "  END IF;\n  RETURN NULL;\nEND $$"
    )


def _sqlite_triggers(grains: str) -> None:
    """0018's row-level triggers again, counting the grains `grains` (SQL, quoted)."""
    histogram = import_module(_HISTOGRAM)
    histogram.drop_triggers("sqlite")
    changes = "team_id, role, grain, principle_id, bucket, kudos"
    events = [
        ("INSERT", "NEW", histogram._sqlite_add),
        ("DELETE", "OLD", histogram._sqlite_take),
        (f"UPDATE OF {changes}", "OLD", histogram._sqlite_take),
        (f"UPDATE OF {changes}", "NEW", histogram._sqlite_add),
    ]
    for name, (event, row, action) in zip(histogram._SQLITE_TRIGGERS, events, strict=True):
        when = f"{row}.role IN ('r', 'g') AND {row}.grain IN ({grains}) AND {row}.kudos > 0"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos_tallies FOR EACH ROW "
            f"WHEN {when} BEGIN {action(row)}; END"
        )


def _week(dialect: str, created_at: str) -> str:
    """The Monday of `created_at`'s UTC week, as a date, in `dialect`'s SQL."""
    if dialect == "postgresql":
        return f"CAST(date_trunc('week', {created_at} AT TIME ZONE 'UTC') AS DATE)"
    # SQLite keeps UTC datetimes as text, 'YYYY-MM-DD HH:MM:SS…': six days back, then on to
    # the next Monday (the day itself if it is one).
    return f"date(substr({created_at}, 1, 10), '-6 days', 'weekday 1')"


def fill_statement(dialect: str, where: str) -> str:
    """The week rows of the standing kudos `where` picks (a condition on `kudos`), inserted
    (a row already there is set to the count). Also the bench's, after a bulk load."""
    week = _week(dialect, "created_at")
    picked = f"FROM kudos WHERE {where} AND withdrawn_at IS NULL"
    rows = " UNION ALL ".join(
        f"SELECT team_id, '{role}' AS role, {principle} AS principle_id, {week} AS bucket, "
        f"{who} AS user_id {picked}"
        for role, who in (("r", "receiver_id"), ("g", "giver_id"))
        for principle in ("principle_id", "0")
    )
    if dialect == "postgresql":
        # One pass over the kudos, four groupings (SQLite has no GROUPING SETS).
        return (
            f"INSERT INTO kudos_tallies ({_TALLY_KEY}, kudos) SELECT team_id, "
            "CASE WHEN GROUPING(receiver_id) = 0 THEN 'r' ELSE 'g' END, 'w', "
            "CASE WHEN GROUPING(principle_id) = 0 THEN principle_id ELSE 0 END, bucket, "
            "CASE WHEN GROUPING(receiver_id) = 0 THEN receiver_id ELSE giver_id END, "
            "CAST(count(*) AS integer) FROM (SELECT team_id, principle_id, receiver_id, "
            f"giver_id, {week} AS bucket {picked}) k GROUP BY GROUPING SETS ("
            "(team_id, bucket, principle_id, receiver_id), (team_id, bucket, receiver_id), "
            "(team_id, bucket, principle_id, giver_id), (team_id, bucket, giver_id)) "
            f"ON CONFLICT ({_TALLY_KEY}) DO UPDATE SET kudos = excluded.kudos"
        )
    return (
        f"INSERT INTO kudos_tallies ({_TALLY_KEY}, kudos) SELECT team_id, role, 'w', "
        f"principle_id, bucket, user_id, count(*) FROM ({rows}) AS k WHERE true "
        "GROUP BY team_id, role, principle_id, bucket, user_id "
        f"ON CONFLICT ({_TALLY_KEY}) DO UPDATE SET kudos = excluded.kudos"
    )


def histogram_statement(where: str) -> str:
    """The histogram of the week rows `where` picks (a condition on `kudos_tallies`)."""
    return (
        f"INSERT INTO kudos_tally_histogram ({_COLUMNS}) SELECT {_KEY}, count(*) "
        f"FROM kudos_tallies WHERE role IN ('r', 'g') AND grain = 'w' AND kudos > 0 "
        f"AND {where} GROUP BY {_KEY} "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET people = excluded.people"
    )


def _forget_weeks() -> None:
    op.execute("DELETE FROM kudos_tally_histogram WHERE grain = 'w'")
    op.execute("DELETE FROM kudos_tallies WHERE grain = 'w'")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _fill_postgresql()
    else:
        # The triggers after the fill: the histogram counted once from the rows, not moved
        # a person at a time by row-level triggers.
        _forget_weeks()
        op.execute(fill_statement("sqlite", "true"))
        op.execute(histogram_statement("true"))
        _sqlite_triggers("'w', 'm', 'q'")
    op.execute("ANALYZE kudos_tally_histogram")


def _fill_postgresql() -> None:
    """The triggers counting weeks, then each team's weeks, oldest first, `FILL_WEEKS` at a
    time, each in a transaction of its own (an interrupted run starts over: the week rows
    are removed first)."""
    bind = op.get_bind()
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL missionbot.rebuilding = 'on'")
        _forget_weeks()
        op.execute(_function())
        op.execute("COMMIT")
        teams = bind.scalars(sa.text(_TEAMS)).all()
        principles = [0, *bind.scalars(sa.text("SELECT id FROM principles")).all()]
        named = f"principle_id IN ({', '.join(str(int(p)) for p in principles)})"
        for team in teams:
            first, last = bind.execute(
                sa.text("SELECT min(created_at), max(created_at) FROM kudos WHERE team_id = :t"),
                {"t": team},
            ).one()
            monday = first.astimezone(dt.UTC).date()
            monday -= dt.timedelta(days=monday.weekday())
            quoted = "'" + team.replace("'", "''") + "'"
            while dt.datetime.combine(monday, dt.time(0), tzinfo=dt.UTC) <= last:
                after = monday + dt.timedelta(weeks=FILL_WEEKS)
                started = time.monotonic()
                op.execute("BEGIN")
                # The triggers quiet (0022): the histogram is counted below from the rows.
                op.execute("SET LOCAL missionbot.rebuilding = 'on'")
                op.execute("SET LOCAL work_mem = '256MB'")
                op.execute("SET LOCAL jit = off")
                op.execute(
                    fill_statement(
                        "postgresql",
                        f"team_id = {quoted} AND created_at >= '{monday.isoformat()}T00:00Z' "
                        f"AND created_at < '{after.isoformat()}T00:00Z'",
                    )
                )
                op.execute(
                    histogram_statement(
                        f"team_id = {quoted} AND {named} AND bucket >= '{monday.isoformat()}' "
                        f"AND bucket < '{after.isoformat()}'"
                    )
                )
                op.execute("COMMIT")
                log.info(
                    "week tallies of %s: %s to %s counted in %.2f s",
                    team,
                    monday,
                    after,
                    time.monotonic() - started,
                )
                monday = after


# The teams that have kudos, one seek of the index on (team_id, created_at) each.
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(import_module(_QUIETED)._histogram_function(quiet=True))
        op.execute("SET LOCAL missionbot.rebuilding = 'on'")
        _forget_weeks()
        return
    _sqlite_triggers("'m', 'q'")
    _forget_weeks()
