"""`GET /healthz` and commands while the database is away."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.daily.jobs import DailyScheduler
from bot.db.engine import Database
from bot.mission.file import load_mission_file
from bot.mission.service import MissionKeeper
from bot.runtime import HttpServer, Runtime
from bot.slack.app import create_app, create_web_client
from bot.slack.outbound.daily import draw_post
from bot.slack.users import DirectorySync, UserDirectory
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.slack_client import SlackClient
from tests.support.stall import StallFreeClock, stopwatch, wait_for_acks_on_a_stalled_machine

# Nothing listens on port 1; connecting is refused at once.
UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/missionbot"


def test_healthz_is_200_when_the_database_answers(bot: Bot) -> None:
    reply = bot.get("/healthz")
    assert reply.status == 200
    assert reply.json == {"ok": True, "database": "up"}


@pytest.fixture
def bot_without_database(settings: Settings, slack: FakeSlack) -> Iterator[SlackClient]:
    database = Database(UNREACHABLE_POSTGRES)
    mission = MissionKeeper(load_mission_file(settings.mission_file))
    scheduler = DailyScheduler(settings, database, draw_post)
    users = UserDirectory(database)
    # Measured as the `bot` fixture's requests are: on a clock without the busy machine's
    # stalls, Bolt waiting for the ack as long as a stalled machine needs.
    ack_clock = StallFreeClock().start()
    app = create_app(
        settings,
        database=database,
        mission=mission,
        scheduler=scheduler,
        users=users,
        ack_clock=ack_clock,
    )
    people = DirectorySync(create_web_client(settings), users)
    runtime = Runtime(
        settings=settings,
        database=database,
        mission=mission,
        app=app,
        scheduler=scheduler,
        people=people,
        ack_clock=ack_clock,
    )
    wait_for_acks_on_a_stalled_machine(runtime)
    server = HttpServer(runtime, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield SlackClient(f"http://127.0.0.1:{server.port}", slack)
    server.stop()
    thread.join(timeout=10)
    ack_clock.stop()
    database.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_healthz_is_503_when_the_database_is_unreachable(
    bot_without_database: SlackClient,
) -> None:
    reply = bot_without_database.get("/healthz")
    assert reply.status == 503
    assert reply.json == {"ok": False, "database": "down"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_commands_ask_to_try_again_when_the_database_is_unreachable(
    bot_without_database: SlackClient,
) -> None:
    with stopwatch() as watch:
        reply = bot_without_database.command("/mission")
    assert watch.code_time() < 3, watch.describe()
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "try again in a moment" in reply.text
    assert "Traceback" not in reply.text
