"""The read model's cost on the write path: CPU seconds per kudos given through the kudos
service (`give`, one transaction each, as `/kudos` records it), in this process.

    .venv/bin/python bench/write_cost.py [--kudos N] [--only sqlite]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/write_cost.py   # before/after

CPU time (`time.process_time`), not wall time, so that other work on a shared machine
doesn't move the figure much: on SQLite it includes the database's own work (in-process);
on PostgreSQL only the bot's side (building, sending and reading statements) — the server's
share is the `server ms` column, wall time minus the client's CPU, an upper bound.
Each run gives `--kudos` kudos from rotating givers to one or two receivers each, after a
warm-up of 200; the figure is the median of three runs. Each backend is run twice without
the read model's write (`summaries.count_given` replaced by a no-op: the write path before
the summaries) and twice with it, alternately, in fresh databases. Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bench.databases import fresh_database  # noqa: E402
from bot.audience import Audience  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give  # noqa: E402
from bot.mission.file import parse_mission  # noqa: E402
from bot.mission.service import sync_mission  # noqa: E402
from bot.reports import summaries  # noqa: E402

TEAM = "TWRITECOST"
MISSION = "mission: Write fast.\nprinciples:\n  - {key: speed, title: Speed}\n"


def run(database: Database, principle_id: int, count: int, offset: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for `count` kudos."""
    now = dt.datetime.now(dt.UTC)
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(offset, offset + count):
        receivers = [Recipient(f"UR{n % 500:05d}")]
        if n % 4 == 0:
            receivers.append(Recipient(f"UR{(n + 7) % 500:05d}"))
        with database.transaction() as session:
            give(
                session=session,
                giving=Giving(
                    recipients=tuple(receivers),
                    principle_id=principle_id,
                    message=f"thanks for shipment {n}",
                    source=Source.COMMAND,
                ),
                giver=Giver(f"UG{n:07d}", "America/New_York"),
                place=Place(team_id=TEAM, channel_id="CWRITE001", audience=Audience.PUBLIC),
                limit=10,
                now=now + dt.timedelta(seconds=n),
            )
    return time.process_time() - cpu, time.perf_counter() - wall


def _uncounted(*_args: object, **_kwargs: object) -> None:
    """The write path before the read model: nothing tallied."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=1000)
    parser.add_argument("--only", default="postgresql,sqlite")
    args = parser.parse_args()
    import bot

    print(f"code: {Path(bot.__file__).parent.parent}")
    print("| Backend | summaries | kudos | CPU ms per kudos | wall ms per kudos | server ms (≤) |")
    print("|---|---|---:|---:|---:|---:|")
    counting = summaries.count_given
    with tempfile.TemporaryDirectory() as tmp:
        for backend, tallied in (
            (backend, tallied)
            for backend in args.only.split(",")
            for tallied in (False, True, False, True)
        ):
            # The cost of the read model on the write path: the same kudos with the tallies'
            # write left out (the pre-summaries write path) and with it, alternately.
            summaries.count_given = counting if tallied else _uncounted  # type: ignore[assignment]
            with fresh_database(backend, Path(tmp), "write_cost") as url:
                database = Database(url)
                with database.transaction() as session:
                    sync_mission(session, team_id=TEAM, document=parse_mission(MISSION))
                with database.reading() as session:
                    from sqlalchemy import text

                    pid = int(session.scalar(text("SELECT min(id) FROM principles")) or 0)
                run(database, pid, 200, 0)
                results = [run(database, pid, args.kudos, 1000 + r * args.kudos) for r in range(3)]
                cpu = statistics.median(c for c, _ in results) / args.kudos * 1000
                wall = statistics.median(w for _, w in results) / args.kudos * 1000
                print(
                    f"| {backend} | {'with' if tallied else 'without'} | {args.kudos:,} "
                    f"| {cpu:.2f} | {wall:.2f} | {wall - cpu:.2f} |",
                    flush=True,
                )
                database.dispose()


if __name__ == "__main__":
    main()
