"""`missionbot db rebuild-summaries`: the read model (bot/reports/summaries.py) counted again
from the kudos, one UTC month per transaction, resumable.

Each month is deleted and refilled by `INSERT … SELECT … GROUP BY` in the database (no row
passes through Python): on PostgreSQL one pass over the month's kudos (GROUPING SETS), on
SQLite one GROUP BY per role and grouping. Once a year's last month is done its rows are
counted too (PostgreSQL: from its kudos, in one pass; SQLite: summed from its months).
Each month's histogram of its person tallies (and its quarter's, once summed) is counted
again from them. The next month to do is kept in `tally_rebuilds` in the same transaction,
so a rebuild stopped anywhere resumes at the first month not committed; a finished one
removes the row.

Kudos older than the undo window never change, so only the latest months race with live
kudos: on PostgreSQL their transaction first takes a SHARE lock on `kudos` (concurrent
kudos wait until it commits; reads go on). SQLite's write lock already serialises them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Date,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import Kudos, KudosTally, Principle, TallyRebuild, table
from bot.reports.summaries import (
    ALL_PRINCIPLES,
    Grain,
    bucket_of,
    counted,
    recount_histogram,
    sum_coarser,
)

REBUILD_ANSWER_TIMEOUT_S = 600.0
# A month ending later than this before now may still gain or lose kudos while it is rebuilt.
_SETTLED = dt.timedelta(hours=1)

Progress = Callable[[int, int], None]  # months done, months in all


@dataclass(frozen=True, slots=True)
class Rebuilt:
    team_id: str
    months: int
    resumed: bool


def _month_after(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    month = first
    while month <= last:
        yield month
        month = _month_after(month)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _utc_day(dialect: str) -> ColumnElement[dt.date]:
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", Kudos.created_at))
    return func.date(Kudos.created_at, type_=Date)


def teams(session: Session) -> list[str]:
    """Every team with kudos or principles: the teams a rebuild covers."""
    return sorted(
        set(session.scalars(select(Principle.team_id).distinct()))
        | set(session.scalars(select(Kudos.team_id).distinct()))
    )


def _extent(session: Session, team_id: str, now: dt.datetime) -> tuple[dt.date, dt.date]:
    first_kudos, last_kudos = session.execute(
        select(func.min(Kudos.created_at), func.max(Kudos.created_at)).where(
            Kudos.team_id == team_id
        )
    ).one()
    first_tally, last_tally = session.execute(
        select(func.min(KudosTally.bucket), func.max(KudosTally.bucket)).where(
            KudosTally.team_id == team_id, KudosTally.grain != Grain.ALL.value
        )
    ).one()
    this_month = bucket_of(Grain.MONTH, now)
    firsts = [bucket_of(Grain.MONTH, first_kudos) if first_kudos else this_month]
    lasts = [bucket_of(Grain.MONTH, last_kudos) if last_kudos else this_month]
    if first_tally is not None:
        firsts.append(first_tally.replace(day=1))
        lasts.append(last_tally.replace(day=1))
    return min(firsts), max(lasts)


def rebuild_team(
    database: Database, team_id: str, now: dt.datetime, progress: Progress | None = None
) -> Rebuilt:
    """Rebuild one team's tallies, resuming an interrupted rebuild."""
    with database.transaction() as session:
        marker = session.get(TallyRebuild, team_id)
        resumed = marker is not None
        if marker is None:
            first, last = _extent(session, team_id, now)
            marker = TallyRebuild(
                team_id=team_id, first_month=first, next_month=first, last_month=last
            )
            session.add(marker)
        first, last, start = marker.first_month, marker.last_month, marker.next_month
    months = list(_months(start, last))
    total = len(list(_months(first, last)))
    done = total - len(months)
    for month in months:
        with database.transaction() as session, _patient(session):
            _rebuild_month(session, team_id, month, last, now)
        done += 1
        if progress is not None:
            progress(done, total)
    with database.transaction() as session:
        session.execute(delete(TallyRebuild).where(TallyRebuild.team_id == team_id))
    return Rebuilt(team_id, len(months), resumed)


@contextmanager
def _patient(session: Session) -> Iterator[None]:
    """No request-path deadline for a month's statements (bot/db/engine.py waits 10 s for
    PostgreSQL's answer): a month of a large workspace takes longer on a busy server."""
    connection = session.connection().connection.driver_connection
    previous = getattr(connection, "answer_timeout", None)
    if connection is None or previous is None:
        yield
        return
    connection.answer_timeout = REBUILD_ANSWER_TIMEOUT_S
    try:
        yield
    finally:
        connection.answer_timeout = previous


def _rebuild_month(
    session: Session, team_id: str, month: dt.date, last: dt.date, now: dt.datetime
) -> None:
    following = _month_after(month)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        if _at(following) > now - _SETTLED:
            session.execute(text("LOCK TABLE kudos IN SHARE MODE"))
        # The month's groups (a few hundred thousand at ten million kudos) hashed in memory,
        # not spilled to disk in the default 4 MB.
        session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    principles = [ALL_PRINCIPLES, *_principle_ids(session, team_id)]
    _delete(session, team_id, Grain.MONTH, month, following, principles)
    year_done = month.month == 12 or month == last
    if dialect == "postgresql":
        session.execute(_MONTH_POSTGRESQL, _bounds(team_id, Grain.MONTH, month, following))
        if year_done:
            year = dt.date(month.year, 1, 1)
            _delete(session, team_id, Grain.YEAR, year, year, principles)
            session.execute(
                _YEAR_POSTGRESQL,
                _bounds(team_id, Grain.YEAR, year, dt.date(year.year + 1, 1, 1)),
            )
    else:
        _month_portable(session, team_id, month, following, dialect)
        if year_done:
            _sum_year(session, team_id, dt.date(month.year, 1, 1), principles)
    sum_coarser(session, team_id, month, last)
    # The triggers kept the histograms in step with every row written above; counted again
    # all the same, so that a rebuild mends them too (migration 0018).
    recount_histogram(session, team_id, Grain.MONTH, month)
    if month.month % 3 == 0 or month == last:
        recount_histogram(session, team_id, Grain.QUARTER, bucket_of(Grain.QUARTER, _at(month)))
    session.execute(
        table(TallyRebuild)
        .update()
        .where(TallyRebuild.team_id == team_id)
        .values(next_month=following)
    )


_WORK_MEM = "256MB"


def _principle_ids(session: Session, team_id: str) -> list[int]:
    return list(session.scalars(select(Principle.id).where(Principle.team_id == team_id)))


def _delete(
    session: Session,
    team_id: str,
    grain: Grain,
    bucket: dt.date,
    following: dt.date,
    principles: list[int],
) -> None:
    """Delete a month's (or a year's) person rows, and a month's per-principle day rows. Every
    key column before `bucket` is named (the roles, the principles), so the primary key seeks
    each (role, principle)'s bucket instead of reading the team's every row for each month."""
    session.execute(
        delete(KudosTally).where(
            KudosTally.team_id == team_id,
            KudosTally.role.in_(("r", "g")),
            KudosTally.grain == grain.value,
            KudosTally.principle_id.in_(principles),
            KudosTally.bucket == bucket,
        )
    )
    if grain == Grain.MONTH:
        session.execute(
            delete(KudosTally).where(
                KudosTally.team_id == team_id,
                KudosTally.role == "p",
                KudosTally.grain == Grain.DAY.value,
                KudosTally.principle_id.in_(principles),
                KudosTally.bucket >= bucket,
                KudosTally.bucket < following,
            )
        )


def _bounds(team_id: str, grain: Grain, bucket: dt.date, following: dt.date) -> dict[str, object]:
    return {
        "team": team_id,
        "grain": grain.value,
        "bucket": bucket,
        "start": _at(bucket),
        "end": _at(following),
    }


# PostgreSQL: every row of a month (or a year) in one pass over its kudos, GROUPING SETS
# giving each person's count per principle and for all principles, as receiver and as giver,
# and (for a month) each principle's per day. Not sorted first: at ten million kudos
# sorting a month's 500,000 rows into key order cost more than it saved the key's inserts
# (11.0 s against 7.9 to 9.2 s a month). GROUPING(x) is 0 when x is one of the row's grouping
# columns.
_SETS_COLUMNS = """
    CASE WHEN GROUPING(receiver_id) = 0 THEN 'r' WHEN GROUPING(giver_id) = 0 THEN 'g'
        ELSE 'p' END AS role,
    CASE WHEN GROUPING(principle_id) = 0 THEN principle_id ELSE 0 END AS principle_id,
    CASE WHEN GROUPING(receiver_id) = 0 THEN receiver_id
        WHEN GROUPING(giver_id) = 0 THEN giver_id ELSE '' END AS user_id,
    count(*) AS kudos"""
_SETS_FROM = """
    FROM kudos WHERE team_id = :team AND withdrawn_at IS NULL
        AND created_at >= :start AND created_at < :end"""
_SETS_INSERT = (
    "INSERT INTO kudos_tallies (team_id, role, grain, principle_id, bucket, user_id, kudos) "
    "SELECT :team, role, grain, principle_id, bucket, user_id, kudos FROM ({}) s"
)
_MONTH_POSTGRESQL = text(
    _SETS_INSERT.format(
        f"""SELECT {_SETS_COLUMNS},
            CASE WHEN GROUPING(day) = 0 THEN 'd' ELSE :grain END AS grain,
            CASE WHEN GROUPING(day) = 0 THEN day ELSE CAST(:bucket AS date) END AS bucket
        FROM (SELECT principle_id, receiver_id, giver_id,
                CAST(created_at AT TIME ZONE 'UTC' AS date) AS day {_SETS_FROM}) k
        GROUP BY GROUPING SETS ((principle_id, receiver_id), (receiver_id),
            (principle_id, giver_id), (giver_id), (principle_id, day))"""
    )
)
_YEAR_POSTGRESQL = text(
    _SETS_INSERT.format(
        f"""SELECT {_SETS_COLUMNS}, :grain AS grain, CAST(:bucket AS date) AS bucket
        {_SETS_FROM}
        GROUP BY GROUPING SETS ((principle_id, receiver_id), (receiver_id),
            (principle_id, giver_id), (giver_id))"""
    )
)


def _month_portable(
    session: Session, team_id: str, month: dt.date, following: dt.date, dialect: str
) -> None:
    """The month's rows as one GROUP BY per role and grouping (SQLite has no GROUPING SETS)."""
    tally = table(KudosTally)
    where = counted(team_id, (_at(month), _at(following)))
    parts = []
    for role, who in (("r", Kudos.receiver_id), ("g", Kudos.giver_id)):
        parts.append(
            select(literal(role), Kudos.principle_id, who, func.count())
            .where(*where)
            .group_by(Kudos.principle_id, who)
        )
        parts.append(
            select(literal(role), literal(ALL_PRINCIPLES), who, func.count())
            .where(*where)
            .group_by(who)
        )
    months = union_all(*parts).subquery()
    role_of, principle_of, user_of, kudos_of = (months.c[n] for n in range(4))
    session.execute(
        insert(tally).from_select(
            ["team_id", "role", "grain", "principle_id", "bucket", "user_id", "kudos"],
            select(
                literal(team_id),
                role_of,
                literal(Grain.MONTH.value),
                principle_of,
                literal(month, Date),
                user_of,
                kudos_of,
            ),
        )
    )
    day = _utc_day(dialect)
    session.execute(
        insert(tally).from_select(
            ["team_id", "role", "grain", "principle_id", "bucket", "user_id", "kudos"],
            select(
                literal(team_id),
                literal("p"),
                literal(Grain.DAY.value),
                Kudos.principle_id,
                day,
                literal(""),
                func.count(),
            )
            .where(*where)
            .group_by(Kudos.principle_id, day),
        )
    )


def _sum_year(session: Session, team_id: str, year: dt.date, principles: list[int]) -> None:
    """The year's rows, summed from its months (already rebuilt)."""
    following = dt.date(year.year + 1, 1, 1)
    _delete(session, team_id, Grain.YEAR, year, year, principles)
    total = func.sum(KudosTally.kudos)
    session.execute(
        insert(table(KudosTally)).from_select(
            ["team_id", "role", "grain", "principle_id", "bucket", "user_id", "kudos"],
            select(
                KudosTally.team_id,
                KudosTally.role,
                literal(Grain.YEAR.value),
                KudosTally.principle_id,
                literal(year, Date),
                KudosTally.user_id,
                total,
            )
            .where(
                KudosTally.team_id == team_id,
                KudosTally.grain == Grain.MONTH.value,
                KudosTally.bucket >= year,
                KudosTally.bucket < following,
            )
            .group_by(
                KudosTally.team_id, KudosTally.role, KudosTally.principle_id, KudosTally.user_id
            )
            .having(total != 0),
        )
    )
