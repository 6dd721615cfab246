"""The one error handler: domain errors become a friendly ephemeral reply, nothing else leaks.

Listeners don't catch; whatever they raise arrives here. A `UserError` carries its own
message; an unreachable database asks the user to try again in a moment; anything else is
logged with its traceback and the user gets a short apology, never the traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.blocks.common import Message
from bot.blocks.mission import notice
from bot.errors import UserError

log = logging.getLogger(__name__)

# Slack's error codes for "the bot can't post in this channel": retrying won't help, so the
# morning post pauses the subscription and the share button asks for an /invite.
CANT_POST_HERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# The ones where the bot isn't a member (channel_not_found is how a private channel answers):
# a slash command's or modal's response_url still reaches the channel; an archived one, nobody.
NOT_A_MEMBER = CANT_POST_HERE - {"is_archived"}

DATABASE_UNAVAILABLE = (
    ":hourglass: I can't reach my database right now, so nothing was changed. "
    "Please try again in a moment."
)
UNEXPECTED = (
    ":warning: Something went wrong on my side and nothing was changed. "
    "It has been logged; please try again, and tell your Slack admin if it keeps happening."
)


def message_for(error: Exception) -> Message:
    if isinstance(error, UserError):
        return notice(error.message)
    if isinstance(error, (OperationalError, PoolTimeoutError)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        log.warning(
            "database unavailable: %s",
            type(error.orig if isinstance(error, DBAPIError) else error).__name__,
        )
        return notice(DATABASE_UNAVAILABLE)
    log.error("unexpected error", exc_info=error)
    return notice(UNEXPECTED)


def modal_errors(error: Exception, message: Message, view: dict[str, Any]) -> dict[str, Any]:
    """`response_action: errors`, shown under the input the error names (else the first)."""
    inputs = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]
    field = getattr(error, "field", None)
    block_id = field if field in inputs else inputs[0]
    # Modal errors are plain text: drop the mrkdwn marks that would show literally.
    plain = message.text.replace("`", "").replace("*", "")
    return {"response_action": "errors", "errors": {block_id: plain}}


def handle_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    respond: Callable[..., Any] | None,
) -> BoltResponse | None:
    message = message_for(error)
    payload: dict[str, Any] = {
        "response_type": "ephemeral",
        "text": message.text,
        "blocks": message.blocks,
    }
    view = body.get("view") or {}
    if body.get("type") == "view_submission" and any(
        b.get("type") == "input" for b in view.get("blocks", [])
    ):
        payload = modal_errors(error, message, view)
    if response is not None:
        # Not acknowledged yet: the reply travels in the acknowledgement itself.
        return BoltResponse(
            status=200,
            body=json.dumps(payload),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    if respond is not None and body.get("response_url"):
        respond(replace_original=False, **payload)
    return None
