"""The weekly digest: last week's kudos by principle, a few highlighted kudos, the quiet ones,
and the 12 weeks to last week (bot/reports/health.py's trend, without health's people and pairs,
which the digest doesn't show) for its chart and for the principles gone quiet for four weeks
running.

Plain Python over a session. "Last week" is the Monday-to-Sunday week before the local date
of the digest, in the channel's timezone. Sending (claimed once, with retries) is the daily
poster's job; see bot/daily/flows.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.audience import QuoteScope, quotable
from bot.db.models import Kudos
from bot.mission.service import PrincipleInfo
from bot.reports.health import Trend, promise_trend, trend_weeks
from bot.reports.leaderboard import (
    PrincipleReport,
    Range,
    all_principles,
    counted,
    principle_report,
)
from bot.reports.periods import PeriodKind, local_midnight, period_of
from bot.reports.summaries import (
    Participation,
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
    trend: Trend | None = None
    # Last week's share of active people who gave and received, and the week before's.
    participation: Participation | None = None
    dashboard_url: str | None = None

    @property
    def gone_quiet(self) -> tuple[PrincipleInfo, ...]:
        """Active principles with no kudos in the last four weeks."""
        if self.trend is None:
            return ()
        return tuple(
            row.principle
            for row in self.trend.principles
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
    # Health's principles and weeks alone: its people and pairs (the week's ~62,000 raw kudos
    # at ten million, no person tally covering a week: ~200 ms) are shown nowhere in the digest.
    trend = promise_trend(
        session=session,
        team_id=team_id,
        period=week,
        bounds=bounds,
        where=zone,
        today=day,
        known=known,
    )
    start_of_day = local_midnight(day, zone)
    return Digest(
        report,
        tuple(_highlights(session, team_id, bounds, scope, highlights, report.total)),
        trend,
        participation(
            session, team_id, bounds, previous.bounds(zone) if previous else None, start_of_day
        ),
        dashboard_url,
    )


# A week of at most this many kudos is read whole for its highlights; a busier one is walked
# from its longest messages down (`_candidate_groups`) for at most WALK_LENGTHS lengths.
READ_WHOLE_WEEK = 2_000
WALK_LENGTHS = 64
message_length = func.length(Kudos.message)  # as the index has it (migration 0020)


def _highlights(
    session: Session, team_id: str, bounds: Range, scope: QuoteScope, limit: int, kudos: int
) -> list[Highlight]:
    """The most detailed quotable kudos of the week (longest message first, then the latest,
    then by group ID), one per group. `kudos`: the week's standing kudos (none: no highlights).

    Only the groups that can be among them are grouped (`_candidate_groups`), not every kudos
    of the week: a message is read from the table, not from an index, so reading the week's
    63,000 kudos at ten million was 63,000 visits to the table, ~680 ms."""
    if not kudos or limit <= 0:
        return []
    conditions = [*counted(team_id, bounds), quotable(scope)]
    candidates = (
        _candidate_groups(session, team_id, conditions, limit) if kudos > READ_WHOLE_WEEK else None
    )
    groups = _ranked_groups(session, conditions, limit, candidates)
    # Exact when the last one ranks at or above the cut (every other group's kudos lie below
    # it); else a group's kudos spanned instants (never given so): read the week.
    cut = candidates.cut if candidates is not None else None
    if cut is not None and (len(groups) < limit or (groups[-1][4], groups[-1][5]) < cut):
        groups = _ranked_groups(session, conditions, limit, None)
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
        for group_id, giver, pid, message, _length, at in groups
    ]


# A group: its ID, giver, principle, message, the message's length and when it was first given.
Group = tuple[str, str, int, str, int, dt.datetime]


def _ranked_groups(
    session: Session,
    conditions: list[ColumnElement[bool]],
    limit: int,
    candidates: Candidates | None,
) -> list[Group]:
    """The `limit` first groups of the kudos
    meeting `conditions`, longest message first, then the latest, then by group ID; among the
    `candidates`' groups alone, if given."""
    first = func.min(Kudos.created_at)
    where = list(conditions)
    if candidates is not None:
        where.append(Kudos.group_id.in_(sorted(candidates.groups)))
    rows = session.execute(
        select(
            Kudos.group_id,
            Kudos.giver_id,
            Kudos.principle_id,
            Kudos.message,
            message_length,
            first,
        )
        .where(*where)
        .group_by(Kudos.group_id, Kudos.giver_id, Kudos.principle_id, Kudos.message)
        .order_by(message_length.desc(), first.desc(), Kudos.group_id)
        .limit(limit)
    )
    return [(group, giver, pid, message, int(n), at) for group, giver, pid, message, n, at in rows]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Groups among which the highlights are. `cut`: (message length, instant) such that every
    group not among them has all its kudos below it (shorter, or as long and earlier); None
    when they are every group of the week."""

    groups: frozenset[str]
    cut: tuple[int, dt.datetime] | None


def _candidate_groups(
    session: Session, team_id: str, conditions: list[ColumnElement[bool]], limit: int
) -> Candidates | None:
    """The groups of the kudos meeting `conditions` that may be the `limit` highlights, from
    the message-length index (migration 0020): the lengths of the team's messages from the
    longest down (a seek each), and for each the week's kudos of that length, latest first (a
    seek, then only those read), until `limit` groups are found; then any other group with a
    kudos of that last length at that last instant (tied with it). None after WALK_LENGTHS
    lengths without them (a quiet week among long messages): the caller reads the week."""
    found: set[str] = set()
    below: int | None = None
    for _ in range(WALK_LENGTHS):
        longest = session.scalar(
            select(func.max(message_length)).where(
                Kudos.team_id == team_id, *([message_length < below] if below is not None else [])
            )
        )
        if longest is None:
            return Candidates(frozenset(found), None)
        need, read = limit - len(found), limit
        while True:
            latest = session.execute(
                select(Kudos.group_id, Kudos.created_at)
                .where(*conditions, message_length == longest)
                .order_by(Kudos.created_at.desc())
                .limit(read)
            ).all()
            new: dict[str, dt.datetime] = {}
            for group_id, at in latest:
                if group_id not in found:
                    new.setdefault(group_id, at)
            if len(new) >= need or len(latest) < read:
                break
            read *= 4
        if len(new) >= need:
            last = sorted(new.values(), reverse=True)[need - 1]
            tied = session.scalars(
                select(Kudos.group_id).where(
                    *conditions, message_length == longest, Kudos.created_at == last
                )
            )
            found.update(group for group, at in new.items() if at >= last)
            found.update(tied)
            return Candidates(frozenset(found), (longest, last))
        found.update(new)
        below = longest
    return None
