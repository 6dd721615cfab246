"""The one error handler: domain errors become a friendly ephemeral reply, nothing else leaks.

Listeners don't catch; whatever they raise arrives here. A `UserError` carries its own
message; an unreachable database asks the user to try again in a moment; anything else is
logged with its traceback and the user gets a short apology, never the traceback.

Before the ack the reply travels in the ack itself. After it (see bot/slack/deadline.py's
`after_ack_safe`) the person is told through the response_url, else by an ephemeral message
in the channel, else by DM; an event's failure is only logged, as nobody is waiting on it.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.error import URLError

from slack_bolt import BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.blocks.mission import Message, notice
from bot.errors import UserError
from bot.slack.kudos_delivery import confirm

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (
    ":hourglass: I can't reach my database right now, so nothing was changed. "
    "Please try again in a moment."
)
SLACK_TROUBLE = (
    ":hourglass: Slack didn't answer in time, so I couldn't finish this. "
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
    if _slack_unavailable(error):
        log.warning("slack unavailable: %s", _describe(error))
        return notice(SLACK_TROUBLE)
    log.error("unexpected error", exc_info=error)
    return notice(UNEXPECTED)


def _slack_unavailable(error: Exception) -> bool:
    """Slack busy (429), failing (5xx) or unreachable once its client's retries were spent."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        return status == 429 or status >= 500
    return isinstance(error, (TimeoutError, ConnectionError, URLError))


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"{error.response.get('error')} (HTTP {error.response.status_code})"
    return type(error).__name__


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
    context: BoltContext,
) -> BoltResponse | None:
    if response is None:
        # Bolt passes no response once the request was acknowledged.
        report_after_ack(error, body, context)
        return None
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
    # Not acknowledged yet: the reply travels in the acknowledgement itself.
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def report_after_ack(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Tell the person what went wrong after their request was acknowledged; never raises."""
    message = message_for(error)
    user_id = context.user_id
    if body.get("type") == "event_callback" or not user_id:
        return
    try:
        confirm(
            client=context.client,
            user_id=user_id,
            channel_id=context.channel_id,
            response_url=context.response_url,
            message=message,
        )
    except Exception:  # the report of an error must not raise one; confirm logs what failed
        log.exception("could not report an error to user=%s", user_id)
