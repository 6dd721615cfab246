"""Rotation of the principle of the day, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.daily.rotation import principle_for_day
from bot.db.engine import Database
from bot.db.models import DailyPrinciple
from bot.mission.file import MissionDocument, PrincipleSpec
from bot.mission.service import sync_mission

TEAM = "T0ROTATION"
MONDAY = dt.date(2026, 2, 2)


def document(*keys: str) -> MissionDocument:
    return MissionDocument(
        statement="We test.",
        principles=tuple(PrincipleSpec(key=key, title=f"Principle {key}") for key in keys),
    )


def sync(database: Database, *keys: str) -> None:
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=document(*keys))


def pick(database: Database, day: dt.date) -> str:
    with database.transaction() as session:
        return principle_for_day(session=session, team_id=TEAM, day=day).key


def test_rotation_goes_in_file_order_each_once_per_cycle_across_additions_and_retirements(
    database: Database,
) -> None:
    sync(database, "a", "b", "c", "d")
    days = [MONDAY + dt.timedelta(days=n) for n in range(8)]
    first_two = [pick(database, day) for day in days[:2]]
    assert first_two == ["a", "b"]

    # Mid-cycle: "e" is added after "a", and "c" is retired.
    sync(database, "a", "e", "b", "d")
    rest = [pick(database, day) for day in days[2:]]

    # Cycle 1 finishes with the principles it hasn't had (file order, "c" gone);
    # cycle 2 goes through the new file order from the top.
    assert first_two + rest == ["a", "b", "e", "d", "a", "e", "b", "d"]
    with database.transaction() as session:
        cycles = list(
            session.scalars(
                select(DailyPrinciple.cycle)
                .where(DailyPrinciple.team_id == TEAM)
                .order_by(DailyPrinciple.day)
            )
        )
    assert cycles == [1, 1, 1, 1, 2, 2, 2, 2]


def test_a_recorded_day_keeps_its_principle_after_the_file_changes(database: Database) -> None:
    sync(database, "a", "b", "c")
    assert [pick(database, MONDAY), pick(database, MONDAY + dt.timedelta(days=1))] == ["a", "b"]

    sync(database, "c", "a")  # "b" retired, order changed
    assert pick(database, MONDAY + dt.timedelta(days=1)) == "b"
    assert pick(database, MONDAY) == "a"
    assert pick(database, MONDAY + dt.timedelta(days=2)) == "c"


def test_asking_twice_for_a_day_records_it_once(database: Database) -> None:
    sync(database, "a", "b")
    assert pick(database, MONDAY) == pick(database, MONDAY) == "a"
    assert pick(database, MONDAY + dt.timedelta(days=1)) == "b"
    with database.transaction() as session:
        assert len(list(session.scalars(select(DailyPrinciple)))) == 2
