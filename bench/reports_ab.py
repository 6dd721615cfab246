"""The Slack reports that read the most (promise health, participation, the managers' App Home,
the weekly digest, the weighted board) and two dashboard pages, timed for two checkouts of the
bot in turn on the same kept database: before and after a change, under the same load.

On a shared machine the load doubles or halves within minutes, so two benchmark runs one
after the other compare the load as much as the code. Here each round runs one process per checkout
(each imports the bot from its own tree), alternately, a few repetitions of every surface
each; the percentiles are over all rounds. Also each surface's statements (its first run) and
the CPU time per run of the process and, on PostgreSQL, of the server backends it used (from
/proc/PID/schedstat, where readable): steadier than wall time when other work shares the cores.

    .venv/bin/python bench/reports_ab.py --before /path/to/main --after . \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/pr_1m --rounds 4 --reps 3

The database is one `bench/leaderboards.py --keep NAME` seeded (its team, zone and people).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text


def side(
    root: str, url: str, reps: int, only: str = "", directory: int = 0
) -> dict[str, list[float]]:
    """Milliseconds per run of every surface, the bot imported from `root`."""
    sys.path.insert(0, root)
    import bench.leaderboards as lb
    from bot.audience import QuoteScope
    from bot.daily.digest import weekly_digest
    from bot.db.engine import Database
    from bot.home.state import HomeRole, Publish
    from bot.insights import numbers
    from bot.insights.window import Filters, parse_window
    from bot.reports.health import promise_health
    from bot.reports.periods import Period, parse_period
    from bot.reports.summaries import participation
    from bot.reports.weighted import weighted_leaderboard
    from bot.slack.outbound import home as home_module

    assert lb.__file__.startswith(root), f"{lb.__file__} is not under {root}"
    assert home_module.__file__ is not None
    assert home_module.__file__.startswith(root), f"{home_module.__file__} is not under {root}"
    database = Database(url)
    zone, team = lb.ZONE, lb.TEAM
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zone).date()
    month, quarter = parse_period("month", today), parse_period("quarter", today)
    week = parse_period("week", today).previous()
    this_week = parse_period("week", today)
    week_window = parse_window("week", None, None, today=today, zone=zone)
    assert week is not None
    previous = month.previous()
    assert previous is not None
    heavy = lb.busiest(database)
    caller = lb.caller_in_the_middle(database, previous.bounds(zone))
    # The seeded people (`--people`, as bench/leaderboards.py seeded them): the user groups are
    # a tenth of them each (5,000 of 50,000); by default its 5,000 (groups of 500).
    people = [lb.person(n) for n in range(directory or lb.PEOPLE)]
    groups = tuple(
        numbers.Group(f"S{n:08d}", f"Group {n}", frozenset(people[n::10])) for n in range(10)
    )
    window = parse_window("month", None, None, today=today, zone=zone)
    everything = parse_period("all", today)
    all_time = parse_window("all", None, None, today=today, zone=zone)
    quarter_window = parse_window("quarter", None, None, today=today, zone=zone)

    def reading(work: Callable[[Any], object]) -> Callable[[], object]:
        def run() -> object:
            with database.reading() as session:
                return work(session)

        return run

    def health(period: Period) -> Callable[[Any], object]:
        return lambda s: promise_health(
            session=s,
            team_id=team,
            period=period,
            bounds=period.bounds(zone),
            where=zone,
            today=today,
        )

    # The managers' App Home as its publish draws it (bot/slack/outbound/home.py), for the
    # busiest receiver. Drawing it also picks the day's principle on the day's first Home, a
    # write: the kept database is only read here, so the Home shows none (one small read less).
    home_module.principle_for_day = lambda **_: None
    publish = Publish(team, heavy, HomeRole.MANAGER, zone.key, today, "bench", None)

    def home(s: Any) -> object:
        return home_module.home_content(s, publish, home_module.HomeSettings(), now)

    surfaces: dict[str, Callable[[], object]] = {
        "health quarter": reading(health(quarter)),
        "health month": reading(health(month)),
        # Last week, and this one (`/kudos health week`): a week's person tallies since
        # migration 0024 (before it, its people were its raw kudos grouped).
        "health week": reading(health(week)),
        "health this week": reading(health(this_week)),
        "participation month": reading(
            lambda s: participation(s, team, month.bounds(zone), previous.bounds(zone), now)
        ),
        "App Home (manager)": reading(home),
        "weekly digest": reading(
            lambda s: weekly_digest(
                session=s,
                team_id=team,
                day=today,
                zone=zone,
                scope=QuoteScope(channel_id="CBENCH0001"),
            )
        ),
        f"leaderboard {previous.slug} weighted": reading(
            lambda s: weighted_leaderboard(
                session=s,
                team_id=team,
                period=previous,
                bounds=previous.bounds(zone),
                caller_id=caller,
            )
        ),
        "leaderboard all weighted": reading(
            lambda s: weighted_leaderboard(
                session=s,
                team_id=team,
                period=everything,
                bounds=everything.bounds(zone),
                caller_id=caller,
            )
        ),
        "dashboard leaderboards (all time)": reading(
            lambda s: numbers.leaderboards(s, team, all_time, Filters())
        ),
        "dashboard network (month, 10 groups)": reading(
            lambda s: numbers.network(s, team, window, Filters(), groups)
        ),
        "dashboard principles (month)": reading(
            lambda s: numbers.principle_rows(s, team, window, Filters(), today=today)
        ),
        "dashboard principles (quarter)": reading(
            lambda s: numbers.principle_rows(s, team, quarter_window, Filters(), today=today)
        ),
        "dashboard overview (quarter)": reading(
            lambda s: numbers.overview(s, team, quarter_window, Filters(), today=today)
        ),
        "dashboard overview (week)": reading(
            lambda s: numbers.overview(s, team, week_window, Filters(), today=today)
        ),
        "dashboard leaderboards (week)": reading(
            lambda s: numbers.leaderboards(s, team, week_window, Filters())
        ),
    }
    # The filters the read model doesn't count by, as bench/leaderboards.py picks them: the
    # channel of a kudos (every kudos's, in `--in-sql` seeding; one of 40 otherwise) and a
    # user group of a tenth of the people.
    with database.engine.connect() as connection:
        channel_id = connection.scalar(
            text("SELECT channel_id FROM kudos WHERE team_id = :team LIMIT 1"), {"team": team}
        )
        connection.rollback()
    channel = Filters(channel_id=channel_id)
    group = Filters(group_id=groups[0].id, members=groups[0].members)
    try:
        from bot.reports import usergroup_tallies
    except ImportError:  # a checkout before migration 0026: the group's raw kudos
        pass
    else:
        # As the dashboard does once the group's tallies are current (brought up to date
        # here first: at once when they are).
        assert groups[0].id is not None
        usergroup_tallies.sync(
            database, team, groups[0].id, groups[0].members, clock=lambda: now, limit=20
        )
        group = Filters(group_id=groups[0].id, members=groups[0].members, tallied=True)
    for label, narrowed in (("channel", channel), ("user group", group)):
        surfaces |= {
            f"dashboard overview (month, {label})": reading(
                lambda s, f=narrowed: numbers.overview(s, team, window, f, today=today)
            ),
            f"dashboard principles (month, {label})": reading(
                lambda s, f=narrowed: numbers.principle_rows(s, team, window, f, today=today)
            ),
            f"dashboard leaderboards (month, {label})": reading(
                lambda s, f=narrowed: numbers.leaderboards(s, team, window, f)
            ),
        }
    statements = [0]
    backends: set[int] = set()

    def counted(connection: Any, *_: object) -> None:
        statements[0] += 1
        pid = getattr(
            getattr(connection.connection.dbapi_connection, "info", None), "backend_pid", 0
        )
        if pid:
            backends.add(pid)

    def server_ns() -> int:
        """CPU time of the PostgreSQL backends this process has used (their schedstat): the
        server's share, which the load on the machine stretches less than wall time."""
        total = 0
        for pid in backends:
            try:
                with open(f"/proc/{pid}/schedstat") as stat:
                    total += int(stat.read().split()[0])
            except (OSError, ValueError):
                pass
        return total

    event.listen(database.engine, "before_cursor_execute", counted)
    found: dict[str, list[float]] = {}
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    for name, run in surfaces.items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        statements[0] = 0
        run()  # warm, and its statements counted
        found[f"{name} statements"] = [float(statements[0])]
        times, cpu = [], []
        for _ in range(reps):
            started, used, served = time.perf_counter(), time.process_time(), server_ns()
            run()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000 + (server_ns() - served) / 1e6)
        found[name] = times
        found[f"{name} cpu"] = cpu
    database.dispose()
    return found


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="a checkout of the bot (its root)")
    parser.add_argument("--after", required=True, help="another checkout")
    parser.add_argument("--url", required=True, action="append", help="a kept database")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="", help="surfaces whose names start so, commas")
    parser.add_argument(
        "--people", type=int, default=0, help="the people seeded (default leaderboards.py's)"
    )
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.url[0], args.reps, args.only, args.people)))
        return
    loads = []
    print(
        "| Backend | Surface | before p50 | before p99 | after p50 | after p99 | runs a side "
        "| statements | CPU p50 ms (this process and its PostgreSQL backend) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    for url in args.url:
        backend = url.split(":")[0].split("+")[0]
        times: dict[str, dict[str, list[float]]] = {}
        for _ in range(args.rounds):
            for label, root in (("before", args.before), ("after", args.after)):
                loads.append(os.getloadavg()[0])
                answer = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        *("--before", "", "--after", "", "--url", url),
                        *("--reps", str(args.reps), "--only", args.only),
                        *("--people", str(args.people)),
                        *("--side", os.path.abspath(root)),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                for name, ms in json.loads(answer.stdout).items():
                    times.setdefault(name, {}).setdefault(label, []).extend(ms)
        for name, sides in times.items():
            before, after = sides["before"], sides["after"]
            if name.endswith((" statements", " cpu")):
                continue
            counts, cpu = times[f"{name} statements"], times[f"{name} cpu"]
            print(
                f"| {backend} | {name} | {percentile(before, 50):,.1f} | "
                f"{percentile(before, 99):,.1f} | {percentile(after, 50):,.1f} | "
                f"{percentile(after, 99):,.1f} | {len(after)} | "
                f"{counts['before'][0]:.0f} → {counts['after'][0]:.0f} | "
                f"{percentile(cpu['before'], 50):,.1f} → {percentile(cpu['after'], 50):,.1f} |",
                flush=True,
            )
    print(f"load average {min(loads):.1f}-{max(loads):.1f}, nproc={os.cpu_count()}")


if __name__ == "__main__":
    main()
