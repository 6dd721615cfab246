"""A channel's or a user group's numbers from their tallies (`kudos_channel_tallies`,
migrations 0023 and 0026): the dashboard's pages filtered by a channel or a tallied user
group, exactly the raw kudos' answers for any period in any timezone.

A period is covered as the read model covers one (bot/reports/summaries.py: `cover`): whole
UTC days (kudos per principle) or months (people) from the tallies, signed, and the edge
hours from the scope's raw kudos (a channel's through its covering index, migration 0019; a
group's: those whose giver or receiver is a member). A local month is its UTC month and a
few hours: its distinct givers and receivers are the month's people counts (one row each)
corrected for the people of those hours, as `summaries.people_count` corrects a count; each
principle's top receivers come from the month's receiver rows with the hours added, counted
per count (a histogram, not a sort).
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db.models import Kudos, KudosChannelTally, TalliedUsergroupMember
from bot.reports import summaries
from bot.reports.summaries import ALL_PRINCIPLES, Cover, Grain, Range, Role

_PEOPLE_GRAINS = (Grain.MONTH,)
_ROLE = {Role.RECEIVERS: "r", Role.GIVERS: "g"}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose tallies: a channel's (`key` its ID: the kudos given there) or, `group`, a
    tallied user group's (`key` its ID: the kudos whose giver or receiver is one of the
    members its tallies count, `tallied_usergroup_members`). Hashable, for the remembered
    statements."""

    key: str
    group: bool = False

    def raw(self) -> ColumnElement[bool]:
        """The raw kudos of the scope (of the edge hours the tallies don't cover). A group's
        members are those its tallies count, read in the same snapshot, not bound as a list:
        a list of 500 members bound into each edge's statement cost more to bind than the
        statements took (SQLite: 40 ms a page), and SQLite sought each member's kudos through
        the person indexes where the few edge hours' kudos are read through the time index."""
        if not self.group:
            return Kudos.channel_id == self.key
        return self.involving(Kudos.team_id, Kudos.giver_id, Kudos.receiver_id)

    def involving(self, team: Any, giver: Any, receiver: Any) -> ColumnElement[bool]:
        """A group's kudos, of these columns: its giver or its receiver is a member."""
        return or_(group_member(team, self.key, giver), group_member(team, self.key, receiver))


def group_member(team: Any, group_id: str, column: Any) -> ColumnElement[bool]:
    """`column` is one of the members a tallied user group's tallies count (of `team`, a
    value or a column): the reader's edge hours and the sync's changes test the same."""
    m = TalliedUsergroupMember
    return exists().where(m.team_id == team, m.group_id == group_id, m.user_id == column)


def _who(role: Role) -> Any:
    return Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id


def _span_conditions(span: summaries.Span) -> list[ColumnElement[bool]]:
    return summaries.bucket_conditions(KudosChannelTally.bucket, span)


def _parts(
    team_id: str, scope: Scope, role: Role, plan: Cover, principle_id: int | None
) -> list[Any]:
    """The plan's pieces as selects of (principle_id, user_id, n), n signed: the month rows
    of every principle and of all together (None), of all together alone (ALL_PRINCIPLES)
    or of one principle, and the raw kudos of the edges grouped likewise."""
    parts: list[Any] = []
    wanted = [KudosChannelTally.principle_id == principle_id] if principle_id is not None else []
    for span in plan.spans:
        parts.append(
            select(
                KudosChannelTally.principle_id.label("principle_id"),
                KudosChannelTally.user_id.label("user_id"),
                (KudosChannelTally.kudos * span[3]).label("n"),
            ).where(
                KudosChannelTally.team_id == team_id,
                KudosChannelTally.channel_id == scope.key,
                KudosChannelTally.role == _ROLE[role],
                *_span_conditions(span),
                *wanted,
            )
        )
    who = _who(role)
    for first, last, sign in plan.raw:
        conditions = [*summaries.counted(team_id, (first, last)), scope.raw()]
        count = summaries._small(func.count()) * sign
        if principle_id != ALL_PRINCIPLES:
            if principle_id is not None:
                conditions.append(Kudos.principle_id == principle_id)
            parts.append(
                select(
                    Kudos.principle_id.label("principle_id"), who.label("user_id"), count.label("n")
                )
                .where(*conditions)
                .group_by(Kudos.principle_id, who)
            )
        if principle_id is None or principle_id == ALL_PRINCIPLES:
            parts.append(
                select(
                    literal(ALL_PRINCIPLES).label("principle_id"),
                    who.label("user_id"),
                    count.label("n"),
                )
                .where(*conditions)
                .group_by(who)
            )
    return parts


def person_counts(
    team_id: str, scope: Scope, role: Role, bounds: Range, principle_id: int | None
) -> Subquery:
    """A subquery of (user_id, n): the standing kudos each person received (or gave) in the
    scope in the period, for one principle or all, people with none left out; as
    `summaries.person_counts` has them, from the scope's month rows and edge hours."""
    plan = summaries.cover(bounds, _PEOPLE_GRAINS)
    parts = _parts(team_id, scope, role, plan, principle_id or ALL_PRINCIPLES)
    # One principle's pieces (or all together's): their principle column is the same on
    # every row, so each piece is its (user_id, n).
    return summaries.combined_counts(
        plan,
        [
            part.with_only_columns(part.selected_columns.user_id, part.selected_columns.n)
            for part in parts
        ],
    )


def _one_month(plan: Cover) -> int | None:
    """The index of the plan's one month bucket, added, when everything else is raw hours (a
    local month); None otherwise."""
    spans = plan.spans
    if len(spans) != 1 or spans[0][3] != 1 or spans[0][1] is None or spans[0][2] is None:
        return None
    return 0 if summaries._buckets(spans[0]) == 1 else None


def people(
    session: Session,
    team_id: str,
    scope: Scope,
    bounds: Range,
    principle_id: int | None,
    top: int,
    roles: Sequence[Role] = (Role.GIVERS, Role.RECEIVERS),
) -> dict[int, summaries.People]:
    """Per principle (0: all together): distinct givers, distinct receivers and the kudos of
    the `top` receivers in the scope in the period; with `principle_id` that one alone
    (ALL_PRINCIPLES: all together alone). Only `roles` are counted (the others left at 0);
    with `top` 0 the receivers are counted as the givers are, without their top."""
    found: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for role in roles:
        column = 0 if role == Role.GIVERS else 1
        counted, query = _people_query(
            team_id,
            scope,
            role,
            bounds,
            principle_id,
            with_top=role == Role.RECEIVERS and top > 0,
        )
        if query is None:
            return {}
        if counted:
            for key, n in session.execute(query):
                found[int(key)][column] += int(n)
            continue
        histogram: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for key, *n, count in session.execute(query):
            histogram[int(key)].append((int(n[0]) if n else 0, int(count)))
        for key, counts in histogram.items():
            row = found[key]
            if role == Role.RECEIVERS:
                row[1] = sum(c for _n, c in counts)
                row[2] = summaries._top_sum(counts, top)
            else:
                row[0] = sum(c for _n, c in counts)
    return {key: summaries.People(*row) for key, row in found.items() if any(row)}


# Remembered, as summaries.people_count: a statement depends on its arguments alone and is
# never changed after, and building one cost about as much Python as running it (the
# channel's overview builds four, its principles page two; the same for every view of a
# page until its period ends).
@functools.lru_cache(maxsize=256)
def _people_query(
    team_id: str,
    scope: Scope,
    role: Role,
    bounds: Range,
    principle_id: int | None,
    *,
    with_top: bool,
) -> tuple[bool, Any]:
    """`people`'s statement for one role: (True, rows of (principle_id, people)) where the
    period is a month and edge hours and no top is wanted (the month's people counts
    corrected), else (False, rows of (principle_id, [n,] people): how many people have each
    count, the count only for the receivers); (False, None) for an empty period."""
    plan = summaries.cover(bounds, _PEOPLE_GRAINS)
    if not plan.spans and not plan.raw:
        return False, None
    parts = _parts(team_id, scope, role, plan, principle_id)
    if not with_top and _one_month(plan) is not None:
        return True, _counted(team_id, scope, role, plan, parts, principle_id)
    # A month's rows are one per (principle, person) already: joined with the few people of
    # the edge hours, not grouped again (a month of a channel holding every kudos, at ten
    # million: ~100,000 receiver rows).
    per_person = summaries.combined_counts(plan, parts, ("principle_id", "user_id"))
    keys = [per_person.c.principle_id] + ([per_person.c.n] if role == Role.RECEIVERS else [])
    return False, select(*keys, func.count()).group_by(*keys)


def _counted(
    team_id: str,
    scope: Scope,
    role: Role,
    plan: Cover,
    parts: list[Any],
    principle_id: int | None,
) -> Any:
    """(principle_id, people) for a month bucket and raw hours: the month's people counts
    (one row a principle) plus, for each person the hours touch, whether they count with
    the hours less whether they counted in the month alone."""
    span = plan.spans[0]
    counts = select(
        KudosChannelTally.principle_id.label("principle_id"),
        KudosChannelTally.kudos.label("n"),
    ).where(
        KudosChannelTally.team_id == team_id,
        KudosChannelTally.channel_id == scope.key,
        KudosChannelTally.role == _ROLE[role].upper(),
        *_span_conditions(span),
        *([] if principle_id is None else [KudosChannelTally.principle_id == principle_id]),
    )
    edges = parts[1:]
    if not edges:
        return counts
    rows = union_all(*edges).subquery()
    edge = (
        select(rows.c.principle_id, rows.c.user_id, summaries._small(func.sum(rows.c.n)).label("n"))
        .group_by(rows.c.principle_id, rows.c.user_id)
        .subquery()
    )
    held = func.coalesce(KudosChannelTally.kudos, 0)
    # The principle named as a value too, not only through the edges' column (whose value
    # the planner doesn't see): otherwise PostgreSQL hashed the month's rows of every
    # principle for the edges' few hundred people (the current month of a channel holding
    # every kudos, at a million kudos: 10,000 rows read for 191 wanted).
    principle = [] if principle_id is None else [KudosChannelTally.principle_id == principle_id]
    correction = (
        select(
            edge.c.principle_id,
            (case((held + edge.c.n > 0, 1), else_=0) - case((held > 0, 1), else_=0)).label("n"),
        )
        .select_from(edge)
        .outerjoin(
            KudosChannelTally,
            and_(
                KudosChannelTally.team_id == team_id,
                KudosChannelTally.channel_id == scope.key,
                KudosChannelTally.role == _ROLE[role],
                *_span_conditions(span),
                *principle,
                KudosChannelTally.principle_id == edge.c.principle_id,
                KudosChannelTally.user_id == edge.c.user_id,
            ),
        )
    )
    both = union_all(counts, correction).subquery()
    return select(both.c.principle_id, func.sum(both.c.n)).group_by(both.c.principle_id)


def principle_counts(
    session: Session, team_id: str, scope: Scope, periods: Sequence[Range]
) -> list[dict[int, int]]:
    """For each `[start, end)`, the scope's standing kudos per principle (principles with
    none left out): whole UTC days from the tallies in one statement, the edge hours of every
    period from the raw kudos in one more."""
    plans = [summaries.cover(b, (Grain.DAY,), summaries.PRINCIPLE_BUCKET_S) for b in periods]
    found: list[defaultdict[int, int]] = [defaultdict(int) for _ in periods]
    spans = [span for plan in plans for span in plan.spans]
    if spans:
        firsts, lasts = [s[1] for s in spans], [s[2] for s in spans]
        conditions = [
            KudosChannelTally.team_id == team_id,
            KudosChannelTally.channel_id == scope.key,
            KudosChannelTally.role == "p",
        ]
        if None not in firsts:
            conditions.append(KudosChannelTally.bucket >= min(f for f in firsts if f))
        if None not in lasts:
            conditions.append(KudosChannelTally.bucket < max(x for x in lasts if x))
        rows = session.execute(
            select(
                KudosChannelTally.bucket, KudosChannelTally.principle_id, KudosChannelTally.kudos
            )
            .where(*conditions)
            .order_by(KudosChannelTally.bucket)
        ).all()
        days = [row[0] for row in rows]
        for index, plan in enumerate(plans):
            for _grain, first, last, sign in plan.spans:
                low = 0 if first is None else bisect.bisect_left(days, first)
                high = len(days) if last is None else bisect.bisect_left(days, last)
                for _day, principle_id, n in rows[low:high]:
                    found[index][int(principle_id)] += int(n) * sign
    edges: dict[Range, list[tuple[int, int]]] = {}
    for index, plan in enumerate(plans):
        for first, last, sign in plan.raw:
            edges.setdefault((first, last), []).append((index, sign))
    if edges:
        ranges = list(edges)
        if scope.group:
            # The edges' kudos first, the members' test once over all of them: each edge's
            # own test read and hashed the members (PostgreSQL, twice an edge: ~3 ms of each
            # of a principles page's dozen edges at ten million kudos).
            kudos = union_all(
                *(
                    select(
                        literal(number).label("edge"),
                        Kudos.team_id,
                        Kudos.principle_id,
                        Kudos.giver_id,
                        Kudos.receiver_id,
                    ).where(*summaries.counted(team_id, raw))
                    for number, raw in enumerate(ranges)
                )
            )
            # Materialised: PostgreSQL pushed the test down into every edge again.
            edge_kudos = kudos.cte("edge_kudos").prefix_with("MATERIALIZED", dialect="postgresql")
            k = edge_kudos.c
            statement: Any = (
                select(k.edge, k.principle_id, func.count())
                .where(scope.involving(k.team_id, k.giver_id, k.receiver_id))
                .group_by(k.edge, k.principle_id)
            )
        else:
            statement = union_all(
                *(
                    select(literal(number).label("edge"), Kudos.principle_id, func.count())
                    .where(*summaries.counted(team_id, raw), scope.raw())
                    .group_by(Kudos.principle_id)
                    for number, raw in enumerate(ranges)
                )
            )
        sums = session.execute(statement).all()
        for number, principle_id, n in sums:
            for index, sign in edges[ranges[number]]:
                found[index][int(principle_id)] += int(n) * sign
    return [{p: n for p, n in counts.items() if n} for counts in found]
