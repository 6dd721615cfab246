"""The person tallies per UTC week (migration 0024): a local week, in any timezone and across
daylight-saving changes, counts from them exactly what the raw kudos count (per person, per
principle, its people and top receivers); the rebuild and the migration count the week rows
and their histogram again from the kudos."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from bot.db.engine import Database
from bot.db.models import Kudos, KudosTally
from bot.reports.periods import PeriodKind, period_of
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import (
    PERSON_GRAINS,
    Grain,
    Role,
    bucket_of,
    counts_by_person,
    cover,
    people_by_principle,
    principle_counts,
    recount_histogram,
)
from tests.support.migrations import database_at, up_down_up
from tests.support.reports import principle_ids, sync
from tests.test_summaries import (
    OTHER_TEAM,
    PEOPLE,
    TEAM,
    ZONES,
    examples,
    give_at,
    raw_by_person,
    raw_by_principle,
    raw_people,
    withdraw_at,
)
from tests.test_tally_histogram import histogram, recount

# Six weeks holding New York's (8 March 2026), London's (29 March), Lord Howe's and
# Chatham's (5 April) changes of clock.
FIRST_MONDAY = dt.date(2026, 3, 2)
WEEKS = 6


def week_instants(rng: random.Random, count: int) -> list[dt.datetime]:
    """Moments near where weeks begin: UTC and local Monday midnights of ZONES, a second, a
    minute or hours either side, local Sunday nights, the hours of a clock change; and some
    anywhere in the weeks."""
    found = []
    for _ in range(count):
        monday = FIRST_MONDAY + dt.timedelta(weeks=rng.randrange(WEEKS + 1))
        if rng.random() < 0.2:
            start = dt.datetime.combine(FIRST_MONDAY, dt.time(0), tzinfo=dt.UTC)
            found.append(start + dt.timedelta(seconds=rng.randrange(WEEKS * 7 * 86_400)))
            continue
        zone = ZoneInfo(rng.choice(ZONES))
        if rng.random() < 0.2:
            # Early on the Sunday before: the clock changes at 2 or 3 in the night.
            sunday = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(0), tzinfo=zone)
            found.append(sunday.astimezone(dt.UTC) + dt.timedelta(minutes=rng.randrange(300)))
            continue
        midnight = dt.datetime.combine(monday, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        offset = rng.choice([0, 1, -1, 59, -59, 3600, -3600, rng.randrange(-86_400, 86_400)])
        found.append(midnight + dt.timedelta(seconds=offset))
    return found


@pytest.fixture
def weeks_history(database: Database) -> dict[str, int]:
    """~90 kudos around week starts (some to several people, a fifth withdrawn, some in the
    same second), and a second workspace's at the same instants."""
    rng = random.Random(24)
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    pids = principle_ids(database, TEAM)
    other = list(principle_ids(database, OTHER_TEAM).values())
    for at in week_instants(rng, 90):
        giver = rng.choice(PEOPLE)
        receivers = rng.sample([p for p in PEOPLE if p != giver], rng.choice([1, 1, 2, 3]))
        group = give_at(database, TEAM, giver, receivers, rng.choice(list(pids.values())), at)
        if rng.random() < 0.2:
            withdraw_at(
                database, TEAM, giver, group, at + dt.timedelta(seconds=rng.choice([0, 30]))
            )
        give_at(database, OTHER_TEAM, giver, receivers[:1], rng.choice(other), at)
    return pids


@examples(40)
@given(
    zone=st.sampled_from(ZONES),
    offset=st.integers(min_value=-7, max_value=WEEKS * 7 + 7),
    role=st.sampled_from(list(Role)),
    principle=st.sampled_from([None, "plain-words", "no-surprises"]),
)
def test_a_local_week_from_the_week_tallies_counts_as_the_raw_kudos(
    database: Database,
    weeks_history: dict[str, int],
    zone: str,
    offset: int,
    role: Role,
    principle: str | None,
) -> None:
    week = period_of(PeriodKind.WEEK, FIRST_MONDAY + dt.timedelta(days=offset))
    bounds = week.bounds(ZoneInfo(zone))
    # Read from a week's bucket (and raw hours), not from the raw kudos alone.
    assert any(span[0] == Grain.WEEK for span in cover(bounds, PERSON_GRAINS).spans)
    pid = weeks_history[principle] if principle else None
    with database.reading() as session:
        persons = counts_by_person(session, TEAM, role, bounds, pid)
        [per_principle] = principle_counts(session, TEAM, [bounds])
        people, everyone = people_by_principle(session, TEAM, bounds, 2)
    assert persons == raw_by_person(database, role, bounds, pid)
    assert per_principle == raw_by_principle(database, bounds)
    assert (people, everyone) == raw_people(database, bounds, 2)


def raw_week_rows(database: Database) -> Counter[tuple[object, ...]]:
    """The reference: the standing kudos counted here per (team, role, principle or 0, UTC
    week, person)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                Kudos.team_id,
                Kudos.principle_id,
                Kudos.giver_id,
                Kudos.receiver_id,
                Kudos.created_at,
            ).where(Kudos.withdrawn_at.is_(None))
        ).all()
    found: Counter[tuple[object, ...]] = Counter()
    for team, principle, giver, receiver, at in rows:
        monday = bucket_of(Grain.WEEK, at.replace(tzinfo=at.tzinfo or dt.UTC))
        for role, user in (("r", receiver), ("g", giver)):
            for p in (principle, 0):
                found[team, role, p, monday, user] += 1
    return found


def week_rows(database: Database) -> Counter[tuple[object, ...]]:
    """The week rows above 0."""
    with database.reading() as session:
        rows = session.execute(
            select(
                KudosTally.team_id,
                KudosTally.role,
                KudosTally.principle_id,
                KudosTally.bucket,
                KudosTally.user_id,
                KudosTally.kudos,
            ).where(KudosTally.grain == Grain.WEEK.value, KudosTally.kudos != 0)
        ).all()
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def test_the_write_path_keeps_the_week_rows_and_their_histogram(
    database: Database, weeks_history: dict[str, int]
) -> None:
    expected = raw_week_rows(database)
    assert len({key[3] for key in expected}) >= WEEKS
    assert week_rows(database) == expected
    assert histogram(database) == recount(database)
    assert any(key[2] == "w" for key in recount(database))


def test_a_rebuild_counts_the_week_rows_and_their_histogram_again(
    database: Database, weeks_history: dict[str, int]
) -> None:
    """Week rows changed behind the write path's back (raised, removed, one made up in a week
    that has no kudos, before the first kudos's week), and a week's histogram emptied."""
    expected = raw_week_rows(database)
    with database.transaction() as session:
        session.execute(
            text("UPDATE kudos_tallies SET kudos = kudos + 2 WHERE grain = 'w' AND user_id = :a"),
            {"a": PEOPLE[0]},
        )
        session.execute(
            text("DELETE FROM kudos_tallies WHERE grain = 'w' AND user_id = :b"), {"b": PEOPLE[1]}
        )
        session.execute(
            text(
                "INSERT INTO kudos_tallies "
                "(team_id, role, grain, principle_id, bucket, user_id, kudos) "
                "VALUES (:team, 'r', 'w', 0, '2026-02-09', 'UNOBODY01', 3)"
            ),
            {"team": TEAM},
        )
        session.execute(text("DELETE FROM kudos_tally_histogram WHERE grain = 'w'"))
    assert week_rows(database) != expected
    now = dt.datetime(2026, 4, 30, tzinfo=dt.UTC)
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    assert week_rows(database) == expected
    assert histogram(database) == recount(database)


def test_the_migration_fills_the_week_rows_and_goes_down_and_up(fresh_url: str) -> None:
    """As the previous release left them: kudos with no week rows (and a stray one from an
    interrupted run); the migration counts them, down removes them, up counts them again,
    and a kudos given after is counted by the write path."""
    with database_at(fresh_url, "0023") as database:
        rng = random.Random(5)
        sync(database, TEAM)
        pids = list(principle_ids(database, TEAM).values())
        for at in week_instants(rng, 30):
            giver = rng.choice(PEOPLE[:5])
            receivers = rng.sample([p for p in PEOPLE[:5] if p != giver], rng.choice([1, 2]))
            group = give_at(database, TEAM, giver, receivers, rng.choice(pids), at)
            if rng.random() < 0.2:
                withdraw_at(database, TEAM, giver, group, at)
        with database.transaction() as session:
            session.execute(text("DELETE FROM kudos_tallies WHERE grain = 'w'"))
            session.execute(
                text(
                    "INSERT INTO kudos_tallies "
                    "(team_id, role, grain, principle_id, bucket, user_id, kudos) "
                    "VALUES (:team, 'g', 'w', 0, '2026-03-09', :a, 40)"
                ),
                {"team": TEAM, "a": PEOPLE[0]},
            )
        expected = raw_week_rows(database)

        def check() -> None:
            assert week_rows(database) == expected
            assert histogram(database) == recount(database)

        def check_down() -> None:
            assert week_rows(database) == Counter()
            assert not any(key[2] == "w" for key in histogram(database))

        up_down_up(database, "0023", check, check_down=check_down)
        give_at(
            database,
            TEAM,
            PEOPLE[0],
            [PEOPLE[1]],
            pids[0],
            dt.datetime(2026, 3, 16, 1, tzinfo=dt.UTC),
        )
        assert week_rows(database) == raw_week_rows(database) != expected
        assert histogram(database) == recount(database)


def test_kudos_given_and_withdrawn_at_once_in_a_week_across_two_quarters_stay_exact(
    database: Database,
) -> None:
    """The week of Monday 30 March 2026 is in two UTC quarters: kudos of its Monday and
    Tuesday hold different quarter locks but share the week's rows and histogram. Three
    threads give to shared receivers on both days, and withdraw some, all at once: no
    deadlock (PostgreSQL would end one transaction), and the week rows and histogram exact."""
    sync(database, TEAM)
    pids = list(principle_ids(database, TEAM).values())
    days = [dt.datetime(2026, 3, 30, 12, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)]
    givers = ["UPAR001X", "UPAR002X", "UPAR003X"]
    start = threading.Barrier(len(givers))

    def some(giver: str) -> None:
        start.wait()
        for n in range(6):
            at = days[(n + len(giver)) % 2] + dt.timedelta(minutes=n)
            receivers = [PEOPLE[n % 3], PEOPLE[3 + n % 2]]
            group = give_at(database, TEAM, giver, receivers, pids[n % 2], at)
            if n % 3 == 2:
                withdraw_at(database, TEAM, giver, group, at + dt.timedelta(seconds=30))

    with ThreadPoolExecutor(max_workers=len(givers)) as pool:
        list(pool.map(some, givers))
    assert week_rows(database) == raw_week_rows(database)
    assert {key[3] for key in week_rows(database)} == {dt.date(2026, 3, 30)}
    assert histogram(database) == recount(database)


def test_a_weeks_recount_holds_the_weeks_lock_the_triggers_take(database: Database) -> None:
    """PostgreSQL: the rebuild's recount of a week's histogram holds the week's own lock (as
    the triggers and the write path take it), not its quarter's."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises writers")
    migration = import_module("bot.migrations.versions.20261206_0018_kudos_tally_histogram")
    week_key = (
        "hashtext(CAST(:team AS text) || '/w/' || to_char(CAST(:bucket AS date), 'YYYY-MM-DD'))"
    )
    quarter_key = migration.lock_key("CAST(:team AS text)", "CAST(:bucket AS date)")
    monday = dt.date(2026, 3, 30)
    with database.transaction() as session:
        recount_histogram(session, TEAM, Grain.WEEK, monday)
        with database.engine.connect() as other:
            for key, bucket, free in (
                (week_key, monday, False),
                (week_key, monday + dt.timedelta(weeks=1), True),
                (quarter_key, monday, True),
            ):
                taken = other.scalar(
                    text(f"SELECT pg_try_advisory_xact_lock({migration.LOCK_CLASS}, {key})"),
                    {"team": TEAM, "bucket": bucket},
                )
                assert taken is free
                other.rollback()
