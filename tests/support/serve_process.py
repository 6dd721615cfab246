"""The package's `missionbot serve` child process (bot/simulator/process.py), with the tests'
signed-request client attached."""

from __future__ import annotations

from bot.simulator.process import START_TIMEOUT_S, free_port
from bot.simulator.process import ServeProcess as _ServeProcess
from tests.support.fake_slack import FakeSlack
from tests.support.slack_client import SlackClient

__all__ = ["START_TIMEOUT_S", "ServeProcess", "free_port"]


class ServeProcess(_ServeProcess):
    slack: FakeSlack

    def client(self) -> SlackClient:
        return SlackClient(self.base_url, self.slack)
