"""The principle of the day: which principle a date gets, and a kudos that shows it lived.

Rotation goes through the active principles, each once per cycle before any repeats, and
brings the quiet ones forward: a date takes, among the principles its cycle hasn't shown yet,
the one with the fewest kudos in the 30 days before that date (from UTC midnight 30 days
earlier up to UTC midnight of the date; withdrawn kudos don't count), ties in file order.
The window depends on the date alone, never on the time of asking, so every process choosing
for the same date from the same kudos chooses the same principle. A date's choice is
recorded in `daily_principles` the first time it is asked for (by a morning post or
`/mission today`), so it is the same in every channel of the workspace and across restarts;
adding or retiring principles later never rewrites a recorded date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from bot.audience import QuoteScope, quotable
from bot.db.dialect import lock_transaction
from bot.db.models import DailyPrinciple, Kudos, Principle
from bot.errors import UserError
from bot.i18n.speech import N_
from bot.kudos.groups import RECENT_KUDOS, KudosGroup, kudos_groups
from bot.mission.service import PrincipleInfo, load_catalog, principle_info

# How far back "quiet" looks when the rotation orders a cycle.
QUIET_WINDOW = dt.timedelta(days=30)


class NoPrinciples(UserError):
    def __init__(self) -> None:
        super().__init__(N_("There are no principles yet: add some to the mission file."))


def principle_for_day(*, session: Session, team_id: str, day: dt.date) -> PrincipleInfo:
    """The principle of `day` in the workspace, choosing and recording it the first time."""
    recorded = session.get(DailyPrinciple, (team_id, day))
    if recorded is None and session.get_bind().dialect.name == "postgresql":
        # Two processes choosing for different dates must not both take the same next one.
        # Only choosing takes the lock: a recorded date never changes, so the 2,000 posts of a
        # morning read it side by side instead of one after another until commit.
        lock_transaction(session, f"rotation:{team_id}")
        # Read committed: this sees what whoever held the lock before us recorded.
        recorded = session.get(DailyPrinciple, (team_id, day))
    catalog = load_catalog(session, team_id=team_id)
    if recorded is not None:
        for principle in catalog.principles:
            if principle.id == recorded.principle_id:
                return principle
        # Retired since: what was shown that day stays what it was.
        return principle_info(session.get_one(Principle, recorded.principle_id))
    if not catalog.principles:
        raise NoPrinciples
    cycle = session.scalar(
        select(func.max(DailyPrinciple.cycle)).where(DailyPrinciple.team_id == team_id)
    )
    cycle = cycle or 1
    used = set(
        session.scalars(
            select(DailyPrinciple.principle_id).where(
                DailyPrinciple.team_id == team_id, DailyPrinciple.cycle == cycle
            )
        )
    )
    remaining = [p for p in catalog.principles if p.id not in used]
    if not remaining:
        cycle += 1
        remaining = list(catalog.principles)
    chosen = quietest(session=session, team_id=team_id, day=day, candidates=remaining)
    session.add(DailyPrinciple(team_id=team_id, day=day, principle_id=chosen.id, cycle=cycle))
    session.flush()
    return chosen


def quietest(
    *, session: Session, team_id: str, day: dt.date, candidates: list[PrincipleInfo]
) -> PrincipleInfo:
    """The candidate with the fewest kudos in the 30 days before `day`; ties in file order."""
    end = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    counts = dict(
        session.execute(
            select(Kudos.principle_id, func.count())
            .where(
                Kudos.team_id == team_id,
                Kudos.withdrawn_at.is_(None),
                Kudos.created_at >= end - QUIET_WINDOW,
                Kudos.created_at < end,
                Kudos.principle_id.in_([p.id for p in candidates]),
            )
            .group_by(Kudos.principle_id)
        ).all()
    )
    # `min` keeps the first of equals, and `candidates` is in file order.
    return min(candidates, key=lambda p: int(counts.get(p.id, 0)))


def recent_kudos(
    *,
    session: Session,
    team_id: str,
    principle_id: int,
    now: dt.datetime,
    scope: QuoteScope,
    window: dt.timedelta | None = RECENT_KUDOS,
) -> KudosGroup | None:
    """The latest kudos tagged with the principle in the last `window` (90 days; None: ever)
    that may be quoted in `scope` (bot/audience.py: public ones, or ones from that
    conversation or naming its viewer).
    """
    latest = session.scalars(
        select(Kudos.group_id)
        .where(
            Kudos.team_id == team_id,
            Kudos.principle_id == principle_id,
            Kudos.withdrawn_at.is_(None),
            Kudos.created_at >= now - window if window is not None else true(),
            quotable(scope),
        )
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    return kudos_groups(session=session, team_id=team_id, group_ids=[latest])[0]
