"""Leaderboards at scale: the bot's report queries against hand-written SQL; prints a table.

    .venv/bin/python bench/leaderboards.py [--quick] [--kudos N] [--reps N] [--only sqlite]

For each backend a fresh migrated database (SQLite: a file in a temporary directory;
PostgreSQL: a scratch database on BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
server with trust auth), a 12-principle mission synchronised by the bot's own `sync_mission`,
then 1,000,000 kudos (`--quick`: 100,000) over 5,000 people and the two years up to now, bulk
inserted (PostgreSQL: COPY; SQLite: one executemany in one transaction) and timed, then
VACUUM ANALYZE / ANALYZE + PRAGMA optimize.

Each report is then run the way `/kudos leaderboard …` and `/kudos principles` run it (the
service function in bot/reports/leaderboard.py, in a session from bot.db.engine.Database),
alternating
with the hand-written SQL for the same answer on the same engine; the two answers are
compared once, then timed over `--reps` repetitions after a warm-up. Not part of the tests:
nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database, kept_database  # noqa: E402
from bot.audience import QuoteScope  # noqa: E402
from bot.daily.digest import weekly_digest  # noqa: E402
from bot.db.engine import Database, DeadlineConnection  # noqa: E402
from bot.db.models import (  # noqa: E402
    Kudos,
    KudosTally,
    Principle,
    TallyRebuild,
    UTCDateTime,
    utcnow,
)
from bot.home.state import HomeRole, Publish  # noqa: E402
from bot.insights import numbers  # noqa: E402
from bot.insights.window import Filters, parse_window  # noqa: E402
from bot.kudos.service import summary  # noqa: E402
from bot.mission.file import parse_mission  # noqa: E402
from bot.mission.service import sync_mission  # noqa: E402
from bot.reports import usergroup_tallies  # noqa: E402
from bot.reports.health import RECIPROCITY_MIN, Health, promise_health, trend_weeks  # noqa: E402
from bot.reports.leaderboard import (  # noqa: E402
    Leaderboard,
    PrincipleReport,
    Role,
    leaderboard,
    principle_report,
)
from bot.reports.periods import Period, parse_period  # noqa: E402
from bot.reports.rebuild import rebuild_team  # noqa: E402
from bot.reports.summaries import NOT_RECOGNISED_DAYS, participation  # noqa: E402
from bot.reports.weighted import WeightedBoard, weighted_leaderboard  # noqa: E402
from bot.slack.outbound import home as home_module  # noqa: E402

TEAM = "TBENCHLB01"
PEOPLE = 5_000
DAYS = 730
ZONE = ZoneInfo("America/New_York")
TOP, SPLIT_TOP = 10, 3
COLUMNS = (
    "team_id",
    "group_id",
    "giver_id",
    "receiver_id",
    "principle_id",
    "message",
    "channel_id",
    "source",
    "created_at",
    "withdrawn_at",
    "public_channel_id",
    "public_message_ts",
)
PG_TYPES = ["text"] * 4 + ["int4"] + ["text"] * 3 + ["timestamptz"] * 2 + ["text"] * 2
MISSION = "mission: Move every shipment as if it were our own.\ncompany: Bench Freight\n" + (
    "principles:\n"
    + "".join(
        f"  - {{key: principle-{n:02d}, title: Principle number {n}, category: C{n % 3}}}\n"
        for n in range(1, 13)
    )
)


def person(n: int) -> str:
    return f"U{n:07d}B"


# -- the data set ----------------------------------------------------------------------------


def generate(count: int, principle_ids: list[int], now: dt.datetime) -> list[tuple[Any, ...]]:
    """`count` kudos rows in time order, as they would have been written.

    Receivers follow a Zipf-like skew (a few people get many kudos, most get a few), givers a
    milder one; principles are skewed too. Most kudos have one receiver, about one group in
    eight two to five (same giver, time, principle, message and group_id). About 3% withdrawn.
    """
    rng = random.Random(20261123)
    receivers = rng.sample(range(PEOPLE), PEOPLE)
    givers = rng.sample(range(PEOPLE), PEOPLE)
    receiver_weights = [1 / (rank + 1) ** 0.6 for rank in range(PEOPLE)]
    giver_weights = [1 / (rank + 1) ** 0.4 for rank in range(PEOPLE)]
    principle_weights = [12 - i for i in range(len(principle_ids))]
    start = now - dt.timedelta(days=DAYS)
    span = DAYS * 86_400
    sizes: list[int] = []
    while sum(sizes) < count:
        sizes.extend(rng.choices([1, 2, 3, 4, 5], [88, 7, 3, 1, 1], k=count // 2))
    total = 0
    groups: list[int] = []
    for size in sizes:
        size = min(size, count - total)
        if not size:
            break
        groups.append(size)
        total += size
    picked = iter(rng.choices(receivers, receiver_weights, k=count))
    giver_for = rng.choices(givers, giver_weights, k=len(groups))
    principle_for = rng.choices(principle_ids, principle_weights, k=len(groups))
    first = start.timestamp()
    stamps = sorted(first + rng.random() * span for _ in groups)
    withdrawn = iter([rng.random() < 0.03 for _ in range(count)])
    names = [person(n) for n in range(PEOPLE)]
    channels = [f"C{n:08d}" for n in range(40)]
    later = dt.timedelta(minutes=5)
    rows: list[tuple[Any, ...]] = []
    for g, size in enumerate(groups):
        at = dt.datetime.fromtimestamp(stamps[g], dt.UTC)
        bits = f"{rng.getrandbits(128):032x}"
        giver = giver_for[g]
        channel = channels[g % 40]
        shared = (
            f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-a{bits[17:20]}-{bits[20:]}",
            names[giver],
        )
        tail = (
            principle_for[g],
            f"thanks for the {g} things",
            channel,
            "command",
            at,
        )
        for _ in range(size):
            receiver = next(picked)
            if receiver == giver:
                receiver = (receiver + 1) % PEOPLE
            rows.append(
                (
                    TEAM,
                    *shared,
                    names[receiver],
                    *tail,
                    at + later if next(withdrawn) else None,
                    channel,
                    f"{stamps[g]:.6f}",
                )
            )
    return rows


def libpq(url: str) -> str:
    """A plain psycopg connection string: seeding and VACUUM need no deadline."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def drop_secondary_indexes(cursor: psycopg.Cursor[Any]) -> list[str]:
    """Drop the kudos table's secondary indexes for a bulk load; their definitions, to
    rebuild them after it."""
    indexes = cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'kudos' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ).fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes]


# The pair tallies (migration 0017) are kept by triggers on kudos, ~40 µs a row: a bulk load
# goes without them and counts the pairs in one statement after it, as the migration does.
_PAIRS_FILL = (
    "INSERT INTO kudos_pairs (team_id, bucket, giver_id, receiver_id, kudos) "
    "SELECT team_id, {quarter}, giver_id, receiver_id, count(*) FROM kudos "
    "WHERE team_id = {team} AND withdrawn_at IS NULL "
    "GROUP BY team_id, {quarter}, giver_id, receiver_id"
)
# Each pair over all time too (migration 0020): its quarters' rows summed.
_ALL_TIME_FILL = (
    "INSERT INTO kudos_pairs (team_id, bucket, giver_id, receiver_id, kudos) "
    "SELECT team_id, {all_time}, giver_id, receiver_id, sum(kudos) FROM kudos_pairs "
    "WHERE team_id = {team} GROUP BY team_id, giver_id, receiver_id"
)
PAIRS_FILL_POSTGRES = _PAIRS_FILL.format(
    quarter="CAST(date_trunc('quarter', created_at AT TIME ZONE 'UTC') AS DATE)", team="%s"
)
PAIRS_FILL_ALL_TIME_POSTGRES = _ALL_TIME_FILL.format(all_time="DATE '1970-01-01'", team="%s")
PAIRS_FILL_SQLITE = _PAIRS_FILL.format(
    quarter="printf('%s-%02d-01', substr(created_at, 1, 4), "
    "(CAST(substr(created_at, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1)",
    team="?",
)
PAIRS_FILL_ALL_TIME_SQLITE = _ALL_TIME_FILL.format(all_time="'1970-01-01'", team="?")


def channel_fill(dialect: str) -> list[str]:
    """The channel tallies' fill (migration 0023's, which its triggers, disabled for the
    load, would have counted), for the bench's team."""
    migration = importlib.import_module(
        "bot.migrations.versions.20261206_0023_kudos_channel_tallies"
    )
    return list(migration.fill_statements(dialect, f"team_id = '{TEAM}'"))


def seed_postgres(url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """Binary COPY over one psycopg connection, the secondary indexes dropped during the load
    and rebuilt from their own definitions after it; (load seconds, index seconds)."""
    with psycopg.connect(libpq(url)) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        indexes = drop_secondary_indexes(cursor)
        cursor.execute("ALTER TABLE kudos DISABLE TRIGGER USER")
        names = ", ".join(COLUMNS)
        with cursor.copy(f"COPY kudos ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(PG_TYPES)
            for row in rows:
                copy.write_row(row)
        loaded = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute(PAIRS_FILL_POSTGRES, (TEAM,))
        cursor.execute(PAIRS_FILL_ALL_TIME_POSTGRES, (TEAM,))
        for statement in channel_fill("postgresql"):
            cursor.execute(statement)
        cursor.execute("ALTER TABLE kudos ENABLE TRIGGER USER")
    return loaded - started, time.perf_counter() - loaded


def seed_postgres_in_sql(url: str, count: int, principle_ids: list[int]) -> tuple[float, float]:
    """`count` kudos made by PostgreSQL itself (generate_series, a million a statement): ten
    million rows never pass through Python. Receivers skewed (a few people get many kudos),
    givers uniform, principles skewed, about 3% withdrawn; every kudos its own group."""
    pids = "ARRAY[" + ",".join(str(p) for p in principle_ids) + "]"
    with psycopg.connect(libpq(url)) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        indexes = drop_secondary_indexes(cursor)
        cursor.execute("ALTER TABLE kudos DISABLE TRIGGER USER")
        cursor.execute(
            "INSERT INTO people (team_id, user_id, name, is_bot, deleted, is_admin, is_owner, "
            "updated_at) SELECT %s, 'U' || lpad(n::text, 7, '0') || 'B', 'Person ' || n, "
            "false, n %% 97 = 0, false, false, now() FROM generate_series(0, %s - 1) n",
            (TEAM, PEOPLE),
        )
        for first in range(0, count, 1_000_000):
            cursor.execute(
                f"""
                INSERT INTO kudos (team_id, group_id, giver_id, receiver_id, principle_id,
                    message, channel_id, source, created_at, withdrawn_at, audience)
                SELECT %(team)s, md5(g::text),
                    'U' || lpad(((r + 1 + (random() * (%(people)s - 2))::int)
                        %% %(people)s)::text, 7, '0') || 'B',
                    'U' || lpad(r::text, 7, '0') || 'B',
                    ({pids})[1 + floor(power(random(), 1.6) * {len(principle_ids)})::int],
                    'thanks for the shipment #' || g, 'CBENCH0001', 'command', at,
                    CASE WHEN random() < 0.03 THEN at + interval '1 minute' END, 'public'
                FROM (
                    SELECT g, floor(power(random(), 2.0) * %(people)s)::int AS r,
                        now() - random() * interval '{DAYS} days' AS at
                    FROM generate_series(%(first)s::int8, %(last)s::int8) g
                ) s
                """,
                {
                    "team": TEAM,
                    "people": PEOPLE,
                    "first": first,
                    "last": min(first + 1_000_000, count) - 1,
                },
            )
            connection.commit()
            print(f"  {min(first + 1_000_000, count):,} kudos", file=sys.stderr, flush=True)
        loaded = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute(PAIRS_FILL_POSTGRES, (TEAM,))
        cursor.execute(PAIRS_FILL_ALL_TIME_POSTGRES, (TEAM,))
        for statement in channel_fill("postgresql"):
            cursor.execute(statement)
        cursor.execute("ALTER TABLE kudos ENABLE TRIGGER USER")
        connection.commit()
    return loaded - started, time.perf_counter() - loaded


def seed_people(url: str) -> None:
    """The people of the data set, 1 in 97 deactivated: participation counts the active (the
    in-SQL seeding makes its own)."""
    people = [(TEAM, person(n), f"Person {n}", n % 97 == 0) for n in range(PEOPLE)]
    if make_url(url).get_backend_name() == "postgresql":
        with psycopg.connect(libpq(url)) as connection, connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO people (team_id, user_id, name, is_bot, deleted, is_admin, "
                "is_owner, updated_at) VALUES (%s, %s, %s, false, %s, false, false, now())",
                people,
            )
        return
    lite = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    try:
        lite.execute("BEGIN")
        lite.executemany(
            "INSERT INTO people (team_id, user_id, name, is_bot, deleted, is_admin, is_owner, "
            "updated_at) VALUES (?, ?, ?, 0, ?, 0, 0, '2026-12-01 00:00:00.000000')",
            ((team, user, name, int(deleted)) for team, user, name, deleted in people),
        )
        lite.execute("COMMIT")
    finally:
        lite.close()


def seed_sqlite(url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """One executemany in one transaction, times written as SQLAlchemy writes them; the
    secondary indexes dropped during the load and rebuilt after it."""

    def stamp(value: dt.datetime | None) -> str | None:
        return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    connection = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    try:
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'kudos' AND sql IS NOT NULL"
        ).fetchall()
        triggers = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'kudos'"
        ).fetchall()
        started = time.perf_counter()
        connection.execute("BEGIN")
        for name, _definition in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for name, _definition in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.executemany(
            f"INSERT INTO kudos ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            ((*r[:8], stamp(r[8]), stamp(r[9]), *r[10:]) for r in rows),
        )
        loaded = time.perf_counter()
        for _name, definition in indexes:
            connection.execute(definition)
        connection.execute(PAIRS_FILL_SQLITE, (TEAM,))
        connection.execute(PAIRS_FILL_ALL_TIME_SQLITE, (TEAM,))
        for statement in channel_fill("sqlite"):
            connection.execute(statement)
        for _name, definition in triggers:
            connection.execute(definition)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return loaded - started, time.perf_counter() - loaded


def analyze(database: Database) -> None:
    if database.dialect == "postgresql":
        # What autovacuum does after a bulk load (PostgreSQL 13+): statistics and the
        # visibility map that index-only scans rely on.
        with psycopg.connect(libpq(database.url), autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        return
    with database.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA optimize")
        connection.commit()


# -- the hand-written SQL --------------------------------------------------------------------


def _counted(bounds: tuple[dt.datetime | None, dt.datetime | None]) -> str:
    """The kudos a report counts: the team's, not withdrawn, inside the bounds."""
    start, end = bounds
    return (
        "team_id = :team AND withdrawn_at IS NULL"
        + (" AND created_at >= :start" if start else "")
        + (" AND created_at < :end" if end else "")
    )


def _params(
    bounds: tuple[dt.datetime | None, dt.datetime | None],
) -> tuple[dict[str, Any], list[Any]]:
    start, end = bounds
    values: dict[str, Any] = {"team": TEAM}
    binds = []
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            values[name] = value
            binds.append(bindparam(name, type_=UTCDateTime()))
    return values, binds


@dataclass(frozen=True)
class Answer:
    """A report reduced to plain values, for comparing the bot's answer with the SQL's."""

    value: tuple[Any, ...]


def board_answer(board: Leaderboard) -> Answer:
    def standing(s: Any) -> tuple[Any, ...]:
        return (s.rank, s.user_id, s.count, tuple((p.id, p.key, n) for p, n in s.split))

    entries = tuple(standing(s) for s in board.entries)
    caller = standing(board.caller) if board.caller else None
    return Answer((entries, caller, board.total, board.people))


def hand_leaderboard(
    database: Database,
    role: Role,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    caller: str,
) -> Answer:
    who = "receiver_id" if role == Role.RECEIVERS else "giver_id"
    values, binds = _params(bounds)
    ranking = text(
        f"""
        WITH per_person AS (
            SELECT {who} AS user_id, count(*) AS n FROM kudos
            WHERE {_counted(bounds)}
            GROUP BY {who}
        ), ranked AS (
            SELECT user_id, n, rank() OVER (ORDER BY n DESC) AS rnk,
                   sum(n) OVER () AS total, count(*) OVER () AS people
            FROM per_person
        )
        SELECT user_id, n, rnk, total, people FROM ranked
        WHERE rnk <= :top OR user_id = :caller
        ORDER BY rnk, user_id
        """
    ).bindparams(*binds)
    split = text(
        f"""
        SELECT s.user_id, p.id, p.key, s.n
        FROM (
            SELECT {who} AS user_id, principle_id, count(*) AS n FROM kudos
            WHERE {_counted(bounds)} AND {who} IN :people
            GROUP BY {who}, principle_id
        ) s JOIN principles p ON p.id = s.principle_id
        ORDER BY s.user_id, s.n DESC, p.id
        """
    ).bindparams(*binds, bindparam("people", expanding=True))
    with database.engine.connect() as connection:
        rows = connection.execute(ranking, {**values, "top": TOP, "caller": caller}).all()
        top = [r.user_id for r in rows if r.rnk <= TOP][:SPLIT_TOP]
        splits: dict[str, list[tuple[int, str, int]]] = {}
        if top:
            for user_id, pid, key, n in connection.execute(split, {**values, "people": top}):
                splits.setdefault(user_id, []).append((pid, key, int(n)))
        connection.rollback()
    standings = [(int(r.rnk), r.user_id, int(r.n), tuple(splits.get(r.user_id, ()))) for r in rows]
    entries = tuple(s for s in standings if s[0] <= TOP)
    mine = next((s for s in standings if s[0] > TOP and s[1] == caller), None)
    total, people = (int(rows[0].total), int(rows[0].people)) if rows else (0, 0)
    return Answer((entries, mine, total, people))


def report_answer(report: PrincipleReport) -> Answer:
    counts = tuple(
        (c.principle.id, c.principle.key, c.principle.number, c.count, c.previous, c.retired)
        for c in report.counts
    )
    return Answer((counts, tuple(p.id for p in report.quiet)))


def hand_principles(
    database: Database,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    previous: tuple[dt.datetime | None, dt.datetime | None],
) -> Answer:
    """For a period with a previous period of the same length just before it (not `all`)."""
    values, binds = _params((previous[0], bounds[1]))
    values["middle"] = bounds[0]
    query = text(
        f"""
        SELECT p.id, p.key, p.position, p.retired_at IS NOT NULL AS retired,
               coalesce(c.now, 0) AS now, coalesce(c.before, 0) AS before
        FROM principles p LEFT JOIN (
            SELECT principle_id,
                   sum(CASE WHEN created_at >= :middle THEN 1 ELSE 0 END) AS now,
                   sum(CASE WHEN created_at < :middle THEN 1 ELSE 0 END) AS before
            FROM kudos
            WHERE {_counted((previous[0], bounds[1]))}
            GROUP BY principle_id
        ) c ON c.principle_id = p.id
        WHERE p.team_id = :team
        ORDER BY now DESC, retired, p.position
        """
    ).bindparams(*binds, bindparam("middle", type_=UTCDateTime()))
    with database.engine.connect() as connection:
        rows = connection.execute(query, values).all()
        connection.rollback()
    numbers = {
        r.id: n for n, r in enumerate(sorted((r for r in rows if not r.retired), key=_pos), 1)
    }
    counts = tuple(
        (r.id, r.key, numbers.get(r.id), int(r.now), int(r.before), bool(r.retired))
        for r in rows
        if not (r.retired and not r.now and not r.before)
    )
    quiet = tuple(
        sorted((r.id for r in rows if not r.retired and not r.now), key=lambda i: numbers[i])
    )
    return Answer((counts, quiet))


def _pos(row: Any) -> int:
    return int(row.position)


def weighted_answer(board: WeightedBoard) -> Answer:
    def standing(s: Any) -> tuple[Any, ...]:
        return (s.rank, s.user_id, round(s.score, 6), s.kudos, s.givers)

    entries = tuple(standing(s) for s in board.entries)
    caller = standing(board.caller) if board.caller else None
    return Answer((entries, caller, board.people, board.kudos))


def hand_weighted(
    database: Database, bounds: tuple[dt.datetime | None, dt.datetime | None], caller: str
) -> Answer:
    """Σ over givers of √(kudos from that giver), ranked, as one would write it by hand."""
    values, binds = _params(bounds)
    query = text(
        f"""
        WITH pairs AS (
            SELECT receiver_id, giver_id, count(*) AS n FROM kudos
            WHERE {_counted(bounds)}
            GROUP BY receiver_id, giver_id
        ), scored AS (
            SELECT receiver_id AS user_id, sum(sqrt(n)) AS score, sum(n) AS kudos,
                   count(*) AS givers,
                   rank() OVER (ORDER BY round(CAST(sum(sqrt(n)) AS NUMERIC), 6) DESC) AS rnk,
                   count(*) OVER () AS people, sum(sum(n)) OVER () AS total
            FROM pairs GROUP BY receiver_id
        )
        SELECT * FROM scored WHERE rnk <= :top OR user_id = :caller ORDER BY rnk, user_id
        """
    ).bindparams(*binds)
    with database.engine.connect() as connection:
        rows = connection.execute(query, {**values, "top": TOP, "caller": caller}).all()
        connection.rollback()
    standings = [
        (int(r.rnk), r.user_id, round(float(r.score), 6), int(r.kudos), int(r.givers)) for r in rows
    ]
    entries = tuple(s for s in standings if s[0] <= TOP)
    mine = next((s for s in standings if s[0] > TOP and s[1] == caller), None)
    people, total = (int(rows[0].people), int(rows[0].total)) if rows else (0, 0)
    return Answer((entries, mine, people, total))


def health_answer(health: Health) -> Answer:
    rows = tuple(
        (r.principle.id, r.kudos, r.givers, r.receivers, r.top_receivers, r.weekly)
        for r in health.principles
    )
    pairs = tuple((p.first, p.second, p.first_to_second, p.second_to_first) for p in health.pairs)
    totals = (health.kudos, health.givers, health.receivers, health.top_receivers)
    return Answer((rows, tuple(p.id for p in health.quiet), pairs, totals))


def hand_health(database: Database, period: Period, today: dt.date) -> Answer:
    """The promise-health numbers as hand-written SQL: per principle, weekly, top 5, totals
    and pairs (the same six aggregates the bot runs, written directly)."""
    bounds = period.bounds(ZONE)
    weeks = [week.bounds(ZONE) for week in trend_weeks(period, today)]
    values, binds = _params(bounds)
    week_values = {f"w{i}": start for i, (start, _end) in enumerate(weeks)}
    week_values[f"w{len(weeks)}"] = weeks[-1][1]
    week_binds = [bindparam(name, type_=UTCDateTime()) for name in week_values]
    sums = ", ".join(
        f"sum(CASE WHEN created_at >= :w{i} AND created_at < :w{i + 1} THEN 1 ELSE 0 END)"
        for i in range(len(weeks))
    )
    queries = {
        "principles": text(
            "SELECT id, position, retired_at IS NOT NULL AS retired FROM principles "
            "WHERE team_id = :team ORDER BY position"
        ),
        "per": text(
            f"SELECT principle_id, count(*), count(DISTINCT giver_id), "
            f"count(DISTINCT receiver_id) FROM kudos WHERE {_counted(bounds)} "
            "GROUP BY principle_id"
        ).bindparams(*binds),
        "weekly": text(
            f"SELECT principle_id, {sums} FROM kudos WHERE team_id = :team "
            f"AND withdrawn_at IS NULL AND created_at >= :w0 AND created_at < :w{len(weeks)} "
            "GROUP BY principle_id"
        ).bindparams(*week_binds),
        "top": text(
            f"""SELECT principle_id, sum(n) FROM (
                SELECT principle_id, count(*) AS n, row_number() OVER (
                    PARTITION BY principle_id ORDER BY count(*) DESC, receiver_id) AS place
                FROM kudos WHERE {_counted(bounds)} GROUP BY principle_id, receiver_id
            ) ranked WHERE place <= 5 GROUP BY principle_id"""
        ).bindparams(*binds),
        "totals": text(
            f"SELECT count(*), count(DISTINCT giver_id), count(DISTINCT receiver_id) "
            f"FROM kudos WHERE {_counted(bounds)}"
        ).bindparams(*binds),
        "top_all": text(
            f"""SELECT coalesce(sum(n), 0) FROM (
                SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC, receiver_id)
                    AS place
                FROM kudos WHERE {_counted(bounds)} GROUP BY receiver_id
            ) ranked WHERE place <= 5"""
        ).bindparams(*binds),
        "pairs": text(
            f"""WITH sent AS (
                SELECT giver_id, receiver_id, count(*) AS n FROM kudos
                WHERE {_counted(bounds)} GROUP BY giver_id, receiver_id
            ), gave AS (
                SELECT giver_id, count(*) AS n FROM kudos WHERE {_counted(bounds)}
                GROUP BY giver_id
            )
            SELECT a.giver_id, a.receiver_id, a.n, b.n FROM sent a
            JOIN sent b ON b.giver_id = a.receiver_id AND b.receiver_id = a.giver_id
            JOIN gave ga ON ga.giver_id = a.giver_id
            JOIN gave gb ON gb.giver_id = a.receiver_id
            WHERE a.giver_id < a.receiver_id AND a.n * 2 > ga.n AND b.n * 2 > gb.n
              AND a.n + b.n >= {RECIPROCITY_MIN}
            ORDER BY a.n + b.n DESC, a.giver_id, a.receiver_id LIMIT 10"""
        ).bindparams(*binds),
    }
    with database.engine.connect() as connection:
        got = {
            name: connection.execute(query, {**values, **week_values}).all()
            for name, query in queries.items()
        }
        connection.rollback()
    per = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in got["per"]}
    weekly = {r[0]: tuple(int(v or 0) for v in r[1:]) for r in got["weekly"]}
    top = {r[0]: int(r[1]) for r in got["top"]}
    rows = []
    quiet = []
    for pid, _position, retired in sorted(got["principles"], key=lambda r: (r[2], r[1])):
        kudos, givers, receivers = per.get(pid, (0, 0, 0))
        week = weekly.get(pid, (0,) * len(weeks))
        if retired and not kudos and not any(week):
            continue
        rows.append((pid, kudos, givers, receivers, top.get(pid, 0), week))
        if not retired and not kudos:
            quiet.append(pid)
    pairs = tuple((a, b, int(ab), int(ba)) for a, b, ab, ba in got["pairs"])
    n, g, r = got["totals"][0]
    totals = (int(n), int(g), int(r), int(got["top_all"][0][0]))
    return Answer((tuple(rows), tuple(quiet), pairs, totals))


# -- timing ----------------------------------------------------------------------------------


@dataclass
class Timing:
    backend: str
    query: str
    counted: int
    bot: list[float]
    hand: list[float]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def race(
    bot: Callable[[], Answer], hand: Callable[[], Answer], reps: int, warmup: int
) -> tuple[Answer, list[float], list[float]]:
    """The answer, once checked equal; then bot and hand-written alternately (the order
    swapped every round), seconds each."""
    ours, theirs = bot(), hand()
    if ours != theirs:
        raise AssertionError(f"different answers:\nbot  {ours}\nhand {theirs}")
    bot_times: list[float] = []
    hand_times: list[float] = []
    for n in range(warmup + reps):
        pair = [(bot, bot_times), (hand, hand_times)]
        for run, times in pair if n % 2 else reversed(pair):
            started = time.perf_counter()
            run()
            if n >= warmup:
                times.append(time.perf_counter() - started)
        if len(bot_times) >= 5 and sum(bot_times) + sum(hand_times) > 2 * SURFACE_BUDGET_S:
            break  # a slow query at ten million kudos: five runs of each say enough
    return ours, bot_times, hand_times


def seed(database: Database, backend: str, url: str, count: int, in_sql: bool) -> list[str]:
    """Seed the data set into a migrated database and rebuild its summaries; the seeding row.
    A kept database that already has the team's kudos is only rebuilt when a rebuild was left
    unfinished or the summaries are empty."""
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        present = session.scalar(select(Kudos.id).where(Kudos.team_id == TEAM).limit(1))
        tallied = session.scalar(
            select(KudosTally.kudos).where(KudosTally.team_id == TEAM).limit(1)
        )
        unfinished = session.get(TallyRebuild, TEAM)
    if present is not None:
        if tallied is not None and unfinished is None:
            return []
        started = time.perf_counter()
        rebuild_team(database, TEAM, now)
        rebuilt = time.perf_counter()
        analyze(database)
        return [f"| {backend} | (kept) | | | | | {rebuilt - started:.1f} | |"]
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=parse_mission(MISSION))
    with database.transaction() as session:
        pids = list(
            session.scalars(
                select(Principle.id).where(Principle.team_id == TEAM).order_by(Principle.position)
            )
        )
    started = time.perf_counter()
    if in_sql and backend == "postgresql":
        generated = started
        load, index = seed_postgres_in_sql(url, count, pids)
    else:
        rows = generate(count, pids, now)
        generated = time.perf_counter()
        load, index = (seed_postgres if backend == "postgresql" else seed_sqlite)(url, rows)
        del rows
        seed_people(url)
    inserted = time.perf_counter()
    analyze(database)
    analyzed = time.perf_counter()
    rebuild_team(database, TEAM, now)
    rebuilt = time.perf_counter()
    analyze(database)
    return [
        f"| {backend} | {count:,} | {generated - started:.1f} | {load:.1f} | {index:.1f} "
        f"| {analyzed - inserted:.1f} | {rebuilt - analyzed:.1f} | {rebuilt - started:.1f} |"
    ]


def time_rebuild(url: str, jobs: int = 1, from_empty: bool = False) -> float:
    """Seconds for `missionbot db rebuild-summaries --jobs N` of the kept data set, from the
    start; `from_empty`: with the team's tallies (and what is kept from them) deleted first,
    and the table vacuumed, as after a restore without them."""
    database = Database(url)
    try:
        with database.transaction() as session:
            session.execute(delete(TallyRebuild))
            if from_empty:
                # The histogram's and the latest kudos's triggers do nothing meanwhile: the
                # rebuild counts them again.
                session.execute(text("SET LOCAL missionbot.rebuilding = 'on'"))
                for name in ("kudos_tallies", "kudos_tally_histogram", "kudos_latest"):
                    session.execute(text(f"DELETE FROM {name} WHERE team_id = :t"), {"t": TEAM})
        if from_empty and database.engine.dialect.name == "postgresql":
            with database.engine.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.execute(text("VACUUM kudos_tallies"))
        load = os.getloadavg()[0]
        started = time.perf_counter()
        rebuild_team(database, TEAM, dt.datetime.now(dt.UTC), jobs=jobs)
        took = time.perf_counter() - started
        print(f"rebuilt in {took:.1f} s (load {load:.1f} → {os.getloadavg()[0]:.1f})", flush=True)
        return took
    finally:
        database.dispose()


def bench_backend(
    backend: str, url: str, count: int, reps: int, warmup: int, in_sql: bool = False
) -> tuple[list[Timing], list[str]]:
    now = dt.datetime.now(dt.UTC)
    database = Database(url)
    try:
        seeding = seed(database, backend, url, count, in_sql)
        if SURFACES == ["boards"]:
            return boards(database, backend, now, reps, warmup), seeding
        if "slack" not in SURFACES:
            return every_surface(database, backend, now, reps, warmup), seeding
        today = now.astimezone(ZONE).date()
        month, everything = parse_period("month", today), parse_period("all", today)
        last_month = month.previous()
        assert last_month is not None
        caller = caller_in_the_middle(database, month.bounds(ZONE))
        timings = []
        for label, period, role in (
            ("leaderboard month", month, Role.RECEIVERS),
            (f"leaderboard {last_month.slug} (last full month)", last_month, Role.RECEIVERS),
            ("leaderboard quarter", parse_period("quarter", today), Role.RECEIVERS),
            ("leaderboard year", parse_period("year", today), Role.RECEIVERS),
            ("leaderboard all", everything, Role.RECEIVERS),
            ("leaderboard month givers", month, Role.GIVERS),
        ):
            answer, bot_times, hand_times = race(
                _bot_board(database, period, role, caller),
                _hand_board(database, period, role, caller),
                reps,
                warmup,
            )
            timings.append(Timing(backend, label, answer.value[2], bot_times, hand_times))
            print(table(timings[-1:])[-1], flush=True)
        answer, bot_times, hand_times = race(
            _bot_report(database, month), _hand_report(database, month), reps, warmup
        )
        counted = sum(c[3] + c[4] for c in answer.value[0])
        timings.append(
            Timing(backend, "principles month (and last month)", counted, bot_times, hand_times)
        )
        print(table(timings[-1:])[-1], flush=True)
        quarter = parse_period("quarter", today)
        answer, bot_times, hand_times = race(
            _bot_health(database, quarter, today),
            lambda: hand_health(database, quarter, today),
            reps,
            warmup,
        )
        timings.append(
            Timing(
                backend,
                "health quarter (12 weeks, pairs)",
                answer.value[3][0],
                bot_times,
                hand_times,
            )
        )
        print(table(timings[-1:])[-1], flush=True)
        # Last full month: this month may be a day old.
        last_caller = caller_in_the_middle(database, last_month.bounds(ZONE))
        answer, bot_times, hand_times = race(
            _bot_weighted(database, last_month, last_caller),
            lambda: hand_weighted(database, last_month.bounds(ZONE), last_caller),
            reps,
            warmup,
        )
        timings.append(
            Timing(
                backend,
                f"leaderboard {last_month.slug} weighted",
                answer.value[3],
                bot_times,
                hand_times,
            )
        )
        print(table(timings[-1:])[-1], flush=True)
        answer, bot_times, hand_times = race(
            _bot_participation(database, month, now),
            lambda: hand_participation(database, month, now),
            reps,
            warmup,
        )
        timings.append(
            Timing(backend, "participation month (digest, Home)", 0, bot_times, hand_times)
        )
        timings += every_surface(database, backend, now, reps, warmup)
        return timings, seeding
    finally:
        database.dispose()


def boards(
    database: Database, backend: str, now: dt.datetime, reps: int, warmup: int
) -> list[Timing]:
    """`--surfaces boards`: what the tallies' write path changes most on the read side (the
    month and all-time receiver boards, `/kudos me` of the busiest receiver), bot only."""
    today = now.astimezone(ZONE).date()
    month, everything = parse_period("month", today), parse_period("all", today)
    caller = caller_in_the_middle(database, month.bounds(ZONE))
    heavy = busiest(database)
    timings = []
    for label, period in (("leaderboard month", month), ("leaderboard all", everything)):
        times = timed(_bot_board(database, period, Role.RECEIVERS, caller), reps, warmup)
        timings.append(Timing(backend, label, 0, times, []))
        print(table(timings[-1:])[-1], flush=True)

    def me() -> object:
        with database.reading() as session:
            return summary(
                session=session, team_id=TEAM, user_id=heavy, timezone=ZONE.key, limit=5, now=now
            )

    timings.append(
        Timing(backend, "/kudos me (the busiest receiver)", 0, timed(me, reps, warmup), [])
    )
    print(table(timings[-1:])[-1], flush=True)
    return timings


# -- every other Slack report and dashboard page ---------------------------------------------

# A slow surface is timed at least 5 times, then until this is spent.
SURFACE_BUDGET_S = 10.0
# `--no-all-pages`: the month only (the raw all-time queries take minutes each at ten million
# kudos on a busy machine).
PAGE_PERIODS = ["month", "all"]
# `--surfaces slack`: the Slack reports only (no dashboard page).
SURFACES = ["slack", "dashboard"]


def timed(run: Callable[[], object], reps: int, warmup: int) -> list[float]:
    """Seconds per run; a run the database doesn't answer within the request path's deadline
    (bot/db/engine.py) counts as infinitely slow, and ends the timing."""
    times: list[float] = []
    spent = 0.0
    for n in range(warmup + reps):
        started = time.perf_counter()
        try:
            run()
        except OperationalError:
            return [float("inf")]
        if n >= warmup:
            times.append(time.perf_counter() - started)
            spent += times[-1]
        if len(times) >= 5 and spent > SURFACE_BUDGET_S:
            break
    return times


def busiest(database: Database) -> str:
    """The person who received the most kudos: the heaviest `/kudos me` and person page."""
    with database.engine.connect() as connection:
        found = connection.scalar(
            text(
                "SELECT user_id FROM kudos_tallies WHERE team_id = :team AND role = 'r' "
                "AND grain = 'y' AND principle_id = 0 GROUP BY user_id "
                "ORDER BY sum(kudos) DESC, user_id LIMIT 1"
            ),
            {"team": TEAM},
        )
        connection.rollback()
    return str(found)


def hand_summary(database: Database, user_id: str, month_start: dt.datetime) -> list[Any]:
    """`/kudos me` as one would write it: per principle, this month and all time, both ways."""
    found = []
    with database.engine.connect() as connection:
        for who in ("receiver_id", "giver_id"):
            query = text(
                "SELECT principle_id, sum(CASE WHEN created_at >= :start THEN 1 ELSE 0 END), "
                f"count(*) FROM kudos WHERE team_id = :team AND withdrawn_at IS NULL "
                f"AND {who} = :user GROUP BY principle_id ORDER BY count(*) DESC, principle_id"
            ).bindparams(bindparam("start", type_=UTCDateTime()))
            values = {"team": TEAM, "user": user_id, "start": month_start}
            found.append(connection.execute(query, values).all())
        connection.rollback()
    return found


def hand_totals(database: Database, bounds: tuple[dt.datetime | None, dt.datetime | None]) -> Any:
    """The overview's numbers as raw SQL: kudos, distinct givers, distinct receivers."""
    values, binds = _params(bounds)
    query = text(
        "SELECT count(*), count(DISTINCT giver_id), count(DISTINCT receiver_id) "
        f"FROM kudos WHERE {_counted(bounds)}"
    ).bindparams(*binds)
    with database.engine.connect() as connection:
        found = connection.execute(query, values).one()
        connection.rollback()
    return found


def hand_pairs(database: Database, bounds: tuple[dt.datetime | None, dt.datetime | None]) -> Any:
    """Kudos per (giver, receiver): what the leaderboards' weighted board and the network read."""
    values, binds = _params(bounds)
    query = text(
        f"SELECT giver_id, receiver_id, count(*) FROM kudos WHERE {_counted(bounds)} "
        "GROUP BY giver_id, receiver_id"
    ).bindparams(*binds)
    with database.engine.connect() as connection:
        found = connection.execute(query, values).all()
        connection.rollback()
    return found


def every_surface(
    database: Database, backend: str, now: dt.datetime, reps: int, warmup: int
) -> list[Timing]:
    """`/kudos me`, the App Home, the digest and every dashboard page, each the way its
    listener or view calls it (the view's numbers, not its HTML), beside the raw-kudos query
    for the same numbers where one is short to write."""
    today = now.astimezone(ZONE).date()
    month = parse_period("month", today)
    previous = month.previous()
    assert previous is not None
    heavy = busiest(database)
    local_now = now.astimezone(ZONE)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with database.reading() as session:
        catalog = numbers.principles(session, TEAM)
    first_key = next(iter(catalog.values())).info.key
    people = [person(n) for n in range(PEOPLE)]
    groups = tuple(
        numbers.Group(f"S{n:08d}", f"Group {n}", frozenset(people[n::10])) for n in range(10)
    )

    def window(period: str) -> Any:
        return parse_window(period, None, None, today=today, zone=ZONE)

    def reading(work: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with database.reading() as session:
                return work(session)

        return run

    def me(session: Any) -> object:
        return summary(
            session=session, team_id=TEAM, user_id=heavy, timezone=ZONE.key, limit=5, now=now
        )

    # The managers' App Home as its publish draws it (bot/slack/outbound/home.py), for the
    # busiest receiver. Drawing it picks the day's principle on the day's first Home, a
    # write: these surfaces only read, so the Home shows none (one small read less).
    home_module.principle_for_day = lambda **_: None
    publish = Publish(TEAM, heavy, HomeRole.MANAGER, ZONE.key, today, "bench", None)

    def home(session: Any) -> object:
        return home_module.home_content(session, publish, home_module.HomeSettings(), now)

    def digest(session: Any) -> object:
        return weekly_digest(
            session=session,
            team_id=TEAM,
            day=today,
            zone=ZONE,
            scope=QuoteScope(channel_id="CBENCH0001"),
        )

    none = Filters()
    with database.engine.connect() as connection:
        channel_id = connection.scalar(
            text("SELECT channel_id FROM kudos WHERE team_id = :team LIMIT 1"), {"team": TEAM}
        )
        connection.rollback()
    channel = Filters(channel_id=channel_id)
    group = Filters(group_id=groups[0].id, members=groups[0].members)
    # The same group from its tallies (migration 0026), brought up to date first as the
    # dashboard does in the background: a kept database's group is current after its first run.
    began = time.perf_counter()
    usergroup_tallies.sync(
        database, TEAM, group.group_id or "", groups[0].members, clock=utcnow, limit=20
    )
    print(f"# user group tallies current in {time.perf_counter() - began:.1f} s", flush=True)
    tallied_group = dataclasses.replace(group, tallied=True)
    cases: list[tuple[str, Callable[[], object], Callable[[], object] | None]] = [
        (
            "/kudos me (the busiest receiver)",
            reading(me),
            lambda: hand_summary(database, heavy, month_start),
        ),
        ("App Home (manager): me, top 5, principles, participation, health", reading(home), None),
        ("weekly digest", reading(digest), None),
        (
            "health month",
            reading(
                lambda s: promise_health(
                    session=s,
                    team_id=TEAM,
                    period=month,
                    bounds=month.bounds(ZONE),
                    where=ZONE,
                    today=today,
                )
            ),
            None,
        ),
    ]
    for period in PAGE_PERIODS if "dashboard" in SURFACES else ():
        cases.append(
            (
                f"dashboard overview ({period})",
                reading(
                    lambda s, p=period: numbers.overview(s, TEAM, window(p), none, today=today)
                ),
                lambda p=period: hand_totals(database, window(p).bounds),
            )
        )
    cases += (
        []
        if "dashboard" not in SURFACES
        else [
            (
                "dashboard principles (month)",
                reading(
                    lambda s: numbers.principle_rows(s, TEAM, window("month"), none, today=today)
                ),
                None,
            ),
            (
                "dashboard principle page (month)",
                reading(
                    lambda s: numbers.principle_detail(
                        s, TEAM, window("month"), none, first_key, viewer_id=heavy, today=today
                    )
                ),
                None,
            ),
            (
                "dashboard person page (busiest, month)",
                reading(
                    lambda s: numbers.person_page(
                        s, TEAM, window("month"), none, heavy, viewer_id=heavy, today=today
                    )
                ),
                None,
            ),
            (
                "dashboard people gone quiet (60 days)",
                reading(lambda s: numbers.quiet_people(s, TEAM, none, now=now)),
                None,
            ),
        ]
    )
    for period in PAGE_PERIODS if "dashboard" in SURFACES else ():
        cases.append(
            (
                f"dashboard leaderboards ({period})",
                reading(lambda s, p=period: numbers.leaderboards(s, TEAM, window(p), none)),
                lambda p=period: hand_pairs(database, window(p).bounds),
            )
        )
    cases += (
        []
        if "dashboard" not in SURFACES
        else [
            (
                "dashboard network (month, 10 groups)",
                reading(lambda s: numbers.network(s, TEAM, window("month"), none, groups)),
                lambda: hand_pairs(database, window("month").bounds),
            ),
        ]
    )
    if "slack" not in SURFACES:
        # The dashboard alone: its health page is the Slack report's numbers; no raw twins.
        cases = [("dashboard health (month)", cases[3][1], None)] + [
            (label, bot, None) for label, bot, _hand in cases[4:]
        ]
        # The filters the read model doesn't count by: a channel, a user group (a tenth), raw
        # and from its tallies.
        for name, narrowed in (
            ("channel", channel),
            ("user group", group),
            ("user group, tallied", tallied_group),
        ):
            cases += [
                (
                    f"dashboard overview (month, {name})",
                    reading(
                        lambda s, f=narrowed: numbers.overview(
                            s, TEAM, window("month"), f, today=today
                        )
                    ),
                    None,
                ),
                (
                    f"dashboard principles (month, {name})",
                    reading(
                        lambda s, f=narrowed: numbers.principle_rows(
                            s, TEAM, window("month"), f, today=today
                        )
                    ),
                    None,
                ),
                (
                    f"dashboard leaderboards (month, {name})",
                    reading(
                        lambda s, f=narrowed: numbers.leaderboards(s, TEAM, window("month"), f)
                    ),
                    None,
                ),
            ]
    timings = []
    for label, bot, hand in cases:
        bot_times = timed(bot, reps, warmup)
        hand_times = timed(hand, reps, warmup) if hand is not None else []
        timings.append(Timing(backend, label, 0, bot_times, hand_times))
        print(table(timings[-1:])[-1], flush=True)
    return timings


def caller_in_the_middle(
    database: Database, bounds: tuple[dt.datetime | None, dt.datetime | None]
) -> str:
    """Someone who received kudos this month but is far from the top: shown below the top 10."""
    values, binds = _params(bounds)
    query = text(
        f"SELECT receiver_id FROM kudos WHERE {_counted(bounds)} "
        "GROUP BY receiver_id ORDER BY count(*), receiver_id"
    ).bindparams(*binds)
    with database.engine.connect() as connection:
        people = connection.scalars(query, values).all()
        connection.rollback()
    return str(people[len(people) // 2])


def _bot_board(database: Database, period: Period, role: Role, caller: str) -> Callable[[], Answer]:
    def run() -> Answer:
        with database.reading() as session:
            board = leaderboard(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=period.bounds(ZONE),
                role=role,
                caller_id=caller,
            )
        return board_answer(board)

    return run


def _hand_board(
    database: Database, period: Period, role: Role, caller: str
) -> Callable[[], Answer]:
    return lambda: hand_leaderboard(database, role, period.bounds(ZONE), caller)


def _bot_report(database: Database, period: Period) -> Callable[[], Answer]:
    previous = period.previous()
    assert previous is not None

    def run() -> Answer:
        with database.reading() as session:
            report = principle_report(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=period.bounds(ZONE),
                previous_bounds=previous.bounds(ZONE),
            )
        return report_answer(report)

    return run


def _hand_report(database: Database, period: Period) -> Callable[[], Answer]:
    previous = period.previous()
    assert previous is not None
    return lambda: hand_principles(database, period.bounds(ZONE), previous.bounds(ZONE))


def _bot_health(database: Database, period: Period, today: dt.date) -> Callable[[], Answer]:
    def run() -> Answer:
        with database.reading() as session:
            health = promise_health(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=period.bounds(ZONE),
                where=ZONE,
                today=today,
            )
        return health_answer(health)

    return run


def _bot_weighted(database: Database, period: Period, caller: str) -> Callable[[], Answer]:
    def run() -> Answer:
        with database.reading() as session:
            board = weighted_leaderboard(
                session=session,
                team_id=TEAM,
                period=period,
                bounds=period.bounds(ZONE),
                caller_id=caller,
            )
        return weighted_answer(board)

    return run


def _bot_participation(
    database: Database, period: Period, now: dt.datetime
) -> Callable[[], Answer]:
    previous = period.previous()
    assert previous is not None

    def run() -> Answer:
        with database.reading() as session:
            found = participation(session, TEAM, period.bounds(ZONE), previous.bounds(ZONE), now)
        return Answer(dataclasses.astuple(found))

    return run


def hand_participation(database: Database, period: Period, now: dt.datetime) -> Answer:
    """Active people; of them, who gave and who received in the period and the one before;
    and how many received nothing in the last 60 days."""
    previous = period.previous()
    assert previous is not None
    active = "SELECT user_id FROM people WHERE team_id = :team AND NOT is_bot AND NOT deleted"

    def distinct(who: str, bounds: tuple[dt.datetime | None, dt.datetime | None]) -> int:
        values, binds = _params(bounds)
        query = text(
            f"SELECT count(DISTINCT {who}) FROM kudos WHERE {_counted(bounds)} "
            f"AND {who} IN ({active})"
        ).bindparams(*binds)
        with database.engine.connect() as connection:
            found = int(connection.scalar(query, values) or 0)
            connection.rollback()
        return found

    with database.engine.connect() as connection:
        people = int(connection.scalar(text(f"SELECT count(*) FROM ({active}) a"), {"team": TEAM}))
        connection.rollback()
    recent = (now - dt.timedelta(days=NOT_RECOGNISED_DAYS), None)
    return Answer(
        (
            people,
            distinct("giver_id", period.bounds(ZONE)),
            distinct("receiver_id", period.bounds(ZONE)),
            distinct("giver_id", previous.bounds(ZONE)),
            distinct("receiver_id", previous.bounds(ZONE)),
            people - distinct("receiver_id", recent),
        )
    )


# -- the run ---------------------------------------------------------------------------------


def table(timings: list[Timing]) -> list[str]:
    rows = [
        "| Backend | Query | kudos counted | bot p50 ms | bot p99 ms | SQL p50 ms | SQL p99 ms "
        "| bot / SQL (p50) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        bot50 = statistics.median(t.bot) * 1000
        hand = "| | |"
        if t.hand:
            hand50 = statistics.median(t.hand) * 1000
            hand = f"| {hand50:.1f} | {percentile(t.hand, 0.99):.1f} | {bot50 / hand50:.2f} |"
        rows.append(
            f"| {t.backend} | {t.query} | {t.counted or ''} "
            f"| {bot50:.1f} | {percentile(t.bot, 0.99):.1f} {hand}"
        )
    return rows


def main() -> None:
    global PEOPLE, DAYS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 kudos and 10 repetitions")
    parser.add_argument("--kudos", type=int, help="how many kudos to seed (default 1,000,000)")
    parser.add_argument("--reps", type=int, help="timed repetitions per query (default 30)")
    parser.add_argument("--only", default="postgresql,sqlite")
    parser.add_argument("--people", type=int, help="how many people (default 5,000)")
    parser.add_argument("--days", type=int, help="over how many days (default 730)")
    parser.add_argument(
        "--in-sql",
        action="store_true",
        help="PostgreSQL makes the kudos itself (generate_series): for ten million",
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="seed into database NAME (PostgreSQL; SQLite: /var/tmp/NAME.db) once and reuse it",
    )
    parser.add_argument("--no-all-pages", action="store_true", help="dashboard pages: month only")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--seed-only", action="store_true", help="seed (with --keep) and stop")
    parser.add_argument(
        "--surfaces",
        default="slack,dashboard",
        help="slack, dashboard or both (default); boards: month, all time and /kudos me only",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="time rebuilding the summaries (with --keep), stop"
    )
    parser.add_argument(
        "--from-empty", action="store_true", help="--rebuild: the team's tallies deleted first"
    )
    parser.add_argument("--jobs", type=int, default=1, help="--rebuild: months at once")
    args = parser.parse_args()
    # The request path gives up on PostgreSQL after 10 s; at ten million kudos the raw-kudos
    # queries take longer on a busy machine. Measured to the end here; README says which
    # figures pass 10 s (they would fail in the bot).
    DeadlineConnection.answer_timeout = 300.0
    PEOPLE, DAYS = args.people or PEOPLE, args.days or DAYS
    count = args.kudos or (100_000 if args.quick else 1_000_000)
    reps = args.reps or (10 if args.quick else 30)
    warmup = args.warmup
    if args.no_all_pages:
        PAGE_PERIODS[:] = ["month"]
    SURFACES[:] = args.surfaces.split(",")
    print(
        f"# missionbot leaderboards {dt.date.today()}: {count:,} kudos, {PEOPLE:,} people, "
        f"12 principles, {DAYS} days; {reps} repetitions after {warmup} (nproc={os.cpu_count()}, "
        f"load {os.getloadavg()[0]:.1f})\n",
        flush=True,
    )
    timings: list[Timing] = []
    seeding = [
        "| Backend | kudos | generate s | bulk insert s | indexes s | analyze s "
        "| rebuild summaries s | total s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.only.split(","):
            kept = kept_database(backend, args.keep) if args.keep else None
            with kept or fresh_database(backend, Path(tmp), "leaderboards") as url:
                if args.rebuild:
                    took = time_rebuild(url, args.jobs, args.from_empty)
                    start = "empty" if args.from_empty else "the tallies"
                    print(
                        f"| {backend} | rebuild from {start}, {args.jobs} at once | {took:.1f} s |"
                    )
                    continue
                if args.seed_only:
                    database = Database(url)
                    try:
                        print("\n".join(seed(database, backend, url, count, args.in_sql)))
                    finally:
                        database.dispose()
                    continue
                found, seeded = bench_backend(backend, url, count, reps, warmup, args.in_sql)
            timings += found
            seeding += seeded
            print("\n".join(table(found)) + "\n", flush=True)
    print("\n".join(seeding) + "\n")
    print("\n".join(table(timings)))


if __name__ == "__main__":
    main()
