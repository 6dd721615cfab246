"""How bot/reports/summaries.py's `cover` splits a period into buckets and raw ranges: pure, no
database. Whatever the split, the signed sum of its pieces is the period itself, second by
second; and the common periods read few raw hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.reports.periods import PeriodKind, end_of_day, period_of
from bot.reports.summaries import ALL_TIME, PERSON_GRAINS, Cover, Grain, cover

PERSON = (Grain.YEAR, Grain.MONTH)
ORIGIN = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _end_of(grain: Grain, first: dt.date) -> dt.date:
    if grain == Grain.DAY:
        return first + dt.timedelta(days=1)
    if grain == Grain.MONTH:
        return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return dt.date(first.year + 1, 1, 1)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _signed_hours(plan: Cover, probes: list[dt.datetime]) -> list[int]:
    """How many times each probe instant is counted by the plan's pieces, with their signs."""
    found = []
    for probe in probes:
        n = 0
        for grain, first, last, sign in plan.spans:
            bucket = first
            # Unbounded spans are checked on the probes' own side.
            if (first is None or _at(first) <= probe) and (last is None or probe < _at(last)):
                assert bucket is None or grain in Grain
                n += sign
        for start, end, sign in plan.raw:
            if (start is None or start <= probe) and (end is None or probe < end):
                n += sign
        found.append(n)
    return found


hours = st.integers(min_value=0, max_value=6 * 366 * 24)


@given(
    first=st.one_of(st.none(), hours),
    length=st.one_of(st.none(), st.integers(min_value=1, max_value=3 * 366 * 24)),
    minute=st.integers(min_value=0, max_value=59),
    grains=st.sampled_from(
        [PERSON_GRAINS, PERSON, (Grain.DAY,), (Grain.MONTH,), (Grain.QUARTER,), (Grain.YEAR,)]
    ),
)
def test_a_cover_counts_every_instant_of_the_range_once_and_none_outside(
    first: int | None, length: int | None, minute: int, grains: tuple[Grain, ...]
) -> None:
    start = None if first is None else ORIGIN + dt.timedelta(hours=first, minutes=minute)
    end = None
    if length is not None:
        end = (start or ORIGIN) + dt.timedelta(hours=length, minutes=minute)
    plan = cover((start, end), grains)
    lo = (start or ORIGIN) - dt.timedelta(days=400)
    hi = (end or ORIGIN + dt.timedelta(days=7 * 366)) + dt.timedelta(days=400)
    probes = [lo + (hi - lo) * k / 299 for k in range(300)]
    probes += [
        t + d for t in (start, end) if t for d in (dt.timedelta(0), -dt.timedelta(seconds=1))
    ]
    wanted = [
        1 if (start is None or start <= p) and (end is None or p < end) else 0 for p in probes
    ]
    assert _signed_hours(plan, probes) == wanted


def test_a_local_year_is_its_utc_year_less_the_hours_before_it() -> None:
    """New York's 2026 starts at 05:00 UTC: one year bucket, five hours taken away and five
    hours of 2027 added, not eleven months of buckets and a month of raw kudos."""
    bounds = period_of(PeriodKind.YEAR, dt.date(2026, 6, 1)).bounds(ZoneInfo("America/New_York"))
    plan = cover(bounds, PERSON)
    assert plan.spans == ((Grain.YEAR, dt.date(2026, 1, 1), dt.date(2027, 1, 1), 1),)
    assert [(end - start, sign) for start, end, sign in plan.raw if start and end] == [
        (dt.timedelta(hours=5), -1),
        (dt.timedelta(hours=5), 1),
    ]


def test_a_local_month_reads_one_month_bucket_and_a_few_raw_hours() -> None:
    bounds = period_of(PeriodKind.MONTH, dt.date(2026, 3, 9)).bounds(ZoneInfo("Asia/Kolkata"))
    plan = cover(bounds, PERSON)
    assert [span[0] for span in plan.spans] == [Grain.MONTH]
    raw_hours = sum((end - start).total_seconds() for start, end, _s in plan.raw if start and end)
    assert raw_hours <= 2 * 6 * 3600


def test_all_time_is_the_year_buckets_alone() -> None:
    assert cover((None, None), PERSON) == Cover(((Grain.YEAR, None, None, 1),), ())


def test_a_local_quarter_is_one_quarter_bucket_and_a_few_raw_hours() -> None:
    bounds = period_of(PeriodKind.QUARTER, dt.date(2026, 11, 9)).bounds(ZoneInfo("Asia/Kolkata"))
    plan = cover(bounds, PERSON_GRAINS)
    assert [span[:3] for span in plan.spans] == [
        (Grain.QUARTER, dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    ]
    raw_hours = sum((end - start).total_seconds() for start, end, _s in plan.raw if start and end)
    assert raw_hours <= 2 * 6 * 3600


def test_all_time_is_the_one_all_time_bucket() -> None:
    plan = cover((None, None), PERSON_GRAINS)
    assert plan == Cover(((Grain.ALL, ALL_TIME, dt.date(9999, 1, 1), 1),), ())


@given(
    first=st.integers(min_value=0, max_value=3 * 366 * 24),
    length=st.integers(min_value=1, max_value=2 * 366 * 24),
    until=st.integers(min_value=-24, max_value=2 * 366 * 24),
    minute=st.integers(min_value=0, max_value=59),
)
def test_a_cover_weighed_up_to_now_still_counts_every_instant_once(
    first: int, length: int, until: int, minute: int
) -> None:
    """`until` (no kudos is later) only chooses among the plans: each is exact."""
    start = ORIGIN + dt.timedelta(hours=first, minutes=minute)
    end = start + dt.timedelta(hours=length)
    plan = cover((start, end), PERSON_GRAINS, until=start + dt.timedelta(hours=until))
    probes = [
        start - dt.timedelta(days=30) + (end - start + dt.timedelta(days=60)) * k / 199
        for k in range(200)
    ]
    probes += [t + d for t in (start, end) for d in (dt.timedelta(0), -dt.timedelta(seconds=1))]
    assert _signed_hours(plan, probes) == [1 if start <= p < end else 0 for p in probes]


NEW_YORK = ZoneInfo("America/New_York")


def test_this_week_on_its_monday_reads_its_few_raw_hours_not_the_utc_week_bucket() -> None:
    """Monday 00:31 in New York: the local week began 31 minutes ago. Weighed as if the whole
    week were past, its UTC week's bucket less the five hours before the local Monday looked
    cheaper than a week of raw kudos (bench/RESULTS.md §57); up to the end of today the raw
    kudos are a day at most, and that is what is read."""
    monday = dt.date(2026, 12, 7)
    bounds = period_of(PeriodKind.WEEK, monday).bounds(NEW_YORK)
    assert cover(bounds, PERSON_GRAINS).spans  # the plan of the week as if it were over
    today_ends = end_of_day(monday, NEW_YORK)

    plan = cover(bounds, PERSON_GRAINS, until=today_ends)

    assert plan.spans == ()
    assert plan.raw == ((bounds[0], bounds[1], 1),)


def test_the_running_quarter_keeps_its_quarter_bucket() -> None:
    """Weighed up to today, a quarter two months old is still one bucket and a few raw hours,
    not two months' buckets and the raw kudos since (what cutting it at today read: §57)."""
    today = dt.date(2026, 12, 7)
    bounds = period_of(PeriodKind.QUARTER, today).bounds(NEW_YORK)

    plan = cover(bounds, PERSON_GRAINS, until=end_of_day(today, NEW_YORK))

    assert [span[:3] for span in plan.spans] == [
        (Grain.QUARTER, dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    ]
