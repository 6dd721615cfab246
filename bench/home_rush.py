"""The 9:00 rush on the App Home: N people active the day before open it within a minute,
against a Slack that enforces views.publish's 100 a minute with 429 + Retry-After.

    .venv/bin/python bench/home_rush.py [--people 2000] [--window 60] [--repeat 200]
        [--new 0] [--only postgresql|sqlite] [--serves 1]

For PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server) and SQLite:
a fresh migrated database with the example mission, the people directory already filled
(`people`), and every person's Home as they left it yesterday: Slack keeps yesterday's view
(the simulator's `homes`), the bot's `home_states` says so. Their timezone is the one whose
clock shows between 6:00 and 8:00 now, so that the overnight refresh (5:00 to 9:00 local) is
due at once.

1. **The night**, compressed: `missionbot serve` (a child process) refreshes the Homes as it
   would overnight, against a Slack whose limits and the bot's pace are `--night-speedup`
   times faster (a night of 2,000 refreshes at 40 a minute is 50 minutes of wall clock). The
   published views and hashes are the ones Slack then keeps.
2. **9:00**: a new `serve` against Slack's own limits (views.publish 100/min, burst 20; every
   answer 80 ms late). Each person opens the Home once, spread over `--window` seconds, then
   `--repeat` of them open it again; `--new` people the bot has never seen open it too. Each
   opening is the event Slack sends, carrying the Home Slack has at that moment.

Printed: openings that found today's principle already there (the view Slack showed carries
today's fingerprint), 429s, views.publish calls made for the repeat openings, every opener's
Home published in the end, ack p50/p99 — beside the reference: publishing every opening at
Slack's pace (the floor: N - 20 publishes at 100 a minute; before this change the bot
published on every opening, and twice for a manager).

With `--serves 2` (PostgreSQL only), two `serve` processes on one database do the night and
the rush, the openings alternating between them; "twice for one change" counts the people
whose Home Slack was sent the same fingerprint more than once (the night's and the rush's
calls that Slack didn't refuse with a 429), which must stay 0.
Not part of the tests: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database  # noqa: E402
from bot.config import example_mission_file  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.db.models import HomeState  # noqa: E402
from bot.home.state import fingerprint  # noqa: E402
from bot.mission.file import load_mission_file  # noqa: E402
from bot.mission.service import MissionKeeper  # noqa: E402
from bot.people import Person, remember_people  # noqa: E402
from bot.simulator import TEAM_ID, Call, SlackSimulator  # noqa: E402
from bot.simulator.limits import SLACK_LIMITS, Limit, RateLimits  # noqa: E402
from bot.simulator.process import ServeProcess, serve_processes  # noqa: E402
from bot.simulator.signing import sign  # noqa: E402

LATENCY = (0.08, 0.08)
PUBLISH_PER_MINUTE = SLACK_LIMITS["views.publish"].per_minute
PUBLISH_BURST = SLACK_LIMITS["views.publish"].burst


def morning_zone(now: dt.datetime) -> str:
    """A zone (whole hours from UTC) whose clock shows between 6:00 and 8:00 at `now`."""
    for offset in range(-12, 15):
        # Etc/GMT signs are POSIX's: Etc/GMT-5 is five hours ahead of UTC.
        name = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
        if 6 <= now.astimezone(ZoneInfo(name)).hour < 8:
            return name
    raise RuntimeError("no zone at 6:00-8:00")


def seed(url: str, slack: SlackSimulator, people: list[str], zone: str) -> dt.date:
    """Yesterday's Homes, as Slack and the bot both keep them; the directory filled."""
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo(zone)).date()
    yesterday = today - dt.timedelta(days=1)
    database = Database(url)
    try:
        MissionKeeper(load_mission_file(example_mission_file())).ensure_synced(database, TEAM_ID)
        with database.transaction() as session:
            remember_people(
                session=session,
                team_id=TEAM_ID,
                people=[Person(u, u.lower(), zone, False, False, False, False) for u in people],
                now=now,
            )
            for user in people:
                shown = fingerprint(user_id=user, role="member", day=yesterday, version=0)
                session.add(
                    HomeState(
                        team_id=TEAM_ID,
                        user_id=user,
                        role="member",
                        timezone=zone,
                        data_version=0,
                        published=shown,
                        view_hash=f"yesterday.{user}",
                        last_opened_at=now - dt.timedelta(days=1),
                    )
                )
                slack.homes[user] = {
                    "id": f"V{user}",
                    "type": "home",
                    "blocks": [],
                    "private_metadata": shown,
                    "hash": f"yesterday.{user}",
                }
    finally:
        database.dispose()
    for user in people:
        slack.add_user(user, tz=zone)
    return today


def event_body(event: dict[str, object], n: int) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "AMISSIONBOT",
            "event": event,
            "type": "event_callback",
            "event_id": f"EvRUSH{n:07d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UMISSIONBOT", "is_bot": True}],
        }
    )


def serving(
    url: str, slack: SlackSimulator, tmp: Path, serves: int, **env: str | int
) -> AbstractContextManager[list[ServeProcess]]:
    """`serves` processes of `missionbot serve` on one database."""
    return serve_processes(serves, url, slack, tmp, log_level="WARNING", **env)


def twice_for_one_change(calls: list[Call]) -> int:
    """People sent the same fingerprint more than once (429-refused calls left out)."""
    sent: Counter[tuple[str, str]] = Counter()
    for call in calls:
        if call.failed:
            continue
        view = call.params.get("view")
        view = json.loads(view) if isinstance(view, str) else view or {}
        sent[(str(call.params.get("user_id")), str(view.get("private_metadata")))] += 1
    return len({user for (user, _), n in sent.items() if n > 1})


def post(port: int, body: str) -> tuple[int, float]:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    try:
        connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException):
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


@dataclass
class Rush:
    backend: str
    people: int
    found_today: int
    openings: int
    published_in_end: int
    rate_limited: int
    repeat_calls: int
    night_publishes: int
    night_s: float
    twice: int
    rush_publishes: int
    last_home_s: float
    ack_p50_ms: float
    ack_p99_ms: float
    errors: int

    def row(self) -> str:
        return (
            f"| {self.backend} | {self.people} | {self.found_today}/{self.openings} "
            f"| {self.published_in_end}/{self.people} | {self.rate_limited} | {self.repeat_calls} "
            f"| {self.rush_publishes} | {self.last_home_s:.1f} | {self.ack_p50_ms:.0f} "
            f"| {self.ack_p99_ms:.0f} | {self.night_publishes} in {self.night_s:.0f} s "
            f"| {self.twice} | {self.errors} |"
        )


HEADER = [
    "| Backend | people | found today's principle | every opener's Home | views.publish 429s "
    "| calls for repeat openings | publishes at 9:00 | last Home s | ack p50 ms | ack p99 ms "
    "| night: refreshes (compressed) | Homes published twice for one change | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
]


def limits(speedup: float) -> RateLimits:
    return RateLimits(
        {
            m: Limit(lim.per_minute * speedup, lim.burst, lim.per_channel)
            for m, lim in SLACK_LIMITS.items()
        }
    )


def night(
    url: str,
    slack: SlackSimulator,
    tmp: Path,
    people: list[str],
    today: dt.date,
    speedup: float,
    timeout: float,
    serves: int,
) -> tuple[int, float, int]:
    """The overnight refresh, `speedup` times faster; publishes made, seconds taken, people
    published twice for one change."""
    slack.rate_limits = limits(speedup)
    started = time.monotonic()
    mark = f":{today.isoformat()}:"
    with serving(
        url,
        slack,
        tmp,
        serves,
        missionbot_home_publishes_per_minute=int(95 * speedup),
        missionbot_home_refresh_per_minute=int(40 * speedup),
    ):
        deadline = started + timeout
        while time.monotonic() < deadline:
            if all(mark in slack.homes[u]["private_metadata"] for u in people):
                break
            time.sleep(0.5)
    took = time.monotonic() - started
    calls = slack.calls("views.publish")
    return len(calls), took, twice_for_one_change(calls)


def run_one(backend: str, url: str, tmp: Path, args: argparse.Namespace) -> Rush:
    now = dt.datetime.now(dt.UTC)
    zone = morning_zone(now)
    people = [f"URUSH{n:05d}" for n in range(args.people)]
    newcomers = [f"UNEW{n:05d}" for n in range(args.new)]
    slack = SlackSimulator(latency=LATENCY).start()
    try:
        today = seed(url, slack, people, zone)
        for user in newcomers:
            slack.add_user(user, tz=zone)
        night_publishes, night_s, night_twice = night(
            url, slack, tmp, people, today, args.night_speedup, args.night_timeout, args.serves
        )
        # 9:00: Slack's own limits, fresh processes.
        slack.reset_calls()
        slack.rate_limits = RateLimits()
        with serving(url, slack, tmp, args.serves) as bots:
            outcome = rush(
                backend, bots, slack, people, newcomers, today, args, night_publishes, night_s
            )
        outcome.twice += night_twice
        return outcome
    finally:
        slack.stop()


def rush(
    backend: str,
    bots: list[ServeProcess],
    slack: SlackSimulator,
    people: list[str],
    newcomers: list[str],
    today: dt.date,
    args: argparse.Namespace,
    night_publishes: int,
    night_s: float,
) -> Rush:
    mark = f":{today.isoformat()}:"
    openers = people + newcomers
    acks: list[float] = []
    found = 0
    errors = 0
    lock = threading.Lock()

    def open_home(user: str, n: int) -> None:
        nonlocal found, errors
        event = slack.home_opened(user)
        view = event.get("view") or {}
        # Slack's requests alternate between the processes.
        status, elapsed = post(bots[n % len(bots)].port, event_body(event, n))
        with lock:
            acks.append(elapsed)
            found += mark in str(view.get("private_metadata", ""))  # type: ignore[union-attr]
            errors += status != 200

    def spread(users: list[str], seconds: float, first: int) -> None:
        threads: list[threading.Thread] = []
        start = time.monotonic()
        for i, user in enumerate(users):
            delay = start + i * seconds / max(len(users), 1) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=open_home, args=(user, first + i))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()

    started = time.monotonic()
    spread(openers, args.window, 0)
    # Everyone's Home out, the newcomers' included (they need a publish each, at the pace).
    deadline = time.monotonic() + args.window + len(openers) * 60 / PUBLISH_PER_MINUTE + 30
    while time.monotonic() < deadline:
        if all(mark in slack.homes.get(u, {}).get("private_metadata", "") for u in openers):
            break
        time.sleep(0.5)
    last_home_s = time.monotonic() - started
    rush_publishes = len(slack.calls("views.publish"))
    found_first = found
    time.sleep(2)  # a stray publish would show now
    before = len(slack.calls("views.publish"))
    spread(people[: args.repeat], min(args.window, 10), len(openers))
    time.sleep(3)
    repeat_calls = len(slack.calls("views.publish")) - before
    published = sum(mark in slack.homes.get(u, {}).get("private_metadata", "") for u in openers)
    refused = [c for c in slack.calls("views.publish") if c.failed]
    ordered = sorted(acks)
    return Rush(
        backend=backend if len(bots) == 1 else f"{backend}, {len(bots)} serves",
        people=len(openers),
        found_today=found_first,
        openings=len(openers),
        published_in_end=published,
        rate_limited=len(refused),
        repeat_calls=repeat_calls,
        night_publishes=night_publishes,
        night_s=night_s,
        twice=twice_for_one_change(slack.calls("views.publish")),
        rush_publishes=rush_publishes,
        last_home_s=last_home_s,
        ack_p50_ms=statistics.median(ordered) * 1000,
        ack_p99_ms=ordered[int(len(ordered) * 0.99) - 1] * 1000,
        errors=errors,
    )


def floor_row(people: int, window: float) -> str:
    """Slack's floor without the fingerprint and the refresh: a publish per opening."""
    floor_s = max(people - PUBLISH_BURST, 0) / PUBLISH_PER_MINUTE * 60
    found = min(people, PUBLISH_BURST + int(window * PUBLISH_PER_MINUTE / 60))
    return (
        f"| reference: a publish per opening at Slack's pace | {people} | 0/{people} "
        f"| {people}/{people} at best | 0 at best | one per repeat | {people} "
        f"| {floor_s:.0f} (floor) | | | — | | ({found} Homes out within the {window:.0f} s) |"
    )


def bench_home_rush(args: argparse.Namespace, tmp: Path) -> list[str]:
    backends = [args.only] if args.only else ["postgresql", "sqlite"]
    if args.serves > 1 and "sqlite" in backends:
        print("Several serve processes: PostgreSQL only (sqlite left out)", file=sys.stderr)
        backends.remove("sqlite")
    rows = [
        f"{args.people} people active the day before open the App Home within {args.window:.0f} s "
        f"({args.repeat} open it again, {args.new} newcomers); Slack: views.publish "
        f"{PUBLISH_PER_MINUTE:.0f}/min (burst {PUBLISH_BURST}), 429 + Retry-After, 80 ms a call. "
        f"The night before, compressed {args.night_speedup:g} times. "
        f"{args.serves} serve process(es) on one database.",
        "",
        *HEADER,
    ]
    for backend in backends:
        with fresh_database(backend, tmp, f"home-rush-{backend}") as url:
            outcome = run_one(backend, url, tmp, args)
        rows.append(outcome.row())
        print(rows[-1], file=sys.stderr, flush=True)
    rows.append(floor_row(args.people + args.new, args.window))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--new", type=int, default=0, help="people never seen before")
    parser.add_argument("--night-speedup", type=float, default=40.0)
    parser.add_argument("--night-timeout", type=float, default=600.0)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--serves", type=int, default=1, help="serve processes on one database")
    args = parser.parse_args()
    print(f"# missionbot App Home rush {dt.date.today()} (nproc={os.cpu_count()})\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_home_rush(args, Path(tmp))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
