"""Report test helpers: a small mission, generated kudos bulk-inserted, and the independent
arithmetic the tests compare the bot's reports with (Counters over the generated rows)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bot.db.engine import Database
from bot.db.models import Kudos, Principle
from bot.mission.file import parse_mission
from bot.mission.service import sync_mission
from bot.reports.rebuild import rebuild_team

MISSION = """\
mission: Keep every promise we make to a customer.
company: Tidewater
principles:
  - {key: plain-words, title: Plain words, emoji: ":speech_balloon:"}
  - {key: no-surprises, title: No surprises}
  - {key: fix-the-cause, title: Fix the cause}
  - {key: credit-generously, title: Credit generously}
  - {key: old-ways, title: The old ways}
"""
WITHOUT_OLD_WAYS = MISSION.replace("  - {key: old-ways, title: The old ways}\n", "")
PEOPLE = [f"UP{n:04d}X" for n in range(24)]


def sync(
    database: Database, team: str, text: str = MISSION, now: dt.datetime | None = None
) -> None:
    with database.transaction() as session:
        sync_mission(session, team_id=team, document=parse_mission(text), now=now)


def principle_ids(database: Database, team: str) -> dict[str, int]:
    with database.transaction() as session:
        rows = session.execute(
            select(Principle.key, Principle.id).where(Principle.team_id == team)
        ).all()
    return dict(rows)


def kudos_row(
    team: str,
    giver: str,
    receiver: str,
    principle_id: int,
    at: dt.datetime,
    *,
    message: str = "thanks",
    withdrawn: bool = False,
    channel: str | None = "CGENERAL01",
    group: str | None = None,
    audience: str = "public",
) -> dict[str, Any]:
    return {
        "team_id": team,
        "group_id": group or str(uuid.uuid4()),
        "giver_id": giver,
        "receiver_id": receiver,
        "principle_id": principle_id,
        "message": message,
        "channel_id": channel,
        "source": "command",
        "created_at": at,
        "withdrawn_at": at + dt.timedelta(minutes=1) if withdrawn else None,
        "audience": audience,
    }


def generate(
    team: str,
    pids: Iterable[int],
    *,
    count: int,
    start: dt.datetime,
    days: int,
    seed: int = 7,
    people: list[str] = PEOPLE,
) -> list[dict[str, Any]]:
    """Random kudos over `days` days from `start`: skewed receivers (so ranks tie), about one
    in ten withdrawn, any principle, times to the second."""
    rng = random.Random(seed)
    pids = list(pids)
    weights = [1 + (i % 6) for i in range(len(people))]
    rows = []
    for _ in range(count):
        receiver = rng.choices(people, weights)[0]
        giver = rng.choice([p for p in people if p != receiver])
        at = start + dt.timedelta(seconds=rng.randrange(days * 86400))
        rows.append(
            kudos_row(
                team,
                giver,
                receiver,
                rng.choice(pids),
                at,
                message=f"thanks #{rng.randrange(10_000)}",
                withdrawn=rng.random() < 0.1,
            )
        )
    return rows


# Kudos a bulk load inserts per statement and per transaction: as the bot does, one statement
# for many rows (migration 0023's statement trigger counts them once), and no transaction
# updating the same tally thousands of times (each such update costs more than the last).
SEED_SLICE = 500


def seed(database: Database, rows: list[dict[str, Any]]) -> None:
    """Bulk-insert kudos rows, then count the read model again, as after any bulk load."""
    for first in range(0, len(rows), SEED_SLICE):
        with database.transaction() as session:
            session.execute(insert(Kudos).values(rows[first : first + SEED_SLICE]))
    for team in sorted({str(r["team_id"]) for r in rows}):
        rebuild_team(database, team, dt.datetime.now(dt.UTC))


def in_local_range(
    rows: Iterable[dict[str, Any]], zone: ZoneInfo, first: dt.date | None, after: dt.date | None
) -> list[dict[str, Any]]:
    """Counted rows whose *local date* in `zone` falls in [first, after)."""
    return [
        r
        for r in rows
        if r["withdrawn_at"] is None
        and (first is None or first <= r["created_at"].astimezone(zone).date())
        and (after is None or r["created_at"].astimezone(zone).date() < after)
    ]


def competition_ranks(counts: Counter[str]) -> dict[str, int]:
    """1 + how many have strictly more: 1, 2, 2, 4."""
    return {
        user: 1 + sum(1 for other in counts.values() if other > n) for user, n in counts.items()
    }
