"""`missionbot db rebuild-summaries` of a kept bench database, timed month by month and statement
by statement, with the server's CPU: where a rebuild's time goes (bench/RESULTS.md §44).

    PYTHONPATH=/path/to/checkout .venv/bin/python bench/rebuild_statements.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/pw_rebuild [--from-empty]

The bot is imported from wherever Python finds `bot` first (PYTHONPATH picks a checkout), so
one database can time two checkouts in turn. `--from-empty` empties the tallies and their
histogram first (a database of the bench's one team). Each month's seconds and the load
average are printed as they finish, then the statements' total seconds by kind, the
client's CPU and, on PostgreSQL, the CPU and the run-queue wait of the server backends the
rebuild used (/proc/PID/schedstat, the same machine): on a shared machine the CPU says more
than the wall time.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, text

import bot.reports.rebuild as rebuild
from bot.db.engine import Database, DeadlineConnection
from bot.db.models import TallyRebuild

TEAM = "TBENCHLB01"  # bench/leaderboards.py's


def kind(statement: str) -> str:
    """A statement's kind: its first words, or what its shape says it does."""
    flat = " ".join(statement.split())
    if "GROUPING SETS" in flat:
        return "a month counted from its kudos (GROUPING SETS)"
    if "sum(kudos_tallies.kudos)" in flat or "sum(kudos)" in flat:
        return "a coarser bucket summed from finer tallies: " + flat[:60]
    return flat[:70]


def schedstat(pid: int) -> tuple[float, float]:
    """Seconds on a CPU and waiting for one, of process `pid` so far."""
    on_cpu, waiting, _slices = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--team", default=TEAM)
    parser.add_argument("--from-empty", action="store_true")
    args = parser.parse_args()
    print("code:", rebuild.__file__, flush=True)
    DeadlineConnection.answer_timeout = 600.0
    database = Database(args.url)
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    backends: dict[int, tuple[float, float]] = {}
    postgresql = database.engine.dialect.name == "postgresql"

    @event.listens_for(database.engine, "connect")
    def connected(connection: Any, _record: Any) -> None:
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            backends[pid] = schedstat(pid)

    @event.listens_for(database.engine, "before_cursor_execute")
    def before(conn: Any, *_args: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    @event.listens_for(database.engine, "after_cursor_execute")
    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        spent[kind(statement)] += time.perf_counter() - conn.info["started"].pop()
        calls[kind(statement)] += 1

    with database.transaction() as session:
        session.execute(delete(TallyRebuild))
        if args.from_empty:
            others = set(rebuild.teams(session)) - {args.team}
            if others:
                raise SystemExit(f"--from-empty empties every team's tallies: {others} too")
            session.execute(text("TRUNCATE kudos_tallies, kudos_tally_histogram"))
    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        load = os.getloadavg()[0]
        print(f"month {done}/{total}: {now - last[0]:.1f} s (load {load:.1f})", flush=True)
        last[0] = now

    load = os.getloadavg()[0]
    cpu = time.process_time()
    server = {pid: schedstat(pid) for pid in backends}
    started = time.perf_counter()
    rebuild.rebuild_team(database, args.team, dt.datetime.now(dt.UTC), progress)
    took = time.perf_counter() - started
    line = (
        f"TOTAL {took:.1f} s (load {load:.1f} -> {os.getloadavg()[0]:.1f}; "
        f"client CPU {time.process_time() - cpu:.1f} s"
    )
    if postgresql:
        ends = {pid: schedstat(pid) for pid in backends}
        on_cpu = sum(ends[p][0] - server.get(p, backends[p])[0] for p in ends)
        waiting = sum(ends[p][1] - server.get(p, backends[p])[1] for p in ends)
        line += f"; server CPU {on_cpu:.1f} s, waiting for a CPU {waiting:.1f} s"
    print(line + ")", flush=True)
    for name, seconds in spent.most_common(12):
        print(f"  {seconds:8.1f} s  {calls[name]:4d}x  {name}")
    database.dispose()


if __name__ == "__main__":
    main()
