"""`/kudos me` and the App Home's "your kudos": each principle's kudos this month and over all
time, the all-time counts read from the person tallies, equal to the raw kudos."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db.engine import Database
from bot.db.models import Kudos
from bot.kudos.service import summary
from tests.test_summaries import FIRST_DAY, PEOPLE, TEAM, ZONES
from tests.test_tally_histogram import random_history

Counts = dict[int, tuple[int, int]]


def raw(database: Database, user_id: str, role: str, month_start: dt.datetime) -> Counts:
    who = Kudos.receiver_id if role == "received" else Kudos.giver_id
    month: Counter[int] = Counter()
    total: Counter[int] = Counter()
    with database.transaction() as session:
        rows = session.execute(
            select(Kudos.principle_id, Kudos.created_at).where(
                Kudos.team_id == TEAM, who == user_id, Kudos.withdrawn_at.is_(None)
            )
        ).all()
    for principle_id, created_at in rows:
        total[principle_id] += 1
        if created_at.replace(tzinfo=created_at.tzinfo or dt.UTC) >= month_start:
            month[principle_id] += 1
    return {p: (month[p], total[p]) for p in total}


@pytest.mark.parametrize("seed", [3, 11])
def test_a_persons_kudos_by_principle_this_month_and_all_time_are_the_raw_kudos(
    database: Database, seed: int
) -> None:
    """Kudos given, undone and withdrawn around month ends in two workspaces; each person's
    summary in several timezones, at the start of a month and in its middle."""
    random_history(database, seed, count=60)
    checked = this_month = 0
    for zone in [None, *ZONES]:
        for moment in (dt.datetime(FIRST_DAY.year + 1, 1, 1, 6), dt.datetime(2026, 2, 15, 12)):
            now = moment.replace(tzinfo=dt.UTC)
            local = now.astimezone(ZoneInfo(zone or "UTC"))
            month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            for person in PEOPLE[:6]:
                with database.transaction() as session:
                    found = summary(
                        session=session,
                        team_id=TEAM,
                        user_id=person,
                        timezone=zone,
                        limit=5,
                        now=now,
                    )
                for role, tallies in (("received", found.received), ("given", found.given)):
                    expected = raw(database, person, role, month_start)
                    got = {t.principle.id: (t.this_month, t.all_time) for t in tallies}
                    assert got == expected, (zone, now, person, role)
                    totals = [t.all_time for t in tallies]
                    assert totals == sorted(totals, reverse=True)
                    checked += len(got)
                    this_month += sum(m for m, _ in got.values())
    assert checked > 0
    assert this_month > 0
