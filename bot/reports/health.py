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

Each part is one aggregate query filtered on team and time (the kudos indexes), never a loop
over rows in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from bot.db.models import Kudos, Principle
from bot.mission.service import PrincipleInfo, numbered
from bot.reports.leaderboard import Range, counted
from bot.reports.periods import Period, PeriodKind, period_of

WEEKS = 12
TOP_RECEIVERS = 5
RECIPROCITY_MIN = 4
PAIRS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PrincipleHealth:
    principle: PrincipleInfo
    kudos: int
    givers: int
    receivers: int
    top_receivers: int  # kudos that went to the principle's top 5 receivers
    weekly: tuple[int, ...]  # kudos in each of the 12 weeks, oldest first
    retired: bool = False

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


def promise_health(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    where: ZoneInfo,
    today: dt.date,
    weeks: int = WEEKS,
) -> Health:
    """The health report of `period` (`bounds` is it in UTC), with the trend in `where`."""
    trend = trend_weeks(period, today, weeks)
    principles = _per_principle(session, team_id, bounds)
    weekly = _weekly(session, team_id, trend, where)
    top = _top_receivers(session, team_id, bounds)
    rows = session.scalars(
        select(Principle).where(Principle.team_id == team_id).order_by(Principle.position)
    ).all()
    infos = numbered(rows)
    health: list[PrincipleHealth] = []
    quiet: list[PrincipleInfo] = []
    for row in sorted(rows, key=lambda r: (r.retired_at is not None, r.position)):
        kudos, givers, receivers = principles.get(row.id, (0, 0, 0))
        per_week = weekly.get(row.id, (0,) * len(trend))
        retired = row.retired_at is not None
        if retired and not kudos and not any(per_week):
            continue
        health.append(
            PrincipleHealth(
                infos[row.id], kudos, givers, receivers, top.get(row.id, 0), per_week, retired
            )
        )
        if not retired and not kudos:
            quiet.append(infos[row.id])
    total, givers, receivers = _overall(session, team_id, bounds)
    return Health(
        period=period,
        weeks=trend,
        principles=tuple(health),
        quiet=tuple(quiet),
        pairs=tuple(reciprocal_pairs(session=session, team_id=team_id, bounds=bounds)),
        kudos=total,
        givers=givers,
        receivers=receivers,
        top_receivers=_top_receivers(session, team_id, bounds, per_principle=False).get(0, 0),
    )


def _per_principle(session: Session, team_id: str, bounds: Range) -> dict[int, tuple[int, ...]]:
    rows = session.execute(
        select(
            Kudos.principle_id,
            func.count(),
            func.count(func.distinct(Kudos.giver_id)),
            func.count(func.distinct(Kudos.receiver_id)),
        )
        .where(*counted(team_id, bounds))
        .group_by(Kudos.principle_id)
    ).all()
    return {pid: (int(n), int(g), int(r)) for pid, n, g, r in rows}


def _overall(session: Session, team_id: str, bounds: Range) -> tuple[int, int, int]:
    n, givers, receivers = session.execute(
        select(
            func.count(),
            func.count(func.distinct(Kudos.giver_id)),
            func.count(func.distinct(Kudos.receiver_id)),
        ).where(*counted(team_id, bounds))
    ).one()
    return int(n), int(givers), int(receivers)


def _weekly(
    session: Session, team_id: str, weeks: tuple[Period, ...], where: ZoneInfo
) -> dict[int, tuple[int, ...]]:
    """Kudos per principle per week: one pass over the 12 weeks, a conditional sum a week
    (the week bounds are local midnights, computed here, so both databases agree)."""
    edges = [week.bounds(where) for week in weeks]
    columns = [
        func.sum(case((and_(Kudos.created_at >= start, Kudos.created_at < end), 1), else_=0))
        for start, end in edges
    ]
    rows = session.execute(
        select(Kudos.principle_id, *columns)
        .where(*counted(team_id, (edges[0][0], edges[-1][1])))
        .group_by(Kudos.principle_id)
    ).all()
    return {row[0]: tuple(int(n or 0) for n in row[1:]) for row in rows}


def _top_receivers(
    session: Session, team_id: str, bounds: Range, *, per_principle: bool = True
) -> dict[int, int]:
    """Kudos that went to the top 5 receivers, per principle (or overall, under key 0)."""
    count = func.count()
    group = Kudos.principle_id if per_principle else None
    keys = [Kudos.principle_id, Kudos.receiver_id] if per_principle else [Kudos.receiver_id]
    ranked = (
        select(
            *keys,
            count.label("n"),
            func.row_number()
            .over(
                partition_by=group,
                order_by=(count.desc(), Kudos.receiver_id),
            )
            .label("place"),
        )
        .where(*counted(team_id, bounds))
        .group_by(*keys)
        .subquery()
    )
    if per_principle:
        rows = session.execute(
            select(ranked.c.principle_id, func.sum(ranked.c.n))
            .where(ranked.c.place <= TOP_RECEIVERS)
            .group_by(ranked.c.principle_id)
        ).all()
        return {int(pid): int(n) for pid, n in rows}
    total = session.scalar(select(func.sum(ranked.c.n)).where(ranked.c.place <= TOP_RECEIVERS))
    return {0: int(total or 0)}


def reciprocal_pairs(
    *, session: Session, team_id: str, bounds: Range, limit: int = PAIRS_SHOWN
) -> list[Pair]:
    """Pairs who each gave the other more than half of their kudos in the period (see the
    module docstring), most exchanged first."""
    sent = (
        select(Kudos.giver_id, Kudos.receiver_id, func.count().label("n"))
        .where(*counted(team_id, bounds))
        .group_by(Kudos.giver_id, Kudos.receiver_id)
        .subquery()
    )
    gave = (
        select(Kudos.giver_id, func.count().label("n"))
        .where(*counted(team_id, bounds))
        .group_by(Kudos.giver_id)
        .subquery()
    )
    back = aliased(sent)
    first_gave, second_gave = aliased(gave), aliased(gave)
    exchanged = sent.c.n + back.c.n
    rows = session.execute(
        select(sent.c.giver_id, sent.c.receiver_id, sent.c.n, back.c.n, first_gave.c.n)
        .add_columns(second_gave.c.n)
        .join(
            back, and_(back.c.giver_id == sent.c.receiver_id, back.c.receiver_id == sent.c.giver_id)
        )
        .join(first_gave, first_gave.c.giver_id == sent.c.giver_id)
        .join(second_gave, second_gave.c.giver_id == sent.c.receiver_id)
        .where(
            sent.c.giver_id < sent.c.receiver_id,
            sent.c.n * 2 > first_gave.c.n,
            back.c.n * 2 > second_gave.c.n,
            exchanged >= RECIPROCITY_MIN,
        )
        .order_by(exchanged.desc(), sent.c.giver_id, sent.c.receiver_id)
        .limit(limit)
    ).all()
    return [Pair(a, b, int(ab), int(ba), int(ga), int(gb)) for a, b, ab, ba, ga, gb in rows]
