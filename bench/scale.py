"""Enterprise scale (issue 23): a 50,000-person directory filling at Slack's pace, and a storm of
kudos from people it doesn't hold yet, against a Slack that enforces its limits.

    .venv/bin/python bench/scale.py [--people 50000] [--fill-scale 1] [--backends sqlite,postgresql]
        [--only fill,storm] [--kudos 240] [--seconds 60] [--serves 1]
    .venv/bin/python bench/scale.py --slack ...   # (internal) the simulator's process

The simulator (bot/simulator, a process of its own) answers every call after 80 ms and enforces
Slack's limits (bot/simulator/limits.py): `users.list` 20 a minute and 200 a page, `users.info`
100 a minute, `views.publish` 100 a minute, `chat.postMessage` one a second per channel; past
them it answers HTTP 429 with Retry-After. The bot is `missionbot serve` (waitress, 8 threads).

1. **Fill**: `serve` starts on an empty database with `--people` in Slack; measured until the
   directory's fill is finished (`directory_fills.finished_at`): the time against the floor
   (pages ÷ 20 a minute), users.list calls and 429s, and `serve`'s peak resident memory
   (VmHWM). With `--fill-scale N` (SLACK_RATE_SCALE for both the bot and the simulator) Slack's
   clock runs N times as fast, and the time is shown scaled back (times N) beside the measured one.
2. **Storm**: `serve` starts on an empty database at real limits (scale 1), the fill starting
   with it; at once `--kudos` kudos in `--seconds`, each from a giver of its own to a receiver of
   its own, all of them people the fill reaches last (their IDs sort after everyone else's),
   into one channel. Measured: kudos recorded, refused, ack p50/p99, every announcement out
   once, first kudos to last announcement, 429s by method, person checks still waiting.

With `--serves 2` (PostgreSQL only: two processes on one SQLite file is not a deployment),
two `missionbot serve` processes share one database, as README's deployment allows, and
Slack's requests alternate between them. The fill shows whether the directory was filled
once (users.list calls ≈ pages, not twice as many); the storm, whether the two together keep
within Slack's limits (each kudos still recorded, each announcement out once).

Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.databases import fresh_database  # noqa: E402
from bench.fake_slack_server import CountingSlack, serve_until_terminated  # noqa: E402
from bench.run import command_body, percentile, post_signed  # noqa: E402
from bot.db.models import DirectoryFill, Kudos, PersonCheck  # noqa: E402
from bot.db.models import Person as StoredPerson  # noqa: E402
from bot.simulator import Call, Failure, RateLimits, default_user  # noqa: E402
from bot.simulator.process import ServeProcess, serve_processes  # noqa: E402

CHANNEL = "CGENERAL01"
LATENCY_S = 0.08
PAGE = 200
USERS_LIST_PER_MIN = 20
MARKER = re.compile(r"scale-kudos-(\d{4})")
SLOW_WORDS = ("answering slowly", "try again")
SERVER_THREADS = 8


def giver_id(n: int) -> str:
    # "UZ…" sorts after everyone else's ID: the fill reaches them last.
    return f"UZGIVE{n:04d}"


def receiver_id(n: int) -> str:
    return f"UZRECV{n:04d}"


class ScaleSlack(CountingSlack):
    """The simulator with 80 ms latency, Slack's limits at `scale`, `people` people, and a
    record of counts (not calls: 250 pages of 200 people would fill memory). GET /stats."""

    def __init__(self, people: int, storm: int, scale: float) -> None:
        super().__init__(
            channel=CHANNEL,
            marker=MARKER,
            latency=(LATENCY_S, LATENCY_S),
            rate_limits=RateLimits(scale=scale),
            record_calls=False,
        )
        for n in range(people - 2 * storm):
            user_id = f"UP{n:07d}"
            self.users[user_id] = {**default_user(user_id), "tz": "Europe/Berlin"}
        for n in range(storm):
            for user_id in (giver_id(n), receiver_id(n)):
                self.users[user_id] = {**default_user(user_id), "tz": "Europe/Berlin"}

    def _record(self, call: Call) -> Failure | None:
        failure = super()._record(call)
        with self._stats:
            self.counts[call.method] += 1
            if failure is not None and failure.status == 429:
                self.limited[call.method] += 1
            elif failure is None:
                self._count_announcements(call)
        return failure


class ScaleSlackProcess:
    """`bench/scale.py --slack` in a child process."""

    def __init__(self, people: int, storm: int, scale: float) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--slack",
                f"--people={people}",
                f"--kudos={storm}",
                f"--fill-scale={scale}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.api_url = f"{self.base_url}/api/"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/stats", timeout=10) as reply:
            return dict(json.loads(reply.read()))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def scale_slack(people: int, storm: int, scale: float) -> Iterator[ScaleSlackProcess]:
    slack = ScaleSlackProcess(people, storm, scale)
    try:
        yield slack
    finally:
        slack.stop()


def serve(
    url: str, slack: ScaleSlackProcess, tmp: Path, scale: float, serves: int = 1
) -> AbstractContextManager[list[ServeProcess]]:
    """`serves` processes of `missionbot serve` on one database, started one after the other."""
    return serve_processes(
        serves,
        url,
        slack,
        tmp,
        server_threads=SERVER_THREADS,
        log_level="WARNING",
        slack_rate_scale=str(scale),
    )


def label(backend: str, serves: int) -> str:
    return backend if serves == 1 else f"{backend}, {serves} serves"


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def scalar(url: str, statement: Any) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(statement)
    finally:
        engine.dispose()


# -- 1. the fill ------------------------------------------------------------------------------
def bench_fill(backend: str, url: str, tmp: Path, people: int, scale: float, serves: int) -> str:
    pages = -(-people // PAGE)
    floor = pages / USERS_LIST_PER_MIN * 60
    with scale_slack(people, 0, scale) as slack:
        # From the first process's start: the fill begins there, before a second one answers.
        started = time.monotonic()
        with serve(url, slack, tmp, scale, serves) as bots:
            pids = [bot.process.pid for bot in bots if bot.process is not None]
            peak_rss = 0.0
            deadline = started + 3 * floor / scale + 120
            while time.monotonic() < deadline:
                peak_rss = max([peak_rss, *(memory_mb(pid)[0] for pid in pids)])
                if scalar(url, select(DirectoryFill.finished_at)) is not None:
                    break
                time.sleep(0.5)
            took = time.monotonic() - started
            stored = scalar(url, select(DirectoryFill.people))
            hwm = max(memory_mb(pid)[1] for pid in pids)
            # A second fill starting at once would show as more calls after the first finished.
            time.sleep(max(10.0, 3 * 60 / USERS_LIST_PER_MIN / scale))
            rows = scalar(url, select(func.count()).select_from(StoredPerson))
            stats = slack.stats()
    calls = stats["counts"].get("users.list", 0)
    limited = stats["limited"].get("users.list", 0)
    real = took * scale
    shown = f"{real:.0f}" if scale == 1 else f"{real:.0f} ({took:.0f} measured at scale {scale:g})"
    return (
        f"| {label(backend, serves)} | {stored:,} ({rows:,} rows) | {shown} | {floor:.0f} "
        f"| {real / floor:.2f} | {calls} ({pages} pages) | {limited} | {max(peak_rss, hwm):.0f} |"
    )


# -- 2. the storm -----------------------------------------------------------------------------
@dataclass
class Load:
    acks_s: list[float]
    recorded_replies: int
    refused_slow: int
    errors: int
    first_at: float


def signed_post(connection: http.client.HTTPConnection, body: str) -> tuple[int, str]:
    """A slash command signed as Slack signs it; the status and the reply's text."""
    response = post_signed(connection, body)
    raw = response.read().decode(errors="replace")
    try:
        text = str(json.loads(raw).get("text") or "")
    except (ValueError, AttributeError):
        text = raw
    return response.status, text


def storm_load(ports: list[int], slack_url: str, kudos: int, seconds: float) -> Load:
    """`kudos` slash commands spread over `seconds`, alternating between the `ports`."""
    import os

    os.environ["BENCH_SLACK_URL"] = slack_url
    acks: list[float] = []
    recorded = refused = errors = 0
    lock = threading.Lock()

    def send(n: int) -> None:
        nonlocal recorded, refused, errors
        text = f"<@{receiver_id(n)}> #plain-words scale-kudos-{n:04d} thanks for the help"
        body = command_body("/kudos", text, giver_id(n), 30_000 + n)
        port = ports[n % len(ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            status, reply = signed_post(connection, body)
        except (OSError, http.client.HTTPException):
            status, reply = 0, ""
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        with lock:
            acks.append(elapsed)
            errors += status != 200
            recorded += "Kudos recorded" in reply
            refused += any(words in reply for words in SLOW_WORDS)

    threads: list[threading.Thread] = []
    start = time.monotonic()
    first = time.time()
    for n in range(kudos):
        delay = start + n * seconds / kudos - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=send, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return Load(acks, recorded, refused, errors, first)


def bench_storm(
    backend: str, url: str, tmp: Path, people: int, kudos: int, seconds: float, serves: int
) -> str:
    with scale_slack(people, kudos, 1.0) as slack, serve(url, slack, tmp, 1.0, serves) as bots:
        load = storm_load([bot.port for bot in bots], slack.base_url, kudos, seconds)
        deadline = time.monotonic() + max(120.0, 3 * seconds)
        while True:
            stats = slack.stats()
            if len(stats["announced"]) >= kudos or time.monotonic() > deadline:
                break
            time.sleep(1)
        recorded = scalar(
            url, select(func.count()).select_from(Kudos).where(Kudos.withdrawn_at.is_(None))
        )
        checks = scalar(url, select(func.count(func.distinct(PersonCheck.user_id))))
    once = sum(1 for n in stats["announced"].values() if n == 1)
    more = sum(1 for n in stats["announced"].values() if n > 1)
    last = stats["last_announced_at"]
    span = f"{last - load.first_at:.1f}" if last else "-"
    limited = ", ".join(f"{m} {n}" for m, n in sorted(stats["limited"].items())) or "0"
    return (
        f"| {label(backend, serves)} | {recorded}/{kudos} | {load.refused_slow} "
        f"| {percentile(load.acks_s, 0.5):.0f} / {percentile(load.acks_s, 0.99):.0f} "
        f"| {once} once, {more} more | {span} | {limited} "
        f"| {stats['counts'].get('users.info', 0)} | {checks} | {load.errors} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--fill-scale", type=float, default=1.0)
    parser.add_argument("--kudos", type=int, default=240)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--only", default="fill,storm")
    parser.add_argument("--serves", type=int, default=1, help="serve processes on one database")
    args = parser.parse_args()
    if args.slack:
        serve_until_terminated(ScaleSlack(args.people, args.kudos, args.fill_scale))
        return
    backends = [b for b in args.backends.split(",") if b]
    if args.serves > 1 and "sqlite" in backends:
        print("Several serve processes: PostgreSQL only (sqlite left out)", flush=True)
        backends.remove("sqlite")
    wanted = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        if "fill" in wanted:
            print(
                f"Fill: {args.people:,} people, users.list {USERS_LIST_PER_MIN}/min and {PAGE} a "
                f"page, {LATENCY_S * 1000:.0f} ms latency, {args.serves} serve process(es)\n\n"
                "| Backend | people stored (rows) | complete after s | Tier-2 floor s | vs floor "
                "| users.list calls (pages) | 429s | serve peak RSS MB |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                flush=True,
            )
            for backend in backends:
                with fresh_database(backend, Path(tmp), f"fill{backend}") as url:
                    print(
                        bench_fill(
                            backend, url, Path(tmp), args.people, args.fill_scale, args.serves
                        ),
                        flush=True,
                    )
        if "storm" in wanted:
            print(
                f"\nStorm: {args.kudos} kudos in {args.seconds:.0f} s from people not yet in the "
                f"directory ({args.people:,} filling at real limits), users.info 100/min, "
                f"chat.postMessage 1/s per channel, {args.serves} serve process(es)\n\n"
                "| Backend | recorded | refused | ack p50 / p99 ms | announced | first kudos → "
                "last announcement s | 429s | users.info calls | people still to check "
                "| non-200 |\n"
                "|---|---:|---:|---:|---|---:|---|---:|---:|---:|",
                flush=True,
            )
            for backend in backends:
                with fresh_database(backend, Path(tmp), f"storm{backend}") as url:
                    print(
                        bench_storm(
                            backend,
                            url,
                            Path(tmp),
                            args.people,
                            args.kudos,
                            args.seconds,
                            args.serves,
                        ),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
