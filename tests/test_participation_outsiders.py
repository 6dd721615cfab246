"""Participation counts everyone from the read model less the people who are not active
(migration 0025): the bots and the deactivated from `people`, and those missing from the
directory from `kudos_unlisted`'s candidates, kept by triggers. Whenever the directory
learns or forgets someone (before their first kudos, after it, from other threads at once on
PostgreSQL), after a rebuild and through the migration, participation equals the raw kudos
among the active people, and every person of `kudos_latest` missing from the directory is a
candidate."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import delete, select

from bot.db.engine import Database
from bot.db.models import Kudos, KudosLatest, KudosUnlisted, Person
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import NOT_RECOGNISED_DAYS, Participation, Range, participation
from tests.support.migrations import database_at, up_down_up
from tests.support.reports import principle_ids, sync
from tests.test_summaries import OTHER_TEAM, PEOPLE, TEAM, give_at, withdraw_at
from tests.test_tally_histogram import random_history

JANUARY = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
DECEMBER = (dt.datetime(2025, 12, 1, tzinfo=dt.UTC), JANUARY[0])


def raw_participation(
    database: Database, bounds: Range, before: Range, now: dt.datetime
) -> Participation:
    """The reference: each list from the raw kudos, among the directory's active people."""
    with database.reading() as session:
        active = set(
            session.scalars(
                select(Person.user_id).where(
                    Person.team_id == TEAM, Person.is_bot.is_(False), Person.deleted.is_(False)
                )
            )
        )

        def among(who: Any, span: Range) -> int:
            start, end = span
            conditions = [Kudos.team_id == TEAM, Kudos.withdrawn_at.is_(None)]
            if start is not None:
                conditions.append(Kudos.created_at >= start)
            if end is not None:
                conditions.append(Kudos.created_at < end)
            return len(set(session.scalars(select(who).where(*conditions))) & active)

        recent = among(Kudos.receiver_id, (now - dt.timedelta(days=NOT_RECOGNISED_DAYS), None))
        return Participation(
            active=len(active),
            gave=among(Kudos.giver_id, bounds),
            received=among(Kudos.receiver_id, bounds),
            gave_before=among(Kudos.giver_id, before),
            received_before=among(Kudos.receiver_id, before),
            not_recognised=len(active) - recent,
        )


def assert_exact(database: Database, now: dt.datetime) -> None:
    """This month against the raw kudos (a period that ends after `now`: `kudos_latest`),
    and December with January before it (ended periods: the tallies), both with the 60 days;
    and every person of `kudos_latest` missing from the directory is a candidate."""
    month = (dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC), now + dt.timedelta(days=30))
    for bounds, before in ((month, JANUARY), (JANUARY, DECEMBER)):
        with database.reading() as session:
            found = participation(session, TEAM, bounds, before, now)
        assert found == raw_participation(database, bounds, before, now), (bounds, now)
    with database.reading() as session:
        listed = select(Person.user_id).where(
            Person.team_id == KudosLatest.team_id, Person.user_id == KudosLatest.user_id
        )
        missing = {
            tuple(row)
            for row in session.execute(
                select(KudosLatest.team_id, KudosLatest.role, KudosLatest.user_id).where(
                    ~listed.exists()
                )
            )
        }
        candidates = {
            tuple(row)
            for row in session.execute(
                select(KudosUnlisted.team_id, KudosUnlisted.role, KudosUnlisted.user_id)
            )
        }
    assert missing <= candidates


def _directory(database: Database, *users: str, bot: bool = False) -> None:
    with database.transaction() as session:
        for user in users:
            session.merge(Person(team_id=TEAM, user_id=user, name=user, is_bot=bot))


def _forget(database: Database, *users: str) -> None:
    with database.transaction() as session:
        session.execute(delete(Person).where(Person.team_id == TEAM, Person.user_id.in_(users)))


def test_someone_recognised_before_the_directory_knew_them_counts_from_when_it_does(
    database: Database,
) -> None:
    """A kudos to and from people without a directory row: not counted (candidates of both
    roles); once the directory has them, counted (their candidates, stale now, cost only a
    seek); forgotten again, not counted; a bot is never counted."""
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    newcomer, stranger, known = "UNEW001X", "UNEW002X", PEOPLE[0]
    _directory(database, known, PEOPLE[1])
    now = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
    give_at(
        database, TEAM, stranger, [newcomer, known], pid, dt.datetime(2026, 1, 7, tzinfo=dt.UTC)
    )
    give_at(database, TEAM, known, [newcomer], pid, dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    give_at(database, TEAM, newcomer, [PEOPLE[1]], pid, dt.datetime(2026, 2, 4, tzinfo=dt.UTC))
    assert_exact(database, now)
    with database.reading() as session:
        found = participation(session, TEAM, JANUARY, DECEMBER, now)
    assert (found.active, found.gave, found.received) == (2, 0, 1)
    _directory(database, newcomer, stranger)
    assert_exact(database, now)
    with database.reading() as session:
        found = participation(session, TEAM, JANUARY, DECEMBER, now)
    assert (found.active, found.gave, found.received) == (4, 1, 2)
    _forget(database, newcomer)
    assert_exact(database, now)
    _directory(database, stranger, bot=True)
    assert_exact(database, now)
    with database.reading() as session:
        found = participation(session, TEAM, JANUARY, DECEMBER, now)
    assert (found.active, found.gave, found.received) == (2, 0, 1)


def test_a_rebuild_keeps_only_the_candidates_still_missing(database: Database) -> None:
    random_history(database, 7, count=40)
    _directory(database, *PEOPLE[:3])
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert_exact(database, now)
    with database.transaction() as session:
        # A candidate that was never missing, and one a trigger did not see (a hand fix).
        session.merge(KudosUnlisted(team_id=TEAM, role="g", user_id=PEOPLE[0]))
        session.execute(
            delete(KudosUnlisted).where(
                KudosUnlisted.team_id == TEAM, KudosUnlisted.user_id == PEOPLE[4]
            )
        )
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    with database.reading() as session:
        kept = set(
            session.scalars(select(KudosUnlisted.user_id).where(KudosUnlisted.team_id == TEAM))
        )
    assert kept == set(PEOPLE[3:6])
    assert_exact(database, now)


def test_kudos_and_directory_changes_from_threads_at_once_leave_it_exact(
    database: Database,
) -> None:
    """Three givers at once give kudos to people the directory has not heard of and withdraw
    some, while a fourth thread adds and removes those people (and the givers) from the
    directory again and again (PostgreSQL: no deadlock, no candidate lost)."""
    sync(database, TEAM)
    pids = list(principle_ids(database, TEAM).values())
    at = dt.datetime(2026, 2, 2, tzinfo=dt.UTC)
    givers = ["UPAR001X", "UPAR002X", "UPAR003X"]
    fresh = [f"UFRS{n:03d}X" for n in range(8)]
    start = threading.Barrier(len(givers) + 1)

    def give(giver: str) -> None:
        start.wait()
        for n in range(6):
            receivers = [fresh[(n + int(giver[-2])) % 8], fresh[(n * 3 + 1) % 8]]
            if n % 2:
                receivers.reverse()
            when = at + dt.timedelta(minutes=n, seconds=int(giver[-2]))
            group = give_at(
                database, TEAM, giver, list(dict.fromkeys(receivers)), pids[n % 2], when
            )
            if n % 3 == 1:
                withdraw_at(database, TEAM, giver, group, when + dt.timedelta(seconds=30))

    def directory() -> None:
        start.wait()
        for n in range(12):
            people = [*fresh[n % 4 :: 2], givers[n % 3]]
            _directory(database, *people)
            if n < 11:
                _forget(database, *people[: 1 + n % 3])

    with ThreadPoolExecutor(max_workers=len(givers) + 1) as pool:
        done = [pool.submit(give, giver) for giver in givers] + [pool.submit(directory)]
        for future in done:
            future.result()
    assert_exact(database, dt.datetime(2026, 2, 10, tzinfo=dt.UTC))


def test_the_migration_finds_who_is_missing_and_goes_down_and_up(fresh_url: str) -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with database_at(fresh_url, "0023") as database:
        random_history(database, 5, count=30)
        _directory(database, *PEOPLE[:2])
        up_down_up(database, "0023", lambda: assert_exact(database, now))
        _forget(database, PEOPLE[0])
        assert_exact(database, now)
