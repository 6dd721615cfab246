"""The read model: standing kudos counted per UTC bucket (`kudos_tallies`), kept current in the
same transaction as every kudos and withdrawal, and the counts the reports read from it.

Why buckets and not running totals: a report covers a *local* calendar period, and a local
month in Kolkata starts at 18:30 UTC. So a period `[start, end)` is covered (`cover`) by UTC
buckets — years, months, days — read from the tallies, and raw ranges read from the kudos
through their covering indexes, each with a sign: a bucket may overhang the period, its
overhang then taken away (New York's year is the UTC year, less its first five hours, plus
the next year's first five). Of the ways to cover a period the cheapest is taken (raw
seconds, a bucket costing about as much as a few days of raw kudos). The signed sum is exact
for any period in any timezone; tests/test_summaries.py compares it with the raw-kudos query
over random zones, periods, ranges, principles and withdrawals.

What is tallied, per kudos (one row per receiver):
* received by the receiver and given by the giver, per UTC month, quarter and year and for
  all time, for its principle and for every principle together (`ALL_PRINCIPLES`): the
  leaderboards and participation (a local month, quarter or year is one bucket of its own
  grain and a few raw hours, joined with the few people of those hours);
* per principle and UTC day, without a person: `/kudos principles` and the weekly trends.

And, kept from those by triggers on the tallies (migration 0018), not by this module: per
UTC month and quarter, role and principle (and any), how many people have each count
(`kudos_tally_histogram`): the distinct givers and receivers and the top 5's kudos of a
local month or quarter (health, the principles page) are its few hundred rows, corrected
for the people of the raw edges, not the bucket's hundreds of thousands of tallies.

Writes are `INSERT … ON CONFLICT DO UPDATE SET kudos = kudos + n`, one statement per kudos
on PostgreSQL (rows in key order, so two transactions lock shared rows in the same order and cannot
deadlock); a withdrawal adds -1 to the buckets of the kudos's own `created_at`. Rows that
fall to 0 stay and are skipped by `HAVING`.

Per-person reports (`/kudos me`, a leaderboard's per-principle split) read the raw kudos by
person through their indexes: a person's history is small whatever the workspace's size.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CTE

from bot.db.engine import quick_reads
from bot.db.models import (
    Kudos,
    KudosLatest,
    KudosTally,
    KudosTallyHistogram,
    KudosUnlisted,
    Person,
    Principle,
)
from bot.reports import settled

Range = tuple[dt.datetime | None, dt.datetime | None]
ALL_PRINCIPLES = 0


class Role(StrEnum):
    RECEIVERS = "receivers"
    GIVERS = "givers"


class Grain(StrEnum):
    DAY = "d"
    # UTC weeks, Monday to Sunday (migration 0024): a local week is one bucket and a few hours.
    WEEK = "w"
    MONTH = "m"
    QUARTER = "q"
    YEAR = "y"
    # Everything, one bucket (named by ALL_TIME): `all` reads one row per person.
    ALL = "a"


ALL_TIME = dt.date(1970, 1, 1)
_END_OF_TIME = dt.date(9999, 1, 1)
# The grains of the per-person tallies, coarsest first: a local week, month, quarter or year is
# one bucket of its own grain less and plus a few raw hours, and all time one bucket. Weeks
# come last: they don't nest in months, so they only ever cover what is left of a period
# once the coarser grains are placed (a week's bucket costs more than a month's few hours).
PERSON_GRAINS = (Grain.ALL, Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK)
# The grains a person's count (the leaderboards) and the lists of people (participation) are
# read from: not the week's. At 10M kudos a local week's leaderboard read from its UTC week
# rows and edge hours took 21 ms, from its ~9,000 raw kudos 5 ms (bench/RESULTS.md §56);
# participation, the Home and the digest were level either way. Promise health and the
# histogram keep the weeks (PERSON_GRAINS).
COUNT_GRAINS = (Grain.ALL, Grain.YEAR, Grain.QUARTER, Grain.MONTH)


# The `role` column: one letter, as it leads every key of the table.
_RECEIVED, _GIVEN, _PRINCIPLE = "r", "g", "p"
_ROLE_CODE = {Role.RECEIVERS: _RECEIVED, Role.GIVERS: _GIVEN}
# For readers of `kudos_latest` elsewhere (bot/insights/numbers.py).
ROLE_CODES: Mapping[Role, str] = _ROLE_CODE


def counted(team_id: str, bounds: Range) -> list[ColumnElement[bool]]:
    """The raw kudos that count in a report: the team's, not withdrawn, inside `[start, end)`."""
    start, end = bounds
    conditions: list[ColumnElement[bool]] = [Kudos.team_id == team_id, Kudos.withdrawn_at.is_(None)]
    if start is not None:
        conditions.append(Kudos.created_at >= start)
    if end is not None:
        conditions.append(Kudos.created_at < end)
    return conditions


# -- buckets ---------------------------------------------------------------------------------


def bucket_of(grain: Grain, instant: dt.datetime) -> dt.date:
    """The UTC bucket of `grain` holding `instant`, named by its first day."""
    day = instant.astimezone(dt.UTC).date()
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    if grain == Grain.QUARTER:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if grain == Grain.ALL:
        return ALL_TIME
    return dt.date(day.year, 1, 1)


def bucket_after(grain: Grain, bucket: dt.date) -> dt.date:
    """The first day after `grain`'s `bucket` (all time: a day after every kudos)."""
    if grain == Grain.DAY:
        return bucket + dt.timedelta(days=1)
    if grain == Grain.WEEK:
        return bucket + dt.timedelta(days=7)
    if grain in (Grain.MONTH, Grain.QUARTER):
        months = bucket.year * 12 + bucket.month - 1 + (1 if grain == Grain.MONTH else 3)
        return dt.date(months // 12, months % 12 + 1, 1)
    if grain == Grain.ALL:
        return _END_OF_TIME
    return dt.date(bucket.year + 1, 1, 1)


def _instant(bucket: dt.date) -> dt.datetime:
    return dt.datetime.combine(bucket, dt.time(0), tzinfo=dt.UTC)


# Buckets [first, last) of one grain (None: unbounded), counted with a sign: +1 added, -1
# taken away (a bucket that overhangs the period, less its overhang read raw).
Span = tuple[Grain, dt.date | None, dt.date | None, int]
Raw = tuple[dt.datetime | None, dt.datetime | None, int]  # a raw range and its sign

# What the cover minimises: seconds of raw kudos read, a bucket costing as much as this many
# seconds. A person's bucket holds about one row per person who was active in it, so a bucket
# costs about as much as the raw kudos of a few days in a workspace of any size (1M kudos over
# 5,000 people and two years: 88 hours; 10M over 50,000 and three years: 131 hours).
PERSON_BUCKET_S = 4 * 86_400
# A principle's day bucket is one row per principle: about as many as the raw kudos of minutes.
PRINCIPLE_BUCKET_S = 300
# What an open-ended span is guessed to hold: a few years of history.
UNBOUNDED_BUCKETS = {
    Grain.ALL: 1,
    Grain.YEAR: 4,
    Grain.QUARTER: 16,
    Grain.MONTH: 48,
    Grain.WEEK: 209,
    Grain.DAY: 1461,
}


@dataclass(frozen=True, slots=True)
class Cover:
    """A period as buckets read from the tallies plus raw ranges read from the kudos, each
    added or taken away: summed with their signs they count exactly the period's kudos."""

    spans: tuple[Span, ...]
    raw: tuple[Raw, ...]

    def cost(self, bucket_s: float, until: dt.datetime | None = None) -> float:
        """Seconds of raw kudos read, a bucket counting `bucket_s`. `until`: no kudos is
        later, so raw hours after it read nothing (this week, seen on its Monday, is a few
        raw hours, not its UTC week's bucket less the hours before the local Monday)."""
        seconds = 0.0
        for start, end, _sign in self.raw:
            if until is not None:
                end = until if end is None else min(end, until)
                if start is not None and start >= end:
                    continue
            seconds += (end - start).total_seconds() if start and end else float("inf")
        return seconds + bucket_s * sum(_buckets(span) for span in self.spans)

    def signed(self, sign: int) -> Cover:
        return Cover(
            tuple((g, f, la, s * sign) for g, f, la, s in self.spans),
            tuple((a, b, s * sign) for a, b, s in self.raw),
        )


def _buckets(span: Span) -> int:
    grain, first, last, _sign = span
    if first is None or last is None:
        return UNBOUNDED_BUCKETS[grain]
    if grain == Grain.DAY:
        return (last - first).days
    if grain == Grain.WEEK:
        return (last - first).days // 7
    if grain in (Grain.MONTH, Grain.QUARTER):
        months = (last.year - first.year) * 12 + last.month - first.month
        return months if grain == Grain.MONTH else months // 3
    if grain == Grain.ALL:
        return 1
    return last.year - first.year


def _unique(plan: Cover) -> bool:
    """Whether the plan is one piece, added, whose rows are one per key: a raw range (grouped)
    or a single bucket."""
    pieces = [*plan.spans, *plan.raw]
    if len(pieces) != 1 or pieces[0][-1] != 1:
        return False
    return not plan.spans or (
        plan.spans[0][1] is not None
        and plan.spans[0][2] is not None
        and _buckets(plan.spans[0]) == 1
    )


def _boundaries(grain: Grain, instant: dt.datetime | None) -> list[dt.date | None]:
    """The bucket boundaries of `grain` at or around `instant`: the one at or before it and,
    when it falls inside a bucket, the one after it."""
    if instant is None:
        return [None]
    floor = bucket_of(grain, instant)
    if _instant(floor) == instant:
        return [floor]
    return [floor, bucket_after(grain, floor)]


# The most of a period outside its UTC quarter that is still answered as that quarter's bucket
# and raw kudos for those hours (a local month or quarter reaches a few hours into the next or
# the previous UTC quarter): the pair tallies' candidates for the weighted board and health.
OUTSIDE_THE_QUARTER = dt.timedelta(days=2)


def one_quarter(
    bounds: Range, most: dt.timedelta = OUTSIDE_THE_QUARTER
) -> tuple[dt.date, tuple[Range, ...]] | None:
    """The UTC quarter bucket holding most of `[start, end)` and the rest of the period outside
    it (none, or a few hours before or after it: a local month or quarter), when that rest
    lasts at most `most`; None otherwise (a longer period, an open end)."""
    start, end = bounds
    if start is None or end is None or start >= end:
        return None
    best: tuple[dt.date, tuple[Range, ...]] | None = None
    shortest = most
    for bucket in dict.fromkeys(
        (bucket_of(Grain.QUARTER, start), bucket_of(Grain.QUARTER, end - dt.timedelta(seconds=1)))
    ):
        first, last = _instant(bucket), _instant(bucket_after(Grain.QUARTER, bucket))
        rest = tuple(
            (a, b) for a, b in ((start, min(end, first)), (max(start, last), end)) if a < b
        )
        length = sum((b - a for a, b in rest), dt.timedelta())
        if length <= shortest:
            best, shortest = (bucket, rest), length
    return best


def _raw(bounds: Range) -> Cover:
    return Cover((), ((bounds[0], bounds[1], 1),))


# Remembered: a plan depends on its arguments alone (a Cover is immutable), and working one
# out tries every mix of boundaries, recursively: the managers' Home asked for 27 plans, 1,900
# calls, a tenth of its Python time.
@functools.lru_cache(maxsize=4096)
def cover(
    bounds: Range,
    grains: tuple[Grain, ...],
    bucket_s: float = PERSON_BUCKET_S,
    until: dt.datetime | None = None,
) -> Cover:
    """`[start, end)` as the cheapest mix (`Cover.cost`, a bucket costing `bucket_s` seconds
    of raw kudos, none after `until`) of whole buckets and raw ranges: every mix counts the
    period exactly, `until` only chooses among them. A
    bucket may overhang the period, its overhang then taken away (a local month in New York
    is the UTC month less the 5 hours before it, plus the 5 hours after it), and what is left
    at either end is covered by the finer grains, then by raw ranges."""
    start, end = bounds
    if start is not None and end is not None and start >= end:
        return Cover((), ())
    if not grains:
        return _raw(bounds)
    grain, finer = grains[0], grains[1:]
    best = cover(bounds, finer, bucket_s, until)
    best_cost = best.cost(bucket_s, until)
    # All time's one bucket reaches as far as an open end.
    firsts = [ALL_TIME] if grain == Grain.ALL and start is None else _boundaries(grain, start)
    lasts = [_END_OF_TIME] if grain == Grain.ALL and end is None else _boundaries(grain, end)
    for first in firsts:
        for last in lasts:
            if first is not None and last is not None and first >= last:
                continue
            spans: list[Span] = [(grain, first, last, 1)]
            raw: list[Raw] = []
            edges: list[tuple[Range, int]] = []
            if start is not None and first is not None and _instant(first) != start:
                lower = min(start, _instant(first)), max(start, _instant(first))
                edges.append((lower, -1 if _instant(first) < start else 1))
            if end is not None and last is not None and _instant(last) != end:
                upper = min(end, _instant(last)), max(end, _instant(last))
                edges.append((upper, 1 if _instant(last) < end else -1))
            for edge, sign in edges:
                inner = cover(edge, finer, bucket_s, until).signed(sign)
                spans.extend(inner.spans)
                raw.extend(inner.raw)
            candidate = Cover(tuple(spans), tuple(raw))
            if (cost := candidate.cost(bucket_s, until)) < best_cost:
                best, best_cost = candidate, cost
    return best


# -- the write side --------------------------------------------------------------------------

Counted = tuple[str, str, int, dt.datetime]  # giver, receiver, principle, created_at


def count_given(
    session: Session,
    team_id: str,
    giver_id: str,
    receiver_ids: Iterable[str],
    principle_id: int,
    created_at: dt.datetime,
) -> None:
    """Add a kudos just inserted (one row per receiver) to the tallies."""
    _apply(session, team_id, [(giver_id, r, principle_id, created_at) for r in receiver_ids], 1)


def count_withdrawn(session: Session, team_id: str, rows: Iterable[Kudos]) -> None:
    """Take withdrawn kudos rows out of the tallies of the buckets they were counted in."""
    kudos = [(r.giver_id, r.receiver_id, r.principle_id, r.created_at) for r in rows]
    _apply(session, team_id, kudos, -1)


def _deltas(kudos: Iterable[Counted], sign: int) -> Counter[tuple[str, str, int, dt.date, str]]:
    deltas: Counter[tuple[str, str, int, dt.date, str]] = Counter()
    for giver, receiver, principle_id, created_at in kudos:
        day = bucket_of(Grain.DAY, created_at)
        buckets = [(grain.value, bucket_of(grain, created_at)) for grain in PERSON_GRAINS]
        for principle in (principle_id, ALL_PRINCIPLES):
            for grain, bucket in buckets:
                deltas[_RECEIVED, grain, principle, bucket, receiver] += sign
                deltas[_GIVEN, grain, principle, bucket, giver] += sign
        deltas[_PRINCIPLE, Grain.DAY.value, principle_id, day, ""] += sign
    return deltas


def _apply(session: Session, team_id: str, kudos: Iterable[Counted], sign: int) -> None:
    kudos = list(kudos)
    deltas = sorted(_deltas(kudos, sign).items())
    if not deltas:
        return
    connection = session.connection()
    # The session's own DBAPI connection (so: its transaction), without SQLAlchemy's
    # execution machinery, which cost a kudos more CPU than building these rows.
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            # 0018's lock of each team and UTC quarter the tallies touch, before any row: the
            # histogram's triggers take it after the statement, and 0023's channel trigger
            # takes it when a kudos row is written. A kudos given writes its rows (the lock)
            # then its tallies; a withdrawal its tallies then its rows: without the lock first
            # here, a withdrawal holding a tally that a kudos given (holding the lock) needed
            # next deadlocked against it (tests/test_kudos_latest.py's three threads). Then
            # the lock of each UTC week (0024's): two kudos of one week in two quarters share
            # its histogram rows but no quarter lock.
            quarters = sorted({bucket_of(Grain.QUARTER, k[3]).isoformat() for k in kudos})
            weeks = sorted({bucket_of(Grain.WEEK, k[3]).isoformat() for k in kudos})
            cursor.execute(_HISTOGRAM_LOCKS_POSTGRESQL, (team_id, quarters, team_id, weeks))
            # One statement whatever the row count: each column as one string, split into an
            # array by the server and the arrays unnested in order. Strings, because psycopg's
            # adaptation of six lists cost 85 µs of the bot's CPU per kudos (a third of the
            # summaries' cost on the write path); a string costs next to nothing.
            columns = [
                _SEPARATOR.join(map(str, column))
                for column in zip(*(key for key, _n in deltas), strict=True)
            ]
            counts = _SEPARATOR.join(str(n) for _key, n in deltas)
            cursor.execute(_UPSERT_POSTGRESQL, (team_id, *columns, counts))
        else:
            cursor.executemany(
                _UPSERT_SQLITE,
                [
                    (team_id, role, grain, principle, bucket.isoformat(), user, n)
                    for (role, grain, principle, bucket, user), n in deltas
                ],
            )
    finally:
        cursor.close()


# `INSERT … ON CONFLICT (key) DO UPDATE SET kudos = kudos + excluded.kudos`: the row lock
# (PostgreSQL) or the write lock (SQLite) makes each increment atomic, so two kudos
# committing at once both count. Driver SQL, in the driver's parameter style.
_COLUMNS = "team_id, role, grain, principle_id, bucket, user_id, kudos"
_CONFLICT = (
    "ON CONFLICT (team_id, role, grain, principle_id, bucket, user_id) "
    "DO UPDATE SET kudos = kudos_tallies.kudos + excluded.kudos"
)
# Between a column's values: no user ID, date or number holds it.
_SEPARATOR = "\x1f"
_SPLIT = "string_to_array(%s, chr(31))"
_UPSERT_POSTGRESQL = (
    f"INSERT INTO kudos_tallies ({_COLUMNS}) SELECT %s, * FROM unnest("
    f"{_SPLIT}, {_SPLIT}, {_SPLIT}::integer[], {_SPLIT}::date[], {_SPLIT}, {_SPLIT}::integer[]) "
    + _CONFLICT
)
_UPSERT_SQLITE = f"INSERT INTO kudos_tallies ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) " + _CONFLICT


# -- the read side ---------------------------------------------------------------------------


def _small(count: ColumnElement[Any]) -> ColumnElement[int]:
    """A count as a 4-byte integer: PostgreSQL's count() is a bigint, whose sum() is a
    numeric, several times slower to add up than integers (a year's 50,000 people)."""
    return cast(count, Integer)


def bucket_conditions(bucket: Any, span: Span) -> list[ColumnElement[bool]]:
    """`span`'s buckets as conditions on the column `bucket` (the person tallies' or the
    channel tallies')."""
    _grain, first, last, _sign = span
    if first is not None and last is not None and _buckets(span) == 1:
        # One bucket: an equality, so that a person's row is one seek of the key (SQLite
        # can't seek the user after a range on the bucket).
        return [bucket == first]
    conditions: list[ColumnElement[bool]] = []
    if first is not None:
        conditions.append(bucket >= first)
    if last is not None:
        conditions.append(bucket < last)
    return conditions


def _span_conditions(span: Span) -> list[ColumnElement[bool]]:
    return [KudosTally.grain == span[0].value, *bucket_conditions(KudosTally.bucket, span)]


def person_counts(
    team_id: str,
    role: Role,
    bounds: Range,
    principle_id: int | None = None,
    users: Select[Any] | None = None,
    until: dt.datetime | None = None,
) -> Subquery:
    """A subquery of (user_id, n): the standing kudos each person received (or gave) in the
    period, for one principle or all, people with none left out. Whole UTC years and months
    from the tallies, the edges from the raw kudos. `users` (a select of user IDs): only
    those people, each a seek of the tallies' key, not the bucket's every row. `until`: no
    kudos is later (`cover`)."""
    parts: list[Any] = []
    plan = cover(bounds, COUNT_GRAINS, until=until)
    code = _ROLE_CODE[role]
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    among = [] if users is None else [KudosTally.user_id.in_(users)]
    for span in plan.spans:
        parts.append(
            select(
                KudosTally.user_id.label("user_id"), (KudosTally.kudos * span[3]).label("n")
            ).where(
                KudosTally.team_id == team_id,
                KudosTally.role == code,
                KudosTally.principle_id == (principle_id or ALL_PRINCIPLES),
                *_span_conditions(span),
                *among,
            )
        )
    for first, last, sign in plan.raw:
        conditions = counted(team_id, (first, last))
        if principle_id is not None:
            conditions.append(Kudos.principle_id == principle_id)
        if users is not None:
            conditions.append(who.in_(users))
        parts.append(
            select(who.label("user_id"), (_small(func.count()) * sign).label("n"))
            .where(*conditions)
            .group_by(who)
        )
    return combined_counts(plan, parts)


def combined_counts(plan: Cover, parts: list[Any], key: tuple[str, ...] = ("user_id",)) -> Subquery:
    """The plan's pieces, each a select of (*key, n) with n signed, as one subquery of
    (*key, n): each key's sum, keys with none left out. `key`: a person, or a principle and
    a person (a channel's pieces are combined so too, bot/reports/channels.py)."""
    if not parts:  # an empty period
        parts = [select(*(literal("").label(k) for k in key), literal(0).label("n")).where(false())]
    if _unique(plan):
        # One piece whose rows are one per key already: no second aggregate.
        single = parts[0].subquery()
        return select(*(single.c[k] for k in key), single.c.n).where(single.c.n > 0).subquery()
    if (main := _main_bucket(plan)) is not None:
        return _bucket_with_edges(parts[main], parts[:main] + parts[main + 1 :], key)
    rows = union_all(*parts).subquery()
    total = _small(func.sum(rows.c.n))
    return (
        select(*(rows.c[k] for k in key), total.label("n"))
        .group_by(*(rows.c[k] for k in key))
        .having(total > 0)
        .subquery()
    )


def _main_bucket(plan: Cover) -> int | None:
    """The index of the plan's one-bucket span, added, when there are other pieces too (raw
    edges, or buckets of an open end): a local month or year, the last 60 days. None if none."""
    if len(plan.spans) + len(plan.raw) < 2:
        return None
    for index, span in enumerate(plan.spans):
        if span[-1] == 1 and _unique(Cover((span,), ())):
            return index
    return None


def _bucket_with_edges(bucket: Any, edges: Sequence[Any], key: Sequence[str]) -> Subquery:
    """A bucket's rows (one per `key`) with the raw edges' counts added: the bucket joined
    with the few people of the edges, instead of grouping all the bucket's rows again (a
    year's 50,000 people, to add or take away the kudos of five hours)."""
    inside = bucket.subquery()
    edge_rows = union_all(*edges).subquery()
    edge = (
        select(*(edge_rows.c[k] for k in key), _small(func.sum(edge_rows.c.n)).label("n"))
        .group_by(*(edge_rows.c[k] for k in key))
        .cte()
    )
    same = and_(*(inside.c[k] == edge.c[k] for k in key))
    n = inside.c.n + func.coalesce(edge.c.n, 0)
    joined = select(*(inside.c[k] for k in key), n.label("n")).select_from(
        inside.outerjoin(edge, same)
    )
    # People only in the edges (their first kudos of the bucket's period fell in them): an
    # outer join, which both databases answer with a hash or an index on the bucket's rows
    # (SQLite ran a NOT EXISTS as a scan of the bucket per edge person).
    alone = (
        select(*(edge.c[k] for k in key), edge.c.n)
        .select_from(edge.outerjoin(inside, same))
        .where(inside.c.n.is_(None))
    )
    rows = union_all(joined, alone).subquery()
    return select(rows).where(rows.c.n > 0).subquery()


def _parts_by_principle(
    team_id: str, role: Role, plan: Cover, principle_ids: Sequence[int]
) -> list[Any]:
    """The pieces of `plan` as selects of (principle_id, user_id, n), n signed: tally rows of
    the principles `principle_ids` and raw kudos grouped per principle and person. With
    `[ALL_PRINCIPLES]`, everyone's counts over every principle, labelled 0."""
    everyone = list(principle_ids) == [ALL_PRINCIPLES]
    parts: list[Any] = []
    for span in plan.spans:
        parts.append(
            select(
                KudosTally.principle_id.label("principle_id"),
                KudosTally.user_id.label("user_id"),
                (KudosTally.kudos * span[3]).label("n"),
            ).where(
                KudosTally.team_id == team_id,
                KudosTally.role == _ROLE_CODE[role],
                KudosTally.principle_id.in_(list(principle_ids)),
                *_span_conditions(span),
            )
        )
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    principle: Any = literal(ALL_PRINCIPLES) if everyone else Kudos.principle_id
    for first, last, sign in plan.raw:
        parts.append(
            select(
                principle.label("principle_id"),
                who.label("user_id"),
                (_small(func.count()) * sign).label("n"),
            )
            .where(*counted(team_id, (first, last)))
            .group_by(*([] if everyone else [Kudos.principle_id]), who)
        )
    return parts


def _people_histogram(
    team_id: str,
    role: Role,
    bounds: Range,
    principle_ids: Sequence[int],
    until: dt.datetime | None = None,
) -> list[Select[Any]] | None:
    """Selects of rows (principle_id, n, people), whose sums per (principle_id, n) are how many
    people received (or gave) n kudos of the principle in the period (`[ALL_PRINCIPLES]`: any),
    for a period that is one tally bucket and a few other pieces (a local month or quarter:
    its UTC bucket and raw hours); None for any other period.

    Without grouping the bucket's rows per person again: the bucket's own histogram (a
    month's or a quarter's read from `kudos_tally_histogram`, a few hundred rows, where
    counting the rows above 0 per principle and count read a quarter's 400,000 a role at
    ten million kudos; a year's still counted so), corrected for the people the other
    pieces touch: each of them taken out at their bucket count and put back at their count
    with the pieces added, as `people_count` corrects a count. A bucket's row never falls
    below 0 (a withdrawal takes from the kudos's own bucket), so its rows above 0 are its
    people."""
    plan = cover(bounds, PERSON_GRAINS, until=until)
    main = 0 if plan.spans and _unique(plan) else _main_bucket(plan)
    if main is None:
        return None
    parts = _parts_by_principle(team_id, role, plan, principle_ids)
    inside = parts[main].subquery()
    grain, bucket, _last, _sign = plan.spans[main]
    pieces: list[Any]
    if grain in HISTOGRAM_GRAINS:
        pieces = [
            select(
                KudosTallyHistogram.principle_id.label("principle_id"),
                KudosTallyHistogram.kudos.label("n"),
                KudosTallyHistogram.people.label("people"),
            ).where(
                *_histogram_key(team_id, role, grain, bucket),
                KudosTallyHistogram.principle_id.in_(list(principle_ids)),
                KudosTallyHistogram.people != 0,
            )
        ]
    else:
        people: Any = _small(func.count())
        pieces = [
            select(inside.c.principle_id, inside.c.n, people.label("people"))
            .where(inside.c.n > 0)
            .group_by(inside.c.principle_id, inside.c.n)
        ]
    edges = parts[:main] + parts[main + 1 :]
    if edges:
        rows = union_all(*edges).subquery()
        edge = (
            select(rows.c.principle_id, rows.c.user_id, _small(func.sum(rows.c.n)).label("n"))
            .group_by(rows.c.principle_id, rows.c.user_id)
            .subquery()
        )
        # Each person of the edges: their bucket row by a seek of the key.
        held = func.coalesce(inside.c.n, 0)
        touched = (
            select(
                edge.c.principle_id,
                held.label("held"),
                (held + edge.c.n).label("after"),
            )
            .select_from(
                edge.outerjoin(
                    inside,
                    and_(
                        inside.c.principle_id == edge.c.principle_id,
                        inside.c.user_id == edge.c.user_id,
                    ),
                )
            )
            .cte()
        )
        pieces += [
            select(touched.c.principle_id, touched.c.held, literal(-1)).where(touched.c.held > 0),
            select(touched.c.principle_id, touched.c.after, literal(1)).where(touched.c.after > 0),
        ]
    return pieces


# The grains whose buckets have a histogram of their person tallies (`kudos_tally_histogram`,
# kept by triggers on the tallies: migrations 0018 and 0024).
HISTOGRAM_GRAINS = (Grain.WEEK, Grain.MONTH, Grain.QUARTER)


def _histogram_key(
    team_id: str, role: Role, grain: Grain, bucket: dt.date | None
) -> list[ColumnElement[bool]]:
    return [
        KudosTallyHistogram.team_id == team_id,
        KudosTallyHistogram.role == _ROLE_CODE[role],
        KudosTallyHistogram.grain == grain.value,
        KudosTallyHistogram.bucket == bucket,
    ]


def recount_histogram(session: Session, team_id: str, grain: Grain, bucket: dt.date) -> None:
    """Count a bucket's histogram again from its person tallies (`missionbot db
    rebuild-summaries`: whatever drifted, say with the triggers once disabled by hand). On
    PostgreSQL under the triggers' lock of the bucket's quarter (a week's: of the week), so
    no kudos moves a person between the two statements."""
    if session.get_bind().dialect.name == "postgresql":
        key = _WEEK_LOCK_KEY if grain == Grain.WEEK else _HISTOGRAM_LOCK_KEY
        session.execute(
            text(f"SELECT pg_advisory_xact_lock({HISTOGRAM_LOCK_CLASS}, {key})"),
            {"team": team_id, "bucket": bucket},
        )
    roles = [_RECEIVED, _GIVEN]
    session.execute(
        delete(KudosTallyHistogram).where(
            KudosTallyHistogram.team_id == team_id,
            KudosTallyHistogram.role.in_(roles),
            KudosTallyHistogram.grain == grain.value,
            KudosTallyHistogram.bucket == bucket,
        )
    )
    principles = [
        ALL_PRINCIPLES,
        *session.scalars(select(Principle.id).where(Principle.team_id == team_id)),
    ]
    columns = ["team_id", "role", "grain", "principle_id", "bucket", "kudos"]
    session.execute(
        insert(KudosTallyHistogram).from_select(
            [*columns, "people"],
            select(*(KudosTally.__table__.c[c] for c in columns), func.count())
            .where(
                KudosTally.team_id == team_id,
                KudosTally.role.in_(roles),
                KudosTally.grain == grain.value,
                KudosTally.principle_id.in_(principles),
                KudosTally.bucket == bucket,
                KudosTally.kudos > 0,
            )
            .group_by(*(KudosTally.__table__.c[c] for c in columns)),
        )
    )


# As migration 0018's triggers take it: the team and the UTC quarter of the bucket. A week's
# histogram (migration 0024) has a lock of its own, the team and the week, always taken after
# the quarters' (a week may straddle two quarters, whose kudos each hold their own quarter's
# lock from the moment their row is written: 0023's channel trigger).
HISTOGRAM_LOCK_CLASS = 18
_HISTOGRAM_LOCK_KEY = (
    "hashtext(CAST(:team AS text) || '/' || "
    "to_char(date_trunc('quarter', CAST(:bucket AS date)), 'YYYY-MM-DD'))"
)
_WEEK_LOCK_KEY = (
    "hashtext(CAST(:team AS text) || '/w/' || to_char(CAST(:bucket AS date), 'YYYY-MM-DD'))"
)
# Quarters first, then weeks, each in the order of their keys: as the triggers take them.
_HISTOGRAM_LOCKS_POSTGRESQL = (
    f"SELECT pg_advisory_xact_lock({HISTOGRAM_LOCK_CLASS}, k) FROM (SELECT DISTINCT 0 AS w, "
    "hashtext(CAST(%s AS text) || '/' || q) AS k FROM unnest(CAST(%s AS text[])) AS q "
    "UNION SELECT 1, hashtext(CAST(%s AS text) || '/w/' || d) "
    "FROM unnest(CAST(%s AS text[])) AS d) AS l ORDER BY w, k"
)


def all_time_by_principle(team_id: str, role: Role, user_id: str) -> Select[int, int]:
    """(principle_id, kudos): one person's standing kudos received (or given) over all time,
    for each principle with any. One seek of the tallies' key per principle of the team (the
    key has the principle before the bucket), where counting them from the kudos read the
    person's every kudos (a busy person's three years: the App Home's largest piece)."""
    return select(KudosTally.principle_id, KudosTally.kudos).where(
        KudosTally.team_id == team_id,
        KudosTally.role == _ROLE_CODE[role],
        KudosTally.grain == Grain.ALL.value,
        KudosTally.principle_id.in_(select(Principle.id).where(Principle.team_id == team_id)),
        KudosTally.bucket == ALL_TIME,
        KudosTally.user_id == user_id,
        KudosTally.kudos > 0,
    )


def person_counts_by_principle(
    team_id: str,
    role: Role,
    bounds: Range,
    principle_ids: Sequence[int],
    until: dt.datetime | None = None,
) -> Subquery:
    """A subquery of (principle_id, user_id, n): `person_counts` for the principles
    `principle_ids` at once, each person's kudos received (or given) per principle, none left
    out. The principles are named (not `principle_id != 0`): the key has the principle before
    the bucket, so only a list of them lets the index seek each principle's bucket range."""
    plan = cover(bounds, PERSON_GRAINS, until=until)
    parts = _parts_by_principle(team_id, role, plan, principle_ids)
    if not parts:
        parts.append(
            select(
                literal(0).label("principle_id"),
                literal("").label("user_id"),
                literal(0).label("n"),
            ).where(false())
        )
    if _unique(plan):
        single = parts[0].subquery()
        return (
            select(single.c.principle_id, single.c.user_id, single.c.n)
            .where(single.c.n > 0)
            .subquery()
        )
    if (main := _main_bucket(plan)) is not None:
        edges = parts[:main] + parts[main + 1 :]
        return _bucket_with_edges(parts[main], edges, ("principle_id", "user_id"))
    rows = union_all(*parts).subquery()
    total = _small(func.sum(rows.c.n))
    return (
        select(rows.c.principle_id, rows.c.user_id, total.label("n"))
        .group_by(rows.c.principle_id, rows.c.user_id)
        .having(total > 0)
        .subquery()
    )


@dataclass(frozen=True, slots=True)
class People:
    """How many different people gave or received a principle's kudos (or any kudos), and
    how many of the kudos went to the `top` most recognised receivers."""

    givers: int
    receivers: int
    top_receivers: int


def people_by_principle(
    session: Session,
    team_id: str,
    bounds: Range,
    top: int,
    only: int | None = None,
    *,
    with_overall: bool = True,
    until: dt.datetime | None = None,
) -> tuple[dict[int, People], People]:
    """Per principle and for all principles together: distinct givers, distinct receivers and
    the kudos of the `top` receivers (ties at the last place change nothing), counted in
    the database from the summaries (bot/reports/health.py's numbers). `only`: that principle
    alone; `with_overall=False` leaves the all-principles numbers at 0 (not counted);
    `until`: no kudos is later (the end of today), which `cover` weighs its plans by."""
    found: dict[int, list[int]] = {}
    overall = [0, 0, 0]
    principle_ids = (
        [only]
        if only is not None
        else list(session.scalars(select(Principle.id).where(Principle.team_id == team_id)))
    )
    # A period read from the raw kudos alone (a week): everyone's kudos over all principles
    # are summed from the per-principle counts, not read from the kudos a second time.
    derived = only is None and not cover(bounds, PERSON_GRAINS, until=until).spans
    for role in (Role.GIVERS, Role.RECEIVERS):
        column = 0 if role == Role.GIVERS else 1
        query = _people_query(
            team_id,
            role,
            bounds,
            tuple(principle_ids),
            derived,
            with_overall=with_overall,
            until=until,
        )
        histogram: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for principle_id, *n, people in session.execute(query):
            if people:  # a count all of whose people the edges moved elsewhere
                histogram[int(principle_id)].append((int(n[0]) if n else 0, int(people)))
        for key, counts in histogram.items():
            row = overall if key == ALL_PRINCIPLES else found.setdefault(key, [0, 0, 0])
            row[column] = sum(people for _n, people in counts)
            if role == Role.RECEIVERS:
                row[2] = _top_sum(counts, top)
    return {p: People(*row) for p, row in found.items()}, People(*overall)


# Remembered, as `cover`'s plans are: a statement depends on its arguments alone (it is
# immutable, and SQLAlchemy keeps its cache key with it). Building one cost more Python than
# running it: a month's or a quarter's health at ten million kudos spent ~10 ms of its ~120
# building these two (bench/RESULTS.md §46, §48), and every manager's Home, the dashboard's
# health and `/kudos health` of one period ask for the same.
@functools.lru_cache(maxsize=256)
def _people_query(
    team_id: str,
    role: Role,
    bounds: Range,
    principle_ids: tuple[int, ...],
    derived: bool,
    *,
    with_overall: bool,
    until: dt.datetime | None = None,
) -> Select[Any]:
    """`people_by_principle`'s statement for one role: rows (principle_id, [n,] people)."""
    histograms = [_people_histogram(team_id, role, bounds, principle_ids, until)]
    if with_overall:
        histograms.append(_people_histogram(team_id, role, bounds, [ALL_PRINCIPLES], until))
    present = [piece for h in histograms if h is not None for piece in h]
    if all(h is not None for h in histograms):
        # One UNION ALL of every piece: SQLite refuses a compound select nested in one.
        counted_rows = union_all(*present).subquery()
        keys = [counted_rows.c.principle_id]
        if role == Role.RECEIVERS:
            keys.append(counted_rows.c.n)
        return select(*keys, _small(func.sum(counted_rows.c.people))).group_by(*keys)
    return _people_rows(team_id, role, bounds, principle_ids, derived, with_overall, until)


def _people_rows(
    team_id: str,
    role: Role,
    bounds: Range,
    principle_ids: Sequence[int],
    derived: bool,
    with_overall: bool,
    until: dt.datetime | None,
) -> Select[Any]:
    """`people_by_principle`'s histogram rows (principle_id, [n,] people) for any period, from
    the rows per principle and person (and everyone's per person)."""
    by_principle: Any = person_counts_by_principle(team_id, role, bounds, principle_ids, until)
    if derived and with_overall:
        by_principle = select(by_principle).cte()
    parts = [select(by_principle.c.principle_id, by_principle.c.n)]
    if with_overall:
        if derived:
            total = _small(func.sum(by_principle.c.n))
            everyone: Any = (
                select(by_principle.c.user_id, total.label("n"))
                .group_by(by_principle.c.user_id)
                .subquery()
            )
        else:
            everyone = person_counts(team_id, role, bounds, until=until)
        parts.append(select(literal(ALL_PRINCIPLES).label("principle_id"), everyone.c.n))
    # One statement for both (a UNION ALL): the principles' rows and everyone's row. The
    # receivers as a histogram: how many people received each count, per principle (a few
    # hundred rows, hashed), from which the top's kudos follow whoever of those tied at the
    # last place is taken; a window ranking every row sorted them all instead (a quarter at
    # ten million kudos: 350,000 a role). The givers are counted, not ranked.
    rows = union_all(*parts).subquery()
    keys = [rows.c.principle_id] + ([rows.c.n] if role == Role.RECEIVERS else [])
    return select(*keys, func.count()).group_by(*keys)


def _top_sum(histogram: Iterable[tuple[int, int]], top: int) -> int:
    """The kudos of the `top` most recognised, from (count, how many people have it)."""
    left, found = top, 0
    for n, people in sorted(histogram, reverse=True):
        if left <= 0:
            break
        taken = min(left, people)
        found += n * taken
        left -= taken
    return found


def counts_by_person(
    session: Session, team_id: str, role: Role, bounds: Range, principle_id: int | None = None
) -> dict[str, int]:
    """`person_counts` as a dict: user ID → kudos received (or given) in the period."""
    counts = person_counts(team_id, role, bounds, principle_id)
    return {user: int(n) for user, n in session.execute(select(counts.c.user_id, counts.c.n))}


# Kudos per principle of some periods, by the period's bounds: what `principle_counts` read,
# handed to the next report of the same read (the Home's principle report and its health
# share the month; the digest's week and the one before are two of its 12 weeks).
KnownCounts = Mapping[Range, Mapping[int, int]]


def principle_counts(
    session: Session,
    team_id: str,
    periods: Sequence[Range],
    known: KnownCounts | None = None,
) -> list[dict[int, int]]:
    """For each `[start, end)`, the standing kudos per principle (principles with none left
    out): whole UTC days from the tallies in one query, the edge hours of every period from
    the raw kudos in one more. A period in `known` is taken from it, and a period (or an edge
    range: consecutive weeks share theirs) asked for twice is read once."""
    known = known or {}
    wanted = list(dict.fromkeys(b for b in periods if b not in known))
    plans = [cover(bounds, (Grain.DAY,), PRINCIPLE_BUCKET_S) for bounds in wanted]
    found: list[Counter[int]] = [Counter() for _ in wanted]
    spans = [span for plan in plans for span in plan.spans]
    if spans:
        firsts, lasts = [s[1] for s in spans], [s[2] for s in spans]
        widest: Span = (
            Grain.DAY,
            None if None in firsts else min(f for f in firsts if f is not None),
            None if None in lasts else max(x for x in lasts if x is not None),
            1,
        )
        # The principles named (a subquery of the team's): the key has the principle before
        # the day, and without them SQLite skip-scanned the key from the team on (12 weeks
        # at a million kudos: 65 ms, against 0.6 ms seeking each principle's days).
        named = KudosTally.principle_id.in_(
            select(Principle.id).where(Principle.team_id == team_id)
        )
        rows = sorted(
            (bucket, principle_id, n)
            for bucket, principle_id, n in session.execute(
                select(KudosTally.bucket, KudosTally.principle_id, KudosTally.kudos).where(
                    KudosTally.team_id == team_id,
                    KudosTally.role == _PRINCIPLE,
                    named,
                    *_span_conditions(widest),
                )
            )
        )
        # Each span's days found by bisection in the rows sorted by day, not by testing every
        # row for every span (14 periods over 12 weeks' rows: 14,000 tests).
        days = [row[0] for row in rows]
        for index, plan in enumerate(plans):
            for _grain, first, last, sign in plan.spans:
                low = 0 if first is None else bisect.bisect_left(days, first)
                high = len(days) if last is None else bisect.bisect_left(days, last)
                for _day, principle_id, n in rows[low:high]:
                    found[index][principle_id] += n * sign
    edges: dict[tuple[dt.datetime | None, dt.datetime | None], list[tuple[int, int]]] = {}
    for index, plan in enumerate(plans):
        for first, last, sign in plan.raw:
            edges.setdefault((first, last), []).append((index, sign))
    if edges:
        ranges = list(edges)
        values: dict[str, Any] = {"team": team_id}
        for number, (first, last) in enumerate(ranges):
            # A cover's raw range is bounded: an open end is always a bucket of days.
            assert first is not None
            assert last is not None
            values[f"first{number}"], values[f"last{number}"] = first, last
        sums = session.execute(_edge_counts(len(ranges)), values).all()
        for number, principle_id, n in sums:
            for index, sign in edges[ranges[number]]:
                found[index][principle_id] += int(n) * sign
    read = {
        bounds: {p: n for p, n in counts.items() if n}
        for bounds, counts in zip(wanted, found, strict=True)
    }
    return [dict(known[b]) if b in known else dict(read[b]) for b in periods]


@functools.lru_cache(maxsize=64)
def _edge_counts(edges: int) -> Any:
    """`principle_counts`' raw edges, `edges` ranges bound as `first<n>` and `last<n>` (and
    `team`): (edge, principle_id, kudos). One statement, a range scan per edge: an OR of the
    ranges read the whole team. Built once per number of edges: building it afresh (12
    weeks' 13 edges) cost twice as much CPU as running it (SQLite at a million kudos: 2.8
    ms against 1.4), and a report asks for two or three."""
    team: BindParameter[str] = bindparam("team")
    return union_all(
        *(
            select(literal(number).label("edge"), Kudos.principle_id, func.count())
            .where(
                Kudos.team_id == team,
                Kudos.withdrawn_at.is_(None),
                Kudos.created_at >= bindparam(f"first{number}"),
                Kudos.created_at < bindparam(f"last{number}"),
            )
            .group_by(Kudos.principle_id)
            for number in range(edges)
        )
    )


# -- participation ---------------------------------------------------------------------------

NOT_RECOGNISED_DAYS = 60


@dataclass(frozen=True, slots=True)
class Participation:
    """Of the active people (not bots, not deactivated): how many gave and received in the
    period and the one before, and how many nobody recognised in the last 60 days."""

    active: int
    gave: int
    received: int
    gave_before: int | None
    received_before: int | None
    not_recognised: int

    @staticmethod
    def share(part: int | None, active: int) -> float | None:
        return None if part is None or not active else part / active


def active_people(team_id: str) -> ColumnElement[bool]:
    return and_(Person.team_id == team_id, Person.is_bot.is_(False), Person.deleted.is_(False))


def _people_in(team_id: str, role: Role, bounds: Range) -> Select[Any]:
    """Who received (or gave) standing kudos in the period, as a list to test membership in:
    a period read from the raw kudos alone (a week) is its kudos' people as they come, with
    no count per person (a person is in it with one kudos as with ten); else `person_counts`'s
    people, whose edges may take kudos away."""
    plan = cover(bounds, COUNT_GRAINS)
    if not plan.spans and len(plan.raw) == 1 and plan.raw[0][2] == 1:
        who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
        return select(who).where(*counted(team_id, plan.raw[0][:2]))
    return select(person_counts(team_id, role, bounds).c.user_id)


def recognised_since(
    team_id: str,
    role: Role,
    since: dt.datetime,
    user: ColumnElement[str] | InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """Whether `user` received (or gave) standing kudos at or after `since` (the last 60 days),
    as a condition on the caller's row: in any of the whole UTC months from then on (their
    tally rows above 0, hashed once), or else, for the few not in them, a seek of their kudos
    in the days before the first of those months. What
    `person_counts` of `(since, None)` gives as a list, without counting anyone: it summed a
    quarter's bucket less its first days read raw (at ten million kudos, 57,000 kudos grouped
    per person and joined with 50,000 tallies)."""
    first = bucket_of(Grain.MONTH, since)
    if _instant(first) < since:
        first = bucket_after(Grain.MONTH, first)
    found: list[ColumnElement[bool]] = [
        user.in_(
            select(KudosTally.user_id).where(
                KudosTally.team_id == team_id,
                KudosTally.role == _ROLE_CODE[role],
                KudosTally.grain == Grain.MONTH.value,
                KudosTally.principle_id == ALL_PRINCIPLES,
                KudosTally.bucket >= first,
                KudosTally.kudos > 0,
            )
        )
    ]
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    found.append(
        exists(select(Kudos.id).where(*counted(team_id, (since, _instant(first))), who == user))
    )
    return or_(*found)


def _latest_list(
    team_id: str,
    role: Role,
    bounds: Range,
    latest: Any,
    user: ColumnElement[str] | InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """Whether `user`, whose latest standing kudos in `role` is `latest.last_at`
    (`kudos_latest`: None when none stands), received (or gave) standing kudos in `[start,
    end)`: yes when the latest is inside it; no when it is before it or there is none (no
    later kudos stands); when it is at or after `end`, a seek of the person's kudos in the
    period. Exact for any period; cheap for one that ends after now, where nobody's latest is
    past its end (the managers' Home's month; the 60 days, which have no end)."""
    start, end = bounds
    inside: list[ColumnElement[bool]] = [latest.last_at.is_not(None)]
    if start is not None:
        inside.append(latest.last_at >= start)
    if end is None:
        return and_(*inside)
    inside.append(latest.last_at < end)
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    later = and_(
        latest.last_at >= end,
        exists(select(Kudos.id).where(*counted(team_id, bounds), who == user)),
    )
    return or_(and_(*inside), later)


def _latest_count(team_id: str, role: Role, bounds: Range) -> ColumnElement[int]:
    """How many people, whoever they are, received (or gave) standing kudos in `[start, end)`,
    read from `kudos_latest`'s index (migration 0025): those whose latest is inside it, and
    those whose latest is at or after `end` with a kudos in it (a seek each: nobody for a
    period that ends after now, the Home's month and the 60 days). A latest before the
    period, or none, means no standing kudos in it."""
    start, end = bounds
    key = [
        KudosLatest.team_id == team_id,
        KudosLatest.role == _ROLE_CODE[role],
        KudosLatest.last_at.is_not(None),
    ]
    inside = list(key)
    if start is not None:
        inside.append(KudosLatest.last_at >= start)
    if end is not None:
        inside.append(KudosLatest.last_at < end)
    count = select(func.count()).where(*inside).scalar_subquery()
    if end is None:
        return count
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    later = (
        select(func.count())
        .where(
            *key,
            KudosLatest.last_at >= end,
            exists(select(Kudos.id).where(*counted(team_id, bounds), who == KudosLatest.user_id)),
        )
        .scalar_subquery()
    )
    return count + later


def _outsiders_with_latest(team_id: str, role: Role, outsiders: CTE) -> Select[Any]:
    """How many of `_outsiders` have a `kudos_latest` row of `role`."""
    latest = aliased(KudosLatest)
    return (
        select(func.count())
        .select_from(outsiders)
        .join(
            latest,
            and_(
                latest.team_id == team_id,
                latest.role == _ROLE_CODE[role],
                latest.user_id == outsiders.c.user_id,
            ),
        )
    )


def _outsiders_last_at(team_id: str, role: Role, outsiders: CTE) -> Subquery:
    """Each of `_outsiders` with the `last_at` of their `kudos_latest` row of `role` (None
    without one): one seek of the row's key an outsider. As a join, PostgreSQL hashed every
    row of the role in the period for the few hundred outsiders (30,000-50,000 rows at ten
    million kudos, 8-14 ms for each of participation's three lists of a running period). The
    correlated subquery keeps the seek; OFFSET 0 keeps it from being copied into each of the
    caller's conditions on `last_at` (PostgreSQL inlines a subquery without one)."""
    last_at = (
        select(KudosLatest.last_at)
        .where(
            KudosLatest.team_id == team_id,
            KudosLatest.role == _ROLE_CODE[role],
            KudosLatest.user_id == outsiders.c.user_id,
        )
        .scalar_subquery()
    )
    return select(outsiders.c.user_id, last_at.label("last_at")).offset(0).subquery()


def _outsiders(team_id: str) -> CTE:
    """Who may have kudos but is not active: the bots and the deactivated (`people`'s partial
    index), and `kudos_unlisted`'s candidates that have no directory row (each a seek). A
    few hundred people at ten million kudos, where the active are 50,000."""
    inactive = select(Person.user_id.label("user_id")).where(
        # As the partial index has it; both columns are NOT NULL, so this is exactly who
        # `active_people` leaves out.
        Person.team_id == team_id,
        or_(Person.is_bot, Person.deleted),
    )
    listed = select(Person.user_id).where(
        Person.team_id == team_id, Person.user_id == KudosUnlisted.user_id
    )
    unlisted = select(KudosUnlisted.user_id).where(
        KudosUnlisted.team_id == team_id, ~exists(listed)
    )
    return union(inactive, unlisted).cte("outsiders")


def participation(
    session: Session,
    team_id: str,
    bounds: Range,
    previous_bounds: Range | None,
    now: dt.datetime,
) -> Participation:
    """Counted in one statement: for each of the five lists of people (gave and received in
    the period and the one before, received in the last 60 days), how many people are in it
    whoever they are, less the outsiders (`_outsiders`: not active) among them. Everyone of
    a period that ends after `now` (the Home's month, the 60 days) is a range of
    `kudos_latest`'s index (`_latest_count`); of a period that has ended (last month, the
    digest's weeks) `people_count` (a month's histogram and its edges' people; a week's raw
    kudos grouped per person). Each outsider is sought in each list: their `kudos_latest`
    row, or their kudos in the period. Everyone of a period that ended is read back once
    counted (bot/reports/settled.py: the same for the whole month, ~35 ms of the Home's
    participation at ten million kudos, bench/RESULTS.md §64); its outsiders are sought
    each time (people leave).

    Before (bench/RESULTS.md §42), every active person was read and joined with their two
    `kudos_latest` rows (two hash joins of 50,000 rows at ten million kudos) and probed
    against hashed lists: the people who are not active are a few hundred, the active tens
    of thousands, so counting everyone and taking the few away reads far less."""
    quick_reads(session)
    dialect = session.get_bind().dialect.name
    since = now - dt.timedelta(days=NOT_RECOGNISED_DAYS)
    outsiders = _outsiders(team_id)
    lists: list[tuple[Role, Range]] = [(Role.GIVERS, bounds), (Role.RECEIVERS, bounds)]
    if previous_bounds is not None:
        lists += [(Role.GIVERS, previous_bounds), (Role.RECEIVERS, previous_bounds)]
    lists.append((Role.RECEIVERS, (since, None)))
    columns: list[ColumnElement[Any]] = []  # each list's everyone and outsiders among them
    asked: dict[int, settled.Settled] = {}  # by list: the ended periods' kept counts
    for n, (role, period) in enumerate(lists):
        who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
        if period[1] is None or period[1] > now:
            everyone = _latest_count(team_id, role, period)
            latest = _outsiders_last_at(team_id, role, outsiders)
            away = (
                select(func.count())
                .select_from(latest)
                .where(_latest_list(team_id, role, period, latest.c, latest.c.user_id))
            )
        else:
            everyone = people_count(team_id, role, period, dialect=dialect)
            if settled.has_ended(period, now):
                asked[n] = settled.settled(
                    team_id, _ROLE_CODE[role], period, ALL_PRINCIPLES, everyone
                )
                everyone = asked[n].value
            away = (
                select(func.count())
                .select_from(outsiders)
                .where(
                    exists(
                        select(Kudos.id).where(
                            *counted(team_id, period), who == outsiders.c.user_id
                        )
                    )
                )
            )
        columns += [everyone, away.scalar_subquery()]
    active = select(func.count()).where(active_people(team_id)).scalar_subquery()
    kept = [column for one in asked.values() for column in one.columns]
    row = session.execute(select(active, *columns, *kept)).one()
    counts = [int(row[1 + 2 * n]) - int(row[2 + 2 * n]) for n in range(len(lists))]
    found = iter(row[1 + 2 * len(lists) :])
    settled.keep(
        session,
        [(one, int(row[1 + 2 * n]), next(found), next(found)) for n, one in asked.items()],
    )
    everyone_active = int(row[0])
    gave, received, *before, recently = counts
    return Participation(
        active=everyone_active,
        gave=gave,
        received=received,
        gave_before=before[0] if before else None,
        received_before=before[1] if before else None,
        not_recognised=everyone_active - recently,
    )


def people_without_latest(session: Session, team_id: str) -> dict[Role, int]:
    """How many active people have no `kudos_latest` row of each role (never received, never
    gave): the active people less the rows of active people, counted as the role's rows less
    those of the outsiders (`_outsiders`: everyone missing from the directory is among them).
    Index counts and a few hundred seeks, where finding who they are reads every person; at
    ten million kudos, none."""
    outsiders = _outsiders(team_id)
    active = select(func.count()).where(active_people(team_id)).scalar_subquery()
    counts = []
    for role in (Role.RECEIVERS, Role.GIVERS):
        key = [KudosLatest.team_id == team_id, KudosLatest.role == _ROLE_CODE[role]]
        rows = select(func.count()).where(*key).scalar_subquery()
        theirs = _outsiders_with_latest(team_id, role, outsiders)
        counts.append(active - (rows - theirs.scalar_subquery()))
    received, given = session.execute(select(*counts)).one()
    return {Role.RECEIVERS: int(received), Role.GIVERS: int(given)}


def refill_latest(session: Session, team_id: str) -> None:
    """Count `kudos_latest` again for the team from its kudos (the rebuild, once its all-time
    tallies are done): one seek of the covering index per person of those tallies. On
    PostgreSQL, first a SHARE lock on `kudos` (kudos wait until the caller commits; reads go
    on), so no kudos changes between the seeks and the rows written; SQLite's write lock
    serialises writers already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE kudos IN SHARE MODE"))
    session.execute(delete(KudosLatest).where(KudosLatest.team_id == team_id))
    for role, who in ((_RECEIVED, Kudos.receiver_id), (_GIVEN, Kudos.giver_id)):
        last = (
            select(func.max(Kudos.created_at))
            .where(
                Kudos.team_id == team_id, who == KudosTally.user_id, Kudos.withdrawn_at.is_(None)
            )
            .scalar_subquery()
        )
        people = select(literal(team_id), literal(role), KudosTally.user_id, last).where(
            KudosTally.team_id == team_id,
            KudosTally.role == role,
            KudosTally.grain == Grain.ALL.value,
            KudosTally.principle_id == ALL_PRINCIPLES,
            KudosTally.bucket == ALL_TIME,
            KudosTally.kudos > 0,
        )
        session.execute(
            insert(KudosLatest).from_select(["team_id", "role", "user_id", "last_at"], people)
        )
    # Their candidates for "missing from the directory" (migration 0025), the stale ones
    # dropped; the row trigger that writes them is quiet in the rebuild's session.
    session.execute(delete(KudosUnlisted).where(KudosUnlisted.team_id == team_id))
    missing = select(KudosLatest.team_id, KudosLatest.role, KudosLatest.user_id).where(
        KudosLatest.team_id == team_id,
        ~exists(
            select(Person.user_id).where(
                Person.team_id == team_id, Person.user_id == KudosLatest.user_id
            )
        ),
    )
    session.execute(insert(KudosUnlisted).from_select(["team_id", "role", "user_id"], missing))


def dashboard_url(public_url: str | None) -> str | None:
    """The dashboard's address under MISSIONBOT_PUBLIC_URL; None when that is unset."""
    return public_url.rstrip("/") + "/dashboard" if public_url else None


# Remembered: the expression depends on its arguments alone and is never changed after (a
# select built around it is a new one), and building it cost more than running it: ~3-5 ms
# of Python a count, four an overview (two periods, two roles), where the statement ran in
# a few ms. A page's period is the same for every view of it until the period ends.
@functools.lru_cache(maxsize=256)
def people_count(
    team_id: str, role: Role, bounds: Range, principle_id: int | None = None, *, dialect: str
) -> ColumnElement[int]:
    """How many people received (or gave) standing kudos in the period, as a scalar subquery:
    `count(person_counts(…))`, but where the period is one bucket and raw edges (a local
    month: its UTC month, less and plus a few hours) without summing the bucket's every row.
    A bucket's row never falls below 0 (a withdrawal takes from the kudos's own bucket), so
    the people are the bucket's rows above 0 (a week's, month's or quarter's: the sum of its
    histogram, `kudos_tally_histogram`), corrected for those the edges touch: counted when
    bucket + edges > 0 rather than when bucket > 0. A local week is its UTC week's bucket
    (migration 0024) and a few hours the same way. `dialect`: the database's name (the
    statement differs: below)."""
    plan = cover(bounds, (Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK))
    single = [s for s in plan.spans if s[1] is not None and s[2] is not None]
    if len(plan.spans) != 1 or len(single) != 1 or _buckets(single[0]) != 1 or single[0][3] != 1:
        counts = person_counts(team_id, role, bounds, principle_id)
        return select(func.count()).select_from(counts).scalar_subquery()
    grain, bucket, _last, _sign = single[0]
    key = [
        KudosTally.team_id == team_id,
        KudosTally.role == _ROLE_CODE[role],
        KudosTally.grain == grain.value,
        KudosTally.principle_id == (principle_id or ALL_PRINCIPLES),
        KudosTally.bucket == bucket,
    ]
    base: Any
    if grain in HISTOGRAM_GRAINS:
        # The bucket's people from its histogram: a few hundred rows, not one per person.
        base = select(func.coalesce(func.sum(KudosTallyHistogram.people), 0)).where(
            *_histogram_key(team_id, role, grain, bucket),
            KudosTallyHistogram.principle_id == (principle_id or ALL_PRINCIPLES),
        )
    else:
        base = select(func.count()).where(*key, KudosTally.kudos > 0)
    base = base.scalar_subquery()
    if not plan.raw:
        return base
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    parts = []
    for first, last, sign in plan.raw:
        conditions = counted(team_id, (first, last))
        if principle_id is not None:
            conditions.append(Kudos.principle_id == principle_id)
        parts.append(
            select(who.label("user_id"), (func.count() * sign).label("n"))
            .where(*conditions)
            .group_by(who)
        )
    rows = union_all(*parts).subquery()
    edges = (
        select(rows.c.user_id, func.sum(rows.c.n).label("n")).group_by(rows.c.user_id).subquery()
    )
    # On PostgreSQL the bucket's rows hashed for the edges' people, not a seek each: OFFSET 0
    # keeps the planner, which guesses 200 people for the edges (they are thousands at ten
    # million kudos), from seeking. A seek is ~4 µs and a row of the bucket's range ~0.16 µs,
    # so the range costs less as soon as the edges hold a 25th of the bucket's people
    # (participation's last month at ten million, a role alone in psql: 30 ms with a seek
    # for each of ~3,300 edge people, 20 ms hashed; bench/RESULTS.md §60).
    # SQLite would copy the fenced rows into a table of its own first: a seek each there.
    rows_of_bucket = select(KudosTally.user_id, KudosTally.kudos).where(*key)
    if dialect == "postgresql":
        rows_of_bucket = rows_of_bucket.offset(0)
    bucket_rows = rows_of_bucket.subquery()
    held = func.coalesce(bucket_rows.c.kudos, 0)
    correction = (
        select(
            func.coalesce(
                func.sum(case((held + edges.c.n > 0, 1), else_=0) - case((held > 0, 1), else_=0)),
                0,
            )
        )
        .select_from(edges)
        .outerjoin(bucket_rows, bucket_rows.c.user_id == edges.c.user_id)
        .scalar_subquery()
    )
    return base + correction
