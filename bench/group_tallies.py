"""A user group's tallies (migration 0026) brought up to date on a kept database, as the
dashboard does in the background: how long a new group takes to fill, how long a membership
change takes, and what the kudos written meanwhile wait (the fill holds kudos writes a slice
at a time).

    .venv/bin/python bench/group_tallies.py \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/pw_10m [--people 50000] [--group 0]

The database is one `bench/leaderboards.py --keep NAME` seeded; its group `--group` (a tenth
of the people, as the benches' groups) is forgotten first (its rows deleted, as a change of
more than 50 people does), then filled, then changed: 3 people join and 3 leave (the
difference, one transaction), and back, so the benches find it current. A
writer gives a kudos through the kudos service every 50 ms throughout (to people outside
the seeded ones, so the benches' numbers don't move); its latencies before and during each
step are the reference: what a `/kudos` waits for the group.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

import bench.leaderboards as lb  # noqa: E402
from bot.audience import Audience  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.db.models import Principle, utcnow  # noqa: E402
from bot.kudos.service import Giver, Giving, Place, Recipient, Source, give  # noqa: E402
from bot.reports import usergroup_tallies  # noqa: E402

WRITE_EVERY_S = 0.05


class Writer(threading.Thread):
    """Gives a kudos every WRITE_EVERY_S and keeps each one's latency, by step."""

    def __init__(self, database: Database, principle_id: int) -> None:
        super().__init__(daemon=True)
        self.database, self.principle_id = database, principle_id
        self.step = "before"
        self.latencies: dict[str, list[float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            began = time.perf_counter()
            with self.database.transaction() as session:
                give(
                    session=session,
                    giving=Giving(
                        recipients=(Recipient(f"UBENCHW{n % 97:04d}"),),
                        principle_id=self.principle_id,
                        message=f"bench writer {n}",
                        source=Source.COMMAND,
                    ),
                    giver=Giver(f"UBENCHG{n % 89:04d}", "UTC"),
                    place=Place(team_id=lb.TEAM, channel_id="CBENCHW01", audience=Audience.PUBLIC),
                    limit=1000,
                    now=utcnow(),
                )
            self.latencies.setdefault(self.step, []).append(time.perf_counter() - began)
            n += 1
            self.stop.wait(WRITE_EVERY_S)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--people", type=int, default=lb.PEOPLE)
    parser.add_argument("--group", type=int, default=0, help="which of the ten groups")
    parser.add_argument(
        "--difference-only", action="store_true", help="the group is current: no forget, no fill"
    )
    args = parser.parse_args()
    database = Database(args.url)
    people = [lb.person(n) for n in range(args.people)]
    group_id = f"S{args.group:08d}"
    members = frozenset(people[args.group :: 10])
    outsiders = [p for p in people if p not in members]
    with database.reading() as session:
        pid = session.scalar(select(Principle.id).where(Principle.team_id == lb.TEAM).limit(1))
    assert pid is not None
    writer = Writer(database, pid)
    slices: list[float] = []
    fill_slice = usergroup_tallies._fill_slice

    def timed_slice(*args: object) -> bool:
        began = time.perf_counter()
        try:
            return fill_slice(*args)  # type: ignore[arg-type]
        finally:
            slices.append(time.perf_counter() - began)

    usergroup_tallies._fill_slice = timed_slice  # type: ignore[assignment]
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.url.rsplit('/', 1)[-1]}, "
        f"group {group_id} of {len(members):,} people"
    )
    writer.start()
    time.sleep(3)
    rows = []

    def step(label: str, work: Callable[[], object]) -> None:
        slices.clear()
        writer.step = label
        began = time.perf_counter()
        work()
        rows.append((label, time.perf_counter() - began, len(slices), max(slices, default=0.0)))
        writer.step = f"after: {label}"
        time.sleep(2)

    def forget() -> None:
        with database.transaction() as session:
            usergroup_tallies._hold_writes(session)
            usergroup_tallies._meet(session, lb.TEAM, group_id, frozenset(), utcnow(), 20)
        usergroup_tallies._forget_rows(database, lb.TEAM, group_id)

    def to(wanted: set[str] | frozenset[str]) -> Callable[[], object]:
        def work() -> None:
            assert usergroup_tallies.sync(
                database, lb.TEAM, group_id, frozenset(wanted), clock=utcnow, limit=20
            )

        return work

    # People from the middle of the seeded receivers' long tail (the first are the busiest:
    # hundreds of thousands of kudos, a change that starts the group over).
    ordered = sorted(members)
    moved = (members - set(ordered[2000:2003])) | set(outsiders[20000:20003])
    if not args.difference_only:
        step("forget (its rows deleted, a batch a transaction)", forget)
        step("fill from nothing", to(members))
    step("3 join, 3 leave (the difference)", to(moved))
    step("back (the difference)", to(members))
    writer.stop.set()
    writer.join(timeout=30)
    print("| Step | s | slices | longest slice s |")
    print("|---|---:|---:|---:|")
    for label, took, count, longest in rows:
        print(f"| {label} | {took:.1f} | {count:,} | {longest:.3f} |")
    print()
    print("| Kudos written (every 50 ms) | kudos | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for step, values in writer.latencies.items():
        print(
            f"| {step} | {len(values)} | {statistics.median(values) * 1000:.1f} | "
            f"{quantile(values, 0.99) * 1000:.1f} | {max(values) * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
