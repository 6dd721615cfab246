"""A channel's schedule as people write it: `/mission subscribe [time] [weekdays] [zone]
[digest]` parsed into a `ScheduleRequest`, with friendly errors (described back in each
reader's words by the renderers, through bot/i18n).

No database and no clock: bot/daily/subscriptions.py stores what was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import Msgid, UserError
from bot.i18n.speech import N_, Speech
from bot.text import echo, numeric

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKING_DAYS: tuple[str, ...] = WEEKDAYS[:5]
DEFAULT_TIME = "09:00"
DEFAULT_TIMEZONE = "UTC"

SUBSCRIBE_EXAMPLE = "`/mission subscribe 09:30 weekdays Europe/Berlin`"
# After `ascii_digits` and lower-casing: 9, 09:30, 9.30, 9h30, 9am, 9:30pm, 12 a.m. (the space
# is taken out first). Minutes always have two digits.
_TIME = re.compile(
    r"^(?P<hour>[0-9]{1,2})(?:[:.h](?P<minute>[0-9]{2}))?(?:(?P<half>[ap])\.?(?:m\.?)?)?$"
)
_HALF_DAY = re.compile(r"(?<=\d)\s+(?=[ap]\.?(?:m\.?)?(?:\s|$))", re.IGNORECASE)
TIME_FORMATS = N_("24-hour HH:MM like 09:30 or 21:00, or 9:30am")
_DAY_NAMES = {
    **{day: day for day in WEEKDAYS},
    **{
        name: day
        for day, names in {
            "mon": ("monday",),
            "tue": ("tues", "tuesday"),
            "wed": ("wednesday",),
            "thu": ("thur", "thurs", "thursday"),
            "fri": ("friday",),
            "sat": ("saturday",),
            "sun": ("sunday",),
        }.items()
        for name in names
    },
}


class InvalidSchedule(UserError):
    """A time, weekday list or timezone that can't be used; the message shows an example."""

    def __init__(self, problem: str, *, fields: Mapping[str, object]) -> None:
        super().__init__(problem, fields=fields)

    def said(self, t: Speech) -> str:
        example = t.gettext("For example: {example}").format(example=SUBSCRIBE_EXAMPLE)
        return f"{super().said(t)}\n{example}"


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """What `/mission subscribe …` asked for; `None` fields take their defaults."""

    post_time: str | None = None
    weekdays: tuple[str, ...] | None = None
    timezone: str | None = None
    digest: bool = False


def parse_time(value: str) -> str:
    """A post time as `HH:MM` (24-hour, ASCII digits), from the ways people write one."""
    wanted = numeric(value).lower().replace(" ", "")
    match = _TIME.match(wanted)
    if match is None:
        raise InvalidSchedule(
            N_("{value} isn't a time I understand: use {formats}."),
            fields={"value": echo(value), "formats": Msgid(TIME_FORMATS)},
        )
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"] is not None:
        if not 1 <= hour <= 12:
            raise InvalidSchedule(
                N_("{value} isn't a time: with am or pm the hour is 1 to 12. Or use {formats}."),
                fields={"value": echo(value), "formats": Msgid(TIME_FORMATS)},
            )
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    if hour > 23 or minute > 59:
        raise InvalidSchedule(
            N_(
                "{value} isn't a time: hours go from 00 to 23 and minutes from 00 to 59. "
                "Use {formats}."
            ),
            fields={"value": echo(value), "formats": Msgid(TIME_FORMATS)},
        )
    return f"{hour:02d}:{minute:02d}"


def parse_weekdays(value: str) -> tuple[str, ...]:
    lowered = value.lower()
    if lowered in {"weekdays", "workdays"}:
        return WORKING_DAYS
    if lowered in {"daily", "everyday", "every-day"}:
        return WEEKDAYS
    if lowered == "weekends":
        return WEEKDAYS[5:]
    chosen: set[str] = set()
    for part in filter(None, lowered.split(",")):
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _day(first, value), _day(last, value)
            i, j = WEEKDAYS.index(start), WEEKDAYS.index(end)
            span = WEEKDAYS[i : j + 1] if i <= j else WEEKDAYS[i:] + WEEKDAYS[: j + 1]
            chosen.update(span)
        else:
            chosen.add(_day(part, value))
    if not chosen:
        raise InvalidSchedule(N_("{value} names no weekdays."), fields={"value": echo(value)})
    return tuple(day for day in WEEKDAYS if day in chosen)


def _day(name: str, whole: str) -> str:
    day = _DAY_NAMES.get(name.strip())
    if day is None:
        raise InvalidSchedule(
            N_("{name} in {value} isn't a weekday: use weekdays, daily, or days like mon,wed,fri."),
            fields={"name": echo(name), "value": echo(whole)},
        )
    return day


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(value: str) -> str:
    name = _zones_by_lower_name().get(value.lower())
    if name is None:
        raise InvalidSchedule(
            N_("{value} isn't a timezone I know: use an Area/City name like America/New_York."),
            fields={"value": echo(value)},
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            N_("{value} isn't a timezone I can use."), fields={"value": echo(value)}
        ) from None
    return name


def parse_schedule_request(text: str) -> ScheduleRequest:
    """`[time] [weekdays|daily|mon,tue,…] [Area/City] [digest]`, in any order."""
    post_time: str | None = None
    weekdays: tuple[str, ...] | None = None
    timezone: str | None = None
    digest = False
    # `9 am` is one time: join the half-day to its number before splitting into words.
    for token in _HALF_DAY.sub("", text).split():
        lowered = token.lower()
        if lowered == "digest":
            digest = True
        elif "/" in token or lowered in {"utc", "gmt"}:
            timezone = parse_timezone(token)
        elif any(char.isdigit() for char in token):
            # Weekday names have no digits: anything with one is meant as a time.
            post_time = parse_time(token)
        else:
            weekdays = parse_weekdays(token)
    return ScheduleRequest(post_time, weekdays, timezone, digest)
