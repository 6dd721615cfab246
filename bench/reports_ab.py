"""The Slack reports that read the most (promise health, participation, the managers' App Home,
the weekly digest, the weighted board) and two dashboard pages, timed for two checkouts of the
bot in turn on the same kept database: before and after a change, under the same load.

On a shared machine the load doubles or halves within minutes, so two benchmark runs one
after the other compare the load as much as the code. Here each round runs one process per checkout
(each imports the bot from its own tree), alternately, a few repetitions of every surface
each; the percentiles are over all rounds.

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


def side(root: str, url: str, reps: int) -> dict[str, list[float]]:
    """Milliseconds per run of every surface, the bot imported from `root`."""
    sys.path.insert(0, root)
    import bench.leaderboards as lb
    from bot.audience import QuoteScope
    from bot.daily.digest import weekly_digest
    from bot.db.engine import Database
    from bot.insights import numbers
    from bot.insights.window import Filters, parse_window
    from bot.kudos.service import summary
    from bot.mission.service import load_catalog
    from bot.reports.health import promise_health
    from bot.reports.leaderboard import leaderboard, principle_report
    from bot.reports.periods import Period, parse_period
    from bot.reports.summaries import participation
    from bot.reports.weighted import weighted_leaderboard

    assert lb.__file__.startswith(root), f"{lb.__file__} is not under {root}"
    database = Database(url)
    zone, team = lb.ZONE, lb.TEAM
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zone).date()
    month, quarter = parse_period("month", today), parse_period("quarter", today)
    previous = month.previous()
    assert previous is not None
    heavy = lb.busiest(database)
    caller = lb.caller_in_the_middle(database, previous.bounds(zone))
    people = [lb.person(n) for n in range(lb.PEOPLE)]
    groups = tuple(
        numbers.Group(f"S{n:08d}", f"Group {n}", frozenset(people[n::10])) for n in range(10)
    )
    window = parse_window("month", None, None, today=today, zone=zone)

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

    def home(s: Any) -> object:
        # What the managers' App Home reads (bot/slack/outbound/home.py), as bench/leaderboards.py.
        load_catalog(s, team_id=team)
        summary(session=s, team_id=team, user_id=heavy, timezone=zone.key, limit=5, now=now)
        bounds = month.bounds(zone)
        leaderboard(session=s, team_id=team, period=month, bounds=bounds, top=5, split_top=0)
        principle_report(
            session=s,
            team_id=team,
            period=month,
            bounds=bounds,
            previous_bounds=previous.bounds(zone),
        )
        participation(s, team, bounds, previous.bounds(zone), now)
        return health(month)(s)

    surfaces: dict[str, Callable[[], object]] = {
        "health quarter": reading(health(quarter)),
        "health month": reading(health(month)),
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
        "dashboard network (month, 10 groups)": reading(
            lambda s: numbers.network(s, team, window, Filters(), groups)
        ),
        "dashboard principles (month)": reading(
            lambda s: numbers.principle_rows(s, team, window, Filters(), today=today)
        ),
    }
    found: dict[str, list[float]] = {}
    for name, run in surfaces.items():
        run()  # warm
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        found[name] = times
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
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.url[0], args.reps)))
        return
    loads = []
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
                        *("--reps", str(args.reps), "--side", os.path.abspath(root)),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                for name, ms in json.loads(answer.stdout).items():
                    times.setdefault(name, {}).setdefault(label, []).extend(ms)
        for name, sides in times.items():
            before, after = sides["before"], sides["after"]
            print(
                f"| {backend} | {name} | {percentile(before, 50):,.1f} | "
                f"{percentile(before, 99):,.1f} | {percentile(after, 50):,.1f} | "
                f"{percentile(after, 99):,.1f} | {len(after)} |",
                flush=True,
            )
    print(f"load average {min(loads):.1f}-{max(loads):.1f}, nproc={os.cpu_count()}")


if __name__ == "__main__":
    main()
