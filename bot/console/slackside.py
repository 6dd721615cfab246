"""Slack's side of the conversation: requests shaped and signed as Slack sends them.

Each method builds the payload Slack would send for one thing a person does — a slash
command, a button click, a modal submission, a message shortcut, a type-ahead menu, an event —
signs it with the signing secret (`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`), and hands
it to the bot's WSGI app in-process: the same `MissionbotWsgi` that waitress serves, so the
signature check, the body checks and `App.dispatch` all run as in production, only without a
socket. What comes back is the HTTP acknowledgement (a command's answer travels in it).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.console.standin import StandIn
from bot.console.workspace import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, Workspace

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SLACK_EVENTS_PATH = "/slack/events"


@dataclass(frozen=True, slots=True)
class Ack:
    """The bot's HTTP answer to one request."""

    status: int
    body: bytes

    def json(self) -> dict[str, Any] | None:
        """The answer as a JSON object, or None (empty, plain text, or not an object)."""
        if not self.body:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def sign(secret: str, timestamp: int, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSide:
    """Builds, signs and delivers Slack's requests to the bot's WSGI app."""

    def __init__(self, wsgi: WsgiApp, secret: str, workspace: Workspace, standin: StandIn) -> None:
        self._wsgi = wsgi
        self._secret = secret
        self.workspace = workspace
        self.standin = standin
        self._ids = itertools.count(1)

    # -- the requests ------------------------------------------------------------------------
    def command(self, user_id: str, channel_id: str, command: str, text: str) -> Ack:
        """A slash command, form-encoded, with a response_url the stand-in serves."""
        body = urlencode(
            {
                "token": "console-verification-token",
                "team_id": TEAM_ID,
                "team_domain": TEAM_DOMAIN,
                "channel_id": channel_id,
                "channel_name": self._channel_name(channel_id),
                "user_id": user_id,
                "user_name": self._handle(user_id),
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": self.standin.new_response_url(channel_id, user_id),
                "trigger_id": self.trigger_id(),
            }
        )
        return self._post(body, "application/x-www-form-urlencoded")

    def block_action(
        self,
        user_id: str,
        action: dict[str, Any],
        *,
        channel_id: str | None,
        message: dict[str, Any] | None = None,
        ephemeral: bool = False,
        view: dict[str, Any] | None = None,
    ) -> Ack:
        """A button pressed in a message (ephemeral or not), a modal or the App Home."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            **self._who(user_id),
            "trigger_id": self.trigger_id(),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": (message or {}).get("ts"),
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            }
            if message is not None and not ephemeral:
                payload["message"] = message
        if channel_id is not None:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            payload["response_url"] = self.standin.new_response_url(channel_id, user_id)
        return self._interaction(payload)

    def view_submission(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any], *, channel_id: str | None
    ) -> Ack:
        """A modal submitted; a conversation select with `response_url_enabled` gets one."""
        submitted = {**view, "state": {"values": values}}
        response_urls = []
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input" or not element.get("response_url_enabled"):
                continue
            chosen = (
                (values.get(block.get("block_id")) or {}).get(element.get("action_id")) or {}
            ).get("selected_conversation") or channel_id
            if chosen:
                response_urls.append(
                    {
                        "block_id": block.get("block_id"),
                        "action_id": element.get("action_id"),
                        "channel_id": chosen,
                        "response_url": self.standin.new_response_url(chosen, user_id),
                    }
                )
        payload = {
            "type": "view_submission",
            **self._who(user_id),
            "trigger_id": self.trigger_id(),
            "view": submitted,
            "response_urls": response_urls,
        }
        return self._interaction(payload)

    def options(
        self, user_id: str, view: dict[str, Any], block_id: str, action_id: str, typed: str
    ) -> Ack:
        """A type-ahead menu (external select) asking for the options matching `typed`."""
        payload = {
            "type": "block_suggestion",
            **self._who(user_id),
            "container": {"type": "view", "view_id": view.get("id")},
            "view": view,
            "block_id": block_id,
            "action_id": action_id,
            "value": typed,
        }
        return self._interaction(payload)

    def message_shortcut(
        self, user_id: str, callback_id: str, channel_id: str, message: dict[str, Any]
    ) -> Ack:
        """A message shortcut (the message's "More actions" menu)."""
        payload = {
            "type": "message_action",
            **self._who(user_id),
            "callback_id": callback_id,
            "trigger_id": self.trigger_id(),
            "action_ts": f"{time.time():.6f}",
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message_ts": message.get("ts"),
            "message": message,
            "response_url": self.standin.new_response_url(channel_id, user_id),
        }
        return self._interaction(payload)

    def event(self, event: dict[str, Any]) -> Ack:
        """An Events API callback, in its envelope."""
        envelope = {
            "token": "console-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{int(time.time())}{next(self._ids):06d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
            ],
        }
        return self._post(json.dumps(envelope), "application/json")

    def trigger_id(self) -> str:
        return f"{next(self._ids)}.{int(time.time())}.console"

    # -- plumbing ----------------------------------------------------------------------------
    def _who(self, user_id: str) -> dict[str, Any]:
        return {
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {
                "id": user_id,
                "username": self._handle(user_id),
                "name": self._handle(user_id),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "console-verification-token",
            "is_enterprise_install": False,
        }

    def _handle(self, user_id: str) -> str:
        person = self.workspace.person_by_id(user_id)
        return person.handle if person else user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        channel = self.workspace.channel_by_id(channel_id)
        return channel.name if channel else "directmessage"

    def _interaction(self, payload: dict[str, Any]) -> Ack:
        return self._post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def _post(self, body: str, content_type: str) -> Ack:
        stamp = int(time.time())
        raw = body.encode()
        environ = wsgi_environ(
            "POST",
            SLACK_EVENTS_PATH,
            raw,
            {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(stamp),
                "X-Slack-Signature": sign(self._secret, stamp, body),
            },
        )
        started: list[str] = []

        def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
            started[:] = [status]

        result = self._wsgi(environ, start_response)
        try:
            answer = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Ack(int(started[0].split(" ", 1)[0]), answer)


_UNPREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}


def wsgi_environ(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The WSGI environ of one HTTP/1.1 request to 127.0.0.1, as PEP 3333 and waitress set it
    (the tests' in-process requests use it too)."""
    path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in _UNPREFIXED else f"HTTP_{key}"] = value
    return environ
