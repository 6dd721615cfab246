"""All of missionbot's benchmarks: request path, memory, leaderboards, fan-out; prints tables.

    .venv/bin/python bench/run.py [--quick]
        [--only request,memory,leaderboards,fanout,storm,reactions,console]
    .venv/bin/python bench/run.py --only reactions   # bench/reactions.py, also in the default
    .venv/bin/python bench/run.py --only home        # bench/home_rush.py, the App Home's 9:00
    .venv/bin/python bench/run.py --only console     # bench/console_start.py, also in the default
    .venv/bin/python bench/run.py --only request --bot ../before   # another checkout's serve
    .venv/bin/python bench/run.py --only request --locale de-DE    # a German reader

`/kudos` end to end with the read model's tallies and without them (and another checkout beside
them): bench/kudos_cost.py.

The leaderboards benchmark is bench/leaderboards.py, run from here in a child process (it
takes its own options when run alone).

Needs PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server with trust
auth) for the PostgreSQL rows. Everything runs on this machine: the bot as README deploys it
(`missionbot serve`, waitress, SERVER_THREADS=8) in a child process, a bare Bolt app that only
acknowledges (bench/bare_bolt.py, same server and threads) in another, the fake Slack Web API
(tests/support/fake_slack.py) answering the bot's calls, and a Python load generator in worker
processes (keep-alive connections, each request signed as Slack signs it). Not part of the
tests: nothing here passes or fails.

The request rows give the CPU each request cost the server process (`serve`, and bare Bolt on
its rows): its utime + stime from /proc/PID/stat across the run, over the requests answered.
On two shared cores the rate follows the machine's load; the CPU per request much less so.
Work a request leaves behind (a kudos's deliveries, sent by the outbox after the ack) counts
in whichever run it falls into.

`--bot PATH` measures another checkout's `missionbot serve` (run by PATH/.venv/bin/python,
its databases migrated by that checkout) on this harness: the same load generator, fake
Slack and bare Bolt, so a before/after pair differs only in the bot. `--locale de-DE` gives
every user that Slack locale (bench/fake_slack_server.py), so replies are translated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.client
import itertools
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_databases  # noqa: E402
from bot.db.scratch import migrate  # noqa: E402
from bot.simulator import TEAM_ID  # noqa: E402
from bot.simulator.process import ServeProcess, free_port  # noqa: E402
from bot.simulator.signing import SIGNING_SECRET, sign  # noqa: E402

SERVER_THREADS = 8
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- load generation -------------------------------------------------------------------------


def command_body(
    command: str, text: str, user: str, n: int, channel: tuple[str, str] = ("CGENERAL01", "general")
) -> str:
    return urlencode(
        {
            "token": "x",
            "team_id": TEAM_ID,
            "team_domain": "tidewater",
            "channel_id": channel[0],
            "channel_name": channel[1],
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "AMISSIONBOT",
            "response_url": f"{os.environ['BENCH_SLACK_URL']}/response/b{n}",
            "trigger_id": f"{n}.1.t",
        }
    )


def request_for(kind: str, worker: int, n: int) -> str:
    if kind == "mission":
        return command_body("/mission", "", "UANA0001", n)
    # Every /kudos a new one, from a giver of its own: no duplicate, no allowance refusal.
    giver = f"UG{worker:02d}{n:07d}"
    return command_body("/kudos", f"<@UDANA004|dana> #plain-words bench {worker}-{n}", giver, n)


FORM = "application/x-www-form-urlencoded"


def post_signed(
    connection: http.client.HTTPConnection, body: str, content_type: str = FORM
) -> http.client.HTTPResponse:
    """POST `body` to /slack/events signed as Slack signs it; the response, still unread."""
    stamp = int(time.time())
    connection.request(
        "POST",
        "/slack/events",
        body=body.encode(),
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(body, stamp, SIGNING_SECRET),
        },
    )
    return connection.getresponse()


def _send(connection: http.client.HTTPConnection, body: str) -> int:
    response = post_signed(connection, body)
    response.read()
    return response.status


def _closed_loop_worker(
    args: tuple[int, str, int, str, float, int, str],
) -> tuple[int, list[float]]:
    """`threads` connections sending back to back for `seconds`; (errors, latencies in s)."""
    worker, host, port, kind, seconds, threads, slack_url = args
    os.environ["BENCH_SLACK_URL"] = slack_url
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    def run(thread: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            body = request_for(kind, worker * 100 + thread, next(counter))
            started = time.perf_counter()
            try:
                status = _send(connection, body)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                status = 0
            mine.append(time.perf_counter() - started)
            bad += status != 200
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors, latencies


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def closed_loop(port: int, kind: str, seconds: float, slack_url: str) -> Result:
    processes, threads = 2, 8
    jobs = [(w, "127.0.0.1", port, kind, seconds, threads, slack_url) for w in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        outcomes = pool.map(_closed_loop_worker, jobs)
    elapsed = time.perf_counter() - started
    latencies = [x for _, lat in outcomes for x in lat]
    errors = sum(e for e, _ in outcomes)
    return Result(len(latencies), errors, min(elapsed, seconds + 0.5), *_p(latencies))


def _p(latencies: list[float]) -> tuple[float, float]:
    return percentile(latencies, 0.50), percentile(latencies, 0.99)


def fixed_rate(
    port: int, kind: str, rate: float, seconds: float, slack_url: str, worker: int = 90
) -> Result:
    """Open loop: requests at `rate` per second, latency from when each was due.

    `worker` keeps each run's givers apart, so no kudos counts as another run's duplicate.
    """
    os.environ["BENCH_SLACK_URL"] = slack_url
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    slots = iter(range(total))
    local = threading.local()

    def run() -> None:
        nonlocal errors
        for n in slots:
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                status = _send(local.connection, request_for(kind, worker, n))
            except (OSError, http.client.HTTPException):
                local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            with lock:
                latencies.append(time.perf_counter() - due)
                errors += status != 200

    pool = [threading.Thread(target=run) for _ in range(32)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(total, errors, seconds, *_p(latencies))


# -- the servers -----------------------------------------------------------------------------


class SlackProcess:
    """bench/fake_slack_server.py in a child process; quacks like FakeSlack's URLs."""

    def __init__(self, locale: str | None = None) -> None:
        options = ["--locale", locale] if locale else []
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_slack_server.py"), *options],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self.api_url = f"{self.base_url}/api/"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def bare_bolt(slack: SlackProcess) -> Iterator[tuple[int, int]]:
    """(port, pid) of bench/bare_bolt.py serving."""
    port = free_port()
    env = {**os.environ, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(port), str(SERVER_THREADS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def missionbot(
    database_url: str, slack: SlackProcess, log_dir: Path, python: str = sys.executable
) -> Iterator[ServeProcess]:
    process = ServeProcess(
        database_url,
        slack,
        log_dir,
        python=python,
        server_threads=SERVER_THREADS,
        log_level="WARNING",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def cpu_seconds(pid: int) -> float:
    """The process's CPU so far, all its threads (utime + stime, /proc/PID/stat)."""
    # Fields after the command's closing parenthesis (which may itself hold spaces).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def python_of(checkout: Path) -> str:
    return str(checkout / ".venv" / "bin" / "python")


def migrate_with(python: str, url: str) -> None:
    """Bring `url` to the head of the checkout that `python` runs."""
    code = "import sys; from bot.db.scratch import migrate; migrate(sys.argv[1])"
    subprocess.run([python, "-c", code, url], check=True, cwd=tempfile.gettempdir())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the benchmarks --------------------------------------------------------------------------


def measured(pid: int, run: Callable[..., Result], *args: Any) -> tuple[Result, float]:
    """`run(*args)`, and the CPU the server `pid` spent per answered request, in ms."""
    before = cpu_seconds(pid)
    result = run(*args)
    used = cpu_seconds(pid) - before
    return result, 1000 * used / max(result.requests, 1)


def bench_requests(
    quick: bool, tmp: Path, bot: Path = ROOT, locale: str | None = None
) -> list[str]:
    seconds = 4.0 if quick else 15.0
    rows = [
        "| Backend | Request | req/s | p50 ms | p99 ms | errors | vs bare Bolt | CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    python, migrator = sys.executable, migrate
    if bot != ROOT:
        python = python_of(bot)
        migrator = functools.partial(migrate_with, python)
    slack = SlackProcess(locale)
    slack_url = slack.base_url
    try:
        with (
            fresh_databases(tmp, "bench", migrator) as urls,
            bare_bolt(slack) as (bare_port, bare_pid),
        ):
            for backend, url in urls.items():
                with missionbot(url, slack, tmp, python) as served:
                    assert served.process is not None
                    pid, port = served.process.pid, served.port
                    for kind in ("mission", "kudos"):
                        # Alternate: bare, bot, bare again; the bare figure is their mean.
                        bare1, bare_cpu1 = measured(
                            bare_pid, closed_loop, bare_port, kind, seconds, slack_url
                        )
                        ours, cpu = measured(pid, closed_loop, port, kind, seconds, slack_url)
                        bare2, bare_cpu2 = measured(
                            bare_pid, closed_loop, bare_port, kind, seconds, slack_url
                        )
                        bare_rate = (bare1.rate + bare2.rate) / 2
                        rows.append(_row(backend, f"/{kind}", ours, bare_rate, cpu=cpu))
                        if kind == "kudos":
                            half, half_cpu = measured(
                                pid, fixed_rate, port, kind, bare_rate / 2, seconds, slack_url
                            )
                            label = f"/kudos at {bare_rate / 2:.0f}/s fixed"
                            rows.append(_row(backend, label, half, None, cpu=half_cpu))
                            # What the bot sustains: half of its own top rate, for operators.
                            own, own_cpu = measured(
                                pid, fixed_rate, port, kind, ours.rate / 2, seconds, slack_url, 91
                            )
                            label = f"/kudos at {ours.rate / 2:.0f}/s fixed"
                            rows.append(_row(backend, label, own, None, cpu=own_cpu))
                    bare = Result(0, 0, 1, bare1.p50_ms, bare1.p99_ms)
                    bare_cpu = (bare_cpu1 + bare_cpu2) / 2
                    label = "bare Bolt ack (last pair)"
                    rows.append(_row(backend, label, bare, None, bare_rate, bare_cpu))
    finally:
        slack.stop()
    return rows


def _row(
    backend: str,
    label: str,
    result: Result,
    bare_rate: float | None,
    rate: float | None = None,
    cpu: float | None = None,
) -> str:
    ratio = f"{result.rate / bare_rate:.2f}" if bare_rate else ""
    shown = rate if rate is not None else result.rate
    cpu_shown = f"{cpu:.2f}" if cpu is not None else ""
    return (
        f"| {backend} | {label} | {shown:.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
        f"| {result.errors} | {ratio} | {cpu_shown} |"
    )


def bench_memory(quick: bool, tmp: Path) -> list[str]:
    total = 2_000 if quick else 10_000
    rows = ["| Backend | idle RSS MB | RSS MB after requests | requests |", "|---|---:|---:|---:|"]
    slack = SlackProcess()
    try:
        with fresh_databases(tmp, "bench") as urls:
            for backend, url in urls.items():
                with missionbot(url, slack, tmp) as bot:
                    assert bot.process is not None
                    time.sleep(1)
                    idle = rss_mb(bot.process.pid)
                    os.environ["BENCH_SLACK_URL"] = slack.base_url
                    connection = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=30)
                    for n in range(total):
                        _send(connection, request_for("kudos" if n % 2 else "mission", 7, n))
                    time.sleep(1)
                    rows.append(
                        f"| {backend} | {idle:.0f} | {rss_mb(bot.process.pid):.0f} | {total} |"
                    )
    finally:
        slack.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument(
        "--only", default="request,memory,leaderboards,fanout,storm,reactions,console"
    )
    parser.add_argument(
        "--bot", type=Path, default=ROOT, help="the checkout whose serve the request rows measure"
    )
    parser.add_argument("--locale", help="every user's Slack locale for the request rows")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    print(f"# missionbot benchmarks {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", end="")
    print(f" (nproc={os.cpu_count()}, load {_load()})\n")
    with tempfile.TemporaryDirectory() as tmp:
        if "request" in wanted:
            rows = bench_requests(args.quick, Path(tmp), args.bot.resolve(), args.locale)
            print("\n".join(rows) + "\n", flush=True)
        if "memory" in wanted:
            print("\n".join(bench_memory(args.quick, Path(tmp))) + "\n", flush=True)
        if "leaderboards" in wanted:
            quick = ["--quick"] if args.quick else []
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "leaderboards.py"), *quick], check=True
            )
        if "fanout" in wanted:
            from bench.fanout import bench_fanout

            print("\n".join(bench_fanout(args.quick, Path(tmp))) + "\n", flush=True)
        if "storm" in wanted:
            from bench.storm import bench_storm

            kudos, seconds = (60, 15.0) if args.quick else (240, 60.0)
            rows = bench_storm(Path(tmp), kudos=kudos, seconds=seconds)
            print("\n".join(rows) + "\n", flush=True)
        if "reactions" in wanted:
            from bench.reactions import bench_reactions

            reactions, seconds = (50, 5.0) if args.quick else (200, 10.0)
            rows = bench_reactions(Path(tmp), reactions=reactions, seconds=seconds)
            print("\n".join(rows) + "\n", flush=True)
        if "home" in wanted:
            # Not in the default: a compressed night and a real-time minute per database.
            quick = ["--people", "300", "--repeat", "50", "--window", "20"] if args.quick else []
            rush = [sys.executable, str(ROOT / "bench" / "home_rush.py"), *quick]
            subprocess.run(rush, check=True)
        if "console" in wanted:
            from bench.console_start import bench_console_start

            rows = bench_console_start(2 if args.quick else 5)
            print("\n".join(rows) + "\n", flush=True)

    print(f"load at the end {_load()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
