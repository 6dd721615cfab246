"""Promise health: for each principle, how much it was recognised and by how many people, its
last 12 weeks, the principles gone quiet, and pairs of people whose kudos go mostly to each
other. For managers (`/kudos health`, their App Home, `missionbot health`). No Slack.

How each number is computed (every count is of kudos not withdrawn; one kudos to three people
is three kudos, as in the leaderboards):

* **kudos, givers, receivers** — per principle, in the period: the count, and the number of
  distinct givers and of distinct receivers.
* **top-5 share** — the share of the principle's kudos that went to its five most recognised
  receivers (ties at the fifth place broken by user ID). 100% with five receivers or fewer;
  a high share says the principle is lived, or noticed, in few people.
* **the 12 weeks** — Monday-to-Sunday weeks in the report's timezone: the 12 ending with the
  week that holds the period's last day, or this week when the period is still running (or
  is all time, or lies in the future).
* **quiet** — active principles with no kudos in the period.
* **reciprocity** — two people A and B are a pair when, in the period, more than half of the
  kudos A gave went to B, more than half of those B gave went to A, and A and B exchanged at
  least `RECIPROCITY_MIN` kudos in all. One thank-you each way is not a pattern; a pair who
  give each other most of their recognition is worth a manager's look (it may be a close
  team of two, or a game of the leaderboard). Pairs name people: managers only.

The counts come from the read model (bot/reports/summaries.py): kudos per principle and per
week from its per-day rows, givers, receivers and the top 5 from its per-person rows, counted
in the database. The pairs come from the pair tallies (`kudos_pairs`: standing kudos per
giver, receiver and UTC quarter, kept by triggers, migration 0017) when the period is one
quarter's bucket and a few raw hours (a local quarter, month or week): only the pairs that
exchanged kudos both ways in the bucket, at least RECIPROCITY_MIN in all, and those of the
hours are candidates (`period_pairs`). Any other period groups its raw kudos per (giver,
receiver), of which only each giver's more-than-half receiver is joined with its reverse, in
SQL (`reciprocal_pairs`). Summing 80,000 (principle, giver, receiver) triples in Python took
3 s for a quarter at ten million kudos (bench/leaderboards.py).

A caller that shows only the principles and their weeks (the weekly digest) asks for the
trend alone (`promise_trend`): a week's people are its raw kudos grouped per principle and
person (no person tally covers a week), ~90 ms a role at ten million kudos. The managers'
App Home shows the trend (its chart) and the pairs, never the people: it reads the trend and
`period_pairs`, not the month's people per principle (~40 ms at ten million kudos).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased

from bot.db.engine import quick_reads
from bot.db.models import Kudos, KudosPair, Principle
from bot.mission.service import PrincipleInfo, numbered
from bot.reports import settled
from bot.reports.periods import Period, PeriodKind, end_of_day, local_midnight, period_of
from bot.reports.summaries import (
    Grain,
    KnownCounts,
    People,
    Range,
    Role,
    Span,
    counted,
    cover,
    one_quarter,
    people_by_principle,
    person_counts,
    principle_counts,
)

WEEKS = 12
TOP_RECEIVERS = 5
RECIPROCITY_MIN = 4
PAIRS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PrincipleTrend:
    """A principle's kudos in the period and in each of the 12 weeks (oldest first)."""

    principle: PrincipleInfo
    kudos: int
    weekly: tuple[int, ...]
    retired: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipleHealth(PrincipleTrend):
    """A principle's trend with who gave and received it: a row of promise health."""

    givers: int
    receivers: int
    top_receivers: int  # kudos that went to the principle's top 5 receivers

    @property
    def top_share(self) -> float | None:
        """The top 5 receivers' share of the kudos (None without kudos)."""
        return self.top_receivers / self.kudos if self.kudos else None


@dataclass(frozen=True, slots=True)
class Pair:
    """Two people who give each other most of their kudos; `first` < `second` by user ID."""

    first: str
    second: str
    first_to_second: int
    second_to_first: int
    first_gave: int
    second_gave: int

    @property
    def exchanged(self) -> int:
        return self.first_to_second + self.second_to_first


@dataclass(frozen=True, slots=True)
class Health:
    period: Period
    weeks: tuple[Period, ...]  # the 12 weeks of the trend, oldest first
    principles: tuple[PrincipleHealth, ...]  # active in file order, then retired with kudos
    quiet: tuple[PrincipleInfo, ...]
    pairs: tuple[Pair, ...]
    kudos: int
    givers: int
    receivers: int
    top_receivers: int

    @property
    def top_share(self) -> float | None:
        return self.top_receivers / self.kudos if self.kudos else None

    @property
    def weekly_total(self) -> int:
        return sum(sum(p.weekly) for p in self.principles)


def trend_weeks(period: Period, today: dt.date, weeks: int = WEEKS) -> tuple[Period, ...]:
    """The `weeks` weeks ending with the one that holds the period's last day, or today's week
    when the period is still running, is all time or hasn't begun."""
    last = today
    if period.end is not None and period.end <= today:
        last = period.end - dt.timedelta(days=1)
    final = period_of(PeriodKind.WEEK, last)
    assert final.start is not None
    return tuple(
        period_of(PeriodKind.WEEK, final.start - dt.timedelta(weeks=n))
        for n in range(weeks - 1, -1, -1)
    )


@dataclass(frozen=True, slots=True)
class Trend:
    """Promise health without its people and pairs: what the weekly digest shows (its chart
    and the principles gone quiet), the same rows in the same order as `Health`'s."""

    period: Period
    weeks: tuple[Period, ...]
    principles: tuple[PrincipleTrend, ...]  # active in file order, then retired with kudos
    quiet: tuple[PrincipleInfo, ...]
    kudos: int

    @property
    def weekly_total(self) -> int:
        return sum(sum(p.weekly) for p in self.principles)


def promise_trend(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    where: ZoneInfo,
    today: dt.date,
    weeks: int = WEEKS,
    known: KnownCounts | None = None,
) -> Trend:
    """`promise_health`'s principles, their kudos and their 12 weeks, without counting anyone:
    kudos per principle and day from the read model, the edge hours raw. Its people and pairs
    are what cost (a week no person tally covers: its ~62,000 raw kudos at ten million), and a
    caller that shows neither (the digest) should not pay for them."""
    quick_reads(session)
    trend = trend_weeks(period, today, weeks)
    weekly = _weekly(session, team_id, trend, where, known)
    [kudos_of] = principle_counts(session, team_id, [bounds], known)
    rows = session.scalars(
        select(Principle).where(Principle.team_id == team_id).order_by(Principle.position)
    ).all()
    infos = numbered(rows)
    found: list[PrincipleTrend] = []
    for row in sorted(rows, key=lambda r: (r.retired_at is not None, r.position)):
        per_week = weekly.get(row.id, (0,) * len(trend))
        retired = row.retired_at is not None
        kudos = kudos_of.get(row.id, 0)
        if retired and not kudos and not any(per_week):
            continue
        found.append(PrincipleTrend(infos[row.id], kudos, per_week, retired))
    quiet = tuple(p.principle for p in found if not p.retired and not p.kudos)
    return Trend(period, trend, tuple(found), quiet, sum(kudos_of.values()))


def promise_health(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    where: ZoneInfo,
    today: dt.date,
    weeks: int = WEEKS,
    known: KnownCounts | None = None,
) -> Health:
    """The health report of `period` (`bounds` is it in UTC), with the trend in `where`.
    `known`: kudos per principle already read in this transaction (`principle_counts`), of
    the period or of the trend's weeks."""
    trend = promise_trend(
        session=session,
        team_id=team_id,
        period=period,
        bounds=bounds,
        where=where,
        today=today,
        weeks=weeks,
        known=known,
    )
    people, everyone = _people(session, team_id, bounds, where, today)
    nobody = People(0, 0, 0)
    health = [
        PrincipleHealth(
            row.principle,
            row.kudos,
            row.weekly,
            row.retired,
            givers=(mine := people.get(row.principle.id, nobody)).givers,
            receivers=mine.receivers,
            top_receivers=mine.top_receivers,
        )
        for row in trend.principles
    ]
    return Health(
        period=period,
        weeks=trend.weeks,
        principles=tuple(health),
        quiet=trend.quiet,
        pairs=tuple(period_pairs(session, team_id, bounds)),
        kudos=trend.kudos,
        givers=everyone.givers,
        receivers=everyone.receivers,
        top_receivers=everyone.top_receivers,
    )


def _people(
    session: Session, team_id: str, bounds: Range, where: ZoneInfo, today: dt.date
) -> tuple[dict[int, People], People]:
    """`people_by_principle` of the period; for one that ended before today (last week),
    the result kept once counted (bot/reports/settled.py), counted again only after a
    write to an older kudos."""
    kept = (
        settled.report(session, team_id, settled.Report.HEALTH_PEOPLE, bounds)
        if settled.has_ended(bounds, local_midnight(today, where))
        else None
    )
    if kept is not None and kept.body is not None:
        by_principle, everyone = kept.body
        return {int(key): People(*numbers) for key, numbers in by_principle.items()}, People(
            *everyone
        )
    people, overall = people_by_principle(
        session, team_id, bounds, TOP_RECEIVERS, until=end_of_day(today, where)
    )
    if kept is not None:
        body = (
            {key: [p.givers, p.receivers, p.top_receivers] for key, p in people.items()},
            [overall.givers, overall.receivers, overall.top_receivers],
        )
        settled.keep_report(session, team_id, settled.Report.HEALTH_PEOPLE, bounds, kept, body)
    return people, overall


def pairs_tallied(bounds: Range) -> bool:
    """Whether `period_pairs` takes the period's pairs from the pair tallies (otherwise it
    groups the period's raw kudos, which a caller that has read them already can count
    itself: `pairs_among`)."""
    plan = cover(bounds, (Grain.QUARTER,), PAIR_BUCKET_S)
    if len(plan.spans) == 1 and _one_quarter(plan.spans[0]):
        return True
    return one_quarter(bounds) is not None


def period_pairs(
    session: Session,
    team_id: str,
    bounds: Range,
    gave: Subquery | None = None,
    limit: int = PAIRS_SHOWN,
) -> list[Pair]:
    """`reciprocal_pairs` of the period `bounds`, from the pair tallies when the period is one
    UTC quarter's bucket and raw edges (a local quarter, or a range most of a quarter long):
    the same pairs, in the same order (tests/test_summaries.py compares them).

    A pair exchanges at least RECIPROCITY_MIN (4) kudos in the period. Unless it has kudos in
    an edge that is added, it exchanged at least as many in the bucket (the edges taken away
    only lower the count) and at least one each way, so one of its two directions has two
    kudos or more there and the other one or more: the candidates are those rows of the
    bucket (the partial index holds the first: a few hundred at a million kudos, against
    87,000 raw kudos for a quarter; the reverse a seek of the key) and the pairs of the
    added edges (`exchanging_pair_candidates`). Each candidate's two directions are then
    counted exactly: its bucket rows (one seek of the key each) plus and minus its kudos in
    the edges. A shorter period inside one quarter's bucket but for a few hours (a local
    month: cheaper raw than as the bucket less two months) has the same candidates, the
    bucket's rows and the pairs of those hours, each counted in the period by a seek of the
    kudos. Any other period (a year: four buckets, each of which may hold one kudos a way)
    reads the raw kudos.

    `gave`: each giver's kudos in the period (`person_counts`); without it, those of the
    candidates' givers alone, each a seek of the tallies (the whole quarter's givers were
    50,000 rows read at ten million kudos, for a few hundred candidates)."""
    if gave is None:
        remembered = _pairs_statement(team_id, bounds, limit)
        if remembered is not None:
            return _pairs(session.execute(remembered))
    statement = _pairs_of(team_id, bounds, gave, limit)
    if statement is None:
        if gave is None:
            gave = person_counts(team_id, Role.GIVERS, bounds)
        return reciprocal_pairs(session, counted(team_id, bounds), gave, limit)
    return _pairs(session.execute(statement))


# Remembered, as `cover`'s plans are: the statement depends on its arguments alone, and
# building it cost more Python than running it (a month's or a quarter's health at ten
# million kudos: bench/RESULTS.md §48).
@functools.lru_cache(maxsize=256)
def _pairs_statement(team_id: str, bounds: Range, limit: int) -> Select[Any] | None:
    return _pairs_of(team_id, bounds, None, limit)


def _pairs_of(team_id: str, bounds: Range, gave: Subquery | None, limit: int) -> Select[Any] | None:
    """`period_pairs`' statement from the pair tallies; None for a period read raw."""
    plan = cover(bounds, (Grain.QUARTER,), PAIR_BUCKET_S)
    if len(plan.spans) == 1 and _one_quarter(plan.spans[0]):
        bucket = plan.spans[0][1]
        assert bucket is not None
        added = [(start, end) for start, end, sign in plan.raw if sign > 0]
        directed, n = _directed(team_id, bucket, added, by_bucket=True)
        for start, end, sign in plan.raw:
            edge = pair_kudos(team_id, (start, end), directed)
            n = n + edge if sign > 0 else n - edge
        found: CTE | Subquery = directed
    elif (within := one_quarter(bounds)) is not None:
        # A period inside one quarter's bucket but for a few hours (a local month, a week):
        # the same candidates (a pair's kudos each way in the period are at most its
        # bucket's, unless it has kudos in those hours), each direction counted
        # in the period itself from its receiver's kudos of the period (`kudos_of_pairs`).
        bucket, outside = within
        directed, _n = _directed(team_id, bucket, list(outside), by_bucket=False)
        found = kudos_of_pairs(team_id, bounds, directed)
        n = found.c.n
    else:
        return None
    if gave is None:
        gave = person_counts(team_id, Role.GIVERS, bounds, users=select(directed.c.giver_id))
    sent = select(found.c.giver_id, found.c.receiver_id, n.label("n")).cte("sent")
    most = (
        select(sent.c.giver_id, sent.c.receiver_id, sent.c.n, gave.c.n.label("gave"))
        .join(gave, gave.c.user_id == sent.c.giver_id)
        .where(sent.c.n * 2 > gave.c.n)
        .cte("most")
    )
    return _mutual(most, limit)


def _directed(
    team_id: str, bucket: dt.date, added: Sequence[Range], *, by_bucket: bool
) -> tuple[CTE, ColumnElement[int]]:
    """The candidates' two directions (a CTE of giver_id, receiver_id): the quarter bucket's
    pairs that exchanged enough both ways and the pairs of the `added` raw ranges
    (`exchanging_pair_candidates`); and, with `by_bucket`, each direction's kudos in the
    bucket by a seek of the pair's key (0 otherwise)."""
    candidates = exchanging_pair_candidates(team_id, bucket, added)
    directed = union(
        select(candidates.c.giver_id, candidates.c.receiver_id),
        select(candidates.c.receiver_id, candidates.c.giver_id),
    ).cte("directed")
    if not by_bucket:
        return directed, literal(0)
    n: ColumnElement[int] = func.coalesce(
        select(KudosPair.kudos)
        .where(
            KudosPair.team_id == team_id,
            KudosPair.bucket == bucket,
            KudosPair.giver_id == directed.c.giver_id,
            KudosPair.receiver_id == directed.c.receiver_id,
        )
        .scalar_subquery(),
        0,
    )
    return directed, n


def repeated_pair_candidates(
    team_id: str, bucket: dt.date, outside: Iterable[Range], principle_id: int | None = None
) -> CTE:
    """The (giver_id, receiver_id) pairs that may have two kudos or more one way in a period
    inside the quarter `bucket` but for the `outside` hours: the bucket's pair tallies with two
    or more (the partial index; every principle) and the pairs of those hours (of
    `principle_id` alone, if given). A pair with two or more in the period has two or more in
    the bucket unless it has kudos in those hours. Shared by health's reciprocal pairs and the
    weighted leaderboard (bot/reports/weighted.py)."""
    found: list[Any] = [
        select(KudosPair.giver_id, KudosPair.receiver_id).where(
            KudosPair.team_id == team_id, KudosPair.bucket == bucket, KudosPair.kudos >= 2
        )
    ]
    found.extend(
        select(Kudos.giver_id, Kudos.receiver_id).where(*_kudos_of(team_id, hours, principle_id))
        for hours in outside
    )
    # A CTE, read once: as a subquery PostgreSQL evaluated it again for every use.
    return union(*found).cte("candidates")


def exchanging_pair_candidates(team_id: str, bucket: dt.date, added: Iterable[Range]) -> CTE:
    """The (giver_id, receiver_id) pairs that may be reciprocal in a period inside the quarter
    `bucket` but for the `added` hours (a period that is the bucket less some hours and plus
    the `added` ones, or inside it but for those): the bucket's pairs that exchanged kudos
    both ways and at least RECIPROCITY_MIN in all (a repeated row, its reverse by a seek of
    the key), and the pairs of those hours.

    Exact: without kudos in the added hours, a pair's kudos each way in the period are at
    most its bucket's (the rest of the period lies in the bucket), and a reciprocal pair has
    one kudos or more each way (more than half of what each gave) and RECIPROCITY_MIN in
    all, so one of its two directions has two or more in the bucket (the partial index).
    A bucket's repeated pairs are mostly one-way (at a million kudos a quarter's 877, of
    which 3 had a kudos back): each was counted in the period, and its giver's kudos read,
    for nothing (SQLite, a quarter: 24 ms of health's 63 ms of CPU)."""
    back = aliased(KudosPair)
    found: list[Any] = [
        select(KudosPair.giver_id, KudosPair.receiver_id)
        .join(
            back,
            and_(
                back.team_id == KudosPair.team_id,
                back.bucket == KudosPair.bucket,
                back.giver_id == KudosPair.receiver_id,
                back.receiver_id == KudosPair.giver_id,
            ),
        )
        .where(
            KudosPair.team_id == team_id,
            KudosPair.bucket == bucket,
            KudosPair.kudos >= 2,
            back.kudos >= 1,
            KudosPair.kudos + back.kudos >= RECIPROCITY_MIN,
        )
    ]
    found.extend(
        select(Kudos.giver_id, Kudos.receiver_id).where(*counted(team_id, hours)) for hours in added
    )
    return union(*found).cte("candidates")


def pair_kudos(
    team_id: str, bounds: Range, pairs: CTE, principle_id: int | None = None
) -> ColumnElement[int]:
    """Each of `pairs`' (giver_id, receiver_id) standing kudos in `[start, end)` (of
    `principle_id` alone, if given), by a seek of the kudos (the receiver's index): a
    correlated count."""
    return (
        select(cast(func.count(), Integer))
        .where(
            *_kudos_of(team_id, bounds, principle_id),
            Kudos.receiver_id == pairs.c.receiver_id,
            Kudos.giver_id == pairs.c.giver_id,
        )
        .scalar_subquery()
    )


def kudos_of_pairs(
    team_id: str, bounds: Range, pairs: CTE, principle_id: int | None = None
) -> Subquery:
    """(giver_id, receiver_id, n): each of `pairs`' standing kudos in `[start, end)` (of
    `principle_id` alone, if given), pairs with none left out. Each receiver's kudos of the
    period are read once (the receiver's index) and grouped per giver: the repeated pairs
    gather on the few people who receive most (at ten million kudos, a quarter's 241 on a
    handful of receivers), and a seek per pair (`pair_kudos`) read such a receiver's every
    kudos of the period again for each of their pairs."""
    grouped = (
        select(Kudos.giver_id, Kudos.receiver_id, cast(func.count(), Integer).label("n"))
        .where(
            *_kudos_of(team_id, bounds, principle_id),
            Kudos.receiver_id.in_(select(pairs.c.receiver_id)),
        )
        .group_by(Kudos.receiver_id, Kudos.giver_id)
        .subquery()
    )
    return (
        select(grouped.c.giver_id, grouped.c.receiver_id, grouped.c.n)
        .join(
            pairs,
            and_(
                pairs.c.giver_id == grouped.c.giver_id,
                pairs.c.receiver_id == grouped.c.receiver_id,
            ),
        )
        .subquery()
    )


def _kudos_of(team_id: str, bounds: Range, principle_id: int | None) -> list[Any]:
    conditions: list[Any] = counted(team_id, bounds)
    if principle_id is not None:
        conditions.append(Kudos.principle_id == principle_id)
    return conditions


# What reading the pair tallies' bucket costs, in seconds of raw kudos (summaries.cover): its
# partial index holds the few repeated pairs, about as many rows as an hour of kudos.
PAIR_BUCKET_S = 3_600


def _one_quarter(span: Span) -> bool:
    """Whether `span` is one quarter bucket, added."""
    _grain, first, last, sign = span
    if first is None or last is None or sign != 1:
        return False
    return (last.year - first.year) * 12 + last.month - first.month == 3


def reciprocal_pairs(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    gave: Subquery,
    limit: int = PAIRS_SHOWN,
) -> list[Pair]:
    """Pairs who each gave the other more than half of their kudos (module docstring), among
    the kudos that meet `conditions`, in the database: a person gives more than half of their
    kudos to at most one other, so only those (giver, receiver) rows are joined. `gave` is
    (user_id, n), each giver's kudos among the same kudos, from the read model: the (giver,
    receiver) counts are read once, not a second time to sum them per giver (a quarter at a
    million kudos: 87,000 rows, which spilled to disk)."""
    # Each kudos joined with its giver's total (a hash of the givers) before grouping:
    # joining the grouped counts instead made PostgreSQL sort all of them by giver. An
    # outer join (every giver is in `gave`, so it keeps the same rows) because it makes
    # both databases read the kudos first, in time order from the covering index: with
    # an inner join SQLite read them giver by giver, a table visit per kudos (1.1 s).
    count = func.count()
    most = (
        select(Kudos.giver_id, Kudos.receiver_id, count.label("n"), gave.c.n.label("gave"))
        .select_from(Kudos)
        .outerjoin(gave, gave.c.user_id == Kudos.giver_id)
        .where(*conditions)
        .group_by(Kudos.giver_id, Kudos.receiver_id, gave.c.n)
        .having(count * 2 > gave.c.n)
        .cte("most")
    )
    return _pairs(session.execute(_mutual(most, limit)))


def _mutual(most: CTE, limit: int) -> Select[Any]:
    """The pairs among `most` (giver_id, receiver_id, n, gave: each giver's more-than-half
    receiver) whose receiver's own more-than-half receiver is the giver."""
    back = most.alias("back")
    return (
        select(most.c.giver_id, most.c.receiver_id, most.c.n, back.c.n, most.c.gave, back.c.gave)
        .join(
            back,
            and_(back.c.giver_id == most.c.receiver_id, back.c.receiver_id == most.c.giver_id),
        )
        .where(most.c.giver_id < most.c.receiver_id, most.c.n + back.c.n >= RECIPROCITY_MIN)
        .order_by((most.c.n + back.c.n).desc(), most.c.giver_id, most.c.receiver_id)
        .limit(limit)
    )


def _pairs(rows: Iterable[Any]) -> list[Pair]:
    return [Pair(a, b, int(ab), int(ba), int(ga), int(gb)) for a, b, ab, ba, ga, gb in rows]


def pairs_among(sent: Iterable[tuple[str, str, int]], limit: int = PAIRS_SHOWN) -> list[Pair]:
    """`reciprocal_pairs` over (giver, receiver, kudos) counts the caller has already read
    (the dashboard's network, filtered or over a period `pairs_tallied` refuses, which sums
    them into its group table): the same pairs in the same order, without reading the
    period's kudos a second time."""
    gave: Counter[str] = Counter()
    counts: dict[tuple[str, str], int] = {}
    for giver, receiver, n in sent:
        gave[giver] += n
        counts[giver, receiver] = n
    most = {(g, r): n for (g, r), n in counts.items() if n * 2 > gave[g]}
    found = [
        Pair(a, b, n, back, gave[a], gave[b])
        for (a, b), n in most.items()
        if a < b and (back := most.get((b, a), 0)) and n + back >= RECIPROCITY_MIN
    ]
    found.sort(key=lambda pair: (-pair.exchanged, pair.first, pair.second))
    return found[:limit]


def _weekly(
    session: Session,
    team_id: str,
    weeks: tuple[Period, ...],
    where: ZoneInfo,
    known: KnownCounts | None = None,
) -> dict[int, tuple[int, ...]]:
    """Kudos per principle per week, from the read model (the week bounds are local
    midnights in `where`: whole UTC days from the tallies, the edge hours from the kudos)."""
    found = principle_counts(session, team_id, [week.bounds(where) for week in weeks], known)
    principles = {p for counts in found for p in counts}
    return {p: tuple(counts.get(p, 0) for counts in found) for p in principles}
