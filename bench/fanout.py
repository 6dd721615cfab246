"""The morning fan-out: N channels subscribed to the same minute, against a rate-limited Slack.

    .venv/bin/python bench/fanout.py [--quick] [--channels N] [--burst 100] [--rate 50]

For PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server with trust
auth) and SQLite: a fresh migrated database, the example mission, and N subscriptions (every
day, no digest) whose post time is the next minute at least `LEAD_S` seconds away, spread over a
few timezones so that it is the same instant everywhere. Then `missionbot serve` as README
deploys it, in a child process, its scheduler started as in production, aimed through
SLACK_API_URL at bench/fanout_slack.py (its own process: one message per second per channel,
a workspace token bucket, 429 + Retry-After). We wait until every channel has its post or the
timeout, and print a Markdown table: posted exactly once / duplicates / missing, the 429s the
bot got, the time from the scheduled minute to the last post, and the floor the bucket allows.
Not part of the tests: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.databases import fresh_databases  # noqa: E402
from bench.fanout_slack import DEFAULT_BURST, DEFAULT_RATE, floor_seconds  # noqa: E402
from bot.config import example_mission_file  # noqa: E402
from bot.daily.schedule import WEEKDAYS, ScheduleRequest  # noqa: E402
from bot.daily.subscriptions import subscribe  # noqa: E402
from bot.db.engine import Database  # noqa: E402
from bot.db.models import ScheduledPost  # noqa: E402
from bot.mission.file import load_mission_file  # noqa: E402
from bot.mission.service import MissionKeeper  # noqa: E402
from bot.simulator import TEAM_ID  # noqa: E402
from bot.simulator.process import ServeProcess  # noqa: E402

CHANNELS = 2_000
QUICK_CHANNELS = 300
# The subscriptions are made, and serve started, this long before the minute at the latest.
LEAD_S = 25
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")


class SlackProcess:
    """bench/fanout_slack.py in a child process; quacks like FakeSlack's URLs."""

    def __init__(self, *, burst: int, rate: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "fanout_slack.py"),
                f"--burst={burst}",
                f"--rate={rate}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.api_url = f"{self.base_url}/api/"

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10) as reply:
            stats: dict[str, object] = json.load(reply)
            return stats

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Outcome:
    backend: str
    channels: int
    once: int
    duplicates: int
    missing: int
    rate_limited: int
    first_s: float
    last_s: float
    floor_s: float
    claims: str
    late_start: bool

    def row(self) -> str:
        ratio = self.last_s / self.floor_s if self.floor_s else float("nan")
        late = " (serve started late)" if self.late_start else ""
        return (
            f"| {self.backend}{late} | {self.channels} | {self.once} | {self.duplicates} "
            f"| {self.missing} | {self.rate_limited} | {self.first_s:.1f} | {self.last_s:.1f} "
            f"| {self.floor_s:.1f} | {ratio:.2f} | {self.claims} |"
        )


HEADER = [
    "| Backend | channels | posted once | duplicates | missing | 429s | first post s "
    "| last post s | floor s | last / floor | claims |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]


def next_minute(lead_s: float) -> dt.datetime:
    """The first whole minute (UTC) at least `lead_s` from now."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead_s)
    minute = soon.replace(second=0, microsecond=0)
    return minute if minute >= soon else minute + dt.timedelta(minutes=1)


def subscribe_all(url: str, channels: list[str], at: dt.datetime) -> None:
    """Every channel subscribed (as `/mission subscribe` does) to the instant `at`."""
    database = Database(url)
    try:
        MissionKeeper(load_mission_file(example_mission_file())).ensure_synced(database, TEAM_ID)
        now = dt.datetime.now(dt.UTC)
        with database.transaction() as session:
            for n, channel in enumerate(channels):
                zone = ZONES[n % len(ZONES)]
                local = at.astimezone(ZoneInfo(zone))
                subscribe(
                    session=session,
                    team_id=TEAM_ID,
                    channel_id=channel,
                    user_id="UANA0001",
                    request=ScheduleRequest(f"{local:%H:%M}", WEEKDAYS, zone),
                    default_timezone=None,
                    now=now,
                )
    finally:
        database.dispose()


def claim_summary(url: str) -> str:
    database = Database(url)
    try:
        with database.transaction() as session:
            rows = session.execute(
                select(ScheduledPost.status, func.count()).group_by(ScheduledPost.status)
            ).all()
    finally:
        database.dispose()
    return ", ".join(f"{count} {status}" for status, count in sorted(rows)) or "none"


def run_one(
    backend: str, url: str, count: int, *, burst: int, rate: float, tmp: Path, timeout: float
) -> Outcome:
    channels = [f"CFAN{backend[:2].upper()}{n:05d}" for n in range(count)]
    at = next_minute(LEAD_S)
    subscribe_all(url, channels, at)
    slack = SlackProcess(burst=burst, rate=rate)
    bot = ServeProcess(url, slack, tmp, log_level="WARNING")
    try:
        bot.start()
        late_start = dt.datetime.now(dt.UTC) >= at
        floor = floor_seconds(count, burst=burst, rate=rate)
        deadline = at.timestamp() + timeout
        stats = slack.stats()
        while time.time() < deadline:
            stats = slack.stats()
            if stats["channels"] == count:
                break
            time.sleep(0.5)
        # A little longer: a duplicate would show up now, from a sweep or a retry.
        time.sleep(2)
        stats = slack.stats()
    finally:
        bot.stop()
        slack.stop()
    per_channel: dict[str, int] = stats["per_channel"]  # type: ignore[assignment]
    once = sum(1 for c in channels if per_channel.get(c) == 1)
    duplicates = sum(1 for c in channels if per_channel.get(c, 0) > 1)
    missing = sum(1 for c in channels if c not in per_channel)
    first = stats["first_post_at"]
    last = stats["last_post_at"]
    return Outcome(
        backend=backend,
        channels=count,
        once=once,
        duplicates=duplicates,
        missing=missing,
        rate_limited=int(stats["rate_limited"]),  # type: ignore[call-overload]
        first_s=float(first) - at.timestamp() if first else float("nan"),  # type: ignore[arg-type]
        last_s=float(last) - at.timestamp() if last else float("nan"),  # type: ignore[arg-type]
        floor_s=floor,
        claims=claim_summary(url),
        late_start=late_start,
    )


def bench_fanout(
    quick: bool,
    tmp: Path,
    *,
    channels: int | None = None,
    burst: int = DEFAULT_BURST,
    rate: float = DEFAULT_RATE,
    timeout: float | None = None,
) -> list[str]:
    count = channels or (QUICK_CHANNELS if quick else CHANNELS)
    floor = floor_seconds(count, burst=burst, rate=rate)
    limit = timeout or max(120.0, 5 * floor)
    rows = [
        f"{count} channels at one minute; fake Slack: 1 post/s per channel, workspace bucket "
        f"{burst} deep refilled at {rate:g}/s, 429 + Retry-After; floor = "
        f"({count} - {burst}) / {rate:g} = {floor:.1f} s; timeout {limit:.0f} s.",
        "",
        *HEADER,
    ]
    with fresh_databases(tmp, "fanout") as urls:
        for backend, url in urls.items():
            outcome = run_one(backend, url, count, burst=burst, rate=rate, tmp=tmp, timeout=limit)
            rows.append(outcome.row())
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CHANNELS} channels")
    parser.add_argument("--channels", type=int, help=f"default {CHANNELS}")
    parser.add_argument("--burst", type=int, default=DEFAULT_BURST)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    parser.add_argument("--timeout", type=float, help="seconds after the minute to give up")
    args = parser.parse_args()
    print(f"# missionbot morning fan-out {dt.date.today()} (nproc={os.cpu_count()})\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_fanout(
            args.quick,
            Path(tmp),
            channels=args.channels,
            burst=args.burst,
            rate=args.rate,
            timeout=args.timeout,
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
