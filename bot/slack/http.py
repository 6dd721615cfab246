"""HTTP mode: Slack's endpoint and the health check, as a WSGI app served by waitress.

Bolt's WSGI adapter does the Slack side; we subclass it for two reasons:

* Bolt's `parse_body` takes any form body containing the substring "payload" for an
  interactivity payload, so `/kudos @ben fixed the payload bug` would reach no listener.
  `FormSafeBoltRequest` parses form bodies by their fields instead. Signature verification
  is untouched: it works on the raw body.
* `GET /healthz` answers 200 when the database is reachable and 503 when it is not.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

from bot.db.engine import Database
from bot.slack.deadline import RECEIVED_AT

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class FormSafeBoltRequest(BoltRequest):
    """A BoltRequest whose form bodies are parsed by field, not by substring."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.mode == "http" and self.raw_body and not self._looks_like_json():
            fields = dict(parse_qsl(self.raw_body, keep_blank_values=True))
            if "payload" in fields:
                self.body = json.loads(fields["payload"])
            else:
                self.body = fields
            self.context = build_context(BoltContext(self.context), self.body)

    def _looks_like_json(self) -> bool:
        return self.content_type == "application/json" or self.raw_body.startswith("{")

    def to_copyable(self) -> BoltRequest:
        # Lazy listeners get a copy; keep it the same kind of request.
        return FormSafeBoltRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


def describe(request: BoltRequest) -> str:
    """A short label of what Slack sent, for the access log (never tokens or text)."""
    body = request.body
    if "command" in body:
        return f"command {body['command']}"
    if body.get("type") == "event_callback":
        return f"event {body.get('event', {}).get('type')}"
    if "type" in body:
        callback = body.get("view", {}).get("callback_id") or body.get("callback_id") or ""
        actions = ",".join(a.get("action_id", "") for a in body.get("actions", []))
        return f"{body['type']} {callback or actions}".strip()
    return "unknown"


class MissionbotWsgi(SlackRequestHandler):
    def __init__(self, app: App, database: Database) -> None:
        super().__init__(app, path=SLACK_EVENTS_PATH)
        self.database = database

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started, arrived = time.perf_counter(), time.monotonic()
        try:
            bolt_request = FormSafeBoltRequest(
                body=request.get_body(), query=request.query_string, headers=request.get_headers()
            )
        except ValueError:
            # Not JSON where JSON was promised: nothing Slack sends, so nothing to handle.
            log.info("slack malformed body status=400")
            return BoltResponse(status=400, body="malformed request body")
        # The three seconds Slack allows start here, not when the app's middleware runs.
        bolt_request.context[RECEIVED_AT] = arrived
        response = self.app.dispatch(bolt_request)
        log.info(
            "slack %s team=%s user=%s status=%s ms=%.1f",
            describe(bolt_request),
            bolt_request.context.team_id,
            bolt_request.context.user_id,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _get_http_response(self, request: WsgiHttpRequest) -> WsgiHttpResponse:
        if request.method == "GET" and request.path == HEALTH_PATH:
            healthy = self.database.is_reachable()
            return WsgiHttpResponse(
                status=200 if healthy else 503,
                headers={"content-type": ["application/json"]},
                body=json.dumps({"ok": healthy, "database": "up" if healthy else "down"}),
            )
        return super()._get_http_response(request)
