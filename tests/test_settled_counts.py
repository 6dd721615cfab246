"""People counts of ended periods kept once counted (migration 0027, bot/reports/settled.py), on
SQLite and PostgreSQL: participation reads a kept count back while nothing touched the
team's older kudos, and counts again (rightly) after a late kudos, a withdrawal, a move or a
deletion of one; a period that ended under an hour ago by the database's clock is never
kept; a count read in a snapshot from before a write is never read back after it; the
rebuild leaves nothing kept behind it."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from bot.db.engine import Database
from bot.db.models import (
    Kudos,
    Person,
    SettledCountGeneration,
    SettledPeopleCount,
    SettledReport,
)
from bot.reports import settled
from bot.reports.health import TOP_RECEIVERS, Health, promise_health
from bot.reports.periods import Period, PeriodKind, period_of
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import Participation, People, participation, people_by_principle
from tests.support.reports import kudos_row, principle_ids, sync
from tests.test_channel_tallies import _postgresql_only
from tests.test_participation_outsiders import raw_participation
from tests.test_summaries import PEOPLE, TEAM, give_at, withdraw_at

MARCH = (dt.datetime(2026, 3, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC))
APRIL = (MARCH[1], dt.datetime(2026, 5, 1, 4, tzinfo=dt.UTC))
NOW = dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC)


def _history(database: Database) -> int:
    """Three givers and four receivers in March (local, New York), two and two in April."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    with database.transaction() as session:
        for user in PEOPLE:
            session.add(Person(team_id=TEAM, user_id=user, name=user))
    march = MARCH[0] + dt.timedelta(days=3)
    for giver, receivers in ((0, [1, 2]), (1, [3]), (2, [4])):
        give_at(database, TEAM, PEOPLE[giver], [PEOPLE[r] for r in receivers], pid, march)
    april = APRIL[0] + dt.timedelta(days=5)
    for giver, receiver in ((5, 6), (6, 7)):
        give_at(database, TEAM, PEOPLE[giver], [PEOPLE[receiver]], pid, april)
    # As the migration leaves a team that was there (PostgreSQL's triggers made the row
    # while this history was written, SQLite's wait for a report to make it).
    with database.transaction() as session:
        session.merge(SettledCountGeneration(team_id=TEAM, generation=0))
    return pid


def _participation(database: Database, now: dt.datetime = NOW) -> Participation:
    with database.transaction() as session:
        return participation(session, TEAM, APRIL, MARCH, now)


def _kept(database: Database) -> dict[str, tuple[int, int]]:
    """The kept counts of March by role: (people, generation)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                SettledPeopleCount.role,
                SettledPeopleCount.people,
                SettledPeopleCount.generation,
            ).where(
                SettledPeopleCount.team_id == TEAM,
                SettledPeopleCount.start_at == MARCH[0],
                SettledPeopleCount.end_at == MARCH[1],
            )
        ).all()
    return {role: (people, generation) for role, people, generation in rows}


def _generation(database: Database) -> int | None:
    with database.reading() as session:
        return session.scalar(
            select(SettledCountGeneration.generation).where(SettledCountGeneration.team_id == TEAM)
        )


def _exact(database: Database) -> Participation:
    found = _participation(database)
    assert found == raw_participation(database, APRIL, MARCH, NOW)
    return found


def test_an_ended_periods_count_is_kept_then_read_back(database: Database) -> None:
    _history(database)
    first = _exact(database)
    assert (first.gave_before, first.received_before) == (3, 4)
    assert _kept(database) == {"g": (3, 0), "r": (4, 0)}
    assert _exact(database) == first
    # Read back, not counted: a kept count changed by hand is what participation shows.
    with database.transaction() as session:
        session.execute(
            update(SettledPeopleCount)
            .where(SettledPeopleCount.role == "g")
            .values(people=SettledPeopleCount.people + 2)
        )
    assert _participation(database).gave_before == 5
    with database.transaction() as session:
        session.execute(
            update(SettledPeopleCount)
            .where(SettledPeopleCount.role == "g")
            .values(people=SettledPeopleCount.people - 2)
        )
    # This month is still running: nothing of it is kept.
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(SettledPeopleCount)) == 2


def _late_kudos(database: Database, pid: int) -> None:
    """A kudos given now with a time in March (an event Slack delivered late)."""
    give_at(database, TEAM, PEOPLE[7], [PEOPLE[8]], pid, MARCH[0] + dt.timedelta(days=9))


def _late_withdrawal(database: Database, _pid: int) -> None:
    with database.reading() as session:
        group = session.scalar(
            select(Kudos.group_id).where(Kudos.team_id == TEAM, Kudos.giver_id == PEOPLE[1])
        )
    assert group is not None
    withdraw_at(database, TEAM, PEOPLE[1], group, MARCH[0] + dt.timedelta(days=3, minutes=5))


@pytest.mark.parametrize("change", [_late_kudos, _late_withdrawal])
def test_a_change_to_an_older_kudos_makes_the_kept_counts_count_again(
    database: Database, change: Callable[[Database, int], None]
) -> None:
    pid = _history(database)
    _exact(database)
    before = _exact(database)
    assert set(_kept(database)) == {"g", "r"}
    change(database, pid)
    generation = _generation(database)
    assert generation is not None
    assert generation > 0
    after = _exact(database)
    assert (after.gave_before, after.received_before) != (
        before.gave_before,
        before.received_before,
    )
    assert {role: kept for role, (_n, kept) in _kept(database).items()} == {
        "g": generation,
        "r": generation,
    }


def test_any_write_to_an_older_kudos_moves_the_generation_whoever_makes_it(
    database: Database,
) -> None:
    """Writes behind the bot's back (a script, a person erased): the kept counts go stale even
    where the tallies can't follow (the rebuild brings those back)."""
    pid = _history(database)
    _exact(database)
    march = Kudos.team_id == TEAM, Kudos.created_at < MARCH[1]

    def moved(write: Callable[[Session], object]) -> bool:
        before = _generation(database)
        with database.transaction() as session:
            write(session)
        return _generation(database) != before

    row = kudos_row(TEAM, PEOPLE[7], PEOPLE[8], pid, MARCH[0] + dt.timedelta(days=2))
    assert moved(lambda s: s.execute(insert(Kudos).values(row)))
    assert moved(lambda s: s.execute(update(Kudos).where(*march).values(withdrawn_at=NOW)))
    assert moved(lambda s: s.execute(update(Kudos).where(*march).values(created_at=APRIL[0])))
    assert moved(lambda s: s.execute(delete(Kudos).where(Kudos.giver_id == PEOPLE[5])))
    # A column no count reads (the message edited) moves nothing.
    assert not moved(lambda s: s.execute(update(Kudos).values(message="edited")))
    # Nor a kudos written now.
    now = kudos_row(TEAM, PEOPLE[3], PEOPLE[4], pid, dt.datetime.now(dt.UTC))
    assert not moved(lambda s: s.execute(insert(Kudos).values(now)))


def test_a_new_teams_first_count_makes_its_generation_and_keeps_nothing(
    database: Database,
) -> None:
    _history(database)
    with database.transaction() as session:
        session.execute(delete(SettledCountGeneration))
    first = _exact(database)
    assert _kept(database) == {}
    assert _generation(database) == 0
    assert _exact(database) == first
    assert _kept(database) == {"g": (3, 0), "r": (4, 0)}


def test_a_kudos_given_now_moves_nothing(database: Database) -> None:
    pid = _history(database)
    _exact(database)
    _exact(database)
    now = dt.datetime.now(dt.UTC)
    give_at(database, TEAM, PEOPLE[3], [PEOPLE[4]], pid, now)
    assert _generation(database) == 0
    assert set(_kept(database)) == {"g", "r"}


def test_a_period_ended_under_an_hour_ago_by_the_databases_clock_is_not_kept(
    database: Database,
) -> None:
    _history(database)
    # By the bot's clock (a day later) March ended long ago; by the database's, 30 minutes ago.
    real = dt.datetime.now(dt.UTC)
    bounds = (real - dt.timedelta(days=40), real - dt.timedelta(minutes=30))
    running = (bounds[1], real + dt.timedelta(days=10))
    for _ in range(3):
        with database.transaction() as session:
            participation(session, TEAM, running, bounds, real + dt.timedelta(days=1))
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(SettledPeopleCount)) == 0
    # Two hours ago: kept.
    bounds = (bounds[0], real - dt.timedelta(hours=2))
    with database.transaction() as session:
        participation(session, TEAM, (bounds[1], running[1]), bounds, real)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(SettledPeopleCount)) == 2


def test_a_count_from_a_snapshot_before_a_write_is_never_read_back(database: Database) -> None:
    pid = _history(database)
    _exact(database)  # the generation exists from here
    with database.reading() as stale:
        # The report's snapshot is taken here, before the late kudos below.
        stale.execute(select(func.count()).select_from(Kudos)).scalar()
        _late_kudos(database, pid)
        old = participation(stale, TEAM, APRIL, MARCH, NOW)
    assert old.gave_before == 3
    # What is kept (the first count's, and on PostgreSQL that report's again) carries the
    # generation before the kudos: not read back.
    assert _kept(database) == {"g": (3, 0), "r": (4, 0)}
    assert _generation(database) == 1
    assert _exact(database).gave_before == 4


def test_a_rebuild_moves_the_generation_on(database: Database) -> None:
    _history(database)
    _exact(database)
    _exact(database)
    with database.transaction() as session:
        session.execute(update(SettledPeopleCount).values(people=SettledPeopleCount.people + 7))
    rebuild_team(database, TEAM, dt.datetime.now(dt.UTC))
    assert _generation(database) == 1
    assert _exact(database).gave_before == 3


def test_a_home_waits_little_for_another_storing_the_same_count(database: Database) -> None:
    """Two Homes drawn at once, the first's transaction still open (while Slack answers):
    the second doesn't wait for it past a fraction of a second, and counts rightly."""
    _postgresql_only(database)
    _history(database)
    _exact(database)  # the generation exists from here
    with database.transaction() as first:
        expected = participation(first, TEAM, APRIL, MARCH, NOW)  # stores, uncommitted
        done: list[Participation] = []
        second = threading.Thread(target=lambda: done.append(_participation(database)))
        started = time.monotonic()
        second.start()
        second.join(timeout=5)
        # Its count (two statements) and 0.2 s waiting for the first's row, with room for a
        # busy machine: without the bound it would wait for the first's commit below.
        assert time.monotonic() - started < 2.0
        assert done == [expected]
    assert _kept(database) == {"g": (3, 0), "r": (4, 0)}


def test_a_read_only_report_keeps_its_counts_on_postgresql(database: Database) -> None:
    """The digest is drawn in a read-only transaction: on PostgreSQL its counts are stored
    on a connection of their own; SQLite's reader stores nothing (it would take the lock)."""
    _history(database)
    for _ in range(2):
        with database.reading() as session:
            found = participation(session, TEAM, APRIL, MARCH, NOW)
        assert found == raw_participation(database, APRIL, MARCH, NOW)
    stored = {"g": (3, 0), "r": (4, 0)} if database.dialect == "postgresql" else {}
    assert _kept(database) == stored


def _health(database: Database, week: Period) -> Health:
    """As `/kudos health week` and the dashboard ask: in a read-only transaction."""
    zone = ZoneInfo("America/New_York")
    with database.reading() as session:
        return promise_health(
            session=session,
            team_id=TEAM,
            period=week,
            bounds=week.bounds(zone),
            where=zone,
            today=NOW.date(),
        )


def _counted_health_people(database: Database, week: Period) -> tuple[object, ...]:
    with database.reading() as session:
        people, everyone = people_by_principle(
            session, TEAM, week.bounds(ZoneInfo("America/New_York")), TOP_RECEIVERS
        )
    return people, everyone


def _health_people(health: Health) -> tuple[object, ...]:
    people = {
        p.principle.id: People(p.givers, p.receivers, p.top_receivers)
        for p in health.principles
        if p.givers or p.receivers
    }
    return people, People(health.givers, health.receivers, health.top_receivers)


def test_health_of_an_ended_week_is_kept_and_counted_again_after_a_late_kudos(
    database: Database,
) -> None:
    """Kept on PostgreSQL (its readers store on a connection of their own), not on SQLite."""
    pid = _history(database)
    week = period_of(PeriodKind.WEEK, (MARCH[0] + dt.timedelta(days=3)).date())
    first = _health(database, week)
    assert _health_people(first) == _counted_health_people(database, week)
    assert first.receivers == 4
    for _ in range(2):
        assert _health(database, week) == first
    with database.reading() as session:
        kept = session.execute(select(SettledReport.report, SettledReport.generation)).all()
    if database.dialect == "sqlite":
        # SQLite's reader keeps nothing: it would wait for the write lock.
        assert kept == []
    else:
        assert kept == [(settled.Report.HEALTH_PEOPLE.value, 0)]
        # Read back, not counted: the kept body is what health shows.
        with database.transaction() as session:
            body = session.scalars(select(SettledReport.body)).one()
            by_principle, everyone = json.loads(body)
            everyone[1] = 9
            session.execute(update(SettledReport).values(body=json.dumps([by_principle, everyone])))
        assert _health(database, week).receivers == 9
    # A late kudos in that week: counted again.
    give_at(database, TEAM, PEOPLE[7], [PEOPLE[8]], pid, MARCH[0] + dt.timedelta(days=4))
    after = _health(database, week)
    assert after.receivers == 5
    assert _health_people(after) == _counted_health_people(database, week)


def test_health_of_the_running_week_is_never_kept(database: Database) -> None:
    _history(database)
    week = period_of(PeriodKind.WEEK, NOW.date())
    for _ in range(3):
        _health(database, week)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(SettledReport)) == 0


def test_a_write_meeting_a_new_teams_first_count_is_never_missed(database: Database) -> None:
    """PostgreSQL: a write to an older kudos, not yet committed, while a new team's first
    report makes its generation row: the write's own row (the triggers insert one) holds the
    report back, and the count after the write is the one read."""
    _postgresql_only(database)
    pid = _history(database)
    with database.transaction() as session:
        session.execute(delete(SettledCountGeneration))
    with database.transaction() as writer:
        row = kudos_row(TEAM, PEOPLE[7], PEOPLE[8], pid, MARCH[0] + dt.timedelta(days=9))
        writer.execute(insert(Kudos).values(row))
        # Uncommitted: the report counts without it and stores nothing.
        assert _participation(database).gave_before == 3
        assert _kept(database) == {}
    assert _generation(database) == 1
    # The kudos went in behind the tallies' back: their counts come from the rebuild, which
    # moves the generation on again.
    rebuild_team(database, TEAM, dt.datetime.now(dt.UTC))
    assert _exact(database).gave_before == 4
    assert _exact(database).gave_before == 4
    assert {role: n for role, (n, _g) in _kept(database).items()} == {"g": 4, "r": 5}
