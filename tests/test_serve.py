"""`missionbot serve` as deployed: a real process, real HTTP, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.slack_client import SIGNING_SECRET, SlackClient

BOT_TOKEN = "xoxb-serve-test-token-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(db_url: str, slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[SlackClient, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": db_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    client = SlackClient(f"http://127.0.0.1:{port}", slack)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.get("/healthz", timeout=1).status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not come up:\n" + log.read_text()
            time.sleep(0.1)
        yield client, log
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_a_signed_mission_and_refuses_a_bad_signature(
    served: tuple[SlackClient, Path], slack: FakeSlack
) -> None:
    client, log = served
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
