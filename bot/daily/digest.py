"""The weekly digest: last week's kudos by principle, a few highlighted kudos, the quiet ones,
and the 12 weeks to last week (bot/reports/health.py) for its chart and for the principles gone
quiet for four weeks running.

Plain Python over a session. "Last week" is the Monday-to-Sunday week before the local date
of the digest, in the channel's timezone. Sending (claimed once, with retries) is the daily
poster's job; see bot/daily/flows.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.audience import QuoteScope, quotable
from bot.db.models import Kudos
from bot.mission.service import PrincipleInfo
from bot.reports.health import Health, promise_health, trend_weeks
from bot.reports.leaderboard import (
    PrincipleReport,
    Range,
    all_principles,
    counted,
    principle_report,
)
from bot.reports.periods import PeriodKind, period_of
from bot.reports.summaries import (
    Participation,
    kudos_sent,
    participation,
    principle_counts,
)

HIGHLIGHTS = 3
# A principle with no kudos in this many weeks running has gone quiet, not just had a slow week.
QUIET_WEEKS = 4


@dataclass(frozen=True, slots=True)
class Highlight:
    giver_id: str
    receiver_ids: tuple[str, ...]
    principle: PrincipleInfo
    message: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Digest:
    report: PrincipleReport
    highlights: tuple[Highlight, ...]
    # The 12 weeks to last week: the chart's numbers (counts only, so whole).
    health: Health | None = None
    # Last week's share of active people who gave and received, and the week before's.
    participation: Participation | None = None
    dashboard_url: str | None = None

    @property
    def gone_quiet(self) -> tuple[PrincipleInfo, ...]:
        """Active principles with no kudos in the last four weeks."""
        if self.health is None:
            return ()
        return tuple(
            row.principle
            for row in self.health.principles
            if not row.retired and not any(row.weekly[-QUIET_WEEKS:])
        )


def weekly_digest(
    *,
    session: Session,
    team_id: str,
    day: dt.date,
    zone: ZoneInfo,
    scope: QuoteScope,
    highlights: int = HIGHLIGHTS,
    dashboard_url: str | None = None,
) -> Digest:
    """The digest posted on local date `day`: about the week before it.

    Its counts are whole; its highlights quote only kudos that may be read in `scope`.
    """
    week = period_of(PeriodKind.WEEK, day).previous()
    assert week is not None
    previous = week.previous()
    bounds = week.bounds(zone)
    # Kudos per principle read once: the week and the one before are the last two of
    # health's 12 weeks.
    periods = [trend.bounds(zone) for trend in trend_weeks(week, day)]
    known = dict(zip(periods, principle_counts(session, team_id, periods), strict=True))
    report = principle_report(
        session=session,
        team_id=team_id,
        period=week,
        bounds=bounds,
        previous_bounds=previous.bounds(zone) if previous else None,
        known=known,
    )
    health = promise_health(
        session=session,
        team_id=team_id,
        period=week,
        bounds=bounds,
        where=zone,
        today=day,
        known=known,
        # The week is raw kudos (no person-day tallies): read once for its people and pairs.
        sent=kudos_sent(session, team_id, bounds),
    )
    start_of_day = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    return Digest(
        report,
        tuple(_highlights(session, team_id, bounds, scope, highlights)),
        health,
        participation(
            session, team_id, bounds, previous.bounds(zone) if previous else None, start_of_day
        ),
        dashboard_url,
    )


def _highlights(
    session: Session, team_id: str, bounds: Range, scope: QuoteScope, limit: int
) -> list[Highlight]:
    """The most detailed quotable kudos of the week (longest message first), one per group."""
    first = func.min(Kudos.created_at)
    groups = session.execute(
        select(Kudos.group_id, Kudos.giver_id, Kudos.principle_id, Kudos.message, first)
        .where(*counted(team_id, bounds), quotable(scope))
        .group_by(Kudos.group_id, Kudos.giver_id, Kudos.principle_id, Kudos.message)
        .order_by(func.length(Kudos.message).desc(), first.desc())
        .limit(limit)
    ).all()
    if not groups:
        return []
    receivers: dict[str, list[str]] = {}
    for group_id, receiver_id in session.execute(
        select(Kudos.group_id, Kudos.receiver_id)
        .where(*counted(team_id, (None, None)), Kudos.group_id.in_([g[0] for g in groups]))
        .order_by(Kudos.id)
    ):
        receivers.setdefault(group_id, []).append(receiver_id)
    principles = all_principles(session, team_id)
    return [
        Highlight(giver, tuple(receivers.get(group_id, ())), principles[pid], message, at)
        for group_id, giver, pid, message, at in groups
    ]
