"""The console's clock: real time plus an offset that `clock …` moves forward, never back.

The runtime is built with this clock (the bot's `Clock`, a callable returning an aware UTC
datetime), so "today", allowances, periods, the outbox and the morning-post decision all read
it. Moving it then runs the scheduler's due jobs (`DailyScheduler.run_due`), which is how the
morning posts and Monday digests fire in the console.

`parse_target` reads what people type, in their own timezone: `09:00`, `tomorrow 09:00`,
`monday 08:30`, `2026-12-07 09:00`, `+2h`, `+30m`, `+3d`, with digits of any script (as the
bot reads them, bot/text.py `numeric`). The clock goes at most `MAX_AHEAD` forward: the bot
counts weeks, quarters and years from "now", and a year near 9999 has none after it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n.speech import N_
from bot.text import clipped, numeric

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_STEP = re.compile(r"^\+(\d{1,4})\s*([dhm])$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MAX_AHEAD = dt.timedelta(days=100 * 366)
CLOCK_USAGE = N_(
    "Move the clock forward with `clock tomorrow 09:00`, `clock 17:30`, `clock monday 09:00`, "
    "`clock 2026-12-07 09:00` or `clock +2h` (your timezone)."
)
UNREADABLE = N_(
    "I can't read `{spec}` as a time. Move the clock forward with `clock tomorrow 09:00`, "
    "`clock 17:30`, `clock monday 09:00`, `clock 2026-12-07 09:00` or `clock +2h` "
    "(your timezone)."
)


class ClockRefused(UserError, ValueError):
    """A target the clock can't move to (unreadable, or in the past); says why (`said(t)` in
    the console's language, `str()` in English)."""


class ConsoleClock:
    """Now, as the bot sees it in the console. Thread-safe; only ever moves forward."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(dt.UTC) + self._offset

    def move_to(self, target: dt.datetime) -> None:
        with self._lock:
            real_now = dt.datetime.now(dt.UTC)
            now = real_now + self._offset
            if target < now:
                raise ClockRefused(
                    N_("The clock only moves forward: it is already {now} UTC."),
                    fields={"now": now.strftime("%a %Y-%m-%d %H:%M")},
                )
            if target - real_now > MAX_AHEAD:
                raise ClockRefused(
                    N_("The clock goes at most 100 years ahead, to {day}."),
                    fields={"day": (real_now + MAX_AHEAD).strftime("%Y-%m-%d")},
                )
            self._offset += target - now


def parse_target(spec: str, now: dt.datetime, timezone: str) -> dt.datetime:
    """The moment `spec` names, as an aware UTC datetime; `ClockRefused` if unreadable."""
    try:
        return _target(numeric(spec), now, ZoneInfo(timezone))
    except OverflowError:
        # Years 1 and 9999 are dates, but a timezone's offset takes them out of range.
        raise ClockRefused(
            N_("`{spec}` is out of the clock's range."), fields={"spec": clipped(spec)}
        ) from None


def _target(spec: str, now: dt.datetime, where: ZoneInfo) -> dt.datetime:
    local = now.astimezone(where)
    words = spec.lower().split()
    if not words:
        raise ClockRefused(CLOCK_USAGE)
    step = _STEP.match("".join(words))
    if step:
        amount, unit = int(step[1]), step[2]
        delta = {"d": dt.timedelta(days=amount), "h": dt.timedelta(hours=amount)}.get(
            unit, dt.timedelta(minutes=amount)
        )
        return now + delta
    day, rest = _day(words, local.date())
    if len(rest) > 1:
        raise ClockRefused(UNREADABLE, fields={"spec": clipped(spec)})
    if rest:
        at = _time(rest[0], spec)
    elif day == local.date():
        raise ClockRefused(CLOCK_USAGE)
    else:
        at = local.time().replace(second=0, microsecond=0)
    return dt.datetime.combine(day, at, tzinfo=where).astimezone(dt.UTC)


def _day(words: list[str], today: dt.date) -> tuple[dt.date, list[str]]:
    first = words[0]
    if first == "today":
        return today, words[1:]
    if first == "tomorrow":
        return today + dt.timedelta(days=1), words[1:]
    if first in WEEKDAYS or (len(first) == 3 and first in {w[:3] for w in WEEKDAYS}):
        index = next(i for i, w in enumerate(WEEKDAYS) if w.startswith(first[:3]))
        ahead = (index - today.weekday() - 1) % 7 + 1  # the next one, never today
        return today + dt.timedelta(days=ahead), words[1:]
    date = _DATE.match(first)
    if date:
        try:
            return dt.date(int(date[1]), int(date[2]), int(date[3])), words[1:]
        except ValueError:
            raise ClockRefused(
                N_("`{spec}` is not a date."), fields={"spec": clipped(first)}
            ) from None
    return today, words


def _time(word: str, spec: str) -> dt.time:
    match = _TIME.match(word)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ClockRefused(UNREADABLE, fields={"spec": clipped(spec)})
    return dt.time(int(match[1]), int(match[2]))
