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

How it is counted: a period within one UTC quarter and a few hours (a local month or
quarter, a week) from the read model. Pairs rarely repeat (at ten million kudos, 241 pairs of
a quarter's 590,000 gave each other two kudos or more), and a pair with one kudos adds 1 to
the score, as to the kudos, so a receiver's score is their kudos from the read model
(`person_counts`) less the kudos of their repeated pairs plus those pairs' √n. The repeated
pairs are among the quarter's pair tallies with two or more (`kudos_pairs`'s partial index,
bot/reports/health.py reads the same) and the pairs of the hours outside the quarter, each
counted exactly in the period from its receiver's kudos of the period (read once a
receiver: the repeated pairs gather on the people who receive most). All time the same way
from the all-time pair tallies (migration 0020): a pair's kudos over all time are spread
over its quarters' rows (one in each of two quarters repeats, with no row of two), and
summing those per pair is as many rows as kudos; the all-time rows of two or more are the
repeated pairs, ~59,000 at ten million kudos, and their tally is their count. The
dashboard's all-time top scores only the receivers who can reach it (`tallied_scores`,
bot/insights/numbers.py's `weighted_top`): their tallies by a seek each, their repeated
pairs picked from the partial index (a few dozen receivers, not 50,000). Any other period
(a year; all time for one principle, whose pairs' counts the tallies don't hold) is one
aggregate over its raw kudos (per giver and receiver, then per receiver) with RANK(): at ten
million, all time took longer than the database's 10 s. Both give the same board
(tests/test_dashboard_numbers.py compares them); withdrawn kudos never count.
SQLite has `sqrt` from 3.35 (the database engine registers it where a build lacks it,
bot/db/engine.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Numeric,
    Select,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from bot.db.engine import quick_reads
from bot.db.models import Kudos, KudosPair
from bot.mission.service import PrincipleInfo
from bot.reports.health import kudos_of_pairs, repeated_pair_candidates
from bot.reports.leaderboard import TOP, Range, counted
from bot.reports.periods import Period
from bot.reports.summaries import ALL_TIME, Role, one_quarter, person_counts

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
    principle_id = principle.id if principle is not None else None
    tallied = _tallied(session, team_id, bounds, principle_id, caller_id, top)
    standings, people, kudos = (
        tallied
        if tallied is not None
        else _from_raw(session, team_id, bounds, principle_id, caller_id, top)
    )
    return WeightedBoard(
        period=period,
        principle=principle,
        entries=tuple(s for s in standings if s.rank <= top),
        caller=next((s for s in standings if s.rank > top and s.user_id == caller_id), None),
        caller_id=caller_id,
        people=people,
        kudos=kudos,
    )


Counted = tuple[list[WeightedStanding], int, int]  # the standings wanted, people, kudos


def _from_raw(
    session: Session,
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    caller_id: str | None,
    top: int,
) -> Counted:
    """The board from the period's raw kudos: one aggregate, ranked by a window."""
    conditions = counted(team_id, bounds)
    if principle_id is not None:
        conditions.append(Kudos.principle_id == principle_id)
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
    return standings, int(rows[0].people) if rows else 0, int(rows[0].total) if rows else 0


def _tallied(
    session: Session,
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    caller_id: str | None,
    top: int,
) -> Counted | None:
    """The board from the read model (`_scored`), for all time over every principle or a
    period within one UTC quarter bucket but for a few hours; None for any other."""
    scored = _scored(team_id, bounds, principle_id)
    if scored is None:
        return None
    quick_reads(session)
    return _top_and_caller(session, scored.cte("scored"), caller_id, top)


def tallied_scores(
    session: Session, team_id: str, receivers: Sequence[str]
) -> dict[str, tuple[Decimal, float]]:
    """Receiver → (score compared to six places, score) over all time and every principle, for
    these receivers only, from their all-time tallies and repeated pairs: as the whole board
    (`_tallied`) scores them, the same arithmetic, a few seeks instead of every receiver."""
    whole = _scored(team_id, (None, None), None, receivers)
    assert whole is not None
    scored = whole.subquery()
    found = session.execute(
        select(scored.c.user_id, scored.c.compared, scored.c.score).where(
            scored.c.user_id.in_(list(receivers))
        )
    )
    return {user: (Decimal(str(compared)), float(score)) for user, compared, score in found}


def _scored(
    team_id: str,
    bounds: Range,
    principle_id: int | None,
    receivers: Sequence[str] | None = None,
) -> Select[Any] | None:
    """Every receiver's (user_id, kudos, score, givers, compared) from the read model, for all
    time over every principle (of `receivers` alone, if given: all time only) or a period
    within one UTC quarter bucket but for a few hours; None for any other period.

    A pair with two kudos or more in the period has two or more in the quarter bucket, in
    which case the bucket's pair tally holds it with two or more, unless it has kudos in the
    hours outside the bucket: those rows and those hours' pairs are the candidates. The
    candidates' kudos in the period are counted from their receivers' kudos of the period
    (`kudos_of_pairs`), and each receiver's score is their kudos less their candidates' kudos
    plus the candidates' √n (a pair with one kudos scores 1, as many as its kudos)."""
    pairs: Any
    if bounds == (None, None):
        if principle_id is not None:
            # A pair's kudos of one principle over all time would be a seek per repeated
            # pair through its receiver's every kudos (at ten million, past 10 s).
            return None
        candidates = _repeated_of_all_time(team_id, receivers)
        # Each pair's count is a column of its row: read once, as it is aggregated.
        pairs = select(candidates.c.receiver_id, candidates.c.kudos.label("n")).subquery("pairs")
    else:
        found = one_quarter(bounds)
        if found is None:
            return None
        assert receivers is None, "some receivers' scores: all time only"
        bucket, outside = found
        candidates = repeated_pair_candidates(team_id, bucket, outside, principle_id)
        counted_pairs = kudos_of_pairs(team_id, bounds, candidates, principle_id)
        # Materialised: the candidates counted once (PostgreSQL inlines a CTE read once, and
        # then counted them again for each of the three sums below).
        pairs = (
            select(counted_pairs.c.receiver_id, counted_pairs.c.n)
            .cte("pairs")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
    by_receiver = (
        select(
            pairs.c.receiver_id,
            func.sum(pairs.c.n).label("n"),
            func.sum(func.sqrt(pairs.c.n)).label("root"),
            func.sum(case((pairs.c.n > 0, 1), else_=0)).label("givers"),
        )
        .group_by(pairs.c.receiver_id)
        .subquery()
    )
    received = person_counts(team_id, Role.RECEIVERS, bounds, principle_id)
    single = received.c.n - func.coalesce(by_receiver.c.n, 0)  # kudos of pairs with one
    score = cast(single, Float) + func.coalesce(by_receiver.c.root, literal(0.0, Float))
    return select(
        received.c.user_id,
        received.c.n.label("kudos"),
        score.label("score"),
        (single + func.coalesce(by_receiver.c.givers, 0)).label("givers"),
        # A receiver with no repeated pair scores their kudos, a whole number: compared as
        # it is, without the float's conversion to a decimal (most receivers).
        case(
            (by_receiver.c.receiver_id.is_(None), cast(received.c.n, Numeric)),
            else_=func.round(cast(score, Numeric), SCORE_PLACES),
        ).label("compared"),
    ).select_from(received.outerjoin(by_receiver, by_receiver.c.receiver_id == received.c.user_id))


def _repeated_of_all_time(team_id: str, receivers: Sequence[str] | None = None) -> CTE:
    """The pairs that gave two kudos or more over all time, with their kudos (their all-time
    pair tallies of two or more, read from the partial index alone: migration 0020), of
    `receivers` alone if given."""
    conditions = [
        KudosPair.team_id == team_id,
        KudosPair.bucket == ALL_TIME,
        KudosPair.kudos >= 2,
    ]
    if receivers is not None:
        conditions.append(KudosPair.receiver_id.in_(list(receivers)))
    return (
        select(KudosPair.giver_id, KudosPair.receiver_id, KudosPair.kudos)
        .where(*conditions)
        .cte("candidates")
    )


def _top_and_caller(session: Session, scored: Any, caller_id: str | None, top: int) -> Counted:
    """The receivers ranked `top` or better (a compared score at least the `top`-th's) and the
    caller, ranked as RANK() ranks them, without a window over everyone: the leaderboard's
    way (bot/reports/leaderboard.py)."""
    other = scored.alias("other")
    threshold = (
        select(scored.c.compared)
        .order_by(scored.c.compared.desc())
        .limit(1)
        .offset(top - 1)
        .scalar_subquery()
    )
    wanted: ColumnElement[bool] = scored.c.compared >= func.coalesce(threshold, 0)
    above: Any = literal(None)
    if caller_id is not None:
        wanted = or_(wanted, scored.c.user_id == caller_id)
        mine = select(other.c.compared).where(other.c.user_id == caller_id).scalar_subquery()
        above = func.sum(case((other.c.compared > mine, 1), else_=0))
    # The people, their kudos and how many rank above the caller in one pass over everyone
    # (three passes of 50,000 receivers a month at ten million kudos, one each).
    totals = select(
        above.label("above"),
        func.sum(other.c.kudos).label("total"),
        func.count().label("people"),
    ).subquery()
    rows = session.execute(
        select(
            scored.c.user_id,
            scored.c.score,
            scored.c.kudos,
            scored.c.givers,
            scored.c.compared,
            totals.c.above,
            totals.c.total,
            totals.c.people,
        )
        .select_from(scored)
        .join(totals, literal(True))
        .where(wanted)
    ).all()
    if not rows:
        return [], 0, 0
    standings = []
    for user_id, score, kudos, givers, compared, caller_above, _total, _people in rows:
        more = (
            caller_above
            if user_id == caller_id and caller_above is not None
            else sum(1 for row in rows if row[4] > compared)
        )
        standings.append(
            WeightedStanding(1 + int(more), user_id, float(score), int(kudos), int(givers))
        )
    standings.sort(key=lambda s: (s.rank, s.user_id))
    return standings, int(rows[0][7] or 0), int(rows[0][6] or 0)
