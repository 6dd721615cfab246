"""`missionbot db rebuild-summaries`: the read model (bot/reports/summaries.py) counted again
from the kudos, one UTC month per transaction, resumable.

Each month's rows are counted in the database (no row passes through Python): on PostgreSQL
one pass over the month's kudos (GROUPING SETS), on SQLite one GROUP BY per role and
grouping. They are compared with the month's tallies in the same statement, and only the
rows that differ are written (an upsert; a row no kudos counts any more is set to 0): a
rebuild over tallies that are right reads them and writes next to nothing. Once a quarter's
last month is done its rows are summed from its months, a year's from its quarters, and
all time's from the years, compared and written the same way. The UTC weeks whose Monday
falls in the month are counted from their kudos (reaching a few days into the next month)
and written the same way. Each month's histogram of its person tallies (and its weeks' and
its quarter's, once summed) is then counted again from them; on
PostgreSQL the histogram's triggers do nothing meanwhile (the transaction's
`missionbot.rebuilding`, migration 0022). The next month to do is kept in `tally_rebuilds`
in the same transaction, so a rebuild stopped anywhere resumes at the first month not
committed (at a quarter's last month if its sums were not); a finished one removes the row.

`--jobs N` (PostgreSQL): a quarter's months are written N at once, each on a connection of
its own, and a quarter's sums on one more meanwhile with the next quarter's months: they read
only rows already committed. A month committed before the one ahead of it leaves the mark
where it was, so a rebuild stopped then counts it again (rightly: it writes only what
differs). SQLite writes one transaction at a time whatever is asked.

Kudos older than the undo window never change, so only the latest months race with live
kudos: on PostgreSQL their transaction first takes a SHARE lock on `kudos` (concurrent
kudos wait until it commits; reads go on). SQLite's write lock already serialises them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    TextualSelect,
    and_,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from bot.db.engine import Database
from bot.db.models import (
    Kudos,
    KudosTally,
    Principle,
    SettledCountGeneration,
    TallyRebuild,
    table,
)
from bot.reports.summaries import (
    ALL_PRINCIPLES,
    ALL_TIME,
    Grain,
    bucket_after,
    bucket_of,
    counted,
    recount_histogram,
    refill_latest,
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
    # From the month of the first kudos's week's Monday: a month does the weeks starting in it.
    firsts = [
        bucket_of(Grain.MONTH, _at(bucket_of(Grain.WEEK, first_kudos)))
        if first_kudos
        else this_month
    ]
    lasts = [bucket_of(Grain.MONTH, last_kudos) if last_kudos else this_month]
    if first_tally is not None:
        firsts.append(first_tally.replace(day=1))
        lasts.append(last_tally.replace(day=1))
    return min(firsts), max(lasts)


def rebuild_team(
    database: Database,
    team_id: str,
    now: dt.datetime,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Rebuilt:
    """Rebuild one team's tallies, resuming an interrupted rebuild. A quarter at a time: its
    months, each in its own transaction (on PostgreSQL up to `jobs` at once, on connections of
    their own), then its sums (the quarter's rows, the year's once a year is done, all time's
    at the end) in one more."""
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
        dialect = session.get_bind().dialect.name
    months = list(_months(start, last))
    total = len(list(_months(first, last)))
    done = total - len(months)
    # SQLite writes one transaction at a time: a second worker would only wait for the lock.
    workers = max(1, jobs) if dialect == "postgresql" else 1

    def rebuild(month: dt.date) -> None:
        with database.transaction() as session, _patient(session):
            _rebuild_month(session, team_id, month, last, now)

    def sum_quarter(month: dt.date) -> None:
        with database.transaction() as session, _patient(session):
            _sum_quarter(session, team_id, month, last, now)

    # With more than one job, a quarter's months are written at once and its sums (which read
    # only its months, and its year's quarters) meanwhile with the next quarter's months, in
    # quarter order on a thread of their own.
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="rebuild-month") as months_pool,
        ThreadPoolExecutor(1, thread_name_prefix="rebuild-sums") as sums_pool,
    ):
        summing: list[Future[None]] = []
        try:
            for quarter in _by_quarter(months):
                # In month order, so the bar moves as the months are written.
                for written in [months_pool.submit(rebuild, month) for month in quarter]:
                    written.result()
                    done += 1
                    if progress is not None:
                        progress(done, total)
                if workers == 1:
                    sum_quarter(quarter[-1])
                    continue
                # A quarter's sums that failed stop the rebuild now, not after every month.
                for summed in summing:
                    if summed.done():
                        summed.result()
                summing.append(sums_pool.submit(sum_quarter, quarter[-1]))
            for summed in summing:
                summed.result()
        finally:
            # Whatever stops the rebuild (an error, Ctrl-C) stops what has not begun.
            months_pool.shutdown(cancel_futures=True)
            sums_pool.shutdown(cancel_futures=True)
    with database.transaction() as session:
        session.execute(delete(TallyRebuild).where(TallyRebuild.team_id == team_id))
        # People counts kept of ended periods (bot/reports/settled.py) read the tallies
        # rewritten here: none is read back from now on.
        session.execute(
            update(SettledCountGeneration)
            .where(SettledCountGeneration.team_id == team_id)
            .values(generation=SettledCountGeneration.generation + 1)
        )
    return Rebuilt(team_id, len(months), resumed)


def _quarter(month: dt.date) -> dt.date:
    """The UTC quarter holding `month`, named by its first day."""
    return bucket_of(Grain.QUARTER, _at(month))


def _by_quarter(months: list[dt.date]) -> Iterator[list[dt.date]]:
    """`months` (consecutive) in runs of one UTC quarter each."""
    run: list[dt.date] = []
    for month in months:
        if run and _quarter(month) != _quarter(run[0]):
            yield run
            run = []
        run.append(month)
    if run:
        yield run


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


def _prepare(session: Session, month: dt.date, now: dt.datetime) -> None:
    """PostgreSQL's settings for a transaction of the rebuild that writes up to `month`'s
    kudos (its weeks reach into the month after)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if _at(_monday_from(_month_after(month))) > now - _SETTLED:
        session.execute(text("LOCK TABLE kudos IN SHARE MODE"))
    # The month's groups (a few hundred thousand at ten million kudos) and the tallies
    # they are compared with hashed in memory, not spilled to disk in the default 4 MB.
    session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    # Compared by hashing, never by sorting both sides (the planner's guess of a month's
    # tallies is a third of them, and sorting half a million text keys under the
    # database's collation took 6 s a side at ten million kudos). No JIT: its compiling
    # cost each statement ~0.1 s for nothing.
    session.execute(text("SET LOCAL enable_mergejoin = off"))
    session.execute(text("SET LOCAL jit = off"))
    # The histogram's triggers do nothing in this transaction (migration 0022): its
    # buckets are counted again below, once, from the tallies written.
    session.execute(text("SET LOCAL missionbot.rebuilding = 'on'"))


def _rows(session: Session, team_id: str) -> _Rows:
    return _Rows(session, team_id, [ALL_PRINCIPLES, *_principle_ids(session, team_id)])


def _rebuild_month(
    session: Session, team_id: str, month: dt.date, last: dt.date, now: dt.datetime
) -> None:
    """A month's rows (its person rows, its days' and the weeks whose Monday is in it) and
    their histograms. Its quarter's sums come after (`_sum_quarter`)."""
    following = _month_after(month)
    # The weeks whose Monday is in the month: their kudos run to the Monday after the last.
    weeks = (_monday_from(month), _monday_from(following))
    dialect = session.get_bind().dialect.name
    _prepare(session, month, now)
    rows = _rows(session, team_id)
    fresh = (
        _month_postgresql(team_id, month, following)
        if dialect == "postgresql"
        else _month_portable(team_id, month, following, dialect)
    )
    rows.replace(fresh, [rows.persons(Grain.MONTH, month), rows.days(month, following)])
    if weeks[0] < weeks[1]:
        rows.replace(_weeks(team_id, weeks, dialect), [rows.weeks(*weeks)])
    recount_histogram(session, team_id, Grain.MONTH, month)
    for week in range(0, (weeks[1] - weeks[0]).days, 7):
        recount_histogram(session, team_id, Grain.WEEK, weeks[0] + dt.timedelta(days=week))
    # The next month to do, unless it is the next quarter's: a quarter's sums are written
    # after all its months (they may be written in any order), so a rebuild stopped before
    # its sums resumes at its last month. A month written out of order leaves the mark
    # where it is: at worst a resumed rebuild counts again a month that was right.
    if _quarter(following) == _quarter(month) and month != last:
        _mark(session, team_id, following, after=month)


def _sum_quarter(
    session: Session, team_id: str, month: dt.date, last: dt.date, now: dt.datetime
) -> None:
    """Once `month` (the last of a quarter, or the last of all) and the months before it are
    written: the quarter's rows summed from its months, a year's from its quarters at
    December, all time's from the years at the end; the quarter's histogram."""
    _prepare(session, month, now)
    rows = _rows(session, team_id)
    quarter = _quarter(month)
    rows.replace_by_sums(Grain.MONTH, Grain.QUARTER, quarter)
    if month.month == 12 or month == last:
        rows.replace_by_sums(Grain.QUARTER, Grain.YEAR, dt.date(month.year, 1, 1))
    if month == last:
        rows.replace_by_sums(Grain.YEAR, Grain.ALL, ALL_TIME)
        # Each person's latest kudos (migration 0021), once the all-time tallies are done.
        refill_latest(session, team_id)
    recount_histogram(session, team_id, Grain.QUARTER, quarter)
    _mark(session, team_id, _month_after(month))


def _mark(
    session: Session, team_id: str, following: dt.date, *, after: dt.date | None = None
) -> None:
    """Resume at `following`: always, or (`after`) only if the mark is at that month."""
    condition = [TallyRebuild.team_id == team_id]
    if after is not None:
        condition.append(TallyRebuild.next_month == after)
    session.execute(table(TallyRebuild).update().where(*condition).values(next_month=following))


_WORK_MEM = "256MB"
_Query = Select[*tuple[Any, ...]]
_Range = list[ColumnElement[bool]]  # conditions on the tallies: a range of their key
# What a key range's tallies should be: a query of role, grain, principle_id, bucket, user_id
# and kudos.
_Fresh = _Query | TextualSelect
_KEY = ("role", "grain", "principle_id", "bucket", "user_id")
_TYPES: dict[str, TypeEngine[Any]] = {
    "role": String(1),
    "grain": String(1),
    "principle_id": Integer(),
    "bucket": Date(),
    "user_id": String(),
    "kudos": Integer(),
}


# SQLite: a month's (or a coarser bucket's) rows as counted, before they are compared.
_FRESH = sql_table(
    "rebuild_fresh", *(column(c, _TYPES[c]) for c in (*_KEY, "kudos")), schema="temp"
)
_FRESH_SQLITE = (
    "CREATE TEMP TABLE IF NOT EXISTS rebuild_fresh (role TEXT, grain TEXT, "
    "principle_id INTEGER, bucket DATE, user_id TEXT, kudos INTEGER, "
    "PRIMARY KEY (role, grain, principle_id, bucket, user_id)) WITHOUT ROWID"
)


def _principle_ids(session: Session, team_id: str) -> list[int]:
    return list(session.scalars(select(Principle.id).where(Principle.team_id == team_id)))


@dataclass(frozen=True, slots=True)
class _Rows:
    """A team's tallies, replaced a range of keys at a time by what they should be."""

    session: Session
    team_id: str
    principles: list[int]

    def persons(self, grain: Grain, bucket: dt.date) -> _Range:
        """The person rows of one bucket. Every key column before `bucket` is named (the
        roles, the principles), so the primary key seeks each (role, principle)'s bucket
        instead of reading the team's every row."""
        return self._range(
            KudosTally.role.in_(("r", "g")),
            KudosTally.grain == grain.value,
            KudosTally.bucket == bucket,
        )

    def weeks(self, first: dt.date, after: dt.date) -> _Range:
        """The person rows of the weeks starting on `first` and before `after`."""
        return self._range(
            KudosTally.role.in_(("r", "g")),
            KudosTally.grain == Grain.WEEK.value,
            KudosTally.bucket >= first,
            KudosTally.bucket < after,
        )

    def days(self, month: dt.date, following: dt.date) -> _Range:
        """The per-principle day rows of a month."""
        return self._range(
            KudosTally.role == "p",
            KudosTally.grain == Grain.DAY.value,
            KudosTally.bucket >= month,
            KudosTally.bucket < following,
        )

    def _range(self, *where: ColumnElement[bool]) -> _Range:
        return [
            KudosTally.team_id == self.team_id,
            KudosTally.principle_id.in_(self.principles),
            *where,
        ]

    def replace(self, fresh: _Fresh, ranges: list[_Range]) -> None:
        """Make the tallies in the key ranges `ranges` equal to `fresh` (rows of role, grain,
        principle_id, bucket, user_id, kudos, none of 0), writing the rows that differ and
        only those. A row `fresh` lacks is set to 0, as the write path leaves a count that
        falls to 0. Over tallies that are right (a rebuild's usual case) this writes nothing:
        at ten million kudos, deleting and inserting every month's half a million rows again
        was most of a rebuild (bench/RESULTS.md §44). Nothing else writes these ranges
        meanwhile: the latest months hold kudos back, the older no longer change."""
        if self.session.get_bind().dialect.name == "postgresql":
            self._replace_postgresql(fresh, ranges)
        else:
            self._replace_sqlite(fresh, ranges)

    def _replace_postgresql(self, fresh: _Fresh, ranges: list[_Range]) -> None:
        """One upsert of the rows that differ, found by a full join of `fresh` with the
        tallies (hashed in memory: `_WORK_MEM`); where the ranges hold no row yet (a
        rebuild over tallies that are not there: a restore without them, a seed), a plain
        insert of `fresh`."""
        stored = [KudosTally.__table__.c[c] for c in (*_KEY, "kudos")]
        new = fresh.cte("fresh")
        if not self.session.scalar(select(or_(*(exists().where(*where) for where in ranges)))):
            # An upsert's speculative insertion doubles the cost of each new row: 5.4 million
            # rows took 45 s by upsert and 26 s by insert (bench/RESULTS.md §60). Nothing
            # else writes these ranges meanwhile (`replace`); a writer that did would fail
            # this month's transaction on the key, and the rebuild resumes at the month.
            self.session.execute(
                insert(table(KudosTally)).from_select(
                    ["team_id", *_KEY, "kudos"],
                    select(literal(self.team_id, String()), *(new.c[c] for c in (*_KEY, "kudos"))),
                )
            )
            return
        old = union_all(*(select(*stored).where(*where) for where in ranges)).cte("stale")
        columns = [func.coalesce(new.c[c], old.c[c]).label(c) for c in _KEY]
        counts = (func.coalesce(new.c.kudos, 0), func.coalesce(old.c.kudos, 0))
        differing = (
            select(literal(self.team_id, String()), *columns, counts[0])
            .select_from(new.join(old, and_(*(new.c[c] == old.c[c] for c in _KEY)), full=True))
            .where(counts[0] != counts[1])
        )
        upsert = postgresql_insert(table(KudosTally)).from_select(
            ["team_id", *_KEY, "kudos"], differing
        )
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=["team_id", *_KEY], set_={"kudos": upsert.excluded.kudos}
            )
        )

    def _replace_sqlite(self, fresh: _Fresh, ranges: list[_Range]) -> None:
        """`fresh` into a temporary table keyed like the tallies (SQLite's full join of two
        unindexed subqueries compares every pair of rows), then an upsert that leaves equal
        rows alone and an update that sets the rows it lacks to 0."""
        self.session.execute(text(_FRESH_SQLITE))
        self.session.execute(text(f"DELETE FROM {_FRESH.name}"))
        self.session.execute(insert(_FRESH).from_select([*_KEY, "kudos"], fresh))
        upsert = sqlite_insert(table(KudosTally)).from_select(
            ["team_id", *_KEY, "kudos"],
            select(literal(self.team_id, String()), *_FRESH.c).where(true()),
        )
        self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=["team_id", *_KEY],
                set_={"kudos": upsert.excluded.kudos},
                where=KudosTally.kudos != upsert.excluded.kudos,
            )
        )
        counted = exists().where(*(_FRESH.c[c] == KudosTally.__table__.c[c] for c in _KEY))
        for where in ranges:
            self.session.execute(
                update(KudosTally).where(*where, KudosTally.kudos != 0, ~counted).values(kudos=0)
            )

    def replace_by_sums(self, finer: Grain, grain: Grain, bucket: dt.date) -> None:
        """Replace the person rows of `grain`'s `bucket` by the sums of `finer`'s buckets in
        it (already rebuilt): a quarter from its months, a year from its quarters, all time
        from the years. Fewer rows to read than the bucket's kudos."""
        total = func.sum(KudosTally.kudos)
        sums = (
            select(
                KudosTally.role,
                literal(grain.value, String(1)).label("grain"),
                KudosTally.principle_id,
                literal(bucket, Date).label("bucket"),
                KudosTally.user_id,
                total.label("kudos"),
            )
            .where(
                KudosTally.team_id == self.team_id,
                KudosTally.role.in_(("r", "g")),
                KudosTally.grain == finer.value,
                KudosTally.principle_id.in_(self.principles),
                KudosTally.bucket >= bucket,
                KudosTally.bucket < bucket_after(grain, bucket),
            )
            .group_by(KudosTally.role, KudosTally.principle_id, KudosTally.user_id)
            .having(total != 0)
        )
        self.replace(sums, [self.persons(grain, bucket)])


def _bounds(team_id: str, month: dt.date, following: dt.date) -> dict[str, object]:
    return {
        "team": team_id,
        "grain": Grain.MONTH.value,
        "bucket": month,
        "start": _at(month),
        "end": _at(following),
    }


# PostgreSQL: every row of a month in one pass over its kudos, GROUPING SETS giving each
# person's count per principle and for all principles, as receiver and as giver, and each
# principle's per day. GROUPING(x) is 0 when x is one of the row's grouping columns.
_MONTH_POSTGRESQL = """
    SELECT
        CASE WHEN GROUPING(receiver_id) = 0 THEN 'r' WHEN GROUPING(giver_id) = 0 THEN 'g'
            ELSE 'p' END AS role,
        CASE WHEN GROUPING(day) = 0 THEN 'd' ELSE :grain END AS grain,
        CASE WHEN GROUPING(principle_id) = 0 THEN principle_id ELSE 0 END AS principle_id,
        CASE WHEN GROUPING(day) = 0 THEN day ELSE CAST(:bucket AS date) END AS bucket,
        CASE WHEN GROUPING(receiver_id) = 0 THEN receiver_id
            WHEN GROUPING(giver_id) = 0 THEN giver_id ELSE '' END AS user_id,
        CAST(count(*) AS integer) AS kudos
    FROM (SELECT principle_id, receiver_id, giver_id,
            CAST(created_at AT TIME ZONE 'UTC' AS date) AS day
        FROM kudos WHERE team_id = :team AND withdrawn_at IS NULL
            AND created_at >= :start AND created_at < :end) k
    GROUP BY GROUPING SETS ((principle_id, receiver_id), (receiver_id),
        (principle_id, giver_id), (giver_id), (principle_id, day))"""


def _month_postgresql(team_id: str, month: dt.date, following: dt.date) -> _Fresh:
    return (
        text(_MONTH_POSTGRESQL).bindparams(**_bounds(team_id, month, following)).columns(**_TYPES)
    )


# PostgreSQL: the weeks' person rows in one pass over their kudos, as `_MONTH_POSTGRESQL`.
_WEEKS_POSTGRESQL = """
    SELECT
        CASE WHEN GROUPING(receiver_id) = 0 THEN 'r' ELSE 'g' END AS role,
        'w' AS grain,
        CASE WHEN GROUPING(principle_id) = 0 THEN principle_id ELSE 0 END AS principle_id,
        bucket,
        CASE WHEN GROUPING(receiver_id) = 0 THEN receiver_id ELSE giver_id END AS user_id,
        CAST(count(*) AS integer) AS kudos
    FROM (SELECT principle_id, receiver_id, giver_id,
            CAST(date_trunc('week', created_at AT TIME ZONE 'UTC') AS date) AS bucket
        FROM kudos WHERE team_id = :team AND withdrawn_at IS NULL
            AND created_at >= :start AND created_at < :end) k
    GROUP BY GROUPING SETS ((bucket, principle_id, receiver_id), (bucket, receiver_id),
        (bucket, principle_id, giver_id), (bucket, giver_id))"""


def _monday_from(day: dt.date) -> dt.date:
    """The first Monday on or after `day`."""
    return day + dt.timedelta(days=-day.weekday() % 7)


def _weeks(team_id: str, weeks: tuple[dt.date, dt.date], dialect: str) -> _Fresh:
    """The person rows of the weeks from `weeks[0]` to before `weeks[1]` (Mondays), counted
    from their kudos: per role, per principle and for all of them."""
    if dialect == "postgresql":
        bounds = {"team": team_id, "start": _at(weeks[0]), "end": _at(weeks[1])}
        return text(_WEEKS_POSTGRESQL).bindparams(**bounds).columns(**_TYPES)
    where = counted(team_id, (_at(weeks[0]), _at(weeks[1])))
    # UTC text, 'YYYY-MM-DD HH:MM:SS…': six days back, then on to the next Monday.
    week = func.date(func.substr(Kudos.created_at, 1, 10), "-6 days", "weekday 1", type_=Date)
    grain = literal(Grain.WEEK.value, String(1))
    parts = []
    for role, who in (("r", Kudos.receiver_id), ("g", Kudos.giver_id)):
        for principle in (Kudos.principle_id, literal(ALL_PRINCIPLES)):
            keys = [week, who] + ([Kudos.principle_id] if principle is Kudos.principle_id else [])
            parts.append(
                select(literal(role), grain, principle, week, who, func.count())
                .where(*where)
                .group_by(*keys)
            )
    rows = union_all(*parts).subquery()
    return select(*(rows.c[n].label(name) for n, name in enumerate((*_KEY, "kudos"))))


def _month_portable(team_id: str, month: dt.date, following: dt.date, dialect: str) -> _Fresh:
    """The month's rows as one GROUP BY per role and grouping (SQLite has no GROUPING SETS)."""
    where = counted(team_id, (_at(month), _at(following)))
    person = (literal(Grain.MONTH.value, String(1)), literal(month, Date))
    parts = []
    for role, who in (("r", Kudos.receiver_id), ("g", Kudos.giver_id)):
        parts.append(
            select(literal(role), person[0], Kudos.principle_id, person[1], who, func.count())
            .where(*where)
            .group_by(Kudos.principle_id, who)
        )
        parts.append(
            select(literal(role), person[0], literal(ALL_PRINCIPLES), person[1], who, func.count())
            .where(*where)
            .group_by(who)
        )
    day = _utc_day(dialect)
    parts.append(
        select(
            literal("p"),
            literal(Grain.DAY.value),
            Kudos.principle_id,
            day,
            literal(""),
            func.count(),
        )
        .where(*where)
        .group_by(Kudos.principle_id, day)
    )
    months = union_all(*parts).subquery()
    return select(*(months.c[n].label(name) for n, name in enumerate((*_KEY, "kudos"))))
