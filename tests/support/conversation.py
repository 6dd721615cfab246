"""Slack's event payloads for recognition in the conversation, shaped as Slack sends them
(the Events API docs' examples of `reaction_added`, `reaction_removed`, `message` and its
subtypes, and `app_mention`), and a way to wait for the bot to have handled them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from tests.support.delivery import deliver_all
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_client import DEFAULT_CHANNEL

_ts = itertools.count(1)


def new_ts() -> str:
    """A message ts later than any the fake Slack hands out (a recent message)."""
    return f"{int(time.time())}.{next(_ts):06d}"


def reaction(
    kind: str,
    *,
    user: str,
    name: str,
    item_user: str | None,
    ts: str,
    channel: str = DEFAULT_CHANNEL,
    channel_type: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "reaction": name,
        "item": {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "channel_type": channel_type or ("im" if channel.startswith("D") else "channel"),
        },
        "event_ts": f"{time.time():.6f}",
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def reaction_added(**kwargs: Any) -> dict[str, Any]:
    return reaction("reaction_added", **kwargs)


def reaction_removed(**kwargs: Any) -> dict[str, Any]:
    return reaction("reaction_removed", **kwargs)


def reaction_to_file(*, user: str, name: str, item_user: str) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "file", "file": "F0HS27V1Z"},
        "event_ts": f"{time.time():.6f}",
    }


def message(
    text: str,
    *,
    user: str,
    ts: str | None = None,
    channel: str = DEFAULT_CHANNEL,
    channel_type: str = "channel",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """A new message as `message.channels` delivers it (no subtype)."""
    event: dict[str, Any] = {
        "type": "message",
        "client_msg_id": f"m-{next(_ts)}",
        "text": text,
        "user": user,
        "ts": ts or new_ts(),
        "team": TEAM_ID,
        "blocks": [{"type": "rich_text", "block_id": "b1", "elements": []}],
        "channel": channel,
        "event_ts": ts or new_ts(),
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = "UPARENT01"
    return event


def bot_message(text: str, *, channel: str = DEFAULT_CHANNEL) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "ts": new_ts(),
        "username": "deploybot",
        "bot_id": "BDEPLOY01",
        "channel": channel,
        "event_ts": new_ts(),
        "channel_type": "channel",
    }


def message_changed(
    original: dict[str, Any], new_text: str, *, channel: str = DEFAULT_CHANNEL
) -> dict[str, Any]:
    edited = {**original, "text": new_text, "edited": {"user": original["user"], "ts": new_ts()}}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": edited,
        "channel": channel,
        "previous_message": original,
        "event_ts": new_ts(),
        "ts": new_ts(),
        "channel_type": "channel",
    }


def message_deleted(original: dict[str, Any], *, channel: str = DEFAULT_CHANNEL) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "deleted_ts": original["ts"],
        "channel": channel,
        "previous_message": original,
        "event_ts": new_ts(),
        "ts": new_ts(),
        "channel_type": "channel",
    }


def app_mention(text: str, *, user: str, channel: str = DEFAULT_CHANNEL) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": new_ts(),
        "channel": channel,
        "event_ts": new_ts(),
    }


def wait_until(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Deliver what the bot has to deliver (tests/support/delivery.py), then check; again
    until `timeout` (for work no test request started: a scheduled job, a retry's backoff)."""
    deadline = time.monotonic() + timeout
    while True:
        deliver_all()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.02)
