"""Demo kudos for the README's promise-health chart (docs/health-chart.png): deterministic,
seeded, over the shipped example mission.

    .venv/bin/python bench/demo_health.py [--output docs/health-chart.png]

The project ships no demo data set yet (a console's `--demo-data` is on its way, in its own
module); until then `demo_kudos()` is the small reusable generator: 40 people over the 12
weeks before a date, principles recognised unevenly (a couple popular, one gone quiet lately),
a pair who thank each other a lot, one kudos in ten given somewhere private. Same seed, same
rows. It writes a temporary SQLite database, never the bot's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import example_mission_file  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Kudos, Principle  # noqa: E402
from bot.mission.file import load_mission_file  # noqa: E402
from bot.mission.service import sync_mission  # noqa: E402
from bot.reports.chart import health_chart_png  # noqa: E402
from bot.reports.health import promise_health  # noqa: E402
from bot.reports.periods import parse_period  # noqa: E402

TEAM = "TDEMO0001"
TODAY = dt.date(2026, 11, 30)  # a Monday: the chart's 12 weeks end with the week before
PEOPLE = [f"UDEMO{n:03d}" for n in range(40)]


def demo_kudos(
    principle_ids: list[int], *, today: dt.date = TODAY, seed: int = 15, team: str = TEAM
) -> list[dict[str, Any]]:
    """About 600 kudos over the 12 weeks before `today`, as `kudos` rows."""
    rng = random.Random(seed)
    # Popularity by file position: the first few often, the fifth fading out after week 6.
    weights = [9, 7, 5, 4, 3, 3, 2, 2, 1][: len(principle_ids)] + [1] * max(
        0, len(principle_ids) - 9
    )
    start = dt.datetime.combine(today - dt.timedelta(weeks=12), dt.time(9), tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = []
    for week in range(12):
        for _ in range(35 + 3 * week + rng.randrange(10)):
            index = rng.choices(range(len(principle_ids)), weights)[0]
            if index == 4 and week >= 6:
                continue  # gone quiet
            giver, receiver = rng.sample(PEOPLE, 2)
            if rng.random() < 0.08:
                giver, receiver = rng.choice([("UDEMO001", "UDEMO002"), ("UDEMO002", "UDEMO001")])
            at = start + dt.timedelta(
                weeks=week, days=rng.randrange(5), hours=rng.randrange(9), minutes=rng.randrange(60)
            )
            private = rng.random() < 0.1
            rows.append(
                {
                    "team_id": team,
                    "group_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "giver_id": giver,
                    "receiver_id": receiver,
                    "principle_id": principle_ids[index],
                    "message": f"Thanks for week {week + 1}'s help",
                    "channel_id": "CDEMOPRIV1" if private else "CDEMOGEN01",
                    "source": "command",
                    "created_at": at,
                    "withdrawn_at": None,
                    "audience": "private" if private else "public",
                }
            )
    return rows


def demo_chart(output: Path) -> int:
    """Seed a scratch SQLite database with the demo and write its 12-week chart; kudos seeded."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            upgrade(database)
            with database.transaction() as session:
                sync_mission(
                    session, team_id=TEAM, document=load_mission_file(example_mission_file())
                )
            with database.transaction() as session:
                ids = list(
                    session.scalars(
                        select(Principle.id)
                        .where(Principle.team_id == TEAM)
                        .order_by(Principle.position)
                    )
                )
                rows = demo_kudos(ids)
                session.execute(insert(Kudos), rows)
            last_week = parse_period("week", TODAY - dt.timedelta(days=7))
            zone = ZoneInfo("UTC")
            with database.reading() as session:
                health = promise_health(
                    session=session,
                    team_id=TEAM,
                    period=last_week,
                    bounds=last_week.bounds(zone),
                    where=zone,
                    today=TODAY,
                )
        finally:
            database.dispose()
    output.write_bytes(health_chart_png(health))
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "health-chart.png")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    count = demo_chart(args.output)
    print(f"Wrote {args.output} from {count} demo kudos.")


if __name__ == "__main__":
    main()
