"""Periods: parsing the words people type, and local calendar periods as UTC ranges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.reports.periods import InvalidPeriod, Period, PeriodKind, parse_period, period_of

TODAY = dt.date(2026, 5, 14)  # a Thursday in Q2


@pytest.mark.parametrize(
    ("text", "first", "after"),
    [
        ("", dt.date(2026, 5, 1), dt.date(2026, 6, 1)),
        ("month", dt.date(2026, 5, 1), dt.date(2026, 6, 1)),
        ("week", dt.date(2026, 5, 11), dt.date(2026, 5, 18)),
        ("quarter", dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        ("year", dt.date(2026, 1, 1), dt.date(2027, 1, 1)),
        ("2025-12", dt.date(2025, 12, 1), dt.date(2026, 1, 1)),
        ("2026-2", dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
        ("2025-Q4", dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
        ("2026q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        ("2024", dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
        ("all", None, None),
    ],
)
def test_each_period_word_is_the_calendar_period_around_today(
    text: str, first: dt.date | None, after: dt.date | None
) -> None:
    period = parse_period(text, TODAY)
    assert (period.start, period.end) == (first, after)


@pytest.mark.parametrize("text", ["fortnight", "2026-13", "2026-Q5", "1999-01", "26-01", "month2"])
def test_an_unknown_period_is_refused_with_the_choices(text: str) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        parse_period(text, TODAY)
    assert "`2026-Q1`" in caught.value.message


def test_previous_periods_step_back_across_year_ends() -> None:
    assert period_of(PeriodKind.MONTH, dt.date(2026, 1, 9)).previous() == period_of(
        PeriodKind.MONTH, dt.date(2025, 12, 31)
    )
    previous_quarter = parse_period("2026-Q1", TODAY).previous()
    assert previous_quarter is not None
    assert previous_quarter.label == "2025-Q4"
    previous_week = parse_period("week", dt.date(2026, 1, 1)).previous()
    assert previous_week is not None
    assert (previous_week.start, previous_week.end) == (
        dt.date(2025, 12, 22),
        dt.date(2025, 12, 29),
    )
    assert parse_period("all", TODAY).previous() is None


def test_bounds_are_local_midnights_in_utc() -> None:
    march = parse_period("2026-03", TODAY)
    start, end = march.bounds(ZoneInfo("Asia/Kolkata"))
    assert start == dt.datetime(2026, 2, 28, 18, 30, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 3, 31, 18, 30, tzinfo=dt.UTC)
    # New York changes to daylight time on 8 March: the month starts at -5 and ends at -4.
    start, end = march.bounds(ZoneInfo("America/New_York"))
    assert start == dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC)


def test_2330_on_the_last_day_of_the_month_is_in_that_month_only_locally() -> None:
    new_york = ZoneInfo("America/New_York")
    late = dt.datetime(2026, 3, 31, 23, 30, tzinfo=new_york)
    march, april = parse_period("2026-03", TODAY), parse_period("2026-04", TODAY)
    for period, zone, inside in [
        (march, new_york, True),
        (april, new_york, False),
        (march, ZoneInfo("Europe/Berlin"), False),
        (april, ZoneInfo("Europe/Berlin"), True),
    ]:
        start, end = period.bounds(zone)
        assert start is not None
        assert end is not None
        assert (start <= late < end) is inside


def test_a_midnight_inside_a_dst_gap_starts_at_the_first_real_instant() -> None:
    # Santiago skipped from 00:00 to 01:00 on Sunday 7 Sep 2025.
    zone = ZoneInfo("America/Santiago")
    period = Period(PeriodKind.WEEK, dt.date(2025, 9, 7), dt.date(2025, 9, 14))
    start, _end = period.bounds(zone)
    assert start == dt.datetime(2025, 9, 7, 4, 0, tzinfo=dt.UTC)
    assert start is not None
    assert start.astimezone(zone).hour == 1


def test_labels_name_the_period() -> None:
    assert parse_period("2026-03", TODAY).label == "March 2026"
    assert parse_period("week", TODAY).label == "the week of Mon 11 May 2026"
    assert parse_period("2026-03", TODAY).slug == "2026-03"
    assert parse_period("week", TODAY).slug == "2026-W20"
    assert parse_period("all", TODAY).label == "all time"
