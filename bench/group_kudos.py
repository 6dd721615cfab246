"""A kudos to many people at once (a user group: up to `MISSIONBOT_KUDOS_GROUP_CAP`, 500) given
and withdrawn through the kudos service, one transaction each, as `/kudos @group` records it:
wall milliseconds per receiver count, beside the reference of the same rows inserted and
updated with no trigger and no tally (the floor the read model adds to).

    .venv/bin/python bench/group_kudos.py [--receivers 1,25,100,500] [--reps 3]
        [--only postgresql,sqlite]

Each receiver count gets a fresh migrated database (bench/databases.py). To measure another
checkout's code, run this file with that checkout first on PYTHONPATH:
`PYTHONPATH=<checkout> .venv/bin/python bench/group_kudos.py`. Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text, update

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.databases import fresh_database  # noqa: E402
from bot.audience import Audience  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.db.models import Kudos  # noqa: E402
from bot.kudos.service import (  # noqa: E402
    Giver,
    Giving,
    Place,
    Recipient,
    Source,
    give,
    withdraw_group,
)
from bot.mission.file import parse_mission  # noqa: E402
from bot.mission.service import sync_mission  # noqa: E402

TEAM = "TGROUPBNCH"
MISSION = "mission: Many at once.\nprinciples:\n  - {key: team, title: Team}\n"
AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _principle(database: Database) -> int:
    with database.transaction() as session:
        sync_mission(session, team_id=TEAM, document=parse_mission(MISSION))
        found = session.scalar(text("SELECT id FROM principles WHERE team_id = :t"), {"t": TEAM})
        return int(found)


def measure(database: Database, receivers: int, rep: int) -> tuple[float, float]:
    """Milliseconds to give one kudos to `receivers` people, then to withdraw it."""
    pid = _principle(database)
    people = [f"U{rep:02d}{n:05d}G" for n in range(receivers)]
    started = time.perf_counter()
    with database.transaction() as session:
        given = give(
            session=session,
            giving=Giving(
                recipients=tuple(Recipient(p) for p in people),
                principle_id=pid,
                message=f"thanks, all {receivers} of you",
                source=Source.COMMAND,
            ),
            giver=Giver(f"UGIVER{rep:03d}"),
            place=Place(team_id=TEAM, channel_id="CGROUP0001", audience=Audience.PUBLIC),
            limit=100_000,
            now=AT + dt.timedelta(minutes=rep),
        )
    gave = time.perf_counter()
    with database.transaction() as session:
        withdraw_group(
            session=session,
            team_id=TEAM,
            giver_id=f"UGIVER{rep:03d}",
            giver_timezone=None,
            group_id=given.group_id,
            now=AT + dt.timedelta(minutes=rep, seconds=30),
        )
    return (gave - started) * 1000, (time.perf_counter() - gave) * 1000


def floor(database: Database, receivers: int, rep: int) -> tuple[float, float]:
    """The reference: the same kudos rows inserted (the driver's executemany: pipelined on
    PostgreSQL) and withdrawn in one statement, with every trigger of the table off (on
    PostgreSQL; SQLite keeps its own) and no tally written."""
    pid = _principle(database)
    rows = [
        {
            "team_id": TEAM,
            "group_id": f"floor-{rep}",
            "giver_id": f"UGIVER{rep:03d}",
            "receiver_id": f"U{rep:02d}{n:05d}F",
            "principle_id": pid,
            "message": "thanks",
            "channel_id": "CGROUP0001",
            "source": "command",
            "created_at": AT,
            "audience": "public",
        }
        for n in range(receivers)
    ]
    postgresql = database.engine.dialect.name == "postgresql"
    columns = list(rows[0])
    style = "%({})s" if postgresql else ":{}"
    statement = (
        f"INSERT INTO kudos ({', '.join(columns)}) "
        f"VALUES ({', '.join(style.format(c) for c in columns)})"
    )
    started = time.perf_counter()
    with database.transaction() as session:
        cursor = session.connection().connection.cursor()
        if postgresql:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.executemany(statement, rows)
    gave = time.perf_counter()
    with database.transaction() as session:
        if postgresql:
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(
            update(Kudos).where(Kudos.group_id == f"floor-{rep}").values(withdrawn_at=AT)
        )
    return (gave - started) * 1000, (time.perf_counter() - gave) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receivers", default="1,25,100,500")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="postgresql,sqlite")
    args = parser.parse_args()
    counts = [int(n) for n in args.receivers.split(",")]
    code = os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0]
    print(
        f"# group kudos {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, code {code}, "
        f"load {os.getloadavg()[0]:.1f}; median of {args.reps} ms"
    )
    print(f"{'backend':<11}{'receivers':>10}{'give':>10}{'withdraw':>10}{'floor':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.only.split(","):
            for count in counts:
                with fresh_database(backend, Path(tmp), f"group{count}") as url:
                    database = Database(url)
                    try:
                        runs = [measure(database, count, rep) for rep in range(args.reps)]
                        floors = [floor(database, count, rep) for rep in range(args.reps)]
                    finally:
                        database.dispose()
                given = statistics.median(r[0] for r in runs)
                withdrawn = statistics.median(r[1] for r in runs)
                base = (
                    f"{statistics.median(f[0] for f in floors):.0f} / "
                    f"{statistics.median(f[1] for f in floors):.0f}"
                )
                print(f"{backend:<11}{count:>10}{given:>10.0f}{withdrawn:>10.0f}{base:>16}")


if __name__ == "__main__":
    main()
