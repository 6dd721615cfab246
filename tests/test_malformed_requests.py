"""Whatever arrives at /slack/events: unsigned → 401, signed but malformed → 400, never a 5xx.

Property-based: random bytes, random JSON values, form bodies with random `payload` values and
Slack-shaped bodies whose routing fields have random types, each sent unsigned and signed. The
log must show no traceback and nothing at ERROR for any of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_client import SIGNING_SECRET, HttpReply

pytestmark = pytest.mark.served  # whatever reaches the real server's socket

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ROUTING_FIELDS = [
    "command", "callback_id", "actions", "view", "event", "team", "user", "channel",
    "user_id", "authorizations", "response_url", "response_urls", "message",
    "enterprise", "event_id", "trigger_id",
]  # fmt: skip
slack_shaped = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["event_callback", "block_actions", "view_submission", "shortcut", "message_action"]
        ),
        "team_id": st.sampled_from([TEAM_ID, "T0EVIL"]),
    },
    optional=dict.fromkeys(ROUTING_FIELDS, json_values),
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["bytes", "json", "form payload", "raw payload", "slack-shaped"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)), draw(st.sampled_from([FORM, JSON]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), JSON
    if kind == "form payload":
        return urlencode({"payload": json.dumps(draw(json_values))}).encode(), FORM
    if kind == "raw payload":
        return ("payload=" + quote(draw(st.text(max_size=50)))).encode(), FORM
    envelope: dict[str, Any] = draw(slack_shaped)
    if draw(st.booleans()):
        return json.dumps(envelope).encode(), JSON
    return urlencode({"payload": json.dumps(envelope)}).encode(), FORM


def post(bot: Bot, body: bytes, content_type: str, *, signed: bool) -> HttpReply:
    stamp = str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + (digest if signed else "0" * 64),
    }
    return bot.request("POST", "/slack/events", body, headers, timeout=10)


def assert_log_is_clean(caplog: pytest.LogCaptureFixture) -> None:
    # The request threads only: a delivery thread an earlier test left behind may still log.
    served = [r for r in caplog.records if r.threadName.startswith("waitress")]
    assert served, "every request logs a line; none was captured"
    bad = [r for r in served if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage()[:200] for r in bad]
    assert not any("Traceback" in r.getMessage() for r in served)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=bodies())
def test_any_body_is_answered_401_unsigned_and_400_or_200_signed_without_a_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture, request: tuple[bytes, str]
) -> None:
    body, content_type = request
    caplog.clear()
    with caplog.at_level(logging.INFO):
        unsigned = post(bot, body, content_type, signed=False)
        signed = post(bot, body, content_type, signed=True)
    assert unsigned.status == 401
    assert signed.status in (200, 400), (signed.status, signed.body[:200])
    assert_log_is_clean(caplog)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=null", FORM),
        (b"payload=%5B1%5D", FORM),
        (b"[1, 2]", JSON),
        (b"42", JSON),
        (b'"text"', JSON),
        (b"\xff\xfe not utf-8", FORM),
        (b'{"type": "block_actions", "actions": "x"}', JSON),
        (b'{"type": "block_actions", "actions": [{"block_id": "b"}]}', JSON),
        (b'{"type": "event_callback", "event": [1]}', JSON),
        (b'{"type": "view_submission", "view": {"callback_id": "x"}}', JSON),
        (b'{"team_id": "T0\\u0000NUL", "command": "/mission"}', JSON),
    ],
    ids=[
        "payload null", "payload list", "json array", "json number", "json string",
        "bad utf-8", "actions not a list", "action without action_id", "event not an object",
        "view without type",
        "team id with NUL",
    ],
)  # fmt: skip
def test_a_malformed_body_is_401_unsigned_and_400_signed(
    bot: Bot, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    with caplog.at_level(logging.INFO):
        assert post(bot, body, content_type, signed=False).status == 401
        assert post(bot, body, content_type, signed=True).status == 400
    assert_log_is_clean(caplog)


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", " 1", "\u00b2", None])
def test_a_missing_or_non_numeric_timestamp_is_401(
    bot: Bot, caplog: pytest.LogCaptureFixture, timestamp: str | None
) -> None:
    body = bot.command_body("/mission")
    headers = {"Content-Type": FORM, "X-Slack-Signature": "v0=" + "0" * 64}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    with caplog.at_level(logging.INFO):
        reply = bot.request("POST", "/slack/events", body.encode(), headers, timeout=10)
    assert reply.status == 401
    assert "We move our customers" not in reply.text
    assert_log_is_clean(caplog)
