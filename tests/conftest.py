"""Fixtures: databases (SQLite and PostgreSQL), the fake Slack, and the bot.

Tests read like conversations: `bot.command("/mission")` sends a signed slash command to the
bot's WSGI app and returns its HTTP reply; `slack.calls("chat.postMessage")` lists what the bot
sent to the fake Slack Web API. The app is called in-process (tests/support/in_process.py);
a test or module marked `served` gets the bot behind waitress on a real socket instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.config import Settings, example_mission_file
from bot.db.engine import Database
from bot.runtime import HttpServer, Runtime, build_runtime
from tests.support.databases import (
    copy_sqlite,
    empty_tables,
    make_sqlite_template,
    migrate,
    postgres_server_url,
    scratch_postgres_database,
)
from tests.support.fake_slack import FakeSlack
from tests.support.in_process import InProcessServer
from tests.support.slack_client import SIGNING_SECRET, HttpReply, SlackClient

BACKENDS = ["sqlite", "postgresql"]


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
def postgres_url() -> Iterator[str]:
    server = postgres_server_url()
    if server is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    with scratch_postgres_database(server) as url:
        migrate(url)
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
def settings(db_url: str, slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=db_url,
        mission_file=example_mission_file(),
        server_threads=4,
        _env_file=None,  # type: ignore[call-arg]
    )


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
        self.database = runtime.database
        self._in_process = (
            None
            if served_on
            else InProcessServer(runtime.wsgi(), threads=runtime.settings.server_threads)
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


@contextmanager
def running_bot(settings: Settings, slack: FakeSlack, *, served: bool = False) -> Iterator[Bot]:
    """The bot built from `settings`, in-process or served by waitress; closed afterwards."""
    runtime = build_runtime(settings, migrate=False)
    # The outbox's sender runs as under `serve`: announcements and DMs go out by themselves.
    assert runtime.sender is not None
    runtime.sender.start()
    if not served:
        in_process = Bot(runtime, slack)
        try:
            yield in_process
        finally:
            in_process.stop()
            runtime.close()
        return
    server = HttpServer(runtime, host="127.0.0.1", port=0, poll_seconds=0.05)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Bot(runtime, slack, served_on=server)
    finally:
        server.stop()
        thread.join(timeout=10)
        runtime.close()


@pytest.fixture
def bot(request: pytest.FixtureRequest, settings: Settings, slack: FakeSlack) -> Iterator[Bot]:
    with running_bot(
        settings, slack, served=request.node.get_closest_marker("served") is not None
    ) as running:
        yield running
