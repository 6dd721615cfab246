"""Plays Slack's side of the HTTP conversation: Slack-shaped payloads, signed as Slack signs.

The signature comes from bot/simulator/signing.py, shared with the benchmarks.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from bot.simulator.signing import SIGNING_SECRET, sign
from bot.slack.deadline import SLACK_SLOW
from bot.slack.errors import STILL_WORKING
from tests.support.fake_slack import TEAM_ID, FakeSlack

DEFAULT_USER = "UANA0001"
DEFAULT_CHANNEL = "CGENERAL01"
# Every client's numbers (response_urls, event IDs, trigger IDs) from one count: two clients of
# one fake Slack (two `serve` processes) must not share a response_url, whose late answer
# `answer` reads by it, nor an event ID, which the bot takes for Slack's retry of the first.
_IDS = itertools.count(1)


@dataclass
class HttpReply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """Everything a person would read in the reply: its text and all block texts."""
        if not self.body:
            return ""
        try:
            data = self.json
        except ValueError:
            return self.body.decode()
        return "\n".join(_texts(data))


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found.extend(_texts(value))
        return found
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def late_answer(fake: FakeSlack, response_url: str, wait: float = 30) -> dict[str, Any]:
    """What the bot sent through `response_url`: the answer that follows an ack of "my answer
    will follow here" (bot/slack/deadline.py's `LateReply`)."""
    path = urlparse(response_url).path
    [late] = fake.wait_for(
        "response_url", timeout=wait, where=lambda call: call.params.get("_url") == path
    )
    return {k: v for k, v in late.params.items() if k != "_url"}


class SlackClient:
    """Sends signed requests to the bot's /slack/events, as Slack would."""

    def __init__(self, base_url: str, fake: FakeSlack, secret: str = SIGNING_SECRET) -> None:
        self.base_url = base_url
        self.fake = fake
        self.secret = secret
        self._ids = _IDS

    # -- raw HTTP --------------------------------------------------------------------------
    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
        timeout: float = 10,
    ) -> HttpReply:
        stamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature
            if signature is not None
            else sign(body, stamp, self.secret),
        }
        all_headers.update(headers or {})
        return self.request("POST", path, body.encode(), all_headers, timeout)

    def get(self, path: str, timeout: float = 10) -> HttpReply:
        return self.request("GET", path, None, {}, timeout)

    def request(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> HttpReply:
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpReply(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return HttpReply(error.code, error.read(), dict(error.headers))

    # -- Slack-shaped payloads -------------------------------------------------------------
    def command_body(
        self,
        command: str,
        text: str = "",
        *,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        channel_name: str = "general",
        team: str = TEAM_ID,
        team_domain: str = "tidewater",
    ) -> str:
        n = next(self._ids)
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": team,
                "team_domain": team_domain,
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "AMISSIONBOT",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(f"cmd{n}"),
                "trigger_id": f"{n}.1234.trigger",
            }
        )

    def command(self, command: str, text: str = "", **kwargs: Any) -> HttpReply:
        return self.post(self.command_body(command, text, **kwargs))

    def answer(
        self, command: str, text: str = "", *, wait: float = 30, tries: int = 3, **kwargs: Any
    ) -> HttpReply:
        """The command's answer wherever it arrives, for tests of processes on the real clock
        (`serve`, whose time a busy machine stretches): in the ack, or, when the listener had
        not acked in Bolt's three seconds, through the command's response_url after the ack's
        "my answer will follow here" (bot/slack/deadline.py's `LateReply`). A "Slack is
        answering slowly … I stopped before changing anything" (a Slack call before the ack ran
        out of its time) is asked again, as the person would, up to `tries` times."""
        for _ in range(tries):
            reply = self._answer(command, text, wait, **kwargs)
            if SLACK_SLOW not in reply.text:
                break
        return reply

    def _answer(self, command: str, text: str, wait: float, **kwargs: Any) -> HttpReply:
        body = self.command_body(command, text, **kwargs)
        reply = self.post(body)
        if STILL_WORKING not in reply.text:
            return reply
        late = late_answer(self.fake, parse_qs(body)["response_url"][0], wait)
        return HttpReply(200, json.dumps(late).encode(), {})

    def event(
        self,
        event: dict[str, Any],
        *,
        team: str = TEAM_ID,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "AMISSIONBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team, "user_id": "UMISSIONBOT", "is_bot": True, "enterprise_id": None}
            ],
        }
        return self.post(json.dumps(envelope), content_type="application/json", headers=headers)

    def interaction(self, payload: dict[str, Any]) -> HttpReply:
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def home_button_payload(self, action_id: str, *, user: str = DEFAULT_USER) -> dict[str, Any]:
        """A `block_actions` payload for a button pressed on the App Home tab."""
        return {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "tidewater"},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "AMISSIONBOT",
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._ids)}.1234.trigger",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home"},
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1"}
            ],
        }

    def button_payload(
        self,
        action_id: str,
        value: str,
        *,
        block_id: str,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        team: str = TEAM_ID,
    ) -> dict[str, Any]:
        """A `block_actions` payload for a button pressed in an ephemeral message."""
        return {
            "type": "block_actions",
            "team": {"id": team, "domain": "tidewater"},
            "user": {"id": user, "team_id": team, "name": user.lower()},
            "api_app_id": "AMISSIONBOT",
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._ids)}.1234.trigger",
            "container": {"type": "message", "is_ephemeral": True, "channel_id": channel},
            "channel": {"id": channel, "name": channel.lower()},
            "response_url": self.fake.response_url(f"button{next(self._ids)}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
