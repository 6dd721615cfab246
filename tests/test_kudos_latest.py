"""`kudos_latest` (migration 0021): when each person last received and last gave a standing
kudos, kept by triggers on `kudos_tallies` and `kudos`. After kudos given, undone and
withdrawn through the service, kudos given and withdrawn at once from several threads to
shared receivers, a rebuild, and the migration's fill, down and up, it equals the latest
standing kudos read from the raw kudos."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from bot.db.engine import Database
from bot.db.models import Kudos, KudosLatest
from bot.reports.rebuild import rebuild_team
from tests.support.migrations import database_at, up_down_up
from tests.support.reports import principle_ids, sync
from tests.test_summaries import OTHER_TEAM, PEOPLE, TEAM, give_at, withdraw_at
from tests.test_tally_histogram import random_history

Latest = dict[tuple[str, str, str], dt.datetime]


def raw_latest(database: Database) -> Latest:
    """The reference: per team, role and person, the latest kudos not withdrawn."""
    found: Latest = {}
    with database.reading() as session:
        for role, who in (("r", Kudos.receiver_id), ("g", Kudos.giver_id)):
            rows = session.execute(
                select(Kudos.team_id, who, func.max(Kudos.created_at))
                .where(Kudos.withdrawn_at.is_(None))
                .group_by(Kudos.team_id, who)
            ).all()
            found.update({(team, role, user): _utc(at) for team, user, at in rows})
    return found


def kept(database: Database) -> Latest:
    """The table's rows that name a kudos (None: the person has none standing)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                KudosLatest.team_id, KudosLatest.role, KudosLatest.user_id, KudosLatest.last_at
            ).where(KudosLatest.last_at.is_not(None))
        ).all()
    return {(team, role, user): at for team, role, user, at in rows}


def _utc(at: dt.datetime | str) -> dt.datetime:
    # SQLite's max() of the text column comes back as text.
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("seed", [21, 2026])
def test_the_latest_kudos_are_the_raw_ones_after_kudos_undone_and_withdrawn(
    database: Database, seed: int
) -> None:
    random_history(database, seed)
    expected = raw_latest(database)
    assert len(expected) > 10
    assert kept(database) == expected


def test_withdrawing_someones_latest_kudos_finds_the_one_before(database: Database) -> None:
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    a, b, c = PEOPLE[:3]
    first = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    give_at(database, TEAM, a, [b], pid, first)
    latest = give_at(database, TEAM, a, [b, c], pid, first + dt.timedelta(days=3))
    assert kept(database)[TEAM, "r", b] == first + dt.timedelta(days=3)
    withdraw_at(database, TEAM, a, latest, first + dt.timedelta(days=3, minutes=1))
    assert kept(database) == raw_latest(database)
    assert kept(database)[TEAM, "g", a] == kept(database)[TEAM, "r", b] == first
    # c has no standing kudos any more: its row stays, naming none.
    assert (TEAM, "r", c) not in kept(database)


def test_kudos_given_and_withdrawn_at_once_from_three_threads_leave_it_exact(
    database: Database,
) -> None:
    """Three givers at once, each giving four kudos to two receivers they share, named in
    opposite orders, and withdrawing every other one: the rows of the shared receivers are
    written by all three (PostgreSQL: no deadlock, no lost update)."""
    sync(database, TEAM)
    pids = list(principle_ids(database, TEAM).values())
    at = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    givers = ["UPAR001X", "UPAR002X", "UPAR003X"]
    start = threading.Barrier(len(givers))

    def four(giver: str) -> None:
        start.wait()
        for n in range(4):
            pair = [PEOPLE[0], PEOPLE[1]]
            receivers = pair if (n + len(giver) + int(giver[-2])) % 2 else pair[::-1]
            when = at + dt.timedelta(minutes=n, seconds=int(giver[-2]))
            group = give_at(database, TEAM, giver, receivers, pids[n % 2], when)
            if n % 2:
                withdraw_at(database, TEAM, giver, group, when + dt.timedelta(seconds=30))

    with ThreadPoolExecutor(max_workers=len(givers)) as pool:
        list(pool.map(four, givers))
    expected = raw_latest(database)
    assert expected[TEAM, "r", PEOPLE[0]] == at + dt.timedelta(minutes=2, seconds=3)
    assert kept(database) == expected


def test_a_rebuild_counts_the_latest_kudos_again(database: Database) -> None:
    random_history(database, 11, count=40)
    expected = raw_latest(database)
    with database.transaction() as session:
        session.execute(text("UPDATE kudos_latest SET last_at = NULL WHERE role = 'r'"))
        session.execute(
            text(
                "INSERT INTO kudos_latest (team_id, role, user_id, last_at) "
                "VALUES (:team, 'g', 'UNOBODYX', :at)"
            ),
            {"team": TEAM, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        )
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    assert kept(database) == expected


def test_the_triggers_do_nothing_while_a_rebuild_says_so(database: Database) -> None:
    """PostgreSQL: with `missionbot.rebuilding` on (the rebuild's own session), a kudos
    changes nothing here; the rebuild refills the table."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the setting is PostgreSQL's")
    sync(database, TEAM)
    pid = next(iter(principle_ids(database, TEAM).values()))
    at = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)
    with database.transaction() as session:
        session.execute(text("SET LOCAL missionbot.rebuilding = 'on'"))
        session.execute(
            text(
                "INSERT INTO kudos_tallies (team_id, role, grain, principle_id, bucket, "
                "user_id, kudos) VALUES (:team, 'r', 'a', 0, '1970-01-01', :user, 1)"
            ),
            {"team": TEAM, "user": PEOPLE[0]},
        )
    assert kept(database) == {}
    give_at(database, TEAM, PEOPLE[1], [PEOPLE[0]], pid, at)
    assert kept(database) == raw_latest(database)


def test_the_migration_fills_the_latest_kudos_and_goes_down_and_up(fresh_url: str) -> None:
    with database_at(fresh_url, "0020") as database:
        random_history(database, 5, count=40)
        expected = raw_latest(database)
        assert expected

        def check() -> None:
            assert kept(database) == expected

        up_down_up(database, "0020", check)
        pid = next(iter(principle_ids(database, TEAM).values()))
        give_at(database, TEAM, PEOPLE[0], [PEOPLE[1]], pid, dt.datetime(2027, 1, 5, tzinfo=dt.UTC))
        assert kept(database) == raw_latest(database)
