"""How people write a post time, and digits in any script: property-based tests of the parsers.

Every valid time, spelled any of the ways people write one (24-hour, 12-hour with am/pm,
dots, Arabic-Indic or fullwidth digits), parses to the one `HH:MM` the bot stores; whatever
text arrives, the parser either refuses it with a time-format message or returns a valid
ASCII `HH:MM`. Numbers elsewhere (`/mission 3`, `#3`, periods) read digits the same way.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.daily.schedule import InvalidSchedule, parse_schedule_request, parse_time
from bot.reports.periods import parse_period
from bot.text import numeric
from tests.conftest import Bot

STORED = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENDED_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FULLWIDTH = str.maketrans("0123456789:", "".join(chr(0xFF10 + d) for d in range(10)) + "\uff1a")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")

hours = st.integers(0, 23)
minutes = st.integers(0, 59)


def spellings(hour: int, minute: int) -> list[str]:
    """Ways people write `hour:minute` (24-hour) that all mean the same time."""
    half = "am" if hour < 12 else "pm"
    clock = hour % 12 or 12
    ways = [
        f"{hour:02d}:{minute:02d}",
        f"{hour}:{minute:02d}",
        f"{hour}.{minute:02d}",
        f"{hour}h{minute:02d}",
        f"{clock}:{minute:02d}{half}",
        f"{clock}:{minute:02d} {half.upper()}",
        f"{clock}.{minute:02d}{half[0]}.m.",
    ]
    if minute == 0:
        ways += [f"{clock}{half}", f"{clock} {half}", f"{hour}", f"{hour:02d}"]
    return ways


@given(hours, minutes, st.sampled_from([None, ARABIC_INDIC, EXTENDED_ARABIC_INDIC, FULLWIDTH]))
def test_every_valid_time_in_every_spelling_parses_to_itself(
    hour: int, minute: int, script: dict[int, str] | None
) -> None:
    expected = f"{hour:02d}:{minute:02d}"
    for spelling in spellings(hour, minute):
        written = spelling.translate(script) if script else spelling
        assert parse_schedule_request(written).post_time == expected, written


@given(st.text(max_size=12))
def test_whatever_arrives_is_refused_or_stored_as_a_valid_ascii_time(text: str) -> None:
    stored, problem = None, None
    try:
        stored = parse_time(text)
    except InvalidSchedule as refused:
        problem = refused.message
    if problem is None:
        assert stored is not None
        assert STORED.match(stored), (text, stored)
    else:
        assert "isn't a time" in problem
        assert "09:30" in problem


@given(st.integers(24, 99), minutes)
def test_hours_past_23_are_refused_with_the_time_format(hour: int, minute: int) -> None:
    with pytest.raises(InvalidSchedule, match="hours go from 00 to 23"):
        parse_time(f"{hour}:{minute:02d}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("25:00", "hours go from 00 to 23 and minutes from 00 to 59"),
        ("9:75", "hours go from 00 to 23 and minutes from 00 to 59"),
        ("13pm", "with am or pm the hour is 1 to 12"),
        ("0am", "with am or pm the hour is 1 to 12"),
        ("9:5", "isn't a time I understand"),
        ("9:30xm", "isn't a time I understand"),
        ("nine30", "isn't a time I understand"),
    ],
)
def test_near_misses_get_a_time_format_message_not_a_weekday_one(text: str, problem: str) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        parse_schedule_request(f"{text} weekdays")
    assert problem in refused.value.message
    assert "weekday" not in refused.value.message.split("\n")[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12am", "00:00"), ("12:30am", "00:30"), ("12pm", "12:00"), ("12:59pm", "12:59")],
)
def test_twelve_am_is_midnight_and_twelve_pm_is_noon(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@given(st.integers(0, 9999), st.sampled_from([ARABIC_INDIC, DEVANAGARI, FULLWIDTH]))
def test_digits_of_any_script_read_as_ascii_digits(number: int, script: dict[int, str]) -> None:
    assert numeric(str(number).translate(script)) == str(number)


@given(st.integers(2000, 2999), st.integers(1, 12), st.sampled_from([ARABIC_INDIC, DEVANAGARI]))
def test_a_month_in_any_script_is_the_same_period(
    year: int, month: int, script: dict[int, str]
) -> None:
    today = dt.date(2026, 5, 1)
    typed = f"{year}-{month:02d}".translate(script)
    assert parse_period(typed, today) == parse_period(f"{year}-{month:02d}", today)


# -- through the served bot ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("subscribe 9am", "at *09:00*"),
        ("subscribe 9:30 pm daily", "at *21:30*"),
        ("subscribe ٩:٣٠", "at *09:30*"),
        ("subscribe \uff10\uff17\uff1a\uff14\uff15 weekdays", "at *07:45*"),
    ],
)
def test_subscribe_understands_the_ways_people_write_a_time(
    bot: Bot, text: str, shown: str
) -> None:
    reply = bot.command("/mission", text, channel="CTIMES001")
    assert shown in reply.text
    status = bot.command("/mission", "schedule", channel="CTIMES001")
    assert shown in status.text


def test_subscribe_with_a_near_miss_says_the_time_format_and_changes_nothing(bot: Bot) -> None:
    reply = bot.command("/mission", "subscribe 25:00", channel="CTIMES001")
    assert "`25:00` isn't a time" in reply.text
    assert "weekday" not in reply.text.split("\n")[0]
    assert (
        "doesn't get the principle of the day"
        in bot.command("/mission", "schedule", channel="CTIMES001").text
    )


@pytest.mark.parametrize("number", ["3", "٣", "۳", "\uff13"])
def test_a_principle_number_in_any_script_shows_that_principle(bot: Bot, number: str) -> None:
    assert "Principle 3" in bot.command("/mission", number).text


def test_a_superscript_number_is_read_as_a_number_not_an_error(bot: Bot) -> None:
    assert "Principle 2" in bot.command("/mission", "²").text
