"""`/kudos` end to end: the CPU a kudos costs the bot and the database, with the read model's
tallies written and without (issue 21: "`/kudos` CPU per kudos within 10% of today's").

    .venv/bin/python bench/kudos_cost.py [--kudos 300] [--rounds 3] [--warmup 3000]
        [--only postgresql,sqlite] [--old ../checkout-483129e]

What is measured is the whole command as Slack sends it, in a real `missionbot serve`
(waitress, SERVER_THREADS threads, its outbox sender running) against the Slack simulator
(bench/fake_slack_server.py, a process of its own): the signature check, Bolt's parsing and
ack, the caller looked up, the kudos given (its allowance, the tallies, the outbox rows, the
App Home versions), the reply, and the outbox sending the announcement and the receivers'
DMs. A run sends `--kudos` signed `/kudos` requests over a few keep-alive connections and
waits until the outbox has sent everything they caused; then

* bot CPU: the serve process's utime + stime (/proc/PID/stat, all threads); on SQLite it
  includes the database's own work, which runs in-process;
* server CPU (PostgreSQL, on this machine): the client backends of the side's database, from
  /proc/<pid>/schedstat, read before and after the run and every 0.2 s during it (so a backend
  that a pool closes mid-run loses at most 0.2 s). The bench's own connection (the check that
  the outbox drained) is left out; so are the WAL writer and checkpointer, shared with every
  database on the server. The autovacuum workers on the side's database are reported apart.

An idle serve costs CPU too (its outbox sender and scheduler poll: ~20 ms a second in the bot,
~5 in the server), which a run's 5-10 seconds add to both sides alike and which dilutes a
ratio. After each run the side sits idle
for IDLE_S and that rate times the run's seconds is taken off in the "less idle" rows.

Sides, each its own serve process and its own fresh database, migrated by its own code:
* `off`: this checkout with `summaries.count_given` and `summaries.count_withdrawn` no-ops (the
  serve process is started by a `-c` program that swaps them before `serve` runs): the write
  path before the read model, on today's code and schema; nothing else differs;
* `on`: this checkout as it is;
* `old` (`--old PATH`): another checkout's serve run by PATH/.venv/bin/python, e.g. the code
  before issues 20-24, for the absolute figures.

History first: `--warmup` kudos through the same serve (givers rotate over GIVERS people,
receivers over RECEIVERS, principles over three, channels over CHANNELS), so every person and
channel is known and most tally
rows a kudos touches are updates, as in a workspace that has been giving for a while. Then
`--rounds` rounds, each running the sides in order and in reverse (off on old old on off:
ABBA for every two); a ratio is the median over rounds of the round's summed CPU, so a loaded
minute moves both sides of a ratio. Not part of the tests: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_database, postgres_server  # noqa: E402
from bench.run import (  # noqa: E402
    SERVER_THREADS,
    SlackProcess,
    command_body,
    cpu_seconds,
    migrate_with,
    post_signed,
    python_of,
)
from bot.db.scratch import migrate  # noqa: E402
from bot.simulator.process import SERVE, ServeProcess  # noqa: E402

GIVERS = 300
RECEIVERS = 500
PRINCIPLES = ("plain-words", "no-surprises", "fix-the-cause")
# Kudos are given in many channels, as in a workspace: each channel's announcements go out at
# most one a second (ten kudos to a message), so one channel would make the runs wait for
# Slack's pace, not for the bot, and announce ten kudos in a message as only a storm does.
CHANNELS = 200
CONNECTIONS = 4
DRAIN_TIMEOUT_S = 120.0
WARMUP_DRAIN_S = 900.0
POLL_S = 0.2
IDLE_S = 4.0

# `serve` with the tallies' writes made no-ops: the write path before the read model.
WITHOUT_TALLIES = """\
import sys
from bot.reports import summaries
def _uncounted(*_args, **_kwargs):
    return None
summaries.count_given = _uncounted
summaries.count_withdrawn = _uncounted
from bot.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


# -- the database server's CPU ------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Backends:
    """The CPU of the PostgreSQL backends serving one database: schedstat of each, polled."""

    def __init__(self, admin_url: str, database: str, skip: set[int]) -> None:
        self.admin = psycopg.connect(_libpq(admin_url), autocommit=True)
        self.database = database
        self.skip = skip
        self.seen: dict[tuple[int, str], int] = {}  # (pid, backend type) -> ns on a CPU

    def poll(self) -> None:
        rows = self.admin.execute(
            "SELECT pid, backend_type FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type IN ('client backend', 'autovacuum worker')",
            (self.database,),
        ).fetchall()
        for pid, kind in rows:
            if pid in self.skip:
                continue
            try:
                ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue
            self.seen[pid, kind] = ns

    def totals(self) -> dict[str, float]:
        """Seconds by backend type, over everything seen so far (ended backends included)."""
        out: dict[str, float] = {"client backend": 0.0, "autovacuum worker": 0.0}
        for (_pid, kind), ns in self.seen.items():
            out[kind] += ns / 1e9
        return out

    @contextmanager
    def watched(self) -> Iterator[None]:
        """Polls every POLL_S while the block runs, so backends that end are counted."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(POLL_S):
                self.poll()

        self.poll()
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.poll()


# -- a side ---------------------------------------------------------------------------------------


@dataclass
class Run:
    bot: float
    server: float
    vacuum: float
    seconds: float
    drain: float
    # CPU seconds per second while idle right after the run (the sender and scheduler
    # polling): what the run's own seconds would have cost without a kudos.
    idle_bot: float = 0.0
    idle_server: float = 0.0

    def net_bot(self) -> float:
        return self.bot - self.idle_bot * (self.seconds + self.drain)

    def net_server(self) -> float:
        return self.server - self.idle_server * (self.seconds + self.drain)


@dataclass
class Side:
    name: str
    about: str
    python: str
    arguments: tuple[str, ...]
    migrator: Callable[[str], None]
    url: str = ""
    serve: ServeProcess | None = None
    backends: Backends | None = None
    count: Callable[[str], int] = lambda _query: 0
    pending: str = ""
    given: int = 0
    runs: list[Run] = field(default_factory=list)


def kudos_body(slack_url: str, n: int) -> str:
    """The nth kudos of a side: givers, receivers and principles rotate (a second receiver on
    every fourth), each text its own (no duplicate)."""
    receivers = f"<@UR{n % RECEIVERS:05d}|r{n % RECEIVERS}>"
    if n % 4 == 0:
        other = (n + 7) % RECEIVERS
        receivers += f" <@UR{other:05d}|r{other}>"
    principle = PRINCIPLES[n % len(PRINCIPLES)]
    text = f"{receivers} #{principle} thanks for shipment {n}"
    os.environ["BENCH_SLACK_URL"] = slack_url
    channel = (f"CKUDOS{n % CHANNELS:04d}", f"kudos-{n % CHANNELS}")
    return command_body("/kudos", text, f"UG{n % GIVERS:05d}", n, channel)


def send(port: int, slack_url: str, first: int, count: int) -> int:
    """Kudos first .. first + count over CONNECTIONS keep-alive connections; errors."""
    numbers = iter(range(first, first + count))
    lock = threading.Lock()
    errors = 0

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                break
            try:
                response = post_signed(connection, kudos_body(slack_url, n))
                response.read()
                bad = response.status != 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                bad = True
            if bad:
                with lock:
                    errors += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


_PENDING = (
    "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending') AND not_before <= {now}"
)


def counter(backend: str, url: str) -> tuple[Callable[[str], int], set[int]]:
    """A function answering a count(*) query on the side's database; the backend pids it
    uses (not the bot's: left out of the server's CPU)."""
    if backend == "sqlite":
        path = make_url(url).database
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return lambda query: int(connection.execute(query).fetchone()[0]), set()
    pg = psycopg.connect(_libpq(url), autocommit=True)
    pid = int(pg.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
    return lambda query: int(pg.execute(query).fetchone()[0]), {pid}  # type: ignore[index]


def pending_query(backend: str, count: Callable[[str], int]) -> str:
    """What is left to do: the outbox's due rows, and the people still to be looked up
    (bot/kudos/checks.py, in a checkout that has them)."""
    # SQLite keeps UTC as naive ISO text (bot/db/models.py's UTCDateTime).
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')" if backend == "sqlite" else "now()"
    query = _PENDING.format(now=now)
    try:
        count("SELECT count(*) FROM person_checks")
    except (sqlite3.Error, psycopg.Error):
        return query
    return f"SELECT ({query}) + (SELECT count(*) FROM person_checks)"


def expected_rows(kudos: int) -> int:
    """Kudos rows (one per receiver) that kudos 0 .. kudos - 1 record."""
    return kudos + (kudos + 3) // 4


def drain(side: Side, timeout: float = DRAIN_TIMEOUT_S) -> float:
    """Wait until the outbox has sent what is due; seconds waited."""
    started = time.monotonic()
    while side.count(side.pending) > 0:
        if time.monotonic() - started > timeout:
            left = side.count(side.pending)
            raise RuntimeError(f"{side.name}: {left} left to send after {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def cpu_window(side: Side) -> Iterator[dict[str, float]]:
    """The bot's CPU and the server's CPU by backend type over the `with` block, in the dict it
    yields (filled when the block ends): `bot`, `client backend`, `autovacuum worker`."""
    assert side.serve is not None
    assert side.serve.process is not None
    pid = side.serve.process.pid
    spent: dict[str, float] = {}
    watched = side.backends.watched() if side.backends else _nothing()
    with watched:
        server0 = side.backends.totals() if side.backends else {}
        bot0 = cpu_seconds(pid)
        yield spent
        spent["bot"] = cpu_seconds(pid) - bot0
    server1 = side.backends.totals() if side.backends else {}
    for kind in ("client backend", "autovacuum worker"):
        spent[kind] = server1.get(kind, 0) - server0.get(kind, 0)


def measure(side: Side, count: int, slack_url: str) -> Run:
    assert side.serve is not None
    with cpu_window(side) as spent:
        started = time.monotonic()
        errors = send(side.serve.port, slack_url, side.given, count)
        sent = time.monotonic() - started
        drained = drain(side)
    if errors:
        raise RuntimeError(f"{side.name}: {errors} requests failed")
    side.given += count
    run = Run(
        bot=spent["bot"],
        server=spent["client backend"],
        vacuum=spent["autovacuum worker"],
        seconds=sent,
        drain=drained,
    )
    run.idle_bot, run.idle_server = idle(side)
    side.runs.append(run)
    return run


def idle(side: Side) -> tuple[float, float]:
    """The bot's and the server's CPU per second over IDLE_S with nothing to do."""
    with cpu_window(side) as spent:
        time.sleep(IDLE_S)
    return spent["bot"] / IDLE_S, spent["client backend"] / IDLE_S


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def start(
    stack: ExitStack, side: Side, backend: str, tmp: Path, slack: SlackProcess, admin: str | None
) -> None:
    side.url = stack.enter_context(
        fresh_database(backend, tmp, f"kudos_cost_{side.name}", side.migrator)
    )
    side.serve = ServeProcess(
        side.url,
        slack,
        tmp,
        python=side.python,
        arguments=side.arguments,
        server_threads=SERVER_THREADS,
        log_level="WARNING",
        kudos_daily_limit=1000,
        # The bot's own budget for users.info (100 a minute) would take minutes over the
        # history's 800 new people; the simulator has no limits, so the bot needn't wait.
        slack_rate_scale=100,
    )
    side.serve.start()
    stack.callback(side.serve.stop)
    side.count, skip = counter(backend, side.url)
    side.pending = pending_query(backend, side.count)
    if admin is not None:
        side.backends = Backends(admin, str(make_url(side.url).database), skip)


def _migrator(checkout: Path, python: str) -> Callable[[str], None]:
    """How another checkout's database is brought to its head: its own `migrate`, or, before
    there was one (bot/db/scratch.py), by its `serve`, which migrated at start then."""
    if (checkout / "bot" / "db" / "scratch.py").exists():
        return functools.partial(migrate_with, python)
    return lambda _url: None


def _ms(values: list[float], count: int) -> float:
    return statistics.median(values) / count * 1000


def _ratio(mine: list[float], theirs: list[float]) -> float:
    """The median over rounds of mine over theirs, each round's two runs summed."""
    ratios = [
        (mine[i] + mine[i + 1]) / (theirs[i] + theirs[i + 1])
        for i in range(0, len(mine) - 1, 2)
        if theirs[i] + theirs[i + 1] > 0
    ]
    return statistics.median(ratios) if ratios else float("nan")


def report(backend: str, sides: list[Side], count: int, loads: list[float]) -> list[str]:
    on = sides[1]
    rows = [
        f"\n{backend}: load (1 min) {min(loads):.1f} to {max(loads):.1f} during the runs; "
        f"{count} kudos a run; CPU ms per kudos, median of {len(on.runs)} runs "
        "(ratio: median over rounds)",
        "| | summaries off | summaries on | on / off |"
        + (" old | on / old |" if len(sides) > 2 else ""),
        "|---|---:|---:|---:|" + ("---:|---:|" if len(sides) > 2 else ""),
    ]
    parts: list[tuple[str, Callable[[Run], float]]] = [
        ("bot", lambda r: r.bot),
        ("bot, less idle", lambda r: r.net_bot()),
    ]
    if backend == "postgresql":
        parts += [
            ("server", lambda r: r.server),
            ("server, less idle", lambda r: r.net_server()),
            ("total", lambda r: r.bot + r.server),
            ("total, less idle", lambda r: r.net_bot() + r.net_server()),
        ]
    for label, pick in parts:
        values = {s.name: [pick(r) for r in s.runs] for s in sides}
        row = (
            f"| {label} | {_ms(values['off'], count):.2f} | {_ms(values['on'], count):.2f} "
            f"| {_ratio(values['on'], values['off']):.3f} |"
        )
        if len(sides) > 2:
            row += f" {_ms(values['old'], count):.2f} | {_ratio(values['on'], values['old']):.3f} |"
        rows.append(row)
    rows.append(
        "\nevery run: bot / server / autovacuum CPU ms per kudos; send s + drain s; "
        "idle bot / server CPU ms per s"
    )
    for side in sides:
        listed = "; ".join(
            f"{r.bot / count * 1000:.2f} / {r.server / count * 1000:.2f} / "
            f"{r.vacuum / count * 1000:.2f}; {r.seconds:.1f} + {r.drain:.1f} s; "
            f"{r.idle_bot * 1000:.0f} / {r.idle_server * 1000:.1f}"
            for r in side.runs
        )
        rows.append(f"- {side.name}: {listed}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=300, help="kudos per run (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=3000, help="kudos of history per side")
    parser.add_argument("--only", default="postgresql,sqlite")
    parser.add_argument("--old", type=Path, help="another checkout measured beside them")
    args = parser.parse_args()
    print(f"code: {ROOT}; load {os.getloadavg()}", flush=True)
    for backend in args.only.split(","):
        sides = [
            Side(
                "off",
                "tallies not written",
                sys.executable,
                ("-c", WITHOUT_TALLIES, "serve"),
                migrate,
            ),
            Side("on", "as it is", sys.executable, SERVE, migrate),
        ]
        if args.old:
            old = python_of(args.old.resolve())
            sides.append(
                Side(
                    "old",
                    str(args.old),
                    old,
                    SERVE,
                    _migrator(args.old.resolve(), old),
                )
            )
        admin = postgres_server() if backend == "postgresql" else None
        slack = SlackProcess()
        try:
            with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
                for side in sides:
                    start(stack, side, backend, Path(tmp), slack, admin)
                for side in sides:
                    began = time.monotonic()
                    if send(side.serve.port, slack.base_url, 0, args.warmup):  # type: ignore[union-attr]
                        raise RuntimeError(f"{side.name}: warm-up requests failed")
                    drain(side, WARMUP_DRAIN_S)
                    side.given = args.warmup
                    print(
                        f"{backend} {side.name}: {args.warmup} kudos of history in "
                        f"{time.monotonic() - began:.0f} s",
                        flush=True,
                    )
                loads = [os.getloadavg()[0]]
                for number in range(args.rounds):
                    for side in [*sides, *reversed(sides)]:
                        run = measure(side, args.kudos, slack.base_url)
                        print(
                            f"round {number + 1} {side.name}: bot {run.bot:.2f} s, "
                            f"server {run.server:.2f} s, load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
                    loads.append(os.getloadavg()[0])
                print("\n".join(report(backend, sides, args.kudos, loads)), flush=True)
                for side in sides:
                    rows = side.count("SELECT count(*) FROM kudos")
                    expected = expected_rows(side.given)
                    state = "as expected" if rows == expected else f"expected {expected}"
                    try:
                        tallies = f"{side.count('SELECT count(*) FROM kudos_tallies')} tally rows"
                    except (sqlite3.Error, psycopg.Error):
                        tallies = "no tallies table"
                    print(f"- {side.name}: {rows} kudos rows recorded ({state}); {tallies}")
        finally:
            slack.stop()


if __name__ == "__main__":
    main()
