"""Fixtures: databases (SQLite and PostgreSQL), the fake Slack, and the bot.

Tests read like conversations: `bot.command("/mission")` sends a signed slash command to the
bot's WSGI app and returns its HTTP reply; `slack.calls("chat.postMessage")` lists what the bot
sent to the fake Slack Web API. The app is called in-process (tests/support/in_process.py);
a test or module marked `served` gets the bot behind waitress on a real socket instead.

Delivery is synchronous, as errbot's testbot is: the outbox's sender threads are not started,
and `bot.deliver()` lets the listeners finish and drains what is due on the test's thread.
`slack.wait_for(...)`, `wait_until(...)` and `outbox_settled(...)` deliver before they look, so
a conversation test waits for nothing. A test about concurrency (marked `concurrent`) gets the
sender's threads running as under `serve`.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import xdist
from packaging.version import Version

from bot.config import Settings, example_mission_file
from bot.daily.flows import Outcome, PostResult
from bot.db.engine import Database
from bot.runtime import HttpServer, Runtime, build_runtime
from tests.support import delivery
from tests.support.databases import (
    FilledSnapshots,
    PostgresTemplate,
    copy_sqlite,
    empty_tables,
    make_sqlite_template,
    postgres_server_url,
    scratch_postgres_database,
)
from tests.support.fake_slack import RECHECK_S, FakeSlack
from tests.support.in_process import InProcessServer
from tests.support.ordering import interleaved
from tests.support.slack_client import SIGNING_SECRET, HttpReply, SlackClient
from tests.support.stall import StallFreeClock, wait_for_acks_on_a_stalled_machine

# Cache bytecode even where PYTHONDONTWRITEBYTECODE says not to (this machine's containers
# set it), as `dev.py test` does, so a plain `pytest` gets it too: a run starts a hundred-odd
# interpreters that import the bot (xdist workers, which start after this file is loaded and
# inherit the environment, the console's and serve's processes, the import check's) and
# without the cache each compiled the bot and pytest rewrote the tests again: 7 s of CPU per
# worker's start instead of 3.3 s. The .pyc files go to __pycache__/, which git ignores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

BACKENDS = ["sqlite", "postgresql"]
# How long one `Bot.deliver()` may take at most (a channel's pacing, a short 429).
DELIVER_TIMEOUT_S = 10.0


# The tests that take longest, first: xdist (`--dist loadgroup`, pyproject.toml) hands each
# worker the next test when it is nearly done, so one started late no longer runs alone at the
# end while the other workers sit idle (the wheel and the imports took a minute each, last).
# An id that starts with an entry goes where it is.
SURFACES_SLOW = (
    "tests/test_slack_deadline.py::"
    "test_every_surface_answers_within_the_deadline_and_tells_the_user_when_slack_is_slow"
)
SLOW_FIRST = (
    "tests/test_wheel.py",
    "tests/test_module_boundaries.py::test_every_module_under_bot_imports_on_its_own",
    "tests/test_app_home.py::test_200_openers",
    "tests/test_outbox_kinds.py::test_a_morning_post_is_retried_when_its_process_is_killed",
    "tests/test_processes.py",
    "tests/test_malformed_requests.py::test_any_body",
    "tests/test_console.py",
    "tests/test_dashboard_browser.py",
    "tests/test_summaries.py",
    "tests/test_mission_sizes.py",
    f"{SURFACES_SLOW}[sqlite-the Home export",
    f"{SURFACES_SLOW}[postgresql-the Home export",
    "tests/test_serve.py",
    "tests/test_event_order.py",
    "tests/test_audience.py",
    "tests/test_app_home.py",
    "tests/test_outbox_kinds.py",
)
# The tests that mostly wait (on Slack's simulated delays, the sender's 1 s between two
# messages to a channel): 0.1 s of CPU in 3 s is typical. They go evenly among the others,
# so that at any moment a worker or two waits while the rest keep both cores busy. In one
# block (as they were), all six workers waited together: the cores 17-41 % busy for 14 s of
# a 70 s run.
SPREAD = ("tests/test_slack_deadline.py", "tests/test_sender.py")
# They end this far into the others, so that none is the run's last test.
SPREAD_UNTIL = 0.85
SHUFFLE_SEED = 22


def slow_rank(item: pytest.Item) -> int:
    return next(
        (n for n, start in enumerate(SLOW_FIRST) if item.nodeid.startswith(start)),
        len(SLOW_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=slow_rank)  # stable: the rest keep their order
    first = [item for item in items if slow_rank(item) < len(SLOW_FIRST)]
    others = items[len(first) :]
    spread = [item for item in others if item.nodeid.startswith(SPREAD)]
    rest = [item for item in others if not item.nodeid.startswith(SPREAD)]
    # Both in a fixed shuffle. In file order the spread ones fell among a module of 215 tests
    # of 0.04 s each and waited there together again; and all of a test's SQLite cases came
    # before its PostgreSQL ones, which skip at once without TEST_DATABASE_URL, so the
    # waiting ones of a SQLite-only run were all in its first half.
    shuffle = random.Random(SHUFFLE_SEED).shuffle
    shuffle(rest)
    shuffle(spread)
    items[:] = interleaved(first + rest, spread, until=SPREAD_UNTIL)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Leave what start-up and collection made (the libraries, the bot's modules, the tests)
    out of the garbage collector's full passes: each walked all of it, some 270,000 objects,
    about 0.1 s a pass and a pass every few tests. Objects the tests make are collected as
    before; only cycles among the frozen ones, which live to the end anyway, are not."""
    gc.freeze()


def pytest_configure(config: pytest.Config) -> None:
    """Stop a run whose `xdist_group` marks would be ignored. pytest 9.2 no longer reads the
    name pytest-xdist 3.8 gives a grouped test (pytest-xdist#1386): the groups were silently
    spread over every worker, each then building the wheel's environment or the summaries'
    shared history for itself. pyproject.toml keeps pytest below 9.2 until that is fixed;
    this says so to whoever installed another."""
    if config.getoption("dist", "no") != "loadgroup" or hasattr(config, "workerinput"):
        return
    if Version(pytest.__version__) >= Version("9.2") and Version(xdist.__version__) <= Version(
        "3.8.0"
    ):
        raise pytest.UsageError(
            f"pytest {pytest.__version__} with pytest-xdist {xdist.__version__} ignores "
            "xdist_group (pytest-xdist#1386): install pytest<9.2 (pyproject.toml's range)"
        )


@pytest.fixture(autouse=True)
def keep_root_log_handlers() -> Iterator[None]:
    """Undo the CLI's `logging.basicConfig(force=True)` after a test that runs it in-process.

    Its handler writes to that test's captured stderr, which pytest closes afterwards; a
    background thread of a later test logging through it printed "Logging error" tracebacks.
    """
    handlers, level = list(logging.root.handlers), logging.root.level
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def filled_snapshots(tmp_path_factory: pytest.TempPathFactory) -> FilledSnapshots:
    """SQLite databases that several tests fill alike, kept after the first fill (per worker)."""
    return FilledSnapshots(tmp_path_factory.mktemp("filled"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's PostgreSQL template goes when the run ends: in the controller, after every
    worker (or in the one process under `-n0`)."""
    server = postgres_server_url()
    if server is not None and not hasattr(session.config, "workerinput"):
        PostgresTemplate(server).drop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The worker's PostgreSQL database, migrated: a copy of the run's template."""
    server = postgres_server_url()
    if server is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    with PostgresTemplate(server).copy() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: each test that uses it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield copy_sqlite(sqlite_template, tmp_path)
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_tables(url)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database that no migration has touched, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = postgres_server_url()
    if server is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    with scratch_postgres_database(server) as url:
        yield url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


def fake_slack_latency() -> tuple[float, float] | None:
    """FAKE_SLACK_LATENCY_MS=100-300: every fake Slack answer takes 100 to 300 ms, as Slack's do."""
    setting = os.environ.get("FAKE_SLACK_LATENCY_MS")
    if not setting:
        return None
    low, _, high = setting.partition("-")
    return float(low) / 1000, float(high or low) / 1000


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(latency=fake_slack_latency()).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(request: pytest.FixtureRequest, db_url: str, slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=db_url,
        mission_file=example_mission_file(),
        server_threads=4,
        kudos_settle_seconds=settle_seconds(request),
        _env_file=None,  # type: ignore[call-arg]
    )


def settle_seconds(request: pytest.FixtureRequest) -> float:
    """The hold of what a reaction or a kudos message gave (KUDOS_SETTLE_SECONDS).

    Delivering synchronously, `Bot.deliver` sends only after every listener of the requests
    the test sent has finished: an undoing sent before it has been handled by then, which is
    what the hold waits for, so waiting it out would only make the test wait. Tests about
    concurrency (`concurrent`), where the sender's threads send on their own, keep the real
    hold, as does a test marked `settle` (about the hold itself).
    """
    node = request.node
    if node.get_closest_marker("concurrent") or node.get_closest_marker("settle"):
        return Settings.model_fields["kudos_settle_seconds"].default
    return 0.0


class Bot(SlackClient):
    """The bot's runtime, and a Slack-like client that sends it signed requests.

    In-process, requests go straight to the WSGI app that waitress would call; served (the
    `served` marker), they go over HTTP to waitress on 127.0.0.1.
    """

    def __init__(
        self, runtime: Runtime, fake: FakeSlack, *, served_on: HttpServer | None = None
    ) -> None:
        base_url = f"http://127.0.0.1:{served_on.port}" if served_on else "in-process"
        super().__init__(base_url, fake)
        self.runtime = runtime
        self.served_on = served_on
        self.database = runtime.database
        # Bolt runs event and action listeners after the ack on this pool: `deliver` waits
        # for them (without polling) before it drains the outbox.
        self.listeners = runtime.listeners
        # The scheduler's `settle` waits for its posts to be sent: here, by delivering them.
        settle = runtime.scheduler.settle

        def deliver_and_settle(
            results: Iterable[PostResult], *, timeout: float = 30.0
        ) -> list[PostResult]:
            results, deadline = list(results), time.monotonic() + timeout
            while True:
                self.deliver()
                settled = settle(results, timeout=0)
                if Outcome.QUEUED not in {r.outcome for r in settled}:
                    return settled
                if time.monotonic() >= deadline:
                    return settled
                time.sleep(RECHECK_S)

        runtime.scheduler.settle = deliver_and_settle  # type: ignore[method-assign]
        self._in_process = (
            None
            if served_on
            else InProcessServer(
                runtime.wsgi(), threads=runtime.settings.server_threads, intake=runtime.intake
            )
        )

    def request(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> HttpReply:
        if self._in_process is None:
            return super().request(method, path, data, headers, timeout)
        return self._in_process.request(method, path, data, headers, timeout)

    def stop(self) -> None:
        if self._in_process is not None:
            self._in_process.stop()

    def deliver(self, timeout: float = DELIVER_TIMEOUT_S) -> None:
        """Let the listeners finish, then send what the outbox has due, on this thread.

        Rows due later (a retry's backoff) stay pending; a stopped sender sends nothing. With
        the sender's threads running (`concurrent`), they send and this only waits for the
        listeners.
        """
        deadline = time.monotonic() + timeout
        sender = self.runtime.sender
        while True:
            self.listeners.wait_idle(deadline - time.monotonic())
            if sender is None or sender.running:
                return
            sender.drain(max(deadline - time.monotonic(), 0), retries=False)
            # Sending ran no listener, but a request in flight may have queued more meanwhile.
            if self.listeners.wait_idle(0) or time.monotonic() >= deadline:
                return


@contextmanager
def running_bot(
    settings: Settings,
    slack: FakeSlack,
    *,
    served: bool = False,
    concurrent: bool = False,
    paced: bool | None = None,
) -> Iterator[Bot]:
    """The bot built from `settings`, in-process or served by waitress; closed afterwards.

    `concurrent`: the outbox's sender runs its threads as under `serve`, and announcements go
    out by themselves; otherwise they go out when the test delivers (`Bot.deliver`).
    `paced` (by default, as `concurrent`): the sender keeps its 1 s interval between two
    messages to one channel. Without it a conversation's replies in one channel go out one
    after another at once, where each would wait out a second of pacing that the test is not
    about; the workspace's 429 gate, retries' backoff and the kinds' paces are kept.
    """
    ack_clock = StallFreeClock().start()
    try:
        runtime = build_runtime(settings, migrate=False, ack_clock=ack_clock)
    except BaseException:
        ack_clock.stop()
        raise
    assert runtime.sender is not None
    wait_for_acks_on_a_stalled_machine(runtime)
    if not (concurrent if paced is None else paced):
        runtime.sender.skip_pacing()
    if concurrent:
        runtime.sender.start()
    server: HttpServer | None = None
    thread: threading.Thread | None = None
    if served:
        server = HttpServer(runtime, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
    running = Bot(runtime, slack, served_on=server)
    slack.deliver = running.deliver
    try:
        with delivery.delivering(running.deliver):
            yield running
    finally:
        slack.deliver = None
        running.stop()
        if server is not None and thread is not None:
            server.stop()
            thread.join(timeout=10)
        runtime.close()
        ack_clock.stop()


@pytest.fixture
def bot(request: pytest.FixtureRequest, settings: Settings, slack: FakeSlack) -> Iterator[Bot]:
    with running_bot(
        settings,
        slack,
        served=request.node.get_closest_marker("served") is not None,
        concurrent=request.node.get_closest_marker("concurrent") is not None,
        paced=(
            request.node.get_closest_marker("concurrent") is not None
            or request.node.get_closest_marker("paced") is not None
        ),
    ) as running:
        yield running
