"""standing kudos per channel: per UTC day and principle, per UTC month and person, and how
many people a month has; kept by triggers on `kudos`

The read model counts by principle and person, not by channel, so the dashboard's pages
filtered by a channel read the channel's raw kudos (bot/insights/numbers.py): at ten million
kudos, a channel holding them all, the overview took ~330 ms and the principles page ~340 ms
(bench/RESULTS.md §35), most of it the previous month's people grouped per person and the
principles page's 12 weeks (740,000 kudos). `kudos_channel_tallies` counts, per team and
channel (`role`):

* "p": kudos per UTC day and principle (`user_id` empty): the kudos counts, per principle
  and per week, of any period (whole days here, the edge hours from the raw kudos);
* "r" / "g": kudos received / given per UTC month, person and principle (0: any): who
  received and who gave, and each principle's top receivers;
* "R" / "G": how many people have a row above 0 of that month, principle and role
  (`user_id` empty): a month's distinct receivers and givers are one row, corrected for the
  people of a local month's edge hours as `summaries.people_count` corrects a count.

Kept by triggers on `kudos` only, as `kudos_pairs` is (migration 0017): a bot still running
yesterday's release records kudos and withdrawals that the triggers count too, and
`missionbot db rebuild-summaries` has nothing to do for them (it writes no kudos; the
triggers do nothing in a session with `missionbot.rebuilding` on). A kudos without a channel
is in no channel's count. The people counts move when a person's row goes from 0 to more (or
back). On PostgreSQL each kudos first takes migration 0018's advisory lock of its team and
UTC quarter (`_function`): two kudos in one channel and month, each to several people new to
the month, otherwise each held a person row or people count that the other's next receiver
needed, and PostgreSQL ended one as a deadlock.

Filled from the kudos already recorded, on PostgreSQL while a bot may be writing: the
triggers count from now on, then the older kudos are added a slice at a time, newest first,
each slice in a transaction that holds `kudos` against writes (SHARE ROW EXCLUSIVE: reads go
on) and lowers the triggers' threshold to its start, so every kudos is counted once: by the
triggers if it changes after its slice was filled, by the fill otherwise. A slice is a number
of kudos (`FILL_SLICE_KUDOS`), not a length of time, so a busy hour holds writes no longer
than a quiet day; its kudos are read once, in one statement (the day rows, the person rows
and the people counts the person rows' upsert returns). A slice that held writes longer than
0.3 s halves the next. The last slice takes everything older. On SQLite in the migration's
transaction (it holds the write lock throughout).

A later migration that rebuilds `kudos` on SQLite (batch mode's copy and move) drops the
triggers with the old table: it must create them again (`create_triggers`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 20:30:00.000000
"""

import datetime as dt
import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

TABLE = "kudos_channel_tallies"
_KEY = "team_id, channel_id, role, bucket, principle_id, user_id"
_COLUMNS = f"{_KEY}, kudos"
_CONFLICT = f"ON CONFLICT ({_KEY}) DO UPDATE SET kudos = {TABLE}.kudos + excluded.kudos"
_CHANGES = "team_id, channel_id, created_at, withdrawn_at, giver_id, receiver_id, principle_id"
_SQLITE_TRIGGERS = (
    "kudos_channel_add",
    "kudos_channel_remove",
    "kudos_channel_move_out",
    "kudos_channel_move_in",
)


def _day(dialect: str, created_at: str) -> str:
    if dialect == "postgresql":
        return f"CAST({created_at} AT TIME ZONE 'UTC' AS DATE)"
    # SQLite keeps UTC datetimes as text, 'YYYY-MM-DD HH:MM:SS…', and dates as 'YYYY-MM-DD'.
    return f"substr({created_at}, 1, 10)"


def _month(dialect: str, created_at: str) -> str:
    if dialect == "postgresql":
        return f"CAST(date_trunc('month', {created_at} AT TIME ZONE 'UTC') AS DATE)"
    return f"substr({created_at}, 1, 7) || '-01'"


def _people(dialect: str, row: str) -> str:
    """A kudos's person keys, as rows (role, bucket, principle_id, user_id): givers first."""
    month = _month(dialect, f"{row}.created_at")
    return (
        f"SELECT 'g' AS role, {month} AS bucket, {row}.principle_id AS principle_id, "
        f"{row}.giver_id AS user_id UNION ALL SELECT 'g', {month}, 0, {row}.giver_id "
        f"UNION ALL SELECT 'r', {month}, {row}.principle_id, {row}.receiver_id "
        f"UNION ALL SELECT 'r', {month}, 0, {row}.receiver_id"
    )


def _statements(dialect: str, row: str, sign: int) -> list[str]:
    """SQLite's body for one kudos (`row`: NEW or OLD) counted in (+1) or out (-1): the
    day's row, then the people counts of the person rows that go from 0 to 1 (or 1 to 0),
    looked up before they change, then the person rows."""
    day = _day(dialect, f"{row}.created_at")
    held = 0 if sign > 0 else 1
    upper = "upper(k.role)"
    return [
        f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({row}.team_id, {row}.channel_id, 'p', "
        f"{day}, {row}.principle_id, '', {sign}) {_CONFLICT}",
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {row}.team_id, {row}.channel_id, {upper}, "
        f"k.bucket, k.principle_id, '', {sign} FROM ({_people(dialect, row)}) AS k "
        f"WHERE coalesce((SELECT t.kudos FROM {TABLE} t WHERE t.team_id = {row}.team_id "
        f"AND t.channel_id = {row}.channel_id AND t.role = k.role AND t.bucket = k.bucket "
        f"AND t.principle_id = k.principle_id AND t.user_id = k.user_id), 0) = {held} "
        f"{_CONFLICT}",
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {row}.team_id, {row}.channel_id, k.role, "
        f"k.bucket, k.principle_id, k.user_id, {sign} FROM ({_people(dialect, row)}) AS k "
        f"WHERE true {_CONFLICT}",
    ]


# The quarter lock of migration 0018's histogram triggers (and of the rebuild's recount,
# bot/reports/summaries.py): class 18, a hash of the team and the UTC quarter.
_QUARTER_LOCK_CLASS = 18


def _quarter_lock(row: str) -> str:
    """The key of 0018's lock of the team and UTC quarter of `row`'s kudos (NEW or OLD)."""
    quarter = (
        f"to_char(date_trunc('quarter', {_day('postgresql', f'{row}.created_at')}), 'YYYY-MM-DD')"
    )
    return f"hashtext({row}.team_id || '/' || {quarter})"


def _lock_function() -> str:
    """PostgreSQL's row trigger function that takes 0018's lock of the team and UTC quarter of
    each kudos counted in or out (sorted, when an update moves a kudos between quarters),
    before anything else the kudos's write does (module docstring).

    Two kudos in one channel and month take turns from their first row: the people counts
    are shared by a month's kudos, and two multi-receiver kudos each holding one count or
    person row the other's next receiver needs deadlocked. That lock rather than a new one
    per channel and month: every kudos written through the bot takes it anyway (its person
    tallies' histogram), so it adds no lock to order against, where a new one would: a
    withdrawal moves its tallies before its kudos rows, a kudos given its rows first. A row
    trigger, named to fire before the pairs' (0017: triggers on one event fire by name), so
    that the lock comes before any pair row, as the bot's write path takes it before its
    tallies (`summaries._apply`); the counting itself waits for the statement's end
    (`_count_function`)."""
    counted_old = "TG_OP <> 'INSERT' AND OLD.withdrawn_at IS NULL AND OLD.channel_id IS NOT NULL"
    counted_new = "TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NULL AND NEW.channel_id IS NOT NULL"
    return (
        "CREATE OR REPLACE FUNCTION kudos_channel_lock() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "DECLARE out_ boolean; in_ boolean;\n"
        "BEGIN\n"
        "  IF current_setting('missionbot.rebuilding', true) = 'on' THEN RETURN NULL; END IF;\n"
        f"  out_ := {counted_old};\n"
        f"  in_ := {counted_new};\n"
        f"  PERFORM pg_advisory_xact_lock({_QUARTER_LOCK_CLASS}, k) FROM (SELECT DISTINCT k FROM "
        f"(SELECT {_quarter_lock('OLD')} AS k WHERE out_ UNION ALL "
        f"SELECT {_quarter_lock('NEW')} WHERE in_) AS keys) AS l ORDER BY k;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


def _counted(rows: str, since: dt.datetime | None) -> str:
    """The condition that a kudos of `rows` (a transition table's alias) is counted."""
    condition = f"{rows}.withdrawn_at IS NULL AND {rows}.channel_id IS NOT NULL"
    if since is not None:
        condition += f" AND {rows}.created_at >= TIMESTAMPTZ '{since.isoformat()}'"
    return condition


def _changes(operation: str, since: dt.datetime | None) -> str:
    """The kudos a statement counts out (-1) and in (+1), from its transition tables: for an
    update, only the rows whose counted columns changed."""
    columns = "team_id, channel_id, created_at, principle_id, giver_id, receiver_id"
    out = f"SELECT {columns}, -1 AS sign FROM old_rows o WHERE {_counted('o', since)}"
    into = f"SELECT {columns}, 1 AS sign FROM new_rows n WHERE {_counted('n', since)}"
    if operation == "INSERT":
        return into
    if operation == "DELETE":
        return out
    tracked = _CHANGES.split(", ")
    moved = (
        f"({', '.join('o.' + c for c in tracked)}) IS DISTINCT FROM "
        f"({', '.join('n.' + c for c in tracked)})"
    )
    both = "FROM old_rows o JOIN new_rows n ON n.id = o.id"
    return (
        f"SELECT {', '.join('o.' + c for c in columns.split(', '))}, -1 AS sign {both} "
        f"WHERE {moved} AND {_counted('o', since)} UNION ALL "
        f"SELECT {', '.join('n.' + c for c in columns.split(', '))}, 1 {both} "
        f"WHERE {moved} AND {_counted('n', since)}"
    )


def person_changes(source: str, month: str) -> str:
    """The person keys of the kudos changes in `source` (a table or CTE with team_id,
    channel_id, principle_id, giver_id, receiver_id, sign; `month` its creation month's
    bucket), as rows (team_id, channel_id, role, bucket, principle_id, user_id, sign): each
    change as its giver's and its receiver's, of its principle and of all (0). Also the user
    groups' sync's (bot/reports/usergroup_tallies.py)."""
    return " UNION ALL ".join(
        f"SELECT team_id, channel_id, '{role}' AS role, {month} AS bucket, {principle} AS "
        f"principle_id, {user} AS user_id, sign FROM {source}"
        for role, user in (("g", "giver_id"), ("r", "receiver_id"))
        for principle in ("principle_id", "0")
    )


def _count_statement(changes: str) -> str:
    """One statement counting a statement's `changes` in: the day rows and the person rows
    summed per key and upserted, then the people count of each person row the upsert took
    from 0 (or to 0): its new count is the change itself (or 0). Also each slice of the fill
    (`_slice_statement`), whose kudos all count in."""
    day, month = _day("postgresql", "created_at"), _month("postgresql", "created_at")
    key = "team_id, channel_id, role, bucket, principle_id, user_id"
    people = person_changes("c", month)
    crossed = "CASE WHEN d.n > 0 AND u.kudos = d.n THEN 1 WHEN d.n < 0 AND u.kudos = 0 THEN -1 END"
    return (
        f"WITH c AS MATERIALIZED ({changes}), "
        f"days AS (INSERT INTO {TABLE} ({_COLUMNS}) SELECT team_id, channel_id, 'p', {day}, "
        f"principle_id, '', sum(sign) FROM c GROUP BY team_id, channel_id, {day}, principle_id "
        f"HAVING sum(sign) <> 0 {_CONFLICT}), "
        f"d AS MATERIALIZED (SELECT {key}, sum(sign) AS n FROM ({people}) AS p GROUP BY {key} "
        "HAVING sum(sign) <> 0), "
        f"u AS (INSERT INTO {TABLE} ({_COLUMNS}) SELECT {key}, n FROM d {_CONFLICT} "
        f"RETURNING {key}, kudos) "
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT u.team_id, u.channel_id, upper(u.role), "
        f"u.bucket, u.principle_id, '', sum({crossed}) FROM u JOIN d USING ({key}) "
        f"WHERE {crossed} IS NOT NULL "
        f"GROUP BY u.team_id, u.channel_id, u.role, u.bucket, u.principle_id {_CONFLICT}"
    )


def _function(since: dt.datetime | None) -> str:
    """PostgreSQL's statement trigger function; `since`: count only kudos created at or after
    it (the kudos before are yet to be filled).

    Once per statement, from its transition tables: a kudos to 500 people (one INSERT) moves
    its day row, its giver's rows and the people counts once, where a row trigger updated
    each of those rows 500 times in one transaction, every update walking the versions the
    transaction had made of it before (3.8 s for 500 receivers, quadratic). While
    `missionbot.rebuilding` is on in a session (`missionbot db rebuild-summaries`), nothing:
    a rebuild writes no kudos, and these tallies need none (module docstring)."""
    branches = "\n".join(
        f"  {'IF' if n == 0 else 'ELSIF'} TG_OP = '{operation}' THEN "
        f"{_count_statement(_changes(operation, since))};"
        for n, operation in enumerate(("INSERT", "DELETE", "UPDATE"))
    )
    return (
        "CREATE OR REPLACE FUNCTION kudos_channel_count() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF current_setting('missionbot.rebuilding', true) = 'on' THEN RETURN NULL; END IF;\n"
        f"{branches}\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )


# PostgreSQL's triggers: the row triggers taking the quarter lock, then one statement trigger
# per event, each with the transition tables its event has.
_POSTGRES_TRIGGERS = (
    "kudos_channel_lock",
    "kudos_channel_lock_move",
    "kudos_channel_count",
    "kudos_channel_uncount",
    "kudos_channel_move",
)


def create_triggers(dialect: str, since: dt.datetime | None = None) -> None:
    """The triggers that keep `kudos_channel_tallies` current with every change to `kudos`
    (on PostgreSQL, with `since`: to kudos created since then)."""
    if dialect == "postgresql":
        op.execute(_lock_function())
        op.execute(_function(since))
        # Only a change that moves a count: the bot updates other columns of kudos too.
        moved = (
            f"WHEN (({', '.join('OLD.' + c for c in _CHANGES.split(', '))}) "
            f"IS DISTINCT FROM ({', '.join('NEW.' + c for c in _CHANGES.split(', '))}))"
        )
        lock, lock_move, count, uncount, move = _POSTGRES_TRIGGERS
        op.execute(
            f"CREATE TRIGGER {lock} AFTER INSERT OR DELETE ON kudos "
            "FOR EACH ROW EXECUTE FUNCTION kudos_channel_lock()"
        )
        op.execute(
            f"CREATE TRIGGER {lock_move} AFTER UPDATE OF {_CHANGES} ON kudos FOR EACH ROW "
            f"{moved} EXECUTE FUNCTION kudos_channel_lock()"
        )
        op.execute(
            f"CREATE TRIGGER {count} AFTER INSERT ON kudos REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_channel_count()"
        )
        op.execute(
            f"CREATE TRIGGER {uncount} AFTER DELETE ON kudos REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kudos_channel_count()"
        )
        # A statement trigger with transition tables takes no column list (PostgreSQL), so
        # every update of kudos runs it; `_changes` keeps the rows whose counted columns moved.
        op.execute(
            f"CREATE TRIGGER {move} AFTER UPDATE ON kudos REFERENCING OLD TABLE AS old_rows "
            "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kudos_channel_count()"
        )
        return
    events = [
        ("INSERT", "NEW", 1),
        ("DELETE", "OLD", -1),
        (f"UPDATE OF {_CHANGES}", "OLD", -1),
        (f"UPDATE OF {_CHANGES}", "NEW", 1),
    ]
    for name, (event, row, sign) in zip(_SQLITE_TRIGGERS, events, strict=True):
        body = "; ".join(_statements(dialect, row, sign))
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos FOR EACH ROW "
            f"WHEN {row}.withdrawn_at IS NULL AND {row}.channel_id IS NOT NULL "
            f"BEGIN {body}; END"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for name in _POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON kudos")
        op.execute("DROP FUNCTION IF EXISTS kudos_channel_count()")
        op.execute("DROP FUNCTION IF EXISTS kudos_channel_lock()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # An interrupted run of this migration (PostgreSQL commits it day by day) starts over.
    drop_triggers(dialect)
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    op.create_table(
        TABLE,
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("principle_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kudos", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id",
            "channel_id",
            "role",
            "bucket",
            "principle_id",
            "user_id",
            name=op.f("pk_kudos_channel_tallies"),
            postgresql_include=["kudos"],
        ),
    )
    if dialect == "postgresql":
        _fill_by_slices()
    else:
        create_triggers(dialect)
        _fill_sqlite()
    op.execute(f"ANALYZE {TABLE}")


# The teams that have kudos, one seek of the index on (team_id, created_at) each.
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)


def fill_statements(dialect: str, where: str) -> list[str]:
    """Statements adding the standing kudos that `where` picks (a condition on `kudos`) to
    the tallies: the people counts moved by the person rows they take above 0 (read before
    those rows change), then the day and person rows. Also the bench's, after a bulk load."""
    day, month = _day(dialect, "created_at"), _month(dialect, "created_at")
    picked = f"FROM kudos WHERE {where} AND withdrawn_at IS NULL AND channel_id IS NOT NULL"
    people = (
        f"SELECT team_id, channel_id, role, bucket, principle_id, user_id, count(*) AS n FROM ("
        f"SELECT team_id, channel_id, 'g' AS role, {month} AS bucket, principle_id, "
        f"giver_id AS user_id {picked} UNION ALL "
        f"SELECT team_id, channel_id, 'g', {month}, 0, giver_id {picked} UNION ALL "
        f"SELECT team_id, channel_id, 'r', {month}, principle_id, receiver_id {picked} "
        f"UNION ALL SELECT team_id, channel_id, 'r', {month}, 0, receiver_id {picked}) AS k "
        "GROUP BY team_id, channel_id, role, bucket, principle_id, user_id"
    )
    return [
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT team_id, channel_id, 'p', {day}, "
        f"principle_id, '', count(*) {picked} GROUP BY team_id, channel_id, {day}, "
        f"principle_id {_CONFLICT}",
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT d.team_id, d.channel_id, upper(d.role), "
        f"d.bucket, d.principle_id, '', count(*) FROM ({people}) AS d LEFT JOIN {TABLE} t "
        "ON t.team_id = d.team_id AND t.channel_id = d.channel_id AND t.role = d.role "
        "AND t.bucket = d.bucket AND t.principle_id = d.principle_id "
        "AND t.user_id = d.user_id WHERE coalesce(t.kudos, 0) = 0 "
        f"GROUP BY d.team_id, d.channel_id, d.role, d.bucket, d.principle_id {_CONFLICT}",
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT team_id, channel_id, role, bucket, "
        f"principle_id, user_id, n FROM ({people}) AS d WHERE true {_CONFLICT}",
    ]


def _fill_sqlite() -> None:
    """SQLite: every standing kudos at once, in the migration's transaction."""
    for statement in fill_statements("sqlite", "true"):
        op.execute(statement)


# How many kudos one transaction of PostgreSQL's fill adds, unless the alembic config's
# attributes name another count (`FILL_SLICE_ATTRIBUTE`, for the tests): at ten million kudos
# over three years (~380 an hour) about three hours of history.
FILL_SLICE_KUDOS = 1_000
FILL_SLICE_ATTRIBUTE = "kudos_channel_tallies_slice"
# A slice that held kudos writes longer than this makes the next one half as big (at least
# 50 kudos), one shorter than a third of it the next one twice as big (at most the first
# size): at ten million kudos the first slices, reading a cold cache, held writes 0.6 s, and
# slices halved for good spent most of their time committing (bench/RESULTS.md §43).
_LONGEST_HOLD_S = 0.3


def _slice_start(teams: Sequence[str], last: dt.datetime, kudos: int) -> dt.datetime | None:
    """The creation instant of the `kudos`-th newest kudos before `last` (None: fewer are
    left): a slice of that many kudos however dense the history, each team's newest read
    backwards from its (team, time) index, not sorted. Read outside any lock: only a bound."""
    newest = " UNION ALL ".join(
        f"(SELECT created_at FROM kudos WHERE team_id = {_literal(team)} "
        f"AND created_at < :last ORDER BY created_at DESC LIMIT {kudos})"
        for team in teams
    )
    return op.get_bind().scalar(
        sa.text(
            f"SELECT created_at FROM ({newest}) AS n ORDER BY created_at DESC "
            f"OFFSET {kudos - 1} LIMIT 1"
        ),
        {"last": last},
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _slice_statement(
    teams: Sequence[str], first: dt.datetime | None, last: dt.datetime | None
) -> str:
    """PostgreSQL: one statement adding the standing kudos created in [first, last) (None:
    unbounded): they are read once, their day rows and person rows upserted, and the
    people counts moved by the person rows the upsert took from 0 (the row's new count is
    the slice's own): the triggers' statement over the slice's kudos."""
    where = [
        f"team_id IN ({', '.join(_literal(team) for team in teams)})",
        "withdrawn_at IS NULL",
        "channel_id IS NOT NULL",
    ]
    if last is not None:
        where.append(f"created_at < TIMESTAMPTZ '{last.isoformat()}'")
    if first is not None:
        where.append(f"created_at >= TIMESTAMPTZ '{first.isoformat()}'")
    return _count_statement(
        "SELECT team_id, channel_id, created_at, principle_id, giver_id, receiver_id, "
        f"1 AS sign FROM kudos WHERE {' AND '.join(where)}"
    )


def _fill_by_slices() -> None:
    """PostgreSQL: the triggers from now on, then the older kudos a slice at a time, newest
    first, each slice added and handed to the triggers in a transaction of its own that
    holds kudos writes (module docstring); the oldest slice takes everything before it."""
    bind = op.get_bind()
    teams = bind.scalars(sa.text(_TEAMS)).all()
    size = first_size = int(context.config.attributes.get(FILL_SLICE_ATTRIBUTE, FILL_SLICE_KUDOS))
    lock = "LOCK TABLE kudos IN SHARE ROW EXCLUSIVE MODE"
    longest, slices, began = 0.0, 0, time.monotonic()
    with op.get_context().autocommit_block():
        since: dt.datetime | None = dt.datetime.now(dt.UTC)
        op.execute("BEGIN")
        op.execute(lock)
        create_triggers("postgresql", since)
        if teams:
            op.execute(_slice_statement(teams, since, None))
        op.execute("COMMIT")
        while since is not None:
            last = since
            since = _slice_start(teams, last, size) if teams else None
            op.execute("BEGIN")
            op.execute(lock)
            held = time.monotonic()
            # The person rows' new counts are joined with the slice's by hashing; the planner,
            # guessing a tenth of the rows, sorted both on seven columns (a quarter of a slice).
            op.execute("SET LOCAL enable_mergejoin = off")
            if teams:
                op.execute(_slice_statement(teams, since, last))
            op.execute(_function(since))
            op.execute("COMMIT")
            held = time.monotonic() - held
            longest, slices = max(longest, held), slices + 1
            if held > _LONGEST_HOLD_S:
                size = max(size // 2, min(50, first_size))
            elif held < _LONGEST_HOLD_S / 3:
                size = min(size * 2, first_size)
            if slices % 500 == 0:
                log.info(
                    "kudos_channel_tallies: %d slices filled (back to %s), %.0f s, kudos writes "
                    "held at most %.3f s",
                    slices,
                    since,
                    time.monotonic() - began,
                    longest,
                )
    log.info(
        "kudos_channel_tallies: filled in %d slices, %.0f s; kudos writes held at most %.3f s",
        slices,
        time.monotonic() - began,
        longest,
    )


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table(TABLE)
