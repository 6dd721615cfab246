"""`missionbot serve` as deployed: a real process in HTTP or Socket Mode, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.slack_client import DEFAULT_CHANNEL, DEFAULT_USER, SIGNING_SECRET, SlackClient

BOT_TOKEN = "xoxb-serve-test-token-123"
APP_TOKEN = "xapp-1-serve-test-app-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(
    env: dict[str, str], log: Path, ready: Callable[[], bool]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m bot serve` until the test is done, then SIGTERM it; it must exit 0."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=log.parent,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not ready():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not come up:\n" + log.read_text()
            time.sleep(0.1)
        yield process
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def base_env(db_url: str, slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": db_url,
        "HOST": "127.0.0.1",
    }


def test_http_mode_answers_a_signed_mission_and_refuses_a_bad_signature(
    db_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    client = SlackClient(f"http://127.0.0.1:{port}", slack)

    def healthy() -> bool:
        try:
            return client.get("/healthz", timeout=1).status == 200
        except OSError:
            return False

    env = {**base_env(db_url, slack), "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PORT": str(port)}
    log = tmp_path / "serve.log"
    with serve_process(env, log, healthy):
        reply = client.command("/mission")
        assert reply.status == 200
        assert "We move our customers' goods" in reply.text
        body = client.command_body("/mission")
        assert client.post(body, signature="v0=" + "0" * 64).status == 401
    # Bolt's own start-up auth.test went to SLACK_API_URL too.
    assert slack.calls("auth.test")
    text = log.read_text()
    assert "slack command /mission" in text
    assert BOT_TOKEN not in text
    assert SIGNING_SECRET not in text
    assert "Traceback" not in text


def test_socket_mode_answers_mission_over_the_websocket(
    db_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    socket_mode = FakeSocketMode().start()
    slack.socket_mode_url = socket_mode.url
    env = {**base_env(db_url, slack), "SLACK_APP_TOKEN": APP_TOKEN}
    log = tmp_path / "serve.log"
    try:
        with serve_process(env, log, socket_mode.connected.is_set):
            envelope = socket_mode.send(
                "slash_commands",
                {
                    "team_id": TEAM_ID,
                    "user_id": DEFAULT_USER,
                    "channel_id": DEFAULT_CHANNEL,
                    "command": "/mission",
                    "text": "own-the-outcome",
                    "response_url": slack.response_url("socket"),
                    "trigger_id": "1.2.socket",
                },
            )
            ack = socket_mode.ack(envelope)
    finally:
        socket_mode.stop()
    assert "Own the outcome, not just the task" in str(ack["payload"])
    assert slack.calls("apps.connections.open")
    assert APP_TOKEN not in log.read_text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_without_a_signing_secret_in_http_mode_refuses_to_start(
    db_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env={**os.environ, **base_env(db_url, slack)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("missionbot: Set SLACK_SIGNING_SECRET")
    assert "Traceback" not in result.stderr
