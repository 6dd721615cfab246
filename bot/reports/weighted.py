"""The weighted leaderboard (`/kudos leaderboard month weighted`): receivers ranked by
recognition from *different* people.

A receiver's score is the sum, over the people who gave them kudos in the period, of the
square root of how many kudos that person gave them:

    score(r) = Σ_g √n(g, r)

One kudos from each of ten colleagues scores 10; ten from one friend score √10 ≈ 3.16; four
from one person score 2, as much as one each from two people. Why the square root: it is
concave, so every further kudos from the same person still counts but each counts less than
the one before, and a new person's first kudos always counts fully (1); unlike a cap ("count
each giver once"), it doesn't throw away a colleague's repeated, honest recognition; unlike
1 + log₂(n), it is 0 at n = 0 and needs no special case. Scores are compared to six decimal
places, so sums that are equal on paper (√2 + √2 and √8) rank alike; shown to one.

One aggregate query (kudos per giver and receiver, then per receiver) with RANK(), like the
plain leaderboard; withdrawn kudos never count. SQLite has `sqrt` from 3.35 (the database
engine registers it where a build lacks it, bot/db/engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Numeric, cast, func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Kudos
from bot.mission.service import PrincipleInfo
from bot.reports.leaderboard import TOP, Range, counted
from bot.reports.periods import Period

# Compared at this many decimal places: float sums that are equal on paper rank alike.
SCORE_PLACES = 6


@dataclass(frozen=True, slots=True)
class WeightedStanding:
    rank: int
    user_id: str
    score: float
    kudos: int
    givers: int


@dataclass(frozen=True, slots=True)
class WeightedBoard:
    period: Period
    principle: PrincipleInfo | None
    entries: tuple[WeightedStanding, ...]
    caller: WeightedStanding | None
    caller_id: str | None
    people: int
    kudos: int  # counted in the period


def weighted_leaderboard(
    *,
    session: Session,
    team_id: str,
    period: Period,
    bounds: Range,
    principle: PrincipleInfo | None = None,
    caller_id: str | None = None,
    top: int = TOP,
) -> WeightedBoard:
    """The top `top` ranks by Σ √(kudos from each giver), ties alike, and the caller's own."""
    conditions = counted(team_id, bounds)
    if principle is not None:
        conditions.append(Kudos.principle_id == principle.id)
    pairs = (
        select(Kudos.receiver_id, Kudos.giver_id, func.count().label("n"))
        .where(*conditions)
        .group_by(Kudos.receiver_id, Kudos.giver_id)
        .subquery()
    )
    score = func.sum(func.sqrt(pairs.c.n))
    compared = func.round(cast(score, Numeric), SCORE_PLACES)
    ranked = (
        select(
            pairs.c.receiver_id.label("user_id"),
            score.label("score"),
            func.sum(pairs.c.n).label("kudos"),
            func.count().label("givers"),
            func.rank().over(order_by=compared.desc()).label("rank"),
            func.count().over().label("people"),
            func.sum(func.sum(pairs.c.n)).over().label("total"),
        )
        .group_by(pairs.c.receiver_id)
        .subquery()
    )
    wanted = ranked.c.rank <= top
    if caller_id is not None:
        wanted = or_(wanted, ranked.c.user_id == caller_id)
    rows = session.execute(
        select(ranked).where(wanted).order_by(ranked.c.rank, ranked.c.user_id)
    ).all()
    standings = [
        WeightedStanding(int(r.rank), r.user_id, float(r.score), int(r.kudos), int(r.givers))
        for r in rows
    ]
    return WeightedBoard(
        period=period,
        principle=principle,
        entries=tuple(s for s in standings if s.rank <= top),
        caller=next((s for s in standings if s.rank > top and s.user_id == caller_id), None),
        caller_id=caller_id,
        people=int(rows[0].people) if rows else 0,
        kudos=int(rows[0].total) if rows else 0,
    )
