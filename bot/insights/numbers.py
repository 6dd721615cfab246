"""The dashboard's numbers: one function per page, each over (session, team, window, filters).

Every count is of kudos not withdrawn, one kudos to three people being three kudos, as in the
Slack reports; ranks are competition ranks (1, 2, 2, 4), as in Slack. Words (`Quote`) follow
the audience rule (bot/audience.py) for the viewer; counts are whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Numeric,
    String,
    Subquery,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from bot.audience import QuoteScope, quotable
from bot.db.engine import custom_plans, quick_reads
from bot.db.models import Kudos, KudosLatest, Principle
from bot.db.models import Person as PersonRow
from bot.insights.window import Filters, InvalidView, Window
from bot.mission.service import PrincipleInfo, numbered
from bot.people import find_people
from bot.reports import channels, summaries, usergroup_tallies, weighted
from bot.reports.health import (
    TOP_RECEIVERS,
    WEEKS,
    Pair,
    pairs_among,
    pairs_tallied,
    period_pairs,
)
from bot.reports.leaderboard import Range, counted
from bot.reports.periods import Period, PeriodKind, end_of_day, period_of
from bot.reports.weighted import SCORE_PLACES

# The longest weekly trend drawn; a longer window shows its last weeks.
MOST_WEEKS = 26
QUOTES_SHOWN = 20
LISTED = 500  # people listed on the 60-day lists (the count is whole)
# The 60-day lists count what the managers' Home and the digest count (they link here).
INACTIVE_DAYS = summaries.NOT_RECOGNISED_DAYS
TOP = 10


@dataclass(frozen=True, slots=True)
class PrincipleRef:
    info: PrincipleInfo
    retired: bool


@dataclass(frozen=True, slots=True)
class Totals:
    kudos: int
    givers: int
    receivers: int


@dataclass(frozen=True, slots=True)
class Week:
    start: dt.date
    count: int


@dataclass(frozen=True, slots=True)
class PrincipleCount:
    principle: PrincipleRef
    count: int


@dataclass(frozen=True, slots=True)
class Overview:
    totals: Totals
    previous: Totals | None
    active_people: int
    weekly: tuple[Week, ...]
    by_principle: tuple[PrincipleCount, ...]
    quiet: tuple[PrincipleInfo, ...]


@dataclass(frozen=True, slots=True)
class PrincipleRow:
    principle: PrincipleRef
    kudos: int
    givers: int
    receivers: int
    top_receivers: int
    weekly: tuple[Week, ...]  # the last 12 weeks of the window

    @property
    def top_share(self) -> float | None:
        return self.top_receivers / self.kudos if self.kudos else None


@dataclass(frozen=True, slots=True)
class Quote:
    """A kudos the viewer may read: its words, who gave it to whom, when."""

    created_at: dt.datetime
    giver_id: str
    receiver_id: str
    principle: PrincipleInfo
    message: str


@dataclass(frozen=True, slots=True)
class PrincipleDetail:
    row: PrincipleRow
    history: tuple[Week, ...]
    quotes: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class PersonPage:
    user_id: str
    received: tuple[PrincipleCount, ...]
    given: tuple[PrincipleCount, ...]
    weekly_received: tuple[Week, ...]
    weekly_given: tuple[Week, ...]
    first_recognised: dt.datetime | None
    last_recognised: dt.datetime | None
    quotes: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class Quiet:
    user_id: str
    last: dt.datetime | None  # their last kudos received (or given), ever


@dataclass(frozen=True, slots=True)
class QuietPeople:
    since: dt.datetime
    not_recognised: tuple[Quiet, ...]
    not_recognised_total: int
    gave_nothing: tuple[Quiet, ...]
    gave_nothing_total: int


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    user_id: str
    score: float
    kudos: int


@dataclass(frozen=True, slots=True)
class Boards:
    receivers: tuple[Ranked, ...]
    givers: tuple[Ranked, ...]
    weighted: tuple[Ranked, ...]


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class Network:
    groups: tuple[Group, ...]
    # kudos[i][j]: given by members of groups[i] to members of groups[j]
    kudos: tuple[tuple[int, ...], ...]
    pairs: tuple[Pair, ...]


# --- shared parts ----------------------------------------------------------------------------


def principles(session: Session, team_id: str) -> dict[int, PrincipleRef]:
    """Every principle of the team by id, active ones first in file order, then retired."""
    rows = session.scalars(
        select(Principle).where(Principle.team_id == team_id).order_by(Principle.position)
    ).all()
    infos = numbered(rows)
    ordered = sorted(rows, key=lambda r: (r.retired_at is not None, r.position))
    return {r.id: PrincipleRef(infos[r.id], r.retired_at is not None) for r in ordered}


def find_principle(catalog: Mapping[int, PrincipleRef], key: str) -> PrincipleRef:
    for ref in catalog.values():
        if ref.info.key == key:
            return ref
    raise InvalidView("There is no principle with that key in this workspace.")


def _among(session: Session, column: Any, members: Iterable[str]) -> ColumnElement[bool]:
    """`column` is one of `members`: on PostgreSQL one array parameter (`= ANY`), which the
    server hashes once, where an IN list bound each of a user group's thousands of members
    apart (5,000 parameters to send, parse and plan); on SQLite an IN list."""
    ordered = sorted(members)
    if session.get_bind().dialect.name == "postgresql":
        custom_plans(session)
        return column == any_(bindparam(None, ordered, type_=postgresql.ARRAY(String)))
    return column.in_(ordered)


def _where(
    session: Session,
    team_id: str,
    bounds: Range,
    filters: Filters,
    catalog: Mapping[int, PrincipleRef],
) -> list[ColumnElement[bool]]:
    conditions = counted(team_id, bounds)
    if filters.channel_id:
        conditions.append(Kudos.channel_id == filters.channel_id)
    if filters.principle_key:
        conditions.append(
            Kudos.principle_id == find_principle(catalog, filters.principle_key).info.id
        )
    if filters.members is not None:
        conditions.append(
            or_(
                _among(session, Kudos.giver_id, filters.members),
                _among(session, Kudos.receiver_id, filters.members),
            )
        )
    return conditions


def _summarised(filters: Filters) -> bool:
    """Whether the read model can answer: it counts by principle and person, not by channel
    nor by a group's members (a kudos counts when either side is one of them)."""
    return filters.channel_id is None and filters.members is None


def _by_tallies(filters: Filters) -> bool:
    """Whether a channel's or a user group's tallies can answer (bot/reports/channels.py): a
    channel and no user group (whose members' kudos they don't count), or a user group whose
    tallies are current and no channel."""
    if filters.members is None:
        return filters.channel_id is not None
    return filters.tallied and filters.channel_id is None


def _scope(session: Session, team_id: str, filters: Filters) -> channels.Scope | None:
    """The tallies that answer for `filters` (`_by_tallies`); None: the read model's or the
    raw kudos'. A user group's are checked again in the page's own snapshot: its tallies
    may have moved to other members since the page was asked for."""
    if not _by_tallies(filters):
        return None
    if filters.members is None:
        assert filters.channel_id is not None
        return channels.Scope(filters.channel_id)
    assert filters.group_id is not None
    if not usergroup_tallies.is_current(session, team_id, filters.group_id, filters.members):
        return None
    return channels.Scope(filters.group_id, group=True)


def _raw(filters: Filters) -> bool:
    """Whether an overview or principles page reads the raw kudos (a user group's, untallied)."""
    return not (_summarised(filters) or _by_tallies(filters))


def _principle_id(catalog: Mapping[int, PrincipleRef], filters: Filters) -> int | None:
    if not filters.principle_key:
        return None
    return find_principle(catalog, filters.principle_key).info.id


def _summary_totals(
    session: Session,
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    per_principle: Mapping[int, int],
) -> Totals:
    """Kudos (from the period's per-principle counts), givers and receivers from the read
    model, the two people counts in one statement."""
    kudos = (
        per_principle.get(principle_id, 0)
        if principle_id is not None
        else sum(per_principle.values())
    )
    givers, receivers = (
        summaries.people_count(
            team_id, role, bounds, principle_id, dialect=session.get_bind().dialect.name
        )
        for role in (summaries.Role.GIVERS, summaries.Role.RECEIVERS)
    )
    row = session.execute(select(givers, receivers)).one()
    return Totals(kudos, int(row[0] or 0), int(row[1] or 0))


def _scope_totals(
    session: Session,
    team_id: str,
    scope: channels.Scope,
    bounds: Range,
    principle_id: int | None,
    per_principle: Mapping[int, int],
) -> Totals:
    """`_summary_totals` from a channel's or a user group's tallies."""
    kudos = (
        per_principle.get(principle_id, 0)
        if principle_id is not None
        else sum(per_principle.values())
    )
    key = summaries.ALL_PRINCIPLES if principle_id is None else principle_id
    found = channels.people(session, team_id, scope, bounds, key, top=0)
    people = found.get(key)
    return Totals(kudos, people.givers if people else 0, people.receivers if people else 0)


def weeks_of(
    window: Window, today: dt.date, most: int = MOST_WEEKS, *, fixed: bool = False
) -> tuple[Period, ...]:
    """The Monday-to-Sunday weeks the window touches (its last `most`), or with `fixed` the
    `most` weeks ending with its last; for all time, or a window still running, up to today's
    week."""
    last = today
    if window.end is not None and window.end <= today:
        last = window.end - dt.timedelta(days=1)
    final = period_of(PeriodKind.WEEK, last)
    assert final.start is not None
    count = most if fixed or window.start is None else (final.start - window.start).days // 7 + 1
    count = max(1, min(most, count))
    return tuple(
        period_of(PeriodKind.WEEK, final.start - dt.timedelta(weeks=n))
        for n in range(count - 1, -1, -1)
    )


def _weekly(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    weeks: Sequence[Period],
    zone: ZoneInfo,
    by: Any = None,
) -> dict[object, tuple[Week, ...]]:
    """Kudos per week (per `by`, or in all under the key None), the kudos grouped by their
    week's number: on PostgreSQL a binary search of the weeks' edges (`width_bucket`), on
    SQLite a CASE of them. A conditional sum a week had compared each kudos with both edges
    of every week: 52 comparisons a kudos for 26 weeks, over the 1.7 million kudos of a
    channel holding them all at ten million."""
    edges = [week.bounds(zone) for week in weeks]
    cuts = [start for start, _end in edges] + [edges[-1][1]]
    week: ColumnElement[int]
    if session.get_bind().dialect.name == "postgresql":
        # 1 for the first week, len(weeks) for the last (the kudos outside are filtered).
        instants = postgresql.ARRAY(DateTime(timezone=True))
        week = func.width_bucket(Kudos.created_at, bindparam(None, cuts, type_=instants))
    else:
        week = case(
            *((Kudos.created_at < end, n) for n, (_start, end) in enumerate(edges, start=1)),
            else_=len(edges),
        )
    keys = [by] if by is not None else []
    query = (
        select(*keys, week, func.count())
        .where(*conditions, Kudos.created_at >= cuts[0], Kudos.created_at < cuts[-1])
        .group_by(*keys, week)
    )
    counts: dict[object, list[int]] = {} if by is not None else {None: [0] * len(weeks)}
    for row in session.execute(query):
        key = row[0] if by is not None else None
        counts.setdefault(key, [0] * len(weeks))[int(row[-2]) - 1] += int(row[-1])
    return {
        key: tuple(
            Week(w.start, n) for w, n in zip(weeks, found, strict=True) if w.start is not None
        )
        for key, found in counts.items()
    }


def _empty_weeks(weeks: Sequence[Period]) -> tuple[Week, ...]:
    return tuple(Week(w.start, 0) for w in weeks if w.start is not None)


def _totals(session: Session, conditions: Sequence[ColumnElement[bool]]) -> Totals:
    """Kudos, givers and receivers, the people counted from the kudos grouped per person
    (hashed): `count(DISTINCT …)` sorted the period's kudos once for each role. On
    PostgreSQL both roles' groups come from one read of the kudos (GROUPING SETS: two hash
    tables filled in one pass), where a subquery a role read them twice (November's 274,000
    for the previous month, at ten million)."""
    if session.get_bind().dialect.name == "postgresql":
        # grouping(giver, receiver): 1 for the givers' rows, 2 for the receivers'.
        role = func.grouping(Kudos.giver_id, Kudos.receiver_id).label("role")
        people = (
            select(role, func.count().label("n"))
            .where(*conditions)
            .group_by(func.grouping_sets(Kudos.giver_id, Kudos.receiver_id))
            .subquery()
        )
        found = {
            int(r): (int(n), int(k))
            for r, n, k in session.execute(
                select(people.c.role, func.count(), func.sum(people.c.n)).group_by(people.c.role)
            )
        }
        givers, kudos = found.get(1, (0, 0))
        return Totals(kudos, givers, found.get(2, (0, 0))[0])
    by_giver = (
        select(Kudos.giver_id, func.count().label("n"))
        .where(*conditions)
        .group_by(Kudos.giver_id)
        .subquery()
    )
    by_receiver = (
        select(Kudos.receiver_id).where(*conditions).group_by(Kudos.receiver_id).subquery()
    )
    gave = select(
        func.coalesce(func.sum(by_giver.c.n), 0).label("kudos"), func.count().label("people")
    ).subquery()
    got = select(func.count().label("people")).select_from(by_receiver).subquery()
    row = session.execute(
        select(gave.c.kudos, gave.c.people, got.c.people).select_from(gave.join(got, true()))
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]))


def _per_principle(session: Session, conditions: Sequence[ColumnElement[bool]]) -> Counter[int]:
    query = select(Kudos.principle_id, func.count()).where(*conditions)
    rows = session.execute(query.group_by(Kudos.principle_id))
    return Counter({int(p): int(n) for p, n in rows})


def _spanning(*ranges: Range) -> Range:
    """The shortest range holding every one of `ranges` (None: open at that end)."""
    starts, ends = [r[0] for r in ranges], [r[1] for r in ranges]
    return (
        None if None in starts else min(s for s in starts if s is not None),
        None if None in ends else max(e for e in ends if e is not None),
    )


def _inside(bounds: Range) -> ColumnElement[bool]:
    """A kudos's `created_at` is inside `[start, end)`."""
    start, end = bounds
    conditions = [
        *([] if start is None else [Kudos.created_at >= start]),
        *([] if end is None else [Kudos.created_at < end]),
    ]
    return and_(*conditions) if conditions else true()


def _week_number(weeks: Sequence[Period], zone: ZoneInfo) -> ColumnElement[int]:
    """The kudos's week among `weeks`, 1 for the first (PostgreSQL's `width_bucket` over the
    weeks' edges: 0 before the first, len(weeks) + 1 after the last)."""
    edges = [week.bounds(zone) for week in weeks]
    cuts = [start for start, _end in edges] + [edges[-1][1]]
    instants = postgresql.ARRAY(DateTime(timezone=True))
    return func.width_bucket(Kudos.created_at, bindparam(None, cuts, type_=instants))


# `grouping(giver, receiver, principle, week)` of the overview's grouping sets: a bit set for
# each column the set leaves out, the first column the highest.
_GIVERS, _RECEIVERS, _PRINCIPLES, _WEEKS = 0b0111, 0b1011, 0b1101, 0b1110


def _raw_overview(
    session: Session,
    team_id: str,
    window: Window,
    before: Window | None,
    weeks: Sequence[Period],
    filters: Filters,
    catalog: Mapping[int, PrincipleRef],
) -> tuple[Totals, Totals | None, dict[object, tuple[Week, ...]], Counter[int]]:
    """The overview's numbers from the raw kudos on PostgreSQL, in one read of the kudos from
    the first day any of them needs to the last: the window's and the previous period's
    givers and receivers (grouped per period and person), kudos per principle, kudos per
    week, each a hash table of one GROUPING SETS pass, each kudos tagged with its period and
    numbered with its week. A user group's page had read the kudos four times (the window
    twice, the previous period and the weeks), each kudos probed against the members each
    time: a group of 5,000 at ten million kudos, 175 ms (bench/RESULTS.md §47)."""
    periods = [("w", window.bounds)] + ([("p", before.bounds)] if before is not None else [])
    edges = [week.bounds(window.zone) for week in weeks]
    read = _spanning(*(b for _name, b in periods), (edges[0][0], edges[-1][1]))
    tag = case(*((_inside(b), literal(name)) for name, b in periods), else_=None)
    kudos = (
        select(
            tag.label("tag"),
            _week_number(weeks, window.zone).label("week"),
            Kudos.giver_id,
            Kudos.receiver_id,
            Kudos.principle_id,
        )
        .where(*_where(session, team_id, read, filters, catalog))
        .subquery()
    )
    c = kudos.c
    grouped = (
        select(
            func.grouping(c.giver_id, c.receiver_id, c.principle_id, c.week).label("kind"),
            c.tag,
            c.principle_id,
            c.week,
            func.count().label("n"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(c.tag, c.giver_id),
                tuple_(c.tag, c.receiver_id),
                tuple_(c.tag, c.principle_id),
                c.week,
            )
        )
        .subquery()
    )
    g = grouped.c
    people: Counter[tuple[str, int]] = Counter()
    kudos_of: Counter[str] = Counter()
    counts: Counter[int] = Counter()
    by_week = [0] * len(weeks)
    for kind, name, principle_id, week, groups, n in session.execute(
        select(g.kind, g.tag, g.principle_id, g.week, func.count(), func.sum(g.n)).group_by(
            g.kind, g.tag, g.principle_id, g.week
        )
    ):
        if kind == _WEEKS:
            if 1 <= week <= len(weeks):
                by_week[week - 1] += int(n)
        elif name is None:
            continue  # the kudos of the weeks outside both periods
        elif kind in (_GIVERS, _RECEIVERS):
            people[name, kind] += int(groups)
            if kind == _GIVERS:
                kudos_of[name] += int(n)
        elif kind == _PRINCIPLES and name == "w":
            counts[int(principle_id)] += int(n)

    def totals(name: str) -> Totals:
        return Totals(kudos_of[name], people[name, _GIVERS], people[name, _RECEIVERS])

    weekly: dict[object, tuple[Week, ...]] = {
        None: tuple(
            Week(w.start, n) for w, n in zip(weeks, by_week, strict=True) if w.start is not None
        )
    }
    return totals("w"), totals("p") if before is not None else None, weekly, counts


def _by_principle(
    catalog: Mapping[int, PrincipleRef], counts: Counter[int]
) -> tuple[PrincipleCount, ...]:
    rows = [
        PrincipleCount(ref, counts.get(pid, 0))
        for pid, ref in catalog.items()
        if not ref.retired or counts.get(pid)
    ]
    return tuple(sorted(rows, key=lambda r: -r.count))


def active_people(session: Session, team_id: str, members: frozenset[str] | None = None) -> int:
    """People in the workspace's directory who are neither bots nor deactivated."""
    query = select(func.count()).where(summaries.active_people(team_id))
    if members is not None:
        query = query.where(_among(session, PersonRow.user_id, members))
    return int(session.scalar(query) or 0)


def _quotes(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    viewer_id: str,
    catalog: Mapping[int, PrincipleRef],
    limit: int = QUOTES_SHOWN,
) -> tuple[Quote, ...]:
    rows = session.execute(
        select(
            Kudos.created_at, Kudos.giver_id, Kudos.receiver_id, Kudos.principle_id, Kudos.message
        )
        .where(*conditions, quotable(QuoteScope(viewer_id=viewer_id)))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(limit)
    )
    return tuple(
        Quote(created, giver, receiver, catalog[pid].info, message)
        for created, giver, receiver, pid, message in rows
    )


def names(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """People's names from the directory; someone it doesn't know keeps their ID."""
    wanted = set(user_ids)
    found = find_people(session=session, team_id=team_id, user_ids=wanted)
    return {user_id: (found[user_id].name if user_id in found else user_id) for user_id in wanted}


# --- the pages -------------------------------------------------------------------------------


def overview(
    session: Session, team_id: str, window: Window, filters: Filters, *, today: dt.date
) -> Overview:
    quick_reads(session, parallel=_raw(filters))
    catalog = principles(session, team_id)
    before = window.previous()
    weeks = weeks_of(window, today)
    scope = _scope(session, team_id, filters)
    if _summarised(filters) or scope is not None:
        pid = _principle_id(catalog, filters)
        # Every period's per-principle counts in one call (two statements): the window, the
        # one before it and each week of the trend.
        periods = [window.bounds, *(w.bounds(window.zone) for w in weeks)]
        if before:
            periods.append(before.bounds)
        if scope is not None:
            found = channels.principle_counts(session, team_id, scope, periods)

            def totals_of(bounds: Range, per_principle: Mapping[int, int]) -> Totals:
                assert scope is not None
                return _scope_totals(session, team_id, scope, bounds, pid, per_principle)

        else:
            found = summaries.principle_counts(session, team_id, periods)

            def totals_of(bounds: Range, per_principle: Mapping[int, int]) -> Totals:
                return _summary_totals(session, team_id, bounds, pid, per_principle)

        counts = Counter({p: n for p, n in found[0].items() if pid is None or p == pid})
        totals = totals_of(window.bounds, found[0])
        previous = totals_of(before.bounds, found[-1]) if before else None
        weekly: dict[object, tuple[Week, ...]] = {
            None: tuple(
                Week(week.start, sum(n for p, n in c.items() if pid is None or p == pid))
                for week, c in zip(weeks, found[1 : 1 + len(weeks)], strict=True)
                if week.start is not None
            )
        }
    elif session.get_bind().dialect.name == "postgresql":
        totals, previous, weekly, counts = _raw_overview(
            session, team_id, window, before, weeks, filters, catalog
        )
    else:
        conditions = _where(session, team_id, window.bounds, filters, catalog)
        totals = _totals(session, conditions)
        previous = (
            _totals(session, _where(session, team_id, before.bounds, filters, catalog))
            if before
            else None
        )
        weekly = _weekly(
            session, _where(session, team_id, (None, None), filters, catalog), weeks, window.zone
        )
        counts = _per_principle(session, conditions)
    by_principle = _by_principle(catalog, counts)
    quiet = tuple(
        ref.info for pid, ref in catalog.items() if not ref.retired and not counts.get(pid)
    )
    return Overview(
        totals=totals,
        previous=previous,
        active_people=active_people(session, team_id, filters.members),
        weekly=weekly.get(None, _empty_weeks(weeks)),
        by_principle=by_principle,
        quiet=quiet,
    )


def principle_rows(
    session: Session, team_id: str, window: Window, filters: Filters, *, today: dt.date
) -> tuple[PrincipleRow, ...]:
    """One row per principle (retired ones only with kudos in the window)."""
    quick_reads(session, parallel=_raw(filters))
    return _principle_rows(session, team_id, window, filters, today=today)[0]


def _principle_rows(
    session: Session,
    team_id: str,
    window: Window,
    filters: Filters,
    *,
    today: dt.date,
    history: Sequence[Period] = (),
) -> tuple[tuple[PrincipleRow, ...], list[dict[int, int]] | None]:
    """`principle_rows`, and with the read model each principle's kudos in the `history`
    weeks too: the window, its 12 weeks and those, in one `principle_counts` (two
    statements, where each set of periods cost two more)."""
    catalog = principles(session, team_id)
    weeks = weeks_of(window, today, WEEKS, fixed=True)
    counted_weeks: list[dict[int, int]] | None = None
    scope = _scope(session, team_id, filters)
    if _summarised(filters) or scope is not None:
        pid = _principle_id(catalog, filters)
        zone = window.zone
        periods = [
            window.bounds,
            *(w.bounds(zone) for w in weeks),
            *(w.bounds(zone) for w in history),
        ]
        if scope is not None:
            found = channels.principle_counts(session, team_id, scope, periods)
            people = channels.people(session, team_id, scope, window.bounds, pid, TOP_RECEIVERS)
        else:
            found = summaries.principle_counts(session, team_id, periods)
            people, _everyone = summaries.people_by_principle(
                session,
                team_id,
                window.bounds,
                TOP_RECEIVERS,
                pid,
                with_overall=False,
                until=end_of_day(today, zone),
            )
        kudos_of, counted_weeks = found[0], found[1 + len(weeks) :]
        stats = {
            p: (n, people[p].givers, people[p].receivers, people[p].top_receivers)
            for p, n in kudos_of.items()
            if p in people
        }
        by_week = list(zip(weeks, found[1 : 1 + len(weeks)], strict=True))
        weekly: dict[object, tuple[Week, ...]] = {
            p: tuple(Week(w.start, c.get(p, 0)) for w, c in by_week if w.start is not None)
            for p in {p for _w, c in by_week for p in c}
            if pid is None or p == pid
        }
    else:
        stats, weekly = _raw_principle_stats(session, team_id, window, filters, catalog, weeks)
    rows = []
    for principle_id, ref in catalog.items():
        kudos, givers, receivers, top = stats.get(principle_id, (0, 0, 0, 0))
        if filters.principle_key and ref.info.key != filters.principle_key:
            continue
        if ref.retired and not kudos:
            continue
        rows.append(
            PrincipleRow(
                ref,
                kudos,
                givers,
                receivers,
                top,
                weekly.get(principle_id, _empty_weeks(weeks)),
            )
        )
    return tuple(rows), counted_weeks


def _raw_principle_stats(
    session: Session,
    team_id: str,
    window: Window,
    filters: Filters,
    catalog: Mapping[int, PrincipleRef],
    weeks: Sequence[Period],
) -> tuple[dict[int, tuple[int, int, int, int]], dict[object, tuple[Week, ...]]]:
    """Per principle (kudos, givers, receivers, top-5 kudos) and its weeks, from the raw
    kudos: for the filters the read model doesn't count by."""
    if session.get_bind().dialect.name == "postgresql":
        return _raw_principle_stats_once(session, team_id, window, filters, catalog, weeks)
    conditions = _where(session, team_id, window.bounds, filters, catalog)
    # Each principle's receivers ranked by their kudos, in SQL: the top 5's kudos are the sum
    # of the first five places (ties don't change the sum). Loading every (principle,
    # receiver) count into Python cost more than counting them (a month of a channel
    # holding every kudos at ten million: 50,000 rows).
    per_receiver = (
        select(
            Kudos.principle_id.label("pid"),
            func.count().label("n"),
            func.row_number()
            .over(partition_by=Kudos.principle_id, order_by=func.count().desc())
            .label("place"),
        )
        .where(*conditions)
        .group_by(Kudos.principle_id, Kudos.receiver_id)
        .subquery()
    )
    received = session.execute(
        select(
            per_receiver.c.pid,
            func.sum(per_receiver.c.n),
            func.count(),
            func.sum(case((per_receiver.c.place <= TOP_RECEIVERS, per_receiver.c.n), else_=0)),
        ).group_by(per_receiver.c.pid)
    ).all()
    # Grouped per (principle, giver) first, hashed, where `count(DISTINCT …)` sorted.
    per_giver = (
        select(Kudos.principle_id.label("pid"))
        .where(*conditions)
        .group_by(Kudos.principle_id, Kudos.giver_id)
        .subquery()
    )
    givers = {
        int(pid): int(n)
        for pid, n in session.execute(
            select(per_giver.c.pid, func.count()).group_by(per_giver.c.pid)
        )
    }
    weekly = _weekly(
        session,
        _where(session, team_id, (None, None), filters, catalog),
        weeks,
        window.zone,
        by=Kudos.principle_id,
    )
    stats = {
        int(pid): (int(kudos), givers.get(int(pid), 0), int(people), int(top))
        for pid, kudos, people, top in received
    }
    return stats, weekly


# `grouping(receiver, giver, week)` of the principles' grouping sets (as `_GIVERS`).
_BY_RECEIVER, _BY_GIVER, _BY_WEEK = 0b011, 0b101, 0b110


def _raw_principle_stats_once(
    session: Session,
    team_id: str,
    window: Window,
    filters: Filters,
    catalog: Mapping[int, PrincipleRef],
    weeks: Sequence[Period],
) -> tuple[dict[int, tuple[int, int, int, int]], dict[object, tuple[Week, ...]]]:
    """`_raw_principle_stats` on PostgreSQL in one read of the kudos of the window and its
    weeks (three had read the window twice and the 12 weeks once): per principle its
    window's kudos grouped per receiver and per giver and its kudos per week, the hash
    tables of one GROUPING SETS pass. The person is grouped only for the window's kudos
    (NULL otherwise: one group a principle for the weeks' others), so the weeks before a
    month's window add no person groups."""
    edges = [week.bounds(window.zone) for week in weeks]
    read = _spanning(window.bounds, (edges[0][0], edges[-1][1]))
    inside = _inside(window.bounds)
    kudos = (
        select(
            Kudos.principle_id,
            case((inside, Kudos.receiver_id), else_=None).label("receiver"),
            case((inside, Kudos.giver_id), else_=None).label("giver"),
            _week_number(weeks, window.zone).label("week"),
        )
        .where(*_where(session, team_id, read, filters, catalog))
        .subquery()
    )
    c = kudos.c
    kind = func.grouping(c.receiver, c.giver, c.week)
    grouped = (
        select(
            kind.label("kind"),
            c.principle_id,
            c.week,
            func.count().label("n"),
            func.row_number()
            .over(partition_by=(kind, c.principle_id), order_by=func.count().desc())
            .label("place"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(c.principle_id, c.receiver),
                tuple_(c.principle_id, c.giver),
                tuple_(c.principle_id, c.week),
            )
        )
        # The groups of the kudos outside the window (the person NULL) are no one.
        .having(
            or_(
                kind == _BY_WEEK,
                func.coalesce(c.receiver, c.giver).is_not(None),
            )
        )
        .subquery()
    )
    g = grouped.c
    stats: dict[int, list[int]] = {}
    counted_weeks: dict[int, list[int]] = {}
    for kind_of, principle_id, week, n, people, top in session.execute(
        select(
            g.kind,
            g.principle_id,
            g.week,
            func.sum(g.n),
            func.count(),
            func.sum(case((g.place <= TOP_RECEIVERS, g.n), else_=0)),
        ).group_by(g.kind, g.principle_id, g.week)
    ):
        pid = int(principle_id)
        if kind_of == _BY_WEEK:
            if 1 <= week <= len(weeks):
                counted_weeks.setdefault(pid, [0] * len(weeks))[week - 1] += int(n)
            continue
        row = stats.setdefault(pid, [0, 0, 0, 0])
        if kind_of == _BY_RECEIVER:
            row[0], row[2], row[3] = int(n), int(people), int(top)
        else:
            row[1] = int(people)
    weekly: dict[object, tuple[Week, ...]] = {
        pid: tuple(Week(w.start, n) for w, n in zip(weeks, found, strict=True) if w.start)
        for pid, found in counted_weeks.items()
    }
    return {pid: (k, gave, got, top) for pid, (k, gave, got, top) in stats.items()}, weekly


def principle_detail(
    session: Session,
    team_id: str,
    window: Window,
    filters: Filters,
    key: str,
    *,
    viewer_id: str,
    today: dt.date,
) -> PrincipleDetail:
    quick_reads(session, parallel=_raw(filters))
    catalog = principles(session, team_id)
    ref = find_principle(catalog, key)
    narrowed = dataclasses.replace(filters, principle_key=key)
    weeks = weeks_of(window, today)
    row, counted_weeks = _principle_rows(
        session, team_id, window, narrowed, today=today, history=weeks
    )
    if not row:  # retired, with nothing in the window
        row = (
            PrincipleRow(ref, 0, 0, 0, 0, _empty_weeks(weeks_of(window, today, WEEKS, fixed=True))),
        )
    if counted_weeks is not None:
        history = tuple(
            Week(week.start, counts.get(ref.info.id, 0))
            for week, counts in zip(weeks, counted_weeks, strict=True)
            if week.start is not None
        )
    else:
        history = _weekly(
            session, _where(session, team_id, (None, None), narrowed, catalog), weeks, window.zone
        ).get(None, _empty_weeks(weeks))
    quotes = _quotes(
        session, _where(session, team_id, window.bounds, narrowed, catalog), viewer_id, catalog
    )
    return PrincipleDetail(row[0], history, quotes)


def person_page(
    session: Session,
    team_id: str,
    window: Window,
    filters: Filters,
    user_id: str,
    *,
    viewer_id: str,
    today: dt.date,
) -> PersonPage:
    quick_reads(session)
    catalog = principles(session, team_id)
    conditions = _where(session, team_id, window.bounds, filters, catalog)
    everywhere = _where(session, team_id, (None, None), filters, catalog)
    weeks = weeks_of(window, today)
    received_where = [*conditions, Kudos.receiver_id == user_id]
    given_where = [*conditions, Kudos.giver_id == user_id]
    first, last = session.execute(
        select(func.min(Kudos.created_at), func.max(Kudos.created_at)).where(
            *counted(team_id, (None, None)), Kudos.receiver_id == user_id
        )
    ).one()
    return PersonPage(
        user_id=user_id,
        received=_by_principle(catalog, _per_principle(session, received_where)),
        given=_by_principle(catalog, _per_principle(session, given_where)),
        weekly_received=_weekly(
            session, [*everywhere, Kudos.receiver_id == user_id], weeks, window.zone
        ).get(None, _empty_weeks(weeks)),
        weekly_given=_weekly(
            session, [*everywhere, Kudos.giver_id == user_id], weeks, window.zone
        ).get(None, _empty_weeks(weeks)),
        first_recognised=_utc(first),
        last_recognised=_utc(last),
        quotes=_quotes(
            session,
            [*conditions, or_(Kudos.receiver_id == user_id, Kudos.giver_id == user_id)],
            viewer_id,
            catalog,
        ),
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # min()/max() come back untyped on SQLite (text without an offset).
    if value is None or (isinstance(value, dt.datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


def quiet_people(
    session: Session,
    team_id: str,
    filters: Filters,
    *,
    now: dt.datetime,
    days: int = INACTIVE_DAYS,
    listed: int = LISTED,
) -> QuietPeople:
    """Active people with no kudos received (and, apart, none given) in the last `days` days."""
    quick_reads(session)
    since = now - dt.timedelta(days=days)
    lists: list[tuple[tuple[Quiet, ...], int]] = []
    # When every active person has received (given) at some time, those quiet since are the
    # few whose latest kudos is before `since` or gone: a range of `kudos_latest`'s index,
    # each joined with their directory row, not every person probed (migration 0025).
    unseen = summaries.people_without_latest(session, team_id)
    for role, who in (
        (summaries.Role.RECEIVERS, Kudos.receiver_id),
        (summaries.Role.GIVERS, Kudos.giver_id),
    ):
        last = (
            select(func.max(Kudos.created_at))
            .where(*counted(team_id, (None, None)), who == PersonRow.user_id)
            .scalar_subquery()
        )
        if not unseen[role]:
            latest = aliased(KudosLatest)
            conditions = [
                latest.team_id == team_id,
                latest.role == summaries.ROLE_CODES[role],
                or_(latest.last_at.is_(None), latest.last_at < since),
                summaries.active_people(team_id),
            ]
            if filters.members is not None:
                conditions.append(_among(session, PersonRow.user_id, filters.members))
            rows = session.execute(
                select(PersonRow.user_id, last.label("last"), func.count().over())
                .select_from(latest)
                .join(
                    PersonRow,
                    and_(PersonRow.team_id == team_id, PersonRow.user_id == latest.user_id),
                )
                .where(*conditions)
                .order_by(last.is_not(None), last, PersonRow.user_id)
                .limit(listed)
            ).all()
            total = int(rows[0][2]) if rows else 0
            lists.append((tuple(Quiet(user_id, _utc(at)) for user_id, at, _n in rows), total))
            continue
        # Who received (gave) anything in the last `days` days: the whole months' tallies
        # hashed once, then a seek for the few not in them (`recognised_since`), where a
        # probe of the kudos per person cost 50,000 probes at 50,000 people, and the counts
        # of the period per person summed a quarter's tallies less its first days' raw kudos.
        recent = summaries.recognised_since(team_id, role, since, PersonRow.user_id)
        # Tested in a CASE, not as `NOT (…)`: PostgreSQL split the negation into two
        # conditions and hashed every receiver of the days before the months (218,000 kudos
        # at ten million) instead of seeking the few people the months leave.
        conditions = [summaries.active_people(team_id), case((recent, 1), else_=0) == 0]
        if filters.members is not None:
            conditions.append(_among(session, PersonRow.user_id, filters.members))
        # The whole count beside the first `listed` (a window over every row, before the
        # limit): the aggregate above runs once for both.
        rows = session.execute(
            select(PersonRow.user_id, last.label("last"), func.count().over())
            .where(*conditions)
            .order_by(last.is_not(None), last, PersonRow.user_id)
            .limit(listed)
        ).all()
        total = int(rows[0][2]) if rows else 0
        lists.append((tuple(Quiet(user_id, _utc(at)) for user_id, at, _n in rows), total))
    (unrecognised, unrecognised_total), (silent, silent_total) = lists
    return QuietPeople(since, unrecognised, unrecognised_total, silent, silent_total)


def _pairs(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> list[tuple[str, str, int]]:
    # Through the session's connection (Core): the ORM's row loading cost more than the
    # query for a month's 40,000 pairs at ten million kudos.
    rows = session.connection().execute(
        select(Kudos.giver_id, Kudos.receiver_id, func.count())
        .where(*conditions)
        .group_by(Kudos.giver_id, Kudos.receiver_id)
    )
    return [(giver, receiver, int(n)) for giver, receiver, n in rows]


# Between user IDs (which are letters and digits) in `_each_kudos`'s one string.
_SEPARATOR = "\x1f"


def _each_kudos(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> tuple[list[str], list[str]]:
    """The giver and the receiver of each kudos (two lists in step), read as one string joined
    by the database and split here: a row each cost the bot twice the CPU (a month at ten
    million kudos, 50,000 rows: ~72 ms in rows, ~37 ms so)."""
    pair = Kudos.giver_id + _SEPARATOR + Kudos.receiver_id
    joined = (
        func.string_agg(pair, _SEPARATOR)
        if session.get_bind().dialect.name == "postgresql"
        else func.group_concat(pair, _SEPARATOR)
    )
    found = session.execute(select(joined).where(*conditions)).scalar()
    ids = found.split(_SEPARATOR) if found else []
    return ids[::2], ids[1::2]


def ranked(scores: Mapping[str, float], kudos: Mapping[str, int], top: int) -> tuple[Ranked, ...]:
    """Competition ranks (1, 2, 2, 4) by score, then user ID; every one tied at rank `top`
    included."""
    rounded = {user: round(score, SCORE_PLACES) for user, score in scores.items()}
    order = sorted(rounded, key=lambda user: (-rounded[user], user))
    result: list[Ranked] = []
    for place, user in enumerate(order, start=1):
        rank = result[-1].rank if result and rounded[result[-1].user_id] == rounded[user] else place
        if rank > top:
            break
        result.append(Ranked(rank, user, scores[user], kudos[user]))
    return tuple(result)


def leaderboards(
    session: Session, team_id: str, window: Window, filters: Filters, *, top: int = TOP
) -> Boards:
    """Receivers and givers by kudos, and receivers weighted: Σ √(kudos from each giver)."""
    quick_reads(session, parallel=_raw(filters))
    catalog = principles(session, team_id)
    scope = _scope(session, team_id, filters)
    if _summarised(filters) or scope is not None:
        return _boards_from_reports(session, team_id, window, catalog, filters, top, scope)
    received: dict[str, int] = {}
    gave: dict[str, int] = {}
    weighted: dict[str, float] = {}
    conditions = _where(session, team_id, window.bounds, filters, catalog)
    for role, user, n, score in session.execute(_board_candidates(conditions, top)):
        if role == "gave":
            gave[user] = int(n)
        else:
            received[user] = int(n)
            weighted[user] = float(score)
    return Boards(
        receivers=ranked({u: float(n) for u, n in received.items()}, received, top),
        givers=ranked({u: float(n) for u, n in gave.items()}, gave, top),
        weighted=ranked(weighted, received, top),
    )


# Room for the weighted scores' rounding (to SCORE_PLACES) and their sums' order.
_SCORE_SLACK = 1e-5


def _board_candidates(conditions: Sequence[ColumnElement[bool]], top: int) -> Any:
    """The people who can rank in the top `top` of the three boards, in one statement: each
    receiver's kudos and weighted score (Σ √(kudos from each giver)) and each giver's kudos,
    from the period's kudos grouped per (giver, receiver), kept when at or above the
    `top`-th highest (a score within its rounding of it). `ranked` ranks them as it would
    rank everyone: whoever ranks above a kept person is kept too. The period's 45,000 pairs
    (a month of a channel holding every kudos, at ten million) had been loaded into Python
    to be summed there."""
    pairs = (
        select(
            Kudos.giver_id.label("giver"),
            Kudos.receiver_id.label("receiver"),
            func.count().label("n"),
        )
        .where(*conditions)
        .group_by(Kudos.giver_id, Kudos.receiver_id)
        .cte("pairs")
    )
    got = (
        select(
            pairs.c.receiver.label("user_id"),
            func.sum(pairs.c.n).label("kudos"),
            func.sum(func.sqrt(cast(pairs.c.n, Float))).label("score"),
        )
        .group_by(pairs.c.receiver)
        .cte("got")
    )
    gave = (
        select(pairs.c.giver.label("user_id"), func.sum(pairs.c.n).label("kudos"))
        .group_by(pairs.c.giver)
        .cte("gave")
    )

    def at_place(column: Any) -> Any:
        highest = select(column).order_by(column.desc()).limit(1).offset(top - 1)
        return func.coalesce(highest.scalar_subquery(), 0)

    return union_all(
        select(literal("got"), got.c.user_id, got.c.kudos, got.c.score).where(
            or_(
                got.c.kudos >= at_place(got.c.kudos),
                got.c.score >= at_place(got.c.score) - _SCORE_SLACK,
            )
        ),
        select(literal("gave"), gave.c.user_id, gave.c.kudos, literal(0.0)).where(
            gave.c.kudos >= at_place(gave.c.kudos)
        ),
    )


def _boards_from_reports(
    session: Session,
    team_id: str,
    window: Window,
    catalog: Mapping[int, PrincipleRef],
    filters: Filters,
    top: int,
    scope: channels.Scope | None,
) -> Boards:
    """The boards from the read model (a channel's or a group's from its tallies), ranked as Slack's
    `/kudos leaderboard` ranks them: receivers and givers read most first, a page at a time
    (the receivers' pages also give the weighted board its candidates: one aggregate for
    both). A channel's boards had grouped the period's raw kudos per (giver, receiver): a
    month of a channel holding every kudos at ten million, ~100 ms (bench/RESULTS.md §60)."""
    pid = _principle_id(catalog, filters)
    received = ByCount(
        session, _person_counts(team_id, summaries.Role.RECEIVERS, window.bounds, pid, scope)
    )
    gave = ByCount(
        session, _person_counts(team_id, summaries.Role.GIVERS, window.bounds, pid, scope)
    )
    return Boards(
        receivers=_counted_board(received, top),
        givers=_counted_board(gave, top),
        weighted=weighted_top(session, team_id, window.bounds, pid, top, received, scope=scope),
    )


def _person_counts(
    team_id: str,
    role: summaries.Role,
    bounds: Range,
    principle_id: int | None,
    scope: channels.Scope | None,
) -> Subquery:
    """Each person's kudos in the period: the read model's, or a channel's or group's
    tallies'."""
    if scope is not None:
        return channels.person_counts(team_id, scope, role, bounds, principle_id)
    return summaries.person_counts(team_id, role, bounds, principle_id)


class ByCount:
    """People by kudos received (or given) in the period from the read model, most first
    (ties by user ID), fetched a page at a time: a board needs its first few dozen of the
    period's 50,000, and the aggregate under them is one statement a page."""

    def __init__(self, session: Session, counts: Subquery, page: int = 64) -> None:
        """`counts`: a subquery of (user_id, n), as `summaries.person_counts` (or a channel's,
        `channels.person_counts`) makes it."""
        self._counts = counts
        self._session = session
        self._rows: list[tuple[str, int]] = []
        self._limit = page
        self._complete = False

    def get(self, index: int) -> tuple[str, int] | None:
        while index >= len(self._rows) and not self._complete:
            counts = self._counts
            self._rows = [
                (user, int(n))
                for user, n in self._session.execute(
                    select(counts.c.user_id, counts.c.n)
                    .order_by(counts.c.n.desc(), counts.c.user_id)
                    .limit(self._limit)
                )
            ]
            self._complete = len(self._rows) < self._limit
            self._limit *= 4
        return self._rows[index] if index < len(self._rows) else None


def _counted_board(people: ByCount, top: int) -> tuple[Ranked, ...]:
    """Competition ranks (1, 2, 2, 4) by count, everyone tied at rank `top` included."""
    result: list[Ranked] = []
    place = 0
    while (row := people.get(place)) is not None:
        user, n = row
        rank = result[-1].rank if result and result[-1].kudos == n else place + 1
        if rank > top:
            break
        result.append(Ranked(rank, user, float(n), n))
        place += 1
    return tuple(result)


def weighted_top(
    session: Session,
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    top: int = TOP,
    received: ByCount | None = None,
    *,
    scope: channels.Scope | None = None,
) -> tuple[Ranked, ...]:
    """The weighted board's top `top` ranks (bot/reports/weighted.py: Σ √(kudos from each
    giver), compared to six places, ties alike), scoring only the receivers who can reach
    them. A score is at most the kudos received (√n ≤ n), so receivers are scored in order of
    their kudos (from the read model), a batch at a time, until the next one's kudos are below
    the score at place `top`: nobody after them can rank that high. Where everyone's kudos
    come from different people (scores near their kudos) that is a few batches, not every
    (giver, receiver) pair of the period (all time at ten million kudos: ten million)."""
    scores_of: Callable[[Sequence[str]], dict[str, tuple[Decimal, float]]]
    if bounds == (None, None) and principle_id is None and scope is None:
        # All time from the all-time tallies and repeated pairs (bot/reports/weighted.py),
        # a few receivers at a time: their raw kudos are many (at ten million the first 20
        # received 194,000, read and grouped per giver in ~370 ms), and scoring every
        # receiver from the tallies read all 59,000 repeated pairs (~60-110 ms).
        scores_of = functools.partial(weighted.tallied_scores, session, team_id)
    else:
        scores_of = functools.partial(
            _weighted_scores, session, team_id, bounds, principle_id, scope
        )
    if received is None:
        counts = _person_counts(team_id, summaries.Role.RECEIVERS, bounds, principle_id, scope)
        received = ByCount(session, counts)
    kudos: dict[str, int] = {}
    scored: dict[str, tuple[Decimal, float]] = {}
    done, batch = 0, 2 * top
    while (row := received.get(done)) is not None:
        if len(scored) >= top:
            threshold = sorted((c for c, _score in scored.values()), reverse=True)[top - 1]
            if row[1] < threshold:
                break
        wanted: list[str] = []
        while len(wanted) < batch and (row := received.get(done)) is not None:
            kudos[row[0]] = row[1]
            wanted.append(row[0])
            done += 1
        scored.update(scores_of(wanted))
        batch *= 2
    ordered = sorted(scored, key=lambda user: (-scored[user][0], user))
    result: list[Ranked] = []
    for place, user in enumerate(ordered, start=1):
        compared, score = scored[user]
        rank = result[-1].rank if result and scored[result[-1].user_id][0] == compared else place
        if rank > top:
            break
        result.append(Ranked(rank, user, score, kudos[user]))
    return tuple(result)


def _weighted_scores(
    session: Session,
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    scope: channels.Scope | None,
    receivers: Sequence[str],
) -> dict[str, tuple[Decimal, float]]:
    """Receiver → (score compared to six places, score), as weighted_leaderboard computes
    them, for these receivers only (read through the kudos' receiver index), of `scope`'s
    kudos alone (a channel's, a user group's) when one is named."""
    conditions = [*counted(team_id, bounds), Kudos.receiver_id.in_(list(receivers))]
    if principle_id is not None:
        conditions.append(Kudos.principle_id == principle_id)
    if scope is not None:
        conditions.append(scope.raw())
    pairs = (
        select(Kudos.receiver_id, func.count().label("n"))
        .where(*conditions)
        .group_by(Kudos.receiver_id, Kudos.giver_id)
        .subquery()
    )
    score = func.sum(func.sqrt(pairs.c.n))
    rows = session.execute(
        select(pairs.c.receiver_id, func.round(cast(score, Numeric), SCORE_PLACES), score).group_by(
            pairs.c.receiver_id
        )
    )
    return {user: (Decimal(str(compared)), float(value)) for user, compared, value in rows}


def network(
    session: Session, team_id: str, window: Window, filters: Filters, groups: Sequence[Group]
) -> Network:
    """Kudos between user groups (a person in two groups counts in both), and the pairs who
    give each other most of their kudos (bot/reports/health.py says when that is)."""
    quick_reads(session)
    catalog = principles(session, team_id)
    conditions = _where(session, team_id, window.bounds, filters, catalog)
    # The pair tallies count over every principle, by no channel nor group.
    tallied = _summarised(filters) and not filters.principle_key and pairs_tallied(window.bounds)
    # Each member's groups, in order, a set operation a group: appending them one member at
    # a time cost 60-90 ms for ten groups of 5,000 people, against 12 ms so.
    index: dict[str, tuple[int, ...]] = {}
    for i, group in enumerate(groups):
        shared = {member: index[member] + (i,) for member in group.members & index.keys()}
        index.update(dict.fromkeys(group.members, (i,)))
        index.update(shared)
    # Kudos per (giver's groups, receiver's groups): a few dozen keys, added to the table after.
    between: Counter[tuple[tuple[int, ...] | None, tuple[int, ...] | None]] = Counter()
    if tallied:
        # The pairs come from the tallies (below), so each kudos is counted as it comes:
        # grouping them per (giver, receiver) first cost the server 45 ms for a month's
        # 46,000 at ten million kudos, nearly one kudos a pair (RESULTS.md §28). Counted by
        # Counter, map and zip, in C: a loop here cost ~35 ms for a month's 50,000.
        givers, receivers = _each_kudos(session, conditions)
        between.update(zip(map(index.get, givers), map(index.get, receivers), strict=True))
    else:
        pairs = _pairs(session, conditions)
        for giver, receiver, n in pairs:
            between[index.get(giver), index.get(receiver)] += n
    matrix = [[0] * len(groups) for _ in groups]
    for (gave, got), n in between.items():
        if gave and got:
            for i in gave:
                row = matrix[i]
                for j in got:
                    row[j] += n
    # Counting the pairs in Python from the month's 46,000 (giver, receiver) counts cost 60 ms
    # at ten million kudos, against ~35 ms for their candidates in the tallies: the same
    # pairs, in the same order. Without each giver's kudos: period_pairs reads those of the
    # candidates' givers alone (a month's 31,000 givers cost ~20 ms more at ten million).
    found = period_pairs(session, team_id, window.bounds) if tallied else pairs_among(pairs)
    return Network(tuple(groups), tuple(tuple(row) for row in matrix), tuple(found))
