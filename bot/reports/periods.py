"""Calendar periods for reports: parsing `week|month|quarter|year|all|YYYY-MM|YYYY-Qn`, and
turning a local calendar period into the UTC `[start, end)` range the queries filter on.

Pure functions, no database and no Slack. A period is a range of *local* dates; where it
begins and ends in time depends on whose calendar it is, so `bounds(zone)` takes the zone:
the same "March" starts at a different instant for a caller in Kolkata than in New York.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.errors import Msgid, UserError
from bot.i18n.speech import N_
from bot.text import echo, numeric

PERIOD_HELP = N_(
    "`week`, `month`, `quarter`, `year`, `all`, a month like `2026-03` or a quarter like `2026-Q1`"
)
# Matched against `numeric(text)`: ASCII digits only, whatever script they were typed in.
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{1,2})$")
_QUARTER = re.compile(r"^([0-9]{4})-?q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^([0-9]{4})$")
MIN_YEAR, MAX_YEAR = 2000, 2999


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"


class InvalidPeriod(UserError):
    def __init__(self, value: str) -> None:
        super().__init__(
            N_("{value} isn't a period I know. Use {periods}."),
            fields={"value": echo(value), "periods": Msgid(PERIOD_HELP)},
        )


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates `[start, end)`; both None for all time."""

    kind: PeriodKind
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def label(self) -> str:
        if self.start is None:
            return "all time"
        if self.kind == PeriodKind.WEEK:
            return f"the week of {self.start:%a} {self.start.day} {self.start:%b %Y}"
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%B %Y}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def slug(self) -> str:
        """A short name for file names: 2026-03, 2026-Q1, 2026, 2026-W10, all."""
        if self.start is None:
            return "all"
        if self.kind == PeriodKind.WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return self.label
        return str(self.start.year)

    def previous(self) -> Period | None:
        """The period of the same kind just before this one (None for all time)."""
        if self.start is None:
            return None
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The period in UTC: local midnight of `start` up to local midnight of `end`."""
        return midnight(self.start, zone), midnight(self.end, zone)


def end_of_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant `day` ends in `zone` (the next local midnight), in UTC: with today, an
    instant no kudos is later than, for the summaries' choice of plan (`summaries.cover`)."""
    return local_midnight(day + dt.timedelta(days=1), zone)


def midnight(day: dt.date | None, zone: ZoneInfo) -> dt.datetime | None:
    """`local_midnight`, None for an open end."""
    return None if day is None else local_midnight(day, zone)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Midnight of `day` in `zone`, in UTC. Round-trip through UTC: a midnight inside a DST
    gap moves to the first real instant."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(kind: PeriodKind, day: dt.date) -> Period:
    """The calendar period of `kind` that contains the local date `day` (weeks start Monday)."""
    if kind == PeriodKind.ALL:
        return Period(kind)
    if kind == PeriodKind.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return Period(kind, start, start + dt.timedelta(days=7))
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        return Period(kind, start, _add_months(start, 1))
    if kind == PeriodKind.QUARTER:
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, start, _add_months(start, 3))
    return Period(kind, dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))


def is_period(token: str) -> bool:
    value = numeric(token).strip().lower()
    return value in set(PeriodKind) or bool(
        _MONTH.match(value) or _QUARTER.match(value) or _YEAR.match(value)
    )


def parse_period(text: str, today: dt.date, default: PeriodKind = PeriodKind.MONTH) -> Period:
    """`week|month|quarter|year|all` (the current one, around `today`), `YYYY-MM`, `YYYY-Qn`
    or `YYYY`; empty text is the current `default` period."""
    value = numeric(text).strip().lower()
    if not value:
        return period_of(default, today)
    if value in set(PeriodKind):
        return period_of(PeriodKind(value), today)
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR:
            return period_of(PeriodKind.MONTH, dt.date(year, month, 1))
    elif match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        if MIN_YEAR <= year <= MAX_YEAR:
            return period_of(PeriodKind.QUARTER, dt.date(year, quarter * 3 - 2, 1))
    elif match := _YEAR.match(value):
        year = int(match[1])
        if MIN_YEAR <= year <= MAX_YEAR:
            return period_of(PeriodKind.YEAR, dt.date(year, 1, 1))
    raise InvalidPeriod(text.strip())
