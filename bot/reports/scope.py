"""What a report covers: the team, whose timezone and which calendar period, resolved from plain
inputs, so `/kudos leaderboard` and `missionbot leaderboard` turn the same words into the same
`[start, end)` bounds. No Slack: the listener passes the caller's timezone, the CLI its options.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Mission
from bot.reports.leaderboard import Range
from bot.reports.periods import Period, parse_period


@dataclass(frozen=True, slots=True)
class ReportScope:
    team_id: str
    where: ZoneInfo
    period: Period

    @property
    def bounds(self) -> Range:
        """The period's UTC `[start, end)` in this timezone's calendar."""
        return self.period.bounds(self.where)


class UnknownTimezone(ValueError):
    def __init__(self, name: str) -> None:
        shown = name if len(name) <= 60 else name[:59] + "…"
        super().__init__(f"{shown!r} is not a timezone")


class NoSingleTeam(LookupError):
    """No team was named and the database holds none or several: the caller must choose."""

    def __init__(self, teams: list[str]) -> None:
        super().__init__(", ".join(teams) if teams else "none yet")
        self.teams = teams


def timezone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or UnknownTimezone (a name typed by hand must not turn into UTC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise UnknownTimezone(name) from None


def report_scope(*, team_id: str, period: str, where: ZoneInfo, now: dt.datetime) -> ReportScope:
    """The report of `team_id` over the period `period` names, counted from today in `where`
    (this month when `period` is empty); InvalidPeriod when the words are no period."""
    return ReportScope(team_id, where, parse_period(period, now.astimezone(where).date()))


def only_team(session: Session) -> str:
    """The one team in the database, for a report that named none; NoSingleTeam otherwise."""
    teams = list(session.scalars(select(Mission.team_id).order_by(Mission.team_id)))
    if len(teams) != 1:
        raise NoSingleTeam(teams)
    return teams[0]
