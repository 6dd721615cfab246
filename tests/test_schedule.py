"""Schedules as plain rules: parsing, cron fire times in each channel's zone, what is due when.

No database and no Slack: `ChannelSchedule` takes `now` as an argument.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.daily.jobs import next_post, trigger_of
from bot.daily.schedule import (
    WEEKDAYS,
    WORKING_DAYS,
    InvalidSchedule,
    ScheduleRequest,
    parse_schedule_request,
)
from bot.daily.subscriptions import ChannelSchedule

CUTOFF = dt.time(17, 0)
UTC = dt.UTC


def schedule(
    timezone: str,
    post_time: str = "09:00",
    weekdays: tuple[str, ...] = WORKING_DAYS,
    updated_at: dt.datetime = dt.datetime(2020, 1, 1, tzinfo=UTC),
) -> ChannelSchedule:
    return ChannelSchedule(
        team_id="T1",
        channel_id="C1",
        post_time=post_time,
        weekdays=weekdays,
        timezone=timezone,
        digest=False,
        paused_reason=None,
        updated_at=updated_at,
    )


def fires(channel: ChannelSchedule, start: dt.datetime, count: int) -> list[dt.datetime]:
    """Successive fire times as APScheduler computes them (previous fire time passed in)."""
    trigger = trigger_of(channel)
    found: list[dt.datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        found.append(fire)
        previous, now = fire, fire + dt.timedelta(seconds=1)
    return found


def local(timezone: str, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=ZoneInfo(timezone))  # type: ignore[misc]


# -- parsing ---------------------------------------------------------------------------------


def test_subscribe_arguments_parse_in_any_order() -> None:
    assert parse_schedule_request("Asia/Kolkata mon,wed,fri 8:05") == ScheduleRequest(
        post_time="08:05", weekdays=("mon", "wed", "fri"), timezone="Asia/Kolkata"
    )
    assert parse_schedule_request("daily") == ScheduleRequest(weekdays=WEEKDAYS)
    assert parse_schedule_request("") == ScheduleRequest()


def test_weekday_ranges_and_names_and_case_insensitive_zones_are_understood() -> None:
    request = parse_schedule_request("Tuesday-thu america/new_york weekdays")
    assert request.weekdays == WORKING_DAYS  # the last weekday argument wins
    assert request.timezone == "America/New_York"
    assert parse_schedule_request("fri-mon").weekdays == ("mon", "fri", "sat", "sun")


def test_the_digest_flag_is_accepted_and_kept() -> None:
    assert parse_schedule_request("10:00 digest").digest is True


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("25:00", "`25:00` isn't a time"),
        ("9:75", "`9:75` isn't a time"),
        ("mon,funday", "`funday` in `mon,funday` isn't a weekday"),
        ("Mars/Olympus_Mons", "`Mars/Olympus_Mons` isn't a timezone"),
    ],
)
def test_bad_schedule_arguments_are_refused_with_an_example(text: str, problem: str) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        parse_schedule_request(text)
    assert problem in refused.value.message
    assert "/mission subscribe 09:30 weekdays Europe/Berlin" in refused.value.message


# -- cron fire times ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "utc_hour", "utc_minute"),
    [("America/New_York", 14, 0), ("Asia/Kolkata", 3, 30), ("Pacific/Auckland", 20, 0)],
)
def test_a_0900_post_fires_at_0900_local_in_each_zone(
    timezone: str, utc_hour: int, utc_minute: int
) -> None:
    # Mid-January: New York is UTC-5, Kolkata UTC+5:30, Auckland UTC+13 (summer time).
    channel = schedule(timezone, weekdays=WEEKDAYS)
    [fire] = fires(channel, dt.datetime(2026, 1, 14, 12, 0, tzinfo=UTC), 1)
    assert (fire.astimezone(UTC).hour, fire.astimezone(UTC).minute) == (utc_hour, utc_minute)
    assert fire.astimezone(ZoneInfo(timezone)).time() == dt.time(9, 0)


@pytest.mark.parametrize(
    ("timezone", "first_day"),
    [
        ("America/New_York", dt.date(2026, 3, 6)),  # spring forward on Sunday 8 March
        ("America/New_York", dt.date(2026, 10, 30)),  # fall back on Sunday 1 November
        ("Pacific/Auckland", dt.date(2026, 4, 3)),  # summer time ends on Sunday 5 April
        ("Pacific/Auckland", dt.date(2026, 9, 25)),  # summer time starts on Sunday 27 September
    ],
)
def test_across_a_dst_change_the_post_stays_at_0900_local_once_a_day(
    timezone: str, first_day: dt.date
) -> None:
    zone = ZoneInfo(timezone)
    channel = schedule(timezone, weekdays=WEEKDAYS)
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=zone)
    found = fires(channel, start, 5)
    expected = [
        dt.datetime.combine(first_day + dt.timedelta(days=n), dt.time(9), tzinfo=zone)
        for n in range(5)
    ]
    assert [f.astimezone(UTC) for f in found] == [e.astimezone(UTC) for e in expected]
    offsets = {e.utcoffset() for e in expected}
    assert len(offsets) == 2, "the window must straddle the change"


def test_a_post_in_the_repeated_hour_of_a_fall_back_fires_once_and_moves_on() -> None:
    channel = schedule("America/New_York", post_time="01:30", weekdays=WEEKDAYS)
    found = fires(channel, local("America/New_York", 2026, 10, 31, 12, 0), 3)
    days = [f.astimezone(ZoneInfo("America/New_York")).date() for f in found]
    assert days == [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]


def test_weekday_schedules_skip_the_weekend_in_local_time() -> None:
    # Thursday 19:00 UTC is Friday 08:00 in Auckland; Friday 20:00 UTC is Saturday 09:00 there.
    channel = schedule("Pacific/Auckland")
    found = fires(channel, dt.datetime(2026, 1, 15, 19, 0, tzinfo=UTC), 2)
    local_days = [f.astimezone(ZoneInfo("Pacific/Auckland")).date() for f in found]
    assert local_days == [dt.date(2026, 1, 16), dt.date(2026, 1, 19)]  # Friday, then Monday
    assert [d.strftime("%a") for d in local_days] == ["Fri", "Mon"]


# -- what is due ------------------------------------------------------------------------------


def test_a_post_is_due_from_its_time_until_the_cutoff_on_its_local_day() -> None:
    channel = schedule("Asia/Kolkata")
    tuesday = dt.date(2026, 1, 13)
    assert channel.due(local("Asia/Kolkata", 2026, 1, 13, 8, 59), cutoff=CUTOFF) is None
    assert channel.due(local("Asia/Kolkata", 2026, 1, 13, 9, 0), cutoff=CUTOFF) == tuesday
    assert channel.due(local("Asia/Kolkata", 2026, 1, 13, 16, 59), cutoff=CUTOFF) == tuesday
    assert channel.due(local("Asia/Kolkata", 2026, 1, 13, 17, 0), cutoff=CUTOFF) is None


def test_nothing_is_due_on_a_day_the_channel_does_not_post() -> None:
    channel = schedule("America/New_York")
    assert channel.due(local("America/New_York", 2026, 1, 17, 10, 0), cutoff=CUTOFF) is None


def test_a_schedule_made_after_todays_time_starts_tomorrow() -> None:
    made = local("America/New_York", 2026, 1, 13, 10, 0)
    channel = schedule("America/New_York", updated_at=made)
    assert channel.due(made + dt.timedelta(minutes=1), cutoff=CUTOFF) is None
    tomorrow = local("America/New_York", 2026, 1, 14, 9, 0)
    assert channel.due(tomorrow, cutoff=CUTOFF) == dt.date(2026, 1, 14)


def test_a_post_time_after_the_cutoff_may_still_catch_up_for_an_hour() -> None:
    channel = schedule("America/New_York", post_time="18:00")
    assert channel.due(local("America/New_York", 2026, 1, 13, 18, 59), cutoff=CUTOFF)
    assert channel.due(local("America/New_York", 2026, 1, 13, 19, 0), cutoff=CUTOFF) is None


def test_next_post_is_shown_in_the_channels_zone_across_the_weekend() -> None:
    channel = schedule("Asia/Kolkata", post_time="09:30")
    friday_after = local("Asia/Kolkata", 2026, 1, 16, 10, 0)
    following = next_post(channel, friday_after)
    assert following == local("Asia/Kolkata", 2026, 1, 19, 9, 30)
