"""What a dashboard page covers: a window of local dates and the filters, parsed from the URL's
words. Anything that isn't a period, a date or an ID of the right form is `InvalidView` (the
page answers 400 with the message), never an exception deeper down.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n.speech import N_
from bot.reports.leaderboard import Range
from bot.reports.periods import (
    MAX_YEAR,
    MIN_YEAR,
    InvalidPeriod,
    Period,
    PeriodKind,
    midnight,
    parse_period,
)

CUSTOM = "custom"
# Slack IDs as they appear in the URL: a channel, a user group, a person.
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,31}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,31}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class InvalidView(UserError):
    """A period or filter in the URL the dashboard can't show."""


@dataclass(frozen=True, slots=True)
class Window:
    """Local dates `[start, end)` in `zone` (both None for all time), and how the URL named it."""

    start: dt.date | None
    end: dt.date | None
    zone: ZoneInfo
    label: str
    period: str  # the URL's `period`: week, month, …, 2026-11, custom, all
    kind: PeriodKind | None = None  # None for a custom range

    @property
    def bounds(self) -> Range:
        return midnight(self.start, self.zone), midnight(self.end, self.zone)

    @property
    def days(self) -> int | None:
        return None if self.start is None or self.end is None else (self.end - self.start).days

    def previous(self) -> Window | None:
        """The window of the same length just before this one (None for all time)."""
        if self.start is None or self.end is None:
            return None
        if self.kind is not None:
            before = Period(self.kind, self.start, self.end).previous()
            assert before is not None
            return _of_period(before, self.zone, before.slug)
        start = self.start - (self.end - self.start)
        return Window(start, self.start, self.zone, _range_label(start, self.start), CUSTOM)


def _of_period(period: Period, zone: ZoneInfo, name: str) -> Window:
    label = period.label if period.start is not None else "All time"
    return Window(period.start, period.end, zone, label, name, period.kind)


def _range_label(start: dt.date, end: dt.date) -> str:
    last = end - dt.timedelta(days=1)
    return f"{start.isoformat()} to {last.isoformat()}"


# What a bad date is told, by which of the two it is: (not a date, out of range).
_FIRST = (
    N_("The first date should be a date like {example}."),
    N_("The first date should be a date between {first} and {last}."),
)
_LAST = (
    N_("The last date should be a date like {example}."),
    N_("The last date should be a date between {first} and {last}."),
)


def _date(text: str, told: tuple[str, str]) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidView(told[0], fields={"example": "2026-11-01"}) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidView(told[1], fields={"first": MIN_YEAR, "last": MAX_YEAR})
    return day


def parse_window(
    period: str | None, first: str | None, last: str | None, *, today: dt.date, zone: ZoneInfo
) -> Window:
    """`period` as `/kudos leaderboard` takes it (this month when empty), or `custom` with the
    dates `first` and `last` (both included)."""
    name = (period or "").strip().lower() or PeriodKind.MONTH.value
    if name == CUSTOM or (not period and (first or last)):
        if not first or not last:
            raise InvalidView(N_("A custom range needs both a first and a last date."))
        start, final = _date(first, _FIRST), _date(last, _LAST)
        if final < start:
            raise InvalidView(N_("The last date comes before the first."))
        end = final + dt.timedelta(days=1)
        return Window(start, end, zone, _range_label(start, end), CUSTOM)
    if len(name) > 16:
        raise InvalidView(N_("That isn't a period I know."))
    try:
        parsed = parse_period(name, today)
    except InvalidPeriod:
        raise InvalidView(
            N_(
                "{period} isn't a period I know. Use week, month, quarter, year, all, "
                "a month like 2026-03 or a quarter like 2026-Q1."
            ),
            fields={"period": repr(name)},
        ) from None
    return _of_period(parsed, zone, name)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a page is narrowed to. `members` is the user group's people (resolved by the
    caller from Slack): a kudos counts when its giver or its receiver is one of them.
    `tallied`: the group's tallies count exactly those members (bot/reports/
    usergroup_tallies.py), so its pages may read them instead of its raw kudos."""

    group_id: str | None = None
    channel_id: str | None = None
    principle_key: str | None = None
    members: frozenset[str] | None = None
    tallied: bool = False

    @property
    def any(self) -> bool:
        return bool(self.group_id or self.channel_id or self.principle_key)


def parse_filters(group: str | None, channel: str | None, principle: str | None) -> Filters:
    """The filters' words checked for form; whether they exist is the caller's to check."""
    group, channel = (group or "").strip() or None, (channel or "").strip() or None
    principle = (principle or "").strip().lower().removeprefix("#") or None
    if group is not None and not _GROUP.match(group):
        raise InvalidView(N_("The user group should be a Slack user group ID, like S0123ABCD."))
    if channel is not None and not _CHANNEL.match(channel):
        raise InvalidView(N_("The channel should be a Slack channel ID, like C0123ABCD."))
    if principle is not None and not _KEY.match(principle):
        raise InvalidView(N_("The principle should be a principle's key, like plain-words."))
    return Filters(group, channel, principle)


def check_user_id(user_id: str) -> str:
    if not _USER.match(user_id):
        raise InvalidView(N_("That isn't a Slack user ID (like U0123ABCD)."))
    return user_id
