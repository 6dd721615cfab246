"""Rotation of the principle of the day, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.daily.rotation import principle_for_day
from bot.db.engine import Database
from bot.db.models import DailyPrinciple, Principle
from bot.mission.file import MissionDocument, PrincipleSpec
from bot.mission.service import sync_mission
from tests.support.reports import kudos_row, seed

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


# -- quiet principles first --------------------------------------------------------------------

QUIET_DAY = dt.date(2026, 3, 2)


def seed_recent(database: Database, counts: dict[str, int], at: dt.datetime) -> None:
    """`counts[key]` kudos tagged with each principle at `at` (and one withdrawn for each)."""
    with database.transaction() as session:
        ids = dict(
            session.execute(
                select(Principle.key, Principle.id).where(Principle.team_id == TEAM)
            ).all()
        )
    rows = [
        kudos_row(TEAM, "UGIVER", "URECEIVER", ids[key], at)
        for key, count in counts.items()
        for _ in range(count)
    ]
    rows += [kudos_row(TEAM, "UGIVER", "URECEIVER", ids[key], at, withdrawn=True) for key in counts]
    seed(database, rows)


def test_each_cycle_starts_with_the_principles_least_recognised_in_30_days(
    database: Database,
) -> None:
    sync(database, "a", "b", "c", "d", "e")
    five_days_before = dt.datetime.combine(QUIET_DAY, dt.time(9), tzinfo=dt.UTC) - dt.timedelta(
        days=5
    )
    # e: 0 and b: 0 (tie: file order puts b first), d: 1, c: 2, a: 3. A kudos 31 days back
    # is outside the window and leaves e quiet.
    seed_recent(database, {"a": 3, "c": 2, "d": 1}, five_days_before)
    seed_recent(database, {"e": 4}, five_days_before - dt.timedelta(days=26))
    days = [QUIET_DAY + dt.timedelta(days=n) for n in range(6)]
    assert [pick(database, day) for day in days] == ["b", "e", "d", "c", "a", "b"]


def test_kudos_given_on_the_day_itself_never_change_that_days_choice(database: Database) -> None:
    sync(database, "a", "b")
    seed_recent(database, {"a": 1}, dt.datetime(2026, 2, 20, tzinfo=dt.UTC))
    # Late on the day, "b" is recognised twice: the day's window ended at midnight.
    seed_recent(database, {"b": 2}, dt.datetime.combine(QUIET_DAY, dt.time(8), tzinfo=dt.UTC))
    assert pick(database, QUIET_DAY) == "b"


PICK_IN_ANOTHER_PROCESS = """
import datetime as dt, sys
from bot.daily.rotation import principle_for_day
from bot.db.engine import Database
db = Database(sys.argv[1])
days = [dt.date.fromisoformat(d) for d in sys.argv[2:]]
with db.transaction() as session:
    print(",".join(principle_for_day(session=session, team_id="T0ROTATION", day=d).key
                   for d in days))
db.dispose()
"""


def test_processes_choosing_the_same_days_choose_the_same_quiet_principles(
    database: Database, tmp_path: Path
) -> None:
    sync(database, "a", "b", "c", "d")
    seed_recent(database, {"a": 2, "b": 1}, dt.datetime(2026, 2, 25, tzinfo=dt.UTC))
    days = [(QUIET_DAY + dt.timedelta(days=n)).isoformat() for n in range(4)]
    command = [sys.executable, "-c", PICK_IN_ANOTHER_PROCESS, database.url, *days]
    # Two processes at once, asking for the days in opposite orders.
    first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen([*command[:4], *reversed(days)], stdout=subprocess.PIPE, text=True)
    out_first, _ = first.communicate(timeout=60)
    out_second, _ = second.communicate(timeout=60)
    assert first.returncode == second.returncode == 0
    by_day_first = dict(zip(days, out_first.strip().split(","), strict=True))
    by_day_second = dict(zip(reversed(days), out_second.strip().split(","), strict=True))
    assert by_day_first == by_day_second
    # Each once per cycle: c and d (quiet, file order) come before b (1) and a (2) — whichever
    # process chose a date, the set of the cycle is whole.
    assert sorted(by_day_first.values()) == ["a", "b", "c", "d"]
    assert [pick(database, dt.date.fromisoformat(day)) for day in days] == [
        by_day_first[day] for day in days
    ]
