"""`missionbot serve` as deployed: a real process in HTTP or Socket Mode, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.errors import STILL_WORKING
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.serve_process import ServeProcess
from tests.support.slack_client import (
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    SIGNING_SECRET,
    late_answer,
)

BOT_TOKEN = "xoxb-serve-test-token-123"
APP_TOKEN = "xapp-1-serve-test-app-token"


@pytest.fixture
def socket_mode() -> Iterator[FakeSocketMode]:
    fake = FakeSocketMode().start()
    yield fake
    fake.stop()


def test_http_mode_answers_a_signed_mission_and_refuses_a_bad_signature(
    db_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    process = ServeProcess(db_url, slack, tmp_path, slack_bot_token=BOT_TOKEN).start()
    try:
        client = process.client()
        reply = client.answer("/mission")
        assert reply.status == 200
        assert "We move our customers' goods" in reply.text
        body = client.command_body("/mission")
        assert client.post(body, signature="v0=" + "0" * 64).status == 401
    finally:
        assert process.stop(grace=30) == 0, process.log()
    # Bolt's own start-up auth.test went to SLACK_API_URL too.
    assert slack.calls("auth.test")
    log = process.log()
    assert "slack command /mission" in log
    assert BOT_TOKEN not in log
    assert SIGNING_SECRET not in log
    assert "Traceback" not in log


def test_socket_mode_answers_mission_over_the_websocket(
    db_url: str, slack: FakeSlack, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    slack.socket_mode_url = socket_mode.url
    process = ServeProcess(
        db_url, slack, tmp_path, slack_app_token=APP_TOKEN, slack_signing_secret=None
    ).start(ready=socket_mode.connected.is_set)
    command = {
        "team_id": TEAM_ID,
        "user_id": DEFAULT_USER,
        "channel_id": DEFAULT_CHANNEL,
        "command": "/mission",
        "text": "own-the-outcome",
        "response_url": slack.response_url("socket"),
        "trigger_id": "1.2.socket",
    }
    try:
        # As `SlackClient.answer` reads one on the real clock: a first command that a busy
        # machine held past Bolt's three seconds is answered through its response_url.
        ack = socket_mode.ack(socket_mode.send("slash_commands", command), timeout=30)
        answer = ack.get("payload") or {}
        if STILL_WORKING in json.dumps(answer):
            answer = late_answer(slack, command["response_url"])
    finally:
        assert process.stop(grace=30) == 0, process.log()
    assert "Own the outcome, not just the task" in json.dumps(answer)
    assert slack.calls("apps.connections.open")
    assert APP_TOKEN not in process.log()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_without_a_signing_secret_in_http_mode_refuses_to_start(
    db_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "DATABASE_URL": db_url}
    env.pop("SLACK_SIGNING_SECRET", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("missionbot: Set SLACK_SIGNING_SECRET")
    assert "Traceback" not in result.stderr


def thread_cpu_seconds(thread: threading.Thread) -> float:
    """The CPU a thread of this process has used (Linux: /proc)."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.served
def test_an_idle_server_sleeps_between_requests(bot: Bot) -> None:
    """waitress reads how often its accept loop wakes as whole seconds: the 0.2 s the console
    asked for became 0, and its dashboard's loop spun a core all session long (5 of a 6 s
    session's CPU). CPU, not time, is measured: a spinning loop uses a share of the cores
    however loaded the machine is, an idle one next to none."""
    if not Path("/proc/self/task").is_dir():
        pytest.skip("reads a thread's CPU from /proc (Linux)")
    assert bot.get("/healthz").status == 200
    assert bot.served_on is not None
    loop = bot.served_on.loop_thread
    assert loop is not None
    assert loop.is_alive()
    used = thread_cpu_seconds(loop)
    time.sleep(2)
    assert thread_cpu_seconds(loop) - used < 0.1
