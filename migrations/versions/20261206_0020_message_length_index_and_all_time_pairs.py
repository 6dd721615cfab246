"""an index on the kudos' message length, and each pair's kudos of all time beside its quarters'

**The digest's highlights.** The weekly digest quotes the week's longest quotable messages,
latest first (bot/daily/digest.py). It grouped every kudos of the week to compare their
lengths, and a message is in the table, not in any index: at ten million kudos a week's 63,000
kudos were as many visits to the table (their rows lie wherever they were written), ~450-680 ms
of the digest. The index (team_id, length(message), created_at) gives the week's kudos of one
length, latest first, by a seek, and the lengths from the longest down: the digest reads only
the few kudos it quotes (and those tied with them). An expression index: PostgreSQL and SQLite
both use it where a query says `length(message)`.

**The all-time weighted board.** Σ √n over each giver's kudos to a receiver needs each pair's
count over the whole period, and a pair's kudos of all time are spread over its quarters'
rows (`kudos_pairs`, migration 0017): a pair with one kudos in each of two quarters repeats
over all time and has no row of two or more. Summing the quarters' rows per pair is ten
million rows at ten million kudos, as many as the kudos: `/kudos leaderboard all weighted`
grouped them and passed the 10 s the database is given. So `kudos_pairs` now also counts each
pair over all time, in the bucket named 1970-01-01 (as `kudos_tallies` names all time,
bot/reports/summaries.py: ALL_TIME), kept by the same triggers: the partial index on two
kudos or more then holds the pairs that repeat over all time, and the board is every
receiver's kudos (their all-time tally) less those pairs' kudos plus their √n
(bot/reports/weighted.py). A kudos now costs its triggers two upserts, not one; the table
holds about twice the rows (at ten million kudos: 1.2 → 2.5 GB). The partial index on the
pairs with two or more (`ix_kudos_pairs_repeated`) now ends with the count, so that the
board reads the ~59,000 repeated pairs of all time from it alone: as visits to the table
they took 170 ms.

Filled from the kudos already recorded as migration 0017 filled the quarters: on PostgreSQL the
triggers count all time from today on, then a week at a time, newest first, each week is
added in a short transaction that holds `kudos` against writes (reads go on) and lowers the
triggers' threshold to it; the last week takes everything older. On SQLite in the migration's
transaction (it holds the write lock throughout): the quarters' rows summed per pair.

PostgreSQL builds the index CONCURRENTLY (kudos go on being written; a run interrupted leaves
an invalid index, dropped and built again); SQLite in the migration's transaction.

A later migration that rebuilds `kudos` on SQLite (batch mode's copy and move) drops the
triggers with the old table: it must create them again (`create_triggers` here, not 0017's).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:00:00.000000
"""

import datetime as dt
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_kudos_team_id_message_length"
_INDEXED = "team_id, length(message), created_at"

_REPEATED = "ix_kudos_pairs_repeated"
_BUILDING = "ix_kudos_pairs_repeated_building"
_PAIR = ["team_id", "bucket", "giver_id", "receiver_id"]
_KEY = ", ".join(_PAIR)
_COLUMNS = f"{_KEY}, kudos"
_CHANGES = "team_id, created_at, withdrawn_at, giver_id, receiver_id"
_ALL_TIME = "1970-01-01"
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
    return (
        f"printf('%s-%02d-01', substr({created_at}, 1, 4), "
        f"(CAST(substr({created_at}, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1)"
    )


def _all_time(dialect: str, _created_at: str) -> str:
    return f"DATE '{_ALL_TIME}'" if dialect == "postgresql" else f"'{_ALL_TIME}'"


def _add(dialect: str, row: str, bucket: str) -> str:
    return (
        f"INSERT INTO kudos_pairs ({_COLUMNS}) VALUES ({row}.team_id, "
        f"{bucket}, {row}.giver_id, {row}.receiver_id, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET kudos = kudos_pairs.kudos + 1"
    )


def _take(dialect: str, row: str, bucket: str) -> str:
    return (
        f"UPDATE kudos_pairs SET kudos = kudos - 1 WHERE team_id = {row}.team_id "
        f"AND bucket = {bucket} AND giver_id = {row}.giver_id AND receiver_id = {row}.receiver_id"
    )


def _buckets(dialect: str, row: str, all_time: bool) -> list[str]:
    found = [_quarter(dialect, f"{row}.created_at")]
    return [*found, _all_time(dialect, row)] if all_time else found


def _function(since: dt.datetime | None, all_time: bool = True) -> str:
    """PostgreSQL's trigger function: each kudos counted in its quarter and (`all_time`) in all
    time; all time only for kudos created at or after `since` (the weeks before are yet to be
    filled)."""
    dialect = "postgresql"
    parts = []
    for op_, row, action in (("INSERT", "OLD", _take), ("DELETE", "NEW", _add)):
        quarter, *rest = _buckets(dialect, row, all_time)
        body = f"{action(dialect, row, quarter)};"
        for bucket in rest:
            statement = f"{action(dialect, row, bucket)};"
            if since is not None:
                statement = (
                    f"IF {row}.created_at >= TIMESTAMPTZ '{since.isoformat()}' THEN "
                    f"{statement} END IF;"
                )
            body += f" {statement}"
        parts.append(f"  IF TG_OP <> '{op_}' AND {row}.withdrawn_at IS NULL THEN {body} END IF;\n")
    return (
        "CREATE OR REPLACE FUNCTION kudos_pairs_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n" + "".join(parts) + "  RETURN NULL;\nEND $$"
    )


def create_triggers(dialect: str, all_time: bool = True) -> None:
    """SQLite's triggers that keep `kudos_pairs` current with every change to `kudos` (on
    PostgreSQL the function is replaced in place: `_function`)."""
    triggers = {
        "kudos_pairs_add": ("INSERT", "NEW", _add),
        "kudos_pairs_remove": ("DELETE", "OLD", _take),
        "kudos_pairs_move_out": (f"UPDATE OF {_CHANGES}", "OLD", _take),
        "kudos_pairs_move_in": (f"UPDATE OF {_CHANGES}", "NEW", _add),
    }
    for name, (event, row, action) in triggers.items():
        body = " ".join(
            f"{action(dialect, row, bucket)};" for bucket in _buckets(dialect, row, all_time)
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON kudos FOR EACH ROW "
            f"WHEN {row}.withdrawn_at IS NULL BEGIN {body} END"
        )


def _drop_sqlite_triggers() -> None:
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _repeated_index(columns: list[str]) -> None:
    """The partial index on the pairs with two kudos or more, on `columns` (0017's, or with
    the count at the end, read from the index alone: the all-time board reads ~60,000 of
    them at ten million kudos, 170 ms as visits to the table). PostgreSQL: built CONCURRENTLY
    beside the old one, which is then dropped, as migration 0015 replaced an index."""
    where = text("kudos >= 2")
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_REPEATED, table_name="kudos_pairs")
        op.create_index(
            _REPEATED, "kudos_pairs", columns, postgresql_where=where, sqlite_where=where
        )
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_BUILDING}")
        op.execute(
            f"CREATE INDEX CONCURRENTLY {_BUILDING} ON kudos_pairs ({', '.join(columns)}) "
            "WHERE kudos >= 2"
        )
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_REPEATED}")
    op.execute(f"ALTER INDEX {_BUILDING} RENAME TO {_REPEATED}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _repeated_index([*_PAIR, "kudos"])
    if dialect != "postgresql":
        op.create_index(_INDEX, "kudos", ["team_id", text("length(message)"), "created_at"])
        _drop_sqlite_triggers()
        op.execute(f"DELETE FROM kudos_pairs WHERE bucket = '{_ALL_TIME}'")
        create_triggers(dialect)
        op.execute(
            f"INSERT INTO kudos_pairs ({_COLUMNS}) SELECT team_id, '{_ALL_TIME}', giver_id, "
            f"receiver_id, sum(kudos) FROM kudos_pairs GROUP BY team_id, giver_id, receiver_id "
            "HAVING sum(kudos) > 0"
        )
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}")
        op.execute(f"CREATE INDEX CONCURRENTLY {_INDEX} ON kudos ({_INDEXED})")
    _fill_by_weeks()


# The teams that have kudos, one seek of the index on (team_id, created_at) each.
_TEAMS = (
    "WITH RECURSIVE t AS (SELECT min(team_id) AS team_id FROM kudos UNION ALL "
    "SELECT (SELECT min(team_id) FROM kudos WHERE team_id > t.team_id) FROM t "
    "WHERE t.team_id IS NOT NULL) SELECT team_id FROM t WHERE team_id IS NOT NULL"
)


def _fill(first: dt.datetime | None, last: dt.datetime | None) -> None:
    """PostgreSQL: add the standing kudos created in [first, last) (None: unbounded) to each
    pair's all-time row, for the teams named (a range of the (team, time) index per team)."""
    teams = op.get_bind().scalars(text(_TEAMS)).all()
    if not teams:
        return
    listed = ", ".join("'" + team.replace("'", "''") + "'" for team in teams)
    where = ["withdrawn_at IS NULL", f"team_id IN ({listed})"]
    if first is not None:
        where.append(f"created_at >= TIMESTAMPTZ '{first.isoformat()}'")
    if last is not None:
        where.append(f"created_at < TIMESTAMPTZ '{last.isoformat()}'")
    op.execute(
        f"INSERT INTO kudos_pairs ({_COLUMNS}) "
        f"SELECT team_id, DATE '{_ALL_TIME}', giver_id, receiver_id, count(*) FROM kudos "
        f"WHERE {' AND '.join(where)} GROUP BY team_id, giver_id, receiver_id "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET kudos = kudos_pairs.kudos + excluded.kudos"
    )


def _fill_by_weeks() -> None:
    """PostgreSQL: the triggers count all time from today (UTC) on, then each older week is
    added and handed to them in a transaction of its own that holds kudos writes, newest
    first; the oldest takes everything before it (as migration 0017 filled the quarters)."""
    oldest = op.get_bind().scalar(text("SELECT min(created_at) FROM kudos"))
    today = dt.datetime.now(dt.UTC)
    since = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
    lock = "LOCK TABLE kudos IN SHARE ROW EXCLUSIVE MODE"
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute(lock)
        # An interrupted run of this migration starts over.
        op.execute(f"DELETE FROM kudos_pairs WHERE bucket = DATE '{_ALL_TIME}'")
        op.execute(_function(since))
        _fill(since, None)
        op.execute("COMMIT")
        while True:
            last, since = since, since - dt.timedelta(days=7)
            done = oldest is None or oldest >= since
            op.execute("BEGIN")
            op.execute(lock)
            _fill(None if done else since, last)
            op.execute(_function(None if done else since))
            op.execute("COMMIT")
            if done:
                break
    op.execute("ANALYZE kudos_pairs")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _repeated_index(_PAIR)
    if dialect != "postgresql":
        _drop_sqlite_triggers()
        create_triggers(dialect, all_time=False)
        op.execute(f"DELETE FROM kudos_pairs WHERE bucket = '{_ALL_TIME}'")
        op.drop_index(_INDEX, table_name="kudos")
        return
    op.execute(_function(None, all_time=False))
    op.execute(f"DELETE FROM kudos_pairs WHERE bucket = DATE '{_ALL_TIME}'")
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}")
