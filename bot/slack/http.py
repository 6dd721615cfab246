"""HTTP mode: Slack's endpoint and the health check, as a WSGI app served by waitress.

Bolt's WSGI adapter does the Slack side; we subclass it for three reasons:

* The signature is checked on the raw bytes before anything is parsed (`is_signed_by_slack`).
  Bolt parses the body (and builds its context from it) before its own verification
  middleware runs, so an unsigned `payload=null` or a JSON array crashed the server: anyone
  who could reach the endpoint could fill the log with tracebacks. Unsigned or badly signed
  → 401; signed but malformed → 400. Bolt's own verification still runs afterwards.
* Bolt's `parse_body` takes any form body containing the substring "payload" for an
  interactivity payload, so `/kudos @ben fixed the payload bug` would reach no listener.
  `FormSafeBoltRequest` parses form bodies by their fields instead, and refuses a body that
  isn't an object of the shape Bolt routes on (see `check_shape`).
* Slack's `ssl_check=1&token=…` posts (it checks a slash command's certificate) are not
  signed: they get 200 and an empty body before the signature check, as Bolt answers them
  (its `SslCheck` middleware runs before its verification); nothing else is done with them.
* `GET /healthz` answers 200 when the database is reachable and 503 when it is not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
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
from bot.slack.deadline import RECEIVED_AT, AckClock

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# Slack's requests are small (a modal submission is a few kB); anything far larger isn't Slack.
MAX_BODY_BYTES = 1_000_000
# As Slack documents it: a request signed more than five minutes ago may be a replay.
SIGNATURE_MAX_AGE_S = 5 * 60


class MalformedBody(ValueError):
    """A signed body that Slack would never send: not an object, or a field of the wrong type."""


NONE = type(None)
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EVENT_ID = re.compile(r"[A-Za-z0-9]{1,64}")
# The fields Bolt and `describe` read while routing a request, and the JSON types Slack gives
# them. Bolt indexes these without checking (`body["event"]["type"]`, `authorizations[0]`),
# so a value of another type would raise inside it, where it can only become a 500.
_TYPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "command": (str,),
    "text": (str, NONE),
    "callback_id": (str,),
    "action_id": (str,),
    "block_id": (str, NONE),
    "trigger_id": (str,),
    "response_url": (str,),
    "api_app_id": (str,),
    "event_id": (str,),
    "team_id": (str, NONE),
    "user_id": (str, NONE),
    "channel_id": (str, NONE),
    "enterprise_id": (str, NONE),
    "team": (dict, str, NONE),
    "user": (dict, str, NONE),
    "channel": (dict, str, NONE),
    "enterprise": (dict, str, NONE),
    "event": (dict,),
    "view": (dict,),
    "message": (dict, NONE),
    "previous_message": (dict, NONE),
    "item": (dict, NONE),
    "container": (dict, NONE),
    "assistant_thread": (dict, NONE),
    "function_data": (dict, NONE),
    "authorizations": (list, NONE),
    "actions": (list,),
    "response_urls": (list,),
}
_NESTED = {"team", "user", "channel", "enterprise", "event", "view", "message", "previous_message"}
_NESTED |= {"item", "container", "assistant_thread", "function_data"}
_LISTS = {"authorizations", "actions", "response_urls"}
_IDS = {"team_id", "user_id", "channel_id", "enterprise_id"}
_OWNERS = {"team", "user", "channel", "enterprise"}


def check_shape(body: dict[str, Any], *, within: str = "") -> None:
    """Raise `MalformedBody` if a routing field has a type or form Slack never sends."""
    for key, allowed in _TYPES.items():
        if key not in body:
            continue
        value = body[key]
        if key == "text" and within.endswith("actions[].") and isinstance(value, dict):
            continue  # a button's label, as Slack reports it: {"type": "plain_text", ...}
        if not isinstance(value, allowed):
            raise MalformedBody(f"{within}{key} is {type(value).__name__}")
        if key in _IDS and value is not None:
            _check_id(value, _ID, f"{within}{key}")
        if key == "event_id":
            _check_id(value, _EVENT_ID, f"{within}{key}")
        if key in _OWNERS and isinstance(value, dict) and "id" in value:
            _check_id(value["id"], _ID, f"{within}{key}.id")
        if key in _NESTED and isinstance(value, dict):
            if key == "view" and not isinstance(value.get("type"), str):
                # Bolt reads view.type whenever it looks at a view.
                raise MalformedBody(f"{within}view has no type")
            check_shape(value, within=f"{within}{key}.")
        if key in _LISTS and value is not None:  # `authorizations` may be null
            if key == "actions" and not value:
                raise MalformedBody(f"{within}actions is empty")
            for item in value:
                if not isinstance(item, dict):
                    raise MalformedBody(f"{within}{key} holds a {type(item).__name__}")
                # Bolt's action matchers read `actions[0]["action_id"]` unchecked, and Slack
                # sends one with every block action.
                block_action = key == "actions" and body.get("type") == "block_actions"
                if block_action and not isinstance(item.get("action_id"), str):
                    raise MalformedBody(f"{within}actions[] has no action_id")
                check_shape(item, within=f"{within}{key}[].")


def _check_id(value: Any, form: re.Pattern[str], name: str) -> None:
    # IDs go into the database (team_id is a key column): only the form Slack uses.
    if not isinstance(value, str) or not form.fullmatch(value):
        raise MalformedBody(f"{name} is not a Slack ID")


def parse_body(raw_body: str, content_type: str | None) -> dict[str, Any]:
    """The request's fields: a JSON object, a form's `payload` object, or the form's fields."""
    if not raw_body:
        return {}
    body: Any
    if content_type == "application/json" or raw_body.startswith(("{", "[")):
        body = json.loads(raw_body)
    else:
        fields = dict(parse_qsl(raw_body, keep_blank_values=True))
        body = json.loads(fields["payload"]) if "payload" in fields else fields
    if not isinstance(body, dict):
        raise MalformedBody(f"the body is a JSON {type(body).__name__}, not an object")
    check_shape(body)
    return body


class FormSafeBoltRequest(BoltRequest):
    """A BoltRequest whose body is parsed by field and checked for shape (HTTP mode only)."""

    def __init__(
        self,
        *,
        body: str,
        query: Any = None,
        headers: Any = None,
        context: dict[str, Any] | None = None,
        mode: str = "http",
    ) -> None:
        # Bolt parses in its constructor, by substring and without looking at what it got;
        # give it nothing to parse and parse here (`MalformedBody` or JSON's ValueError).
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = parse_body(body, self.content_type)
        # build_context logs through context.logger (e.g. several `response_urls`), which
        # Bolt only sets later in dispatch: without one it raised KeyError('logger').
        self.context = build_context(BoltContext({"logger": log, **(context or {})}), self.body)

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
        actions = ",".join(str(a.get("action_id", "")) for a in body.get("actions", []))
        return f"{body['type']} {callback or actions}".strip()
    return "unknown"


def is_ssl_check(raw_body: bytes) -> bool:
    """Slack's unsigned certificate check: a form of `ssl_check=1` and a `token`, nothing else."""
    if len(raw_body) > 1000 or raw_body.startswith((b"{", b"[")):
        return False
    try:
        fields = dict(parse_qsl(raw_body.decode("ascii"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return fields.get("ssl_check") == "1" and set(fields) <= {"ssl_check", "token"}


def read_body(request: WsgiHttpRequest) -> bytes:
    """The raw request body, as bytes: the signature covers bytes, not decoded text."""
    stream = request.environ.get("wsgi.input")
    length = str(request.environ.get("CONTENT_LENGTH") or "0")
    if stream is None or not length.isdigit():
        return b""
    data: bytes = stream.read(min(int(length), MAX_BODY_BYTES + 1))
    return data


class MissionbotWsgi(SlackRequestHandler):
    def __init__(
        self,
        app: App,
        database: Database,
        signing_secret: str | None,
        *,
        ack_clock: AckClock = time.monotonic,
    ) -> None:
        super().__init__(app, path=SLACK_EVENTS_PATH)
        self.database = database
        self.ack_clock = ack_clock
        self.signing_secret = signing_secret.encode() if signing_secret else None

    def is_signed_by_slack(self, raw_body: bytes, headers: dict[str, Any]) -> bool:
        """Slack's signature over these bytes, made within the last five minutes.

        Computed here over the raw bytes rather than with slack-sdk's SignatureVerifier,
        which decodes the body as UTF-8 and raises on anything else, calls int() on the
        timestamp ("abc" raises) and hands non-ASCII signatures to compare_digest (raises).
        """
        timestamp = str(headers.get("x-slack-request-timestamp") or "")
        signature = str(headers.get("x-slack-signature") or "")
        if self.signing_secret is None or len(raw_body) > MAX_BODY_BYTES:
            return False
        if not (timestamp.isascii() and timestamp.isdigit()) or not signature.isascii():
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_S:
            return False
        base = b"v0:" + timestamp.encode() + b":" + raw_body
        expected = "v0=" + hmac.new(self.signing_secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started, arrived = time.perf_counter(), self.ack_clock()
        raw_body = read_body(request)
        headers = request.get_headers()
        if is_ssl_check(raw_body):
            log.info("slack ssl_check status=200")
            return BoltResponse(status=200, body="")
        if not self.is_signed_by_slack(raw_body, headers):
            log.info("slack request without a valid signature status=401")
            return BoltResponse(status=401, body={"error": "invalid request"})
        try:
            bolt_request = FormSafeBoltRequest(
                body=raw_body.decode("utf-8"), query=request.query_string, headers=headers
            )
        except (ValueError, RecursionError) as error:
            # Signed, yet nothing Slack sends (bad UTF-8, bad JSON, a list, a field of the
            # wrong type): nothing to handle, and nothing a client can send earns a traceback.
            log.info("slack malformed body (%s) status=400", _reason(error))
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


def _reason(error: Exception) -> str:
    """One short, printable line about what was wrong (never the body itself)."""
    if isinstance(error, MalformedBody):
        return str(error)[:80]
    return type(error).__name__
