"""The all-hands kudos storm: 240 kudos in a minute into one channel, against a Slack as strict
as the real one, while others keep typing `/mission`.

    .venv/bin/python bench/storm.py [--kudos 240] [--seconds 60] [--backends sqlite,postgresql]
    .venv/bin/python bench/storm.py --slack    # (internal) the fake Slack process

The fake Slack (a process of its own) answers every Web API call after ~80 ms and enforces
Slack's documented limits, answering HTTP 429 with a whole-seconds Retry-After past them:
`chat.postMessage` 1 message a second per channel with a burst of 3; `users.info` about 100
calls a minute (Tier 4) with a burst of 20. Its people are the storm's givers and receivers,
so `users.list` can name them all.

The load: kudos evenly spread over `--seconds`, each from a giver of its own to a receiver of
its own, tagged with a marker; `/mission` 4 times a second throughout. Printed per backend:
ack p50/p99 for kudos and `/mission`, kudos recorded, kudos announced in the channel (each
marker counted: exactly once is the target), the time from the first kudos to the last
announcement, 429s received by method, and Web API calls per kudos.

Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import re
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.databases import fresh_databases  # noqa: E402
from bench.fake_slack_server import CountingSlack, serve_until_terminated  # noqa: E402
from bench.run import _send, command_body, missionbot, percentile  # noqa: E402
from bot.db.models import Kudos  # noqa: E402
from bot.simulator import Bucket, Call, Failure, default_user  # noqa: E402

CHANNEL = "CGENERAL01"
LATENCY_S = 0.08
POST_INTERVAL_S, POST_BURST = 1.0, 3
USERS_INFO_PER_MIN, USERS_INFO_BURST = 100, 20
MISSION_PER_S = 4
MARKER = re.compile(r"storm-kudos-(\d{4})")


class StormSlack(CountingSlack):
    """The simulator with latency and Slack's limits; `stats()` is its record (GET /stats)."""

    def __init__(self, people: int) -> None:
        super().__init__(channel=CHANNEL, marker=MARKER)
        self._buckets: dict[tuple[str, str], Bucket] = {}
        for n in range(people):
            for prefix in ("UGIVE", "URECV"):
                user_id = f"{prefix}{n:04d}"
                self.users[user_id] = {**default_user(user_id), "tz": "Europe/Berlin"}

    def _bucket(self, method: str, key: str) -> Bucket:
        bucket = self._buckets.get((method, key))
        if bucket is None:
            if method == "chat.postMessage":
                bucket = Bucket(1 / POST_INTERVAL_S, POST_BURST)
            else:
                bucket = Bucket(USERS_INFO_PER_MIN / 60, USERS_INFO_BURST)
            self._buckets[(method, key)] = bucket
        return bucket

    def _record(self, call: Call) -> Failure | None:
        time.sleep(LATENCY_S)
        with self._stats:
            self.counts[call.method] += 1
            wait = 0.0
            if call.method == "chat.postMessage":
                wait = self._bucket(call.method, str(call.params.get("channel"))).take()
            elif call.method == "users.info":
                wait = self._bucket(call.method, "workspace").take()
            if wait:
                self.limited[call.method] += 1
                return Failure(status=429, error="ratelimited", retry_after=math.ceil(wait))
            self._count_announcements(call)
        return None


class StormSlackProcess:
    """`bench/storm.py --slack` in a child process; quacks like FakeSlack's URLs."""

    def __init__(self, people: int) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, __file__, "--slack", "--kudos", str(people)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.api_url = f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/response/{name}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/stats", timeout=10) as reply:
            return dict(json.loads(reply.read()))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def storm_slack(people: int) -> Iterator[StormSlackProcess]:
    slack = StormSlackProcess(people)
    try:
        yield slack
    finally:
        slack.stop()


@dataclass
class Load:
    kudos_s: list[float]  # ack latencies, seconds
    mission_s: list[float]
    errors: int
    first_kudos_at: float


def run_load(port: int, slack_url: str, kudos: int, seconds: float) -> Load:
    """Kudos evenly over `seconds`, `/mission` 4/s throughout; each request on its own thread."""
    import os

    os.environ["BENCH_SLACK_URL"] = slack_url
    kudos_s: list[float] = []
    mission_s: list[float] = []
    errors = 0
    lock = threading.Lock()

    def send(kind: str, n: int) -> None:
        nonlocal errors
        if kind == "kudos":
            text = f"<@URECV{n:04d}> #plain-words storm-kudos-{n:04d} thanks for the help"
            body = command_body("/kudos", text, f"UGIVE{n:04d}", 10_000 + n)
        else:
            body = command_body("/mission", "", "UANA0001", 20_000 + n)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            status = _send(connection, body)
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        with lock:
            (kudos_s if kind == "kudos" else mission_s).append(elapsed)
            errors += status != 200

    schedule = [(i * seconds / kudos, "kudos", i) for i in range(kudos)]
    schedule += [(i / MISSION_PER_S, "mission", i) for i in range(int(seconds * MISSION_PER_S))]
    schedule.sort()
    threads: list[threading.Thread] = []
    start = time.monotonic()
    first = time.time()
    for at, kind, n in schedule:
        delay = start + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=send, args=(kind, n))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return Load(kudos_s, mission_s, errors, first)


def recorded_kudos(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Kudos)) or 0)
    finally:
        engine.dispose()


def wait_for_announcements(slack: StormSlackProcess, kudos: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = slack.stats()
        if len(stats["announced"]) >= kudos or time.monotonic() > deadline:
            return stats
        time.sleep(1)


def storm(backend: str, url: str, tmp: Path, kudos: int, seconds: float) -> str:
    with storm_slack(kudos) as slack, missionbot(url, slack, tmp) as bot:  # type: ignore[arg-type]
        time.sleep(2)  # the people directory fills from users.list at start
        before = slack.stats()["counts"]
        load = run_load(bot.port, slack.base_url, kudos, seconds)
        stats = wait_for_announcements(slack, kudos, timeout=max(120.0, 4 * seconds))
        recorded = recorded_kudos(url)
    calls = sum(stats["counts"].values()) - sum(before.values())
    once = sum(1 for n in stats["announced"].values() if n == 1)
    more = sum(1 for n in stats["announced"].values() if n > 1)
    last = stats["last_announced_at"]
    span = f"{last - load.first_kudos_at:.1f}" if last else "-"
    limited = ", ".join(f"{m} {n}" for m, n in sorted(stats["limited"].items())) or "0"
    return (
        f"| {backend} | {percentile(load.kudos_s, 0.5):.0f} / {percentile(load.kudos_s, 0.99):.0f} "
        f"| {percentile(load.mission_s, 0.5):.0f} / {percentile(load.mission_s, 0.99):.0f} "
        f"| {recorded}/{kudos} | {once} once, {more} more than once | {span} "
        f"| {limited} | {calls / kudos:.2f} | {load.errors} |"
    )


def bench_storm(
    tmp: Path, *, kudos: int = 240, seconds: float = 60.0, backends: list[str] | None = None
) -> list[str]:
    rows = [
        f"Storm: {kudos} kudos in {seconds:.0f} s into one channel, /mission {MISSION_PER_S}/s; "
        f"Slack answers after {LATENCY_S * 1000:.0f} ms, chat.postMessage 1/s per channel "
        f"(burst {POST_BURST}), users.info {USERS_INFO_PER_MIN}/min",
        "",
        "| Backend | kudos ack p50 / p99 ms | /mission ack p50 / p99 ms | recorded "
        "| announced | first kudos → last announcement s | 429s | Web API calls per kudos "
        "| non-200 |",
        "|---|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    with fresh_databases(tmp, "storm") as urls:
        for backend, url in urls.items():
            if backends and backend not in backends:
                continue
            rows.append(storm(backend, url, tmp, kudos, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kudos", type=int, default=240)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="60 kudos in 15 s")
    parser.add_argument("--backends", default="", help="comma-separated: sqlite,postgresql")
    args = parser.parse_args()
    if args.slack:
        serve_until_terminated(StormSlack(people=args.kudos))
        return
    kudos, seconds = (60, 15.0) if args.quick else (args.kudos, args.seconds)
    backends = [b for b in args.backends.split(",") if b] or None
    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(bench_storm(Path(tmp), kudos=kudos, seconds=seconds, backends=backends)))


if __name__ == "__main__":
    main()
