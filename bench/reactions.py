"""A reaction storm: 200 people react to one message with a principle's emoji within 10 s.

    .venv/bin/python bench/reactions.py [--reactions 200] [--seconds 10] [--backends sqlite]
    .venv/bin/python bench/reactions.py --slack    # (internal) the fake Slack process

The fake Slack is bench/storm.py's (a process of its own, ~80 ms per answer, 429s past
Slack's limits: chat.postMessage 1/s per channel with a burst of 3, users.info 100/min),
which here also holds chat.update to Tier 3 (50 a minute, burst 10) and records every thread
reply and every edit. The bot is `missionbot serve` as README deploys it. The load: one
signed `reaction_added` event (`:dart:`, Own the outcome) per giver, evenly over `--seconds`,
each giver a different person, all on one message by one author, each on its own thread.

Printed per backend, against the issue's targets: kudos recorded (each once: 200 of 200),
thread replies posted (1), edits, the most posts and edits that reached Slack within any one
second (≤ 1) and the smallest gap between two of them, Web API calls per
reaction (≤ 3 on average, counted from the first event to the last edit), event ack p50/p99
(< 100 ms), and the seconds from the first reaction until the reply said everything.

Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.databases import fresh_databases  # noqa: E402
from bench.fake_slack_server import serve_until_terminated  # noqa: E402
from bench.run import missionbot, percentile, post_signed  # noqa: E402
from bench.storm import Bucket, StormSlack, StormSlackProcess  # noqa: E402
from bot.db.models import Kudos, OutboxMessage  # noqa: E402
from bot.simulator import TEAM_ID, Call, Failure  # noqa: E402

CHANNEL = "CGENERAL01"
AUTHOR = "URECV0000"
MESSAGE_TS = "1764670000.000100"
UPDATES_PER_MIN, UPDATES_BURST = 50, 10


class ReactionSlack(StormSlack):
    """The storm's fake Slack, also limiting chat.update and recording the thread reply."""

    def __init__(self, people: int) -> None:
        super().__init__(people)
        self.thread_posts = 0
        self.edits: list[float] = []
        # When each post or edit reached Slack (monotonic, before the fake's latency): the pace.
        self.arrivals: list[float] = []
        self.last_text = ""
        self._updates = Bucket(UPDATES_PER_MIN / 60, UPDATES_BURST)

    def _record(self, call: Call) -> Failure | None:
        if call.method == "chat.update":
            time.sleep(0.08)
            with self._stats:
                self.counts[call.method] += 1
                wait = self._updates.take()
                if wait:
                    self.limited[call.method] += 1
                    return Failure(status=429, error="ratelimited", retry_after=math.ceil(wait))
                self.edits.append(time.time())
                self.arrivals.append(call.at)
                self.last_text = str(call.params.get("text") or "")
            return None
        return super()._record(call)

    def _count_announcements(self, call: Call) -> None:
        if call.method == "chat.postMessage" and call.params.get("thread_ts") == MESSAGE_TS:
            self.thread_posts += 1
            self.edits.append(time.time())
            self.arrivals.append(call.at)
            self.last_text = str(call.params.get("text") or "")

    def stats(self) -> dict[str, Any]:
        with self._stats:
            return {
                "counts": dict(self.counts),
                "limited": dict(self.limited),
                "thread_posts": self.thread_posts,
                "edits": list(self.edits),
                "arrivals": list(self.arrivals),
                "last_text": self.last_text,
            }


class ReactionSlackProcess(StormSlackProcess):
    def __init__(self, people: int) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, __file__, "--slack", "--reactions", str(people)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.api_url = f"{self.base_url}/api/"


@contextmanager
def reaction_slack(people: int) -> Iterator[ReactionSlackProcess]:
    slack = ReactionSlackProcess(people)
    try:
        yield slack
    finally:
        slack.stop()


def event_body(n: int) -> str:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM_ID,
            "api_app_id": "AMISSIONBOT",
            "event": {
                "type": "reaction_added",
                "user": f"UGIVE{n:04d}",
                "reaction": "dart",
                "item_user": AUTHOR,
                "item": {"type": "message", "channel": CHANNEL, "ts": MESSAGE_TS},
                "event_ts": f"{time.time():.6f}",
            },
            "type": "event_callback",
            "event_id": f"EvBENCH{n:06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UMISSIONBOT", "is_bot": True}],
        }
    )


@dataclass
class Load:
    ack_s: list[float]
    errors: int
    started_at: float


def run_load(port: int, reactions: int, seconds: float) -> Load:
    acks: list[float] = []
    errors = 0
    lock = threading.Lock()

    def send(n: int) -> None:
        nonlocal errors
        body = event_body(n)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            response = post_signed(connection, body, "application/json")
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        with lock:
            acks.append(time.perf_counter() - started)
            errors += status != 200

    threads: list[threading.Thread] = []
    start, started_at = time.monotonic(), time.time()
    for n in range(reactions):
        delay = start + n * seconds / reactions - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return Load(acks, errors, started_at)


def settled(database_url: str, reactions: int, timeout: float) -> tuple[int, int]:
    """(kudos recorded, distinct givers) once all are in and the outbox is empty."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                kudos = int(connection.scalar(select(func.count()).select_from(Kudos)) or 0)
                givers = int(
                    connection.scalar(select(func.count(func.distinct(Kudos.giver_id)))) or 0
                )
                waiting = int(
                    connection.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(["pending", "sending"]))
                    )
                    or 0
                )
            if (kudos >= reactions and not waiting) or time.monotonic() > deadline:
                return kudos, givers
            time.sleep(0.5)
    finally:
        engine.dispose()


def smallest_gap(times: list[float]) -> float:
    ordered = sorted(times)
    return min((b - a for a, b in itertools.pairwise(ordered)), default=float("nan"))


def most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def storm(backend: str, url: str, tmp: Path, reactions: int, seconds: float) -> str:
    with reaction_slack(reactions) as slack, missionbot(url, slack, tmp) as bot:  # type: ignore[arg-type]
        time.sleep(2)  # the people directory fills from users.list at start
        before = slack.stats()["counts"]
        load = run_load(bot.port, reactions, seconds)
        kudos, givers = settled(url, reactions, timeout=120)
        stats = slack.stats()
    calls = sum(stats["counts"].values()) - sum(before.values())
    edits = stats["edits"]
    last = max(edits, default=None)
    done = f"{last - load.started_at:.1f}" if last else "-"
    limited = ", ".join(f"{m} {n}" for m, n in sorted(stats["limited"].items())) or "0"
    complete = f"and {reactions - 2} others" in stats["last_text"]
    return (
        f"| {backend} | {kudos}/{reactions} ({givers} givers) | {stats['thread_posts']} "
        f"| {len(edits) - stats['thread_posts']} | {most_in_one_second(stats['arrivals'])} "
        f"| {smallest_gap(stats['arrivals']):.3f} "
        f"| {calls / reactions:.2f} | {percentile(load.ack_s, 0.5):.0f} / "
        f"{percentile(load.ack_s, 0.99):.0f} | {done} ({'complete' if complete else 'INCOMPLETE'}) "
        f"| {limited} | {load.errors} |"
    )


def bench_reactions(
    tmp: Path, *, reactions: int = 200, seconds: float = 10.0, backends: list[str] | None = None
) -> list[str]:
    rows = [
        f"Reactions: {reactions} principle reactions (:dart:) on one message within "
        f"{seconds:.0f} s, each from another person; Slack answers after 80 ms, "
        f"chat.postMessage 1/s per channel, chat.update {UPDATES_PER_MIN}/min, users.info 100/min",
        "",
        "| Backend | kudos recorded | thread replies | edits | most posts+edits in 1 s "
        "| smallest gap s | Web API calls per reaction | ack p50 / p99 ms "
        "| first reaction → final reply s | 429s | non-200 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    with fresh_databases(tmp, "reactions") as urls:
        for backend, url in urls.items():
            if backends and backend not in backends:
                continue
            rows.append(storm(backend, url, tmp, reactions, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reactions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="50 reactions in 5 s")
    parser.add_argument("--backends", default="", help="comma-separated: sqlite,postgresql")
    args = parser.parse_args()
    if args.slack:
        serve_until_terminated(ReactionSlack(people=args.reactions))
        return
    reactions, seconds = (50, 5.0) if args.quick else (args.reactions, args.seconds)
    backends = [b for b in args.backends.split(",") if b] or None
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_reactions(Path(tmp), reactions=reactions, seconds=seconds, backends=backends)
        print("\n".join(rows))


if __name__ == "__main__":
    main()
