"""How a principle was lived: the few recent kudos for it that the asker may read, and its
numbers (this month against last month, and how many different people gave and received it).

Plain Python over a session, no Slack. The quotes follow bot/audience.py (`quotable(scope)`);
the numbers count every kudos, private ones included, since counts reveal no words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.audience import QuoteScope, quotable
from bot.db.models import Kudos
from bot.kudos.groups import RECENT_KUDOS, KudosGroup, kudos_groups
from bot.reports.leaderboard import counted
from bot.reports.periods import PeriodKind, period_of

QUOTES = 3


@dataclass(frozen=True, slots=True)
class Lived:
    """A principle's recent life. `givers`/`receivers`: distinct people in the last 90 days."""

    quotes: tuple[KudosGroup, ...]
    this_month: int
    last_month: int
    givers: int
    receivers: int
    recent: int  # kudos in the last 90 days

    @property
    def quiet(self) -> bool:
        """Nobody was recognised for it in the last 90 days."""
        return self.recent == 0


def principle_lived(
    *,
    session: Session,
    team_id: str,
    principle_id: int,
    now: dt.datetime,
    where: ZoneInfo,
    scope: QuoteScope,
    quotes: int = QUOTES,
) -> Lived:
    """The principle's numbers (months in `where`'s calendar) and up to `quotes` recent kudos
    that may be read in `scope`, newest first, one per kudos (not one per receiver)."""
    month = period_of(PeriodKind.MONTH, now.astimezone(where).date())
    previous = month.previous()
    assert previous is not None
    month_start, _ = month.bounds(where)
    last_start, _ = previous.bounds(where)
    since = now - RECENT_KUDOS
    assert month_start is not None
    assert last_start is not None
    widest = min(since, last_start)
    recent = Kudos.created_at >= since
    row = session.execute(
        select(
            func.sum(case((Kudos.created_at >= month_start, 1), else_=0)),
            func.sum(
                case(
                    ((Kudos.created_at >= last_start) & (Kudos.created_at < month_start), 1),
                    else_=0,
                )
            ),
            func.count(func.distinct(case((recent, Kudos.giver_id)))),
            func.count(func.distinct(case((recent, Kudos.receiver_id)))),
            func.sum(case((recent, 1), else_=0)),
        ).where(*counted(team_id, (widest, now)), Kudos.principle_id == principle_id)
    ).one()
    this_month, last_month, givers, receivers, in_90_days = (int(v or 0) for v in row)
    return Lived(
        quotes=tuple(_quotes(session, team_id, principle_id, since, now, scope, quotes)),
        this_month=this_month,
        last_month=last_month,
        givers=givers,
        receivers=receivers,
        recent=in_90_days,
    )


def _quotes(
    session: Session,
    team_id: str,
    principle_id: int,
    since: dt.datetime,
    now: dt.datetime,
    scope: QuoteScope,
    limit: int,
) -> list[KudosGroup]:
    first = func.min(Kudos.created_at)
    group_ids = session.scalars(
        select(Kudos.group_id)
        .where(
            *counted(team_id, (since, now)),
            Kudos.principle_id == principle_id,
            quotable(scope),
        )
        .group_by(Kudos.group_id)
        .order_by(first.desc(), Kudos.group_id)
        .limit(limit)
    ).all()
    return kudos_groups(session=session, team_id=team_id, group_ids=group_ids)
