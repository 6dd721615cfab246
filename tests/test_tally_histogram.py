"""`kudos_tally_histogram` (migration 0018): how many people have each count in a month's or
quarter's person tallies, kept by triggers on `kudos_tallies`. After kudos given, undone and
withdrawn through the service, tallies changed behind its back, a rebuild, kudos given at once
from several threads, and the migration's fill, down and up, it equals a recount of the
tallies."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module

import pytest
from sqlalchemy import select, text

from bot.db.engine import Database
from bot.db.models import KudosTally, KudosTallyHistogram
from bot.kudos.service import undo, withdraw_group
from bot.reports.rebuild import rebuild_team
from bot.reports.summaries import Grain, recount_histogram
from tests.support.migrations import database_at, up_down_up
from tests.support.reports import principle_ids, sync
from tests.test_summaries import OTHER_TEAM, PEOPLE, TEAM, give_at, instants

Key = tuple[object, ...]


def recount(database: Database) -> Counter[Key]:
    """The reference: the person tallies of weeks, months and quarters above 0, counted here per
    (team, role, grain, principle, bucket, count)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                KudosTally.team_id,
                KudosTally.role,
                KudosTally.grain,
                KudosTally.principle_id,
                KudosTally.bucket,
                KudosTally.kudos,
            ).where(
                KudosTally.role.in_(("r", "g")),
                KudosTally.grain.in_(("w", "m", "q")),
                KudosTally.kudos > 0,
            )
        ).all()
    return Counter(tuple(row) for row in rows)


def histogram(database: Database) -> Counter[Key]:
    """The histogram's rows that hold someone (a negative count stays visible)."""
    with database.reading() as session:
        rows = session.execute(
            select(
                KudosTallyHistogram.team_id,
                KudosTallyHistogram.role,
                KudosTallyHistogram.grain,
                KudosTallyHistogram.principle_id,
                KudosTallyHistogram.bucket,
                KudosTallyHistogram.kudos,
                KudosTallyHistogram.people,
            ).where(KudosTallyHistogram.people != 0)
        ).all()
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def random_history(database: Database, seed: int, count: int = 70) -> None:
    """Kudos given (to one to three people), some undone at once, some withdrawn for one of
    their receivers later, in two workspaces, around month, quarter and year ends."""
    rng = random.Random(seed)
    sync(database, TEAM)
    sync(database, OTHER_TEAM)
    pids = list(principle_ids(database, TEAM).values())
    other = list(principle_ids(database, OTHER_TEAM).values())
    given: list[tuple[str, str, list[str], dt.datetime]] = []
    for at in sorted(instants(rng, count)):
        giver = rng.choice(PEOPLE[:6])
        receivers = rng.sample([p for p in PEOPLE[:6] if p != giver], rng.choice([1, 1, 2, 3]))
        group = give_at(database, TEAM, giver, receivers, rng.choice(pids), at)
        given.append((giver, group, receivers, at))
        give_at(database, OTHER_TEAM, giver, receivers[:1], rng.choice(other), at)
        chance = rng.random()
        if chance < 0.15:
            with database.transaction() as session:
                undo(
                    session=session,
                    team_id=TEAM,
                    giver_id=giver,
                    giver_timezone=None,
                    now=at + dt.timedelta(seconds=30),
                )
            given.pop()
        elif chance < 0.3 and len(given) > 3:
            giver, group, receivers, then = given.pop(rng.randrange(len(given) - 1))
            with database.transaction() as session:
                withdraw_group(
                    session=session,
                    team_id=TEAM,
                    giver_id=giver,
                    giver_timezone=None,
                    group_id=group,
                    now=then + dt.timedelta(days=1),
                    receiver_ids=receivers[:1],
                )


@pytest.mark.parametrize("seed", [18, 2026])
def test_the_histogram_is_a_recount_of_the_tallies_after_kudos_undone_and_withdrawn(
    database: Database, seed: int
) -> None:
    random_history(database, seed)
    expected = recount(database)
    assert len({key[-1] for key in expected}) > 3  # counts above 1, 2 and 3 are there
    assert histogram(database) == expected


def test_the_histogram_follows_tallies_changed_behind_the_write_paths_back(
    database: Database,
) -> None:
    """Changes a bulk load, a rebuild or a hand fix make: counts raised, lowered to 0 and
    below, keys moved (into and out of the counted grains and roles), rows deleted, rows
    inserted, several rows of one bucket in one statement."""
    random_history(database, 7, count=40)
    steps = [
        "UPDATE kudos_tallies SET kudos = kudos + 3 WHERE user_id = :a",
        "UPDATE kudos_tallies SET kudos = 0 WHERE user_id = :b AND grain = 'q'",
        "UPDATE kudos_tallies SET kudos = -2 WHERE user_id = :b AND grain = 'm' AND role = 'g'",
        "UPDATE kudos_tallies SET grain = 'x' WHERE user_id = :c AND grain = 'm'",
        "UPDATE kudos_tallies SET role = 'g', user_id = 'UMOVEDX01' "
        "WHERE user_id = :d AND role = 'r'",
        "DELETE FROM kudos_tallies WHERE user_id = :e AND role = 'r'",
        "INSERT INTO kudos_tallies (team_id, role, grain, principle_id, bucket, user_id, kudos) "
        "SELECT team_id, role, grain, principle_id, bucket, 'UNEW' || user_id, kudos * 2 "
        "FROM kudos_tallies WHERE user_id = :a",
    ]
    names = dict(zip("abcde", PEOPLE, strict=False))
    for step in steps:
        with database.transaction() as session:
            session.execute(text(step), names)
        assert histogram(database) == recount(database), step


def test_tallies_truncated_empty_the_histogram(database: Database) -> None:
    """PostgreSQL's TRUNCATE fires no DELETE trigger (SQLite has no TRUNCATE)."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    random_history(database, 3, count=10)
    assert histogram(database)
    with database.transaction() as session:
        session.execute(text("TRUNCATE kudos_tallies"))
    assert histogram(database) == recount(database) == Counter()


def test_the_rebuilds_recount_holds_the_lock_the_triggers_take(database: Database) -> None:
    """PostgreSQL: a recount of a month's histogram holds the advisory lock that the
    triggers take for its team and quarter (computed in SQL by each), so a kudos of that
    quarter waits for it and no other does."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises writers")
    migration = import_module("bot.migrations.versions.20261206_0018_kudos_tally_histogram")
    key = migration.lock_key("CAST(:team AS text)", "CAST(:bucket AS date)")
    trigger_key = f"SELECT pg_try_advisory_xact_lock({migration.LOCK_CLASS}, {key})"
    with database.transaction() as session:
        recount_histogram(session, TEAM, Grain.MONTH, dt.date(2026, 2, 1))
        with database.engine.connect() as other:
            for bucket, free in ((dt.date(2026, 1, 1), False), (dt.date(2026, 4, 1), True)):
                taken = other.scalar(text(trigger_key), {"team": TEAM, "bucket": bucket})
                assert taken is free
                other.rollback()


def test_a_rebuild_counts_the_histogram_again(database: Database) -> None:
    random_history(database, 11, count=40)
    expected = recount(database)
    with database.transaction() as session:
        session.execute(text("UPDATE kudos_tally_histogram SET people = people + 7"))
        session.execute(
            text(
                "INSERT INTO kudos_tally_histogram "
                "(team_id, role, grain, principle_id, bucket, kudos, people) "
                "VALUES (:team, 'r', 'm', 0, '2025-12-01', 999, 4)"
            ),
            {"team": TEAM},
        )
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    assert recount(database) == expected
    assert histogram(database) == expected


def test_kudos_given_at_once_from_three_threads_leave_the_histogram_exact(
    database: Database,
) -> None:
    """Twelve kudos, four from each of three threads started together, to receivers they
    share, in one quarter: every one moves its people between the same hot counts."""
    sync(database, TEAM)
    pids = list(principle_ids(database, TEAM).values())
    at = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    givers = ["UPAR001X", "UPAR002X", "UPAR003X"]
    start = threading.Barrier(len(givers))

    def four(giver: str) -> None:
        start.wait()
        for n in range(4):
            receivers = [PEOPLE[n % 3], PEOPLE[3 + (n + len(giver)) % 2]]
            give_at(database, TEAM, giver, receivers, pids[n % 2], at + dt.timedelta(minutes=n))

    with ThreadPoolExecutor(max_workers=len(givers)) as pool:
        list(pool.map(four, givers))
    expected = recount(database)
    assert sum(n for key, n in expected.items() if key[1:4] == ("g", "q", 0)) == 3
    assert histogram(database) == expected


def test_the_migration_fills_the_histogram_and_goes_down_and_up(fresh_url: str) -> None:
    with database_at(fresh_url, "0017") as database:
        random_history(database, 5, count=40)
        expected = recount(database)
        assert expected

        def check() -> None:
            assert histogram(database) == expected

        up_down_up(database, "0017", check)
        give_at(
            database,
            TEAM,
            PEOPLE[0],
            [PEOPLE[1]],
            next(iter(principle_ids(database, TEAM).values())),
            dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        )
        assert histogram(database) == recount(database)


def test_the_rebuild_quiets_the_triggers_in_its_own_transactions_only(database: Database) -> None:
    """The rebuild counts the histogram itself: on PostgreSQL its transactions set
    `missionbot.rebuilding` (migration 0022), and the triggers do nothing there. It leaves the
    histogram right all the same, and every other transaction (a kudos given through the same
    pooled connections right after, a hand fix) still fires them."""
    random_history(database, 23, count=40)
    with database.transaction() as session:
        session.execute(
            text("UPDATE kudos_tallies SET kudos = kudos + 3 WHERE user_id = :a"), {"a": PEOPLE[0]}
        )
        session.execute(
            text(
                "INSERT INTO kudos_tallies "
                "(team_id, role, grain, principle_id, bucket, user_id, kudos) "
                "VALUES (:team, 'r', 'm', 0, '2026-01-01', 'UNOBODY01', 4), "
                "(:team, 'g', 'q', 0, '2026-01-01', 'UNOBODY01', 2)"
            ),
            {"team": TEAM},
        )
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for team in (TEAM, OTHER_TEAM):
        rebuild_team(database, team, now)
    rebuilt = histogram(database)
    assert rebuilt == recount(database)
    with database.reading() as session:
        stray = session.scalars(
            select(KudosTally.kudos).where(KudosTally.user_id == "UNOBODY01", KudosTally.kudos != 0)
        ).all()
    assert stray == []

    pids = list(principle_ids(database, TEAM).values())
    give_at(database, TEAM, PEOPLE[1], [PEOPLE[2]], pids[0], now - dt.timedelta(days=3))
    assert histogram(database) == recount(database) != rebuilt

    if database.engine.dialect.name != "postgresql":
        return
    raise_all = text("UPDATE kudos_tallies SET kudos = kudos + 1 WHERE team_id = :team")
    with database.transaction() as session:
        session.execute(text("SET LOCAL missionbot.rebuilding = 'on'"))
        session.execute(raise_all, {"team": TEAM})
    quiet = histogram(database)
    assert quiet != recount(database)  # the trigger did nothing
    with database.transaction() as session:
        session.execute(raise_all, {"team": TEAM})
    assert histogram(database) != quiet
    rebuild_team(database, TEAM, now)
    assert histogram(database) == recount(database)
