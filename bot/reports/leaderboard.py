"""Leaderboards and the principle report: who received (or gave) most kudos in a period, and
how each principle fared against the period before.

Each answer is one aggregate query over `kudos` (GROUP BY, with RANK() as a window function,
which PostgreSQL and SQLite >= 3.25 both have) filtered on team and time, so it uses the kudos
indexes and never loops over rows in Python. Withdrawn kudos never count; kudos tagged with a
principle that has since been retired still do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.db.models import Kudos, Principle
from bot.errors import Msgid, UnknownPrinciple, UserError
from bot.i18n.speech import N_
from bot.mission.service import PrincipleInfo, load_catalog, numbered, principle_info
from bot.reports.periods import Period, is_period
from bot.reports.summaries import (
    KnownCounts,
    Range,
    Role,
    counted,
    person_counts,
    principle_counts,
)
from bot.text import echo

TOP = 10
SPLIT_TOP = 3

__all__ = ["Range", "Role", "counted"]


@dataclass(frozen=True, slots=True)
class Standing:
    """One person's place: competition rank (1, 2, 2, 4), count, and count per principle."""

    rank: int
    user_id: str
    count: int
    split: tuple[tuple[PrincipleInfo, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Leaderboard:
    period: Period
    role: Role
    principle: PrincipleInfo | None
    entries: tuple[Standing, ...]
    caller: Standing | None
    caller_id: str | None
    total: int
    people: int


@dataclass(frozen=True, slots=True)
class PrincipleCount:
    principle: PrincipleInfo
    count: int
    previous: int | None
    retired: bool = False

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.count - self.previous


@dataclass(frozen=True, slots=True)
class PrincipleReport:
    period: Period
    previous: Period | None
    counts: tuple[PrincipleCount, ...]
    quiet: tuple[PrincipleInfo, ...]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)


# Whole sentences, so that each is one message to translate (PERIOD_HELP's words are in it).
LEADERBOARD_USAGE = N_(
    "`/kudos leaderboard [period] [#principle] [givers|weighted] [share]`, for example "
    "`/kudos leaderboard quarter #plain-words givers`. Periods: `week`, `month`, `quarter`, "
    "`year`, `all`, a month like `2026-03` or a quarter like `2026-Q1`."
)
_CHANNEL_LINK = re.compile(r"^<#[CG][A-Z0-9]+\|([^>]*)>$")
_GIVER_WORDS = frozenset({"givers", "giver", "given", "gave"})
_RECEIVER_WORDS = frozenset({"receivers", "receiver", "received"})


@dataclass(frozen=True, slots=True)
class ReportArgs:
    """What `/kudos leaderboard …` (or `principles`, `export`) asked for, unchecked."""

    period: str = ""
    principle: str | None = None
    role: Role = Role.RECEIVERS
    share: bool = False
    # Ranked by recognition from different people (bot/reports/weighted.py).
    weighted: bool = False


def parse_report_args(text: str, usage: str = LEADERBOARD_USAGE) -> ReportArgs:
    """`[period] [#principle] [givers] [share]` in any order; anything else is refused."""
    period, principle, role, share, weighted = "", None, Role.RECEIVERS, False, False
    for token in text.split():
        lowered = token.lower()
        link = _CHANNEL_LINK.match(token)
        if link or token.startswith("#"):
            # A principle key that is also a channel name arrives as a channel link.
            principle = link[1] if link else token[1:]
        elif lowered in _GIVER_WORDS:
            role = Role.GIVERS
        elif lowered in _RECEIVER_WORDS:
            role = Role.RECEIVERS
        elif lowered == "share":
            share = True
        elif lowered == "weighted":
            weighted = True
        elif is_period(lowered) and not period:
            period = lowered
        else:
            raise UserError(
                N_("I don't understand {token} here. Try {usage}"),
                fields={"token": echo(token), "usage": Msgid(usage)},
            )
    return ReportArgs(period, principle or None, role, share, weighted)


def all_principles(session: Session, team_id: str) -> dict[int, PrincipleInfo]:
    """Every principle of the team by id, retired ones included (they label old kudos)."""
    rows = session.scalars(
        select(Principle).where(Principle.team_id == team_id).order_by(Principle.position)
    ).all()
    return numbered(rows)


def find_principle(session: Session, team_id: str, reference: str) -> PrincipleInfo:
    """An active principle by key, number or title; else a retired one by its exact key."""
    catalog = load_catalog(session, team_id=team_id)
    try:
        return catalog.resolve(reference)
    except UnknownPrinciple:
        key = reference.strip().removeprefix("#").lower()
        retired = session.scalar(
            select(Principle).where(Principle.team_id == team_id, Principle.key == key)
        )
        if retired is None:
            raise
        return principle_info(retired)


def leaderboard(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    role: Role = Role.RECEIVERS,
    principle: PrincipleInfo | None = None,
    caller_id: str | None = None,
    top: int = TOP,
    split_top: int = SPLIT_TOP,
) -> Leaderboard:
    """The top `top` ranks (everyone tied at a rank included), and the caller's own standing."""
    who = Kudos.receiver_id if role == Role.RECEIVERS else Kudos.giver_id
    conditions = counted(team_id, bounds)
    if principle is not None:
        conditions.append(Kudos.principle_id == principle.id)
    counts = person_counts(team_id, role, bounds, principle.id if principle else None)
    rows, total, people = _top_and_caller(session, counts, top, caller_id)
    places = _ranked(rows, top, caller_id)
    splits = _splits(
        session,
        team_id,
        who,
        conditions,
        [user_id for rank, user_id, _n in places if rank <= top][:split_top],
    )
    standings = [Standing(rank, user_id, n, splits.get(user_id, ())) for rank, user_id, n in places]
    entries = tuple(s for s in standings if s.rank <= top)
    caller = next((s for s in standings if s.rank > top and s.user_id == caller_id), None)
    return Leaderboard(
        period=period,
        role=role,
        principle=principle,
        entries=entries,
        caller=caller,
        caller_id=caller_id,
        total=total,
        people=people,
    )


@dataclass(frozen=True, slots=True)
class Top:
    """A period's top ranks alone, most received first (the App Home's top five): no totals,
    no caller, no split by principle."""

    period: Period
    entries: tuple[Standing, ...]


def top_ranks(*, session: Session, team_id: str, period: Period, bounds: Range, top: int) -> Top:
    """The receivers at the top `top` ranks (everyone tied at a rank included), as
    `leaderboard` ranks them, without the period's totals: the counts' first rows by a
    LIMIT (a top-N sort), read again with a larger LIMIT while the last row read is tied
    with the `top`-th. `leaderboard` ranks from one statement that also sums everyone and
    counts them, which every Home drew and none shows (the Home's month at ten million
    kudos: 17.9 against 13.7 ms, bench/RESULTS.md §60)."""
    counts = person_counts(team_id, Role.RECEIVERS, bounds)
    ordered = select(counts.c.user_id, counts.c.n).order_by(counts.c.n.desc(), counts.c.user_id)
    limit = 4 * top
    while True:
        rows = [(user_id, int(n)) for user_id, n in session.execute(ordered.limit(limit))]
        if len(rows) < limit or rows[-1][1] < rows[top - 1][1]:
            break
        limit *= 4
    places = _ranked([(user_id, n, None) for user_id, n in rows], top, None)
    return Top(period, tuple(Standing(rank, user_id, n, ()) for rank, user_id, n in places))


def _top_and_caller(
    session: Session, counts: Subquery, top: int, caller_id: str | None
) -> tuple[list[tuple[str, int, int | None]], int, int]:
    """The people with at least the `top`-th count (everyone tied with it included) and the
    caller, each as (user ID, count, how many people have more — the caller's alone); the
    period's total and its number of people. One statement over the counts, without ranking
    everyone: a window function sorted all 50,000 people of a year for ten of them."""
    found = select(counts.c.user_id, counts.c.n).cte("found")
    other = found.alias("other")
    threshold = (
        select(found.c.n).order_by(found.c.n.desc()).limit(1).offset(top - 1).scalar_subquery()
    )
    wanted: ColumnElement[bool] = found.c.n >= func.coalesce(threshold, 0)
    above: ColumnElement[Any] = literal(None)
    if caller_id is not None:
        wanted = or_(wanted, found.c.user_id == caller_id)
        # Each a scalar subquery computed once (not per row: PostgreSQL then costed the
        # statement as if it ran per row, and compiled it with JIT for 0.6 s).
        mine = select(other.c.n).where(other.c.user_id == caller_id).scalar_subquery()
        above = select(func.count()).where(other.c.n > mine).scalar_subquery()
    total = select(func.sum(other.c.n)).scalar_subquery()
    people = select(func.count()).select_from(other).scalar_subquery()
    rows = session.execute(
        select(found.c.user_id, found.c.n, above, total, people)
        .where(wanted)
        .order_by(found.c.n.desc(), found.c.user_id)
    ).all()
    if not rows:
        return [], 0, 0
    return (
        [(u, int(n), a if u == caller_id else None) for u, n, a, _t, _p in rows],
        int(rows[0][3] or 0),
        int(rows[0][4] or 0),
    )


def _ranked(
    rows: Sequence[tuple[str, int, int | None]], top: int, caller_id: str | None
) -> list[tuple[int, str, int]]:
    """Competition ranks (1, 2, 2, 4): counted among the rows for those at the top (everyone
    with more than them is among the rows), from the database's count for the caller."""
    ranked: list[tuple[int, str, int]] = []
    for user_id, n, above in rows:
        rank = 1 + (above if above is not None else sum(1 for _u, m, _a in rows if m > n))
        if rank <= top or user_id == caller_id:
            ranked.append((rank, user_id, n))
    return ranked


def _splits(
    session: Session,
    team_id: str,
    who: ColumnElement[str] | InstrumentedAttribute[str],
    conditions: Sequence[ColumnElement[bool]],
    user_ids: Sequence[str],
) -> dict[str, tuple[tuple[PrincipleInfo, int], ...]]:
    """Count per principle for the given people, in one grouped query (and the principles
    read only then: the Home's top 5 has no split)."""
    if not user_ids:
        return {}
    principles = all_principles(session, team_id)
    count = func.count()
    rows = session.execute(
        select(who, Kudos.principle_id, count)
        .where(*conditions, who.in_(user_ids))
        .group_by(who, Kudos.principle_id)
        .order_by(who, count.desc(), Kudos.principle_id)
    ).all()
    found: dict[str, list[tuple[PrincipleInfo, int]]] = {}
    for user_id, principle_id, n in rows:
        found.setdefault(user_id, []).append((principles[principle_id], int(n)))
    return {user_id: tuple(split) for user_id, split in found.items()}


def principle_report(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    previous_bounds: Range | None,
    known: KnownCounts | None = None,
) -> PrincipleReport:
    """Kudos per principle in the period and the one before; the active principles with none.
    `known`: counts already read in this transaction (`principle_counts`)."""

    periods = [bounds] if previous_bounds is None else [bounds, previous_bounds]
    found = principle_counts(session, team_id, periods, known)
    now_counts, before_counts = found[0], found[1] if previous_bounds is not None else {}
    principles = session.scalars(select(Principle).where(Principle.team_id == team_id)).all()
    rows = sorted(
        (
            (p, now_counts.get(p.id, 0), before_counts.get(p.id, 0) if previous_bounds else None)
            for p in principles
        ),
        key=lambda row: (-row[1], row[0].retired_at is not None, row[0].position),
    )
    infos = numbered([row[0] for row in rows])
    counts: list[PrincipleCount] = []
    quiet: list[PrincipleInfo] = []
    for principle, now, earlier in rows:
        now_count = now
        previous = earlier
        info = infos[principle.id]
        retired = principle.retired_at is not None
        if retired and not now_count and not previous:
            continue
        counts.append(PrincipleCount(info, now_count, previous, retired))
        if not retired and not now_count:
            quiet.append(info)
    quiet.sort(key=lambda p: p.number or 0)
    return PrincipleReport(period, period.previous(), tuple(counts), tuple(quiet))
