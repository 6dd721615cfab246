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

Two queries, each filtered on team and time (the kudos indexes): the 12 weeks (a conditional
sum a week, grouped by principle), and the period's kudos counted per (principle, giver,
receiver) — one row per such triple, about 80,000 for a busy quarter of a 5,000-person
workspace — from which everything else is summed up here. Seven aggregates in SQL each
scanned the period again, and PostgreSQL sorts for every `count(DISTINCT …)`: on a million
kudos that took six times as long (bench/leaderboards.py, `health quarter`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Kudos, Principle
from bot.mission.service import PrincipleInfo, numbered
from bot.reports.periods import Period, PeriodKind, period_of
from bot.reports.summaries import Range, counted, principle_counts

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
    weekly = _weekly(session, team_id, trend, where)
    counts = _Counts.of(_triples(session, team_id, bounds))
    rows = session.scalars(
        select(Principle).where(Principle.team_id == team_id).order_by(Principle.position)
    ).all()
    infos = numbered(rows)
    health: list[PrincipleHealth] = []
    quiet: list[PrincipleInfo] = []
    for row in sorted(rows, key=lambda r: (r.retired_at is not None, r.position)):
        mine = counts.principles.get(row.id)
        per_week = weekly.get(row.id, (0,) * len(trend))
        retired = row.retired_at is not None
        kudos = mine.kudos if mine else 0
        if retired and not kudos and not any(per_week):
            continue
        health.append(
            PrincipleHealth(
                infos[row.id],
                kudos,
                len(mine.givers) if mine else 0,
                len(mine.received) if mine else 0,
                _top(mine.received) if mine else 0,
                per_week,
                retired,
            )
        )
        if not retired and not kudos:
            quiet.append(infos[row.id])
    overall = counts.overall
    return Health(
        period=period,
        weeks=trend,
        principles=tuple(health),
        quiet=tuple(quiet),
        pairs=tuple(counts.pairs()),
        kudos=overall.kudos,
        givers=len(overall.givers),
        receivers=len(overall.received),
        top_receivers=_top(overall.received),
    )


Triple = tuple[int, str, str, int]  # principle, giver, receiver, kudos


def _triples(session: Session, team_id: str, bounds: Range) -> list[Triple]:
    """The period's kudos counted per principle, giver and receiver (hash-aggregated)."""
    rows = session.execute(
        select(Kudos.principle_id, Kudos.giver_id, Kudos.receiver_id, func.count())
        .where(*counted(team_id, bounds))
        .group_by(Kudos.principle_id, Kudos.giver_id, Kudos.receiver_id)
    )
    return [(int(p), g, r, int(n)) for p, g, r, n in rows]


@dataclass
class _Tally:
    kudos: int = 0
    givers: set[str] = field(default_factory=set)
    received: Counter[str] = field(default_factory=Counter)


@dataclass
class _Counts:
    principles: dict[int, _Tally]
    overall: _Tally
    sent: Counter[tuple[str, str]]
    gave: Counter[str]

    @classmethod
    def of(cls, triples: list[Triple]) -> _Counts:
        # The hot loop of a health report (80,000 triples for a busy quarter): locals and
        # plain dict operations, no method call per row.
        principles: dict[int, _Tally] = {}
        overall = _Tally()
        sent: Counter[tuple[str, str]] = Counter()
        gave: Counter[str] = Counter()
        all_givers, all_received = overall.givers, overall.received
        for principle_id, giver, receiver, n in triples:
            tally = principles.get(principle_id)
            if tally is None:
                tally = principles[principle_id] = _Tally()
            tally.kudos += n
            tally.givers.add(giver)
            tally.received[receiver] += n
            all_givers.add(giver)
            all_received[receiver] += n
            sent[giver, receiver] += n
            gave[giver] += n
        overall.kudos = sum(t.kudos for t in principles.values())
        return cls(principles, overall, sent, gave)

    def pairs(self, limit: int = PAIRS_SHOWN) -> list[Pair]:
        """Pairs who each gave the other more than half of their kudos (module docstring)."""
        found = []
        for (first, second), there in self.sent.items():
            back = self.sent.get((second, first), 0)
            if (
                first < second
                and there * 2 > self.gave[first]
                and back * 2 > self.gave[second]
                and there + back >= RECIPROCITY_MIN
            ):
                found.append(Pair(first, second, there, back, self.gave[first], self.gave[second]))
        found.sort(key=lambda p: (-p.exchanged, p.first, p.second))
        return found[:limit]


def _top(received: Counter[str]) -> int:
    """Kudos that went to the five most recognised receivers."""
    return sum(n for _receiver, n in received.most_common(TOP_RECEIVERS))


def _weekly(
    session: Session, team_id: str, weeks: tuple[Period, ...], where: ZoneInfo
) -> dict[int, tuple[int, ...]]:
    """Kudos per principle per week, from the read model (the week bounds are local
    midnights in `where`: whole UTC days from the tallies, the edge hours from the kudos)."""
    found = principle_counts(session, team_id, [week.bounds(where) for week in weeks])
    principles = {p for counts in found for p in counts}
    return {p: tuple(counts.get(p, 0) for counts in found) for p in principles}
