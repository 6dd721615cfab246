"""The one error handler: domain errors become a friendly ephemeral reply, nothing else leaks.

Listeners don't catch; whatever they raise arrives here. A `UserError` carries its own
message; an unreachable database asks the user to try again in a moment; anything else logs
one line with a short error id, and the user's apology quotes the same id, so that an admin
can find the line the user is talking about (the traceback is logged at DEBUG only).

Requests no listener claims arrive here too (Bolt's `BoltUnhandledRequestError`): a button
from a message an older version posted, an event or command the bot doesn't subscribe to.
Slack shows the user an error for anything but a 200, so they get a 200 and, where there is
someone to tell, a short note that the button or command is no longer used.

Before the ack the reply travels in the ack itself. After it (see bot/slack/deadline.py's
`after_ack_safe`) the person is told through the response_url, else by an ephemeral message
in the channel, else by DM; an event's failure is only logged, as nobody is waiting on it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.blocks.common import Message, escape
from bot.blocks.mission import notice, notice_modal
from bot.errors import UserError
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.slack.confirm import confirm
from bot.slack.installation import team_of

if TYPE_CHECKING:  # deadline.py imports this module
    from bot.slack.deadline import LateReply

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = N_(
    ":hourglass: I can't reach my database right now, so nothing was changed. "
    "Please try again in a moment."
)
SLACK_TROUBLE = N_(
    ":hourglass: Slack didn't answer in time, so I couldn't finish this. "
    "Please try again in a moment."
)
UNEXPECTED = N_(
    ":warning: Something went wrong on my side and nothing was changed. "
    "It has been logged; please try again, and if it keeps happening tell your Slack admin "
    "and quote error id `{error_id}`."
)
BUTTON_NO_LONGER_USED = N_("This button is no longer used — try `/mission help` or `/kudos help`.")
STILL_WORKING = N_(":hourglass: This is taking me longer than usual: my answer will follow here.")
UNKNOWN_COMMAND = N_("I don't know `{command}` — try `/mission help` or `/kudos help`.")


def message_for(error: Exception, t: Speech = ENGLISH) -> Message:
    _ = t.gettext
    if isinstance(error, UserError):
        return notice(error.said(t))
    if isinstance(error, (OperationalError, PoolTimeoutError)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        log.warning(
            "database unavailable: %s",
            type(error.orig if isinstance(error, DBAPIError) else error).__name__,
        )
        return notice(_(DATABASE_UNAVAILABLE))
    if _slack_unavailable(error):
        log.warning("slack unavailable: %s", _describe(error))
        return notice(_(SLACK_TROUBLE))
    error_id = log_unexpected(error)
    return notice(_(UNEXPECTED).format(error_id=error_id))


def reader_of(body: dict[str, Any], context: BoltContext) -> Speech:
    """The language of whoever is told about an error; English when that can't be known
    (the database may be the very thing that failed, so nothing here may raise)."""
    services = context.get("services")
    user_id = context.user_id
    team_id = context.team_id or context.enterprise_id
    if services is None or not user_id or not team_id:
        return ENGLISH
    try:
        person = services.users.cached(team_of(context), [user_id]).get(user_id)
        return services.reader_speech(team_of(context), person.locale if person else None)
    except Exception:  # a failing lookup must not hide the error being reported
        log.debug("no language for the error reply", exc_info=True)
        return ENGLISH


def log_unexpected(error: BaseException) -> str:
    """Log one line about an unexpected error and return its id (8 hex digits)."""
    error_id = secrets.token_hex(4)
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    detail = " ".join(str(error).split())[:200]
    log.error("unexpected error id=%s: %s: %s%s", error_id, type(error).__name__, detail, where)
    log.debug("traceback of error id=%s", error_id, exc_info=error)
    return error_id


def unhandled(
    body: dict[str, Any], respond: Callable[..., Any] | None, t: Speech = ENGLISH
) -> BoltResponse:
    """200 for a request no listener claims, with a note for whoever clicked or typed it, in
    their language (`t`)."""
    kind = body.get("type") or ("command" if "command" in body else "unknown")
    log.info("no listener for this %s; answered 200", kind)
    if "command" in body:
        command = escape(str(body["command"])).replace("`", "")[:40]
        return _ephemeral(notice(t.gettext(UNKNOWN_COMMAND).format(command=command)))
    if kind == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    clicked = kind in ("block_actions", "message_action", "interactive_message")
    if clicked and respond is not None and body.get("response_url"):
        # The note goes through response_url after the 200, not before it: a slow Slack
        # must not hold the acknowledgement.
        note = notice(t.gettext(BUTTON_NO_LONGER_USED))
        threading.Thread(
            target=_send_note, args=(respond, note), name="unhandled-note", daemon=True
        ).start()
    return BoltResponse(status=200, body="")


def still_working(body: dict[str, Any], t: Speech = ENGLISH) -> BoltResponse:
    """200 for a request whose listener has not acked in Bolt's three seconds: a command gets
    a note that the answer follows (if Slack still shows it), anything else an empty 200."""
    log.warning("a listener took longer than Bolt waits for its ack; its reply will follow")
    if "command" in body:
        return _ephemeral(notice(t.gettext(STILL_WORKING)))
    return BoltResponse(status=200, body="")


def _send_note(respond: Callable[..., Any], note: Message) -> None:
    try:
        respond(
            response_type="ephemeral", replace_original=False, text=note.text, blocks=note.blocks
        )
    except Exception as error:  # a lost note is logged; nothing may escape a thread
        log.warning("could not send the 'no longer used' note: %s", type(error).__name__)


def _ephemeral(message: Message) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(
            {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks}
        ),
        headers={"content-type": "application/json;charset=utf-8"},
    )


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


def late_reply_of(context: Mapping[str, Any]) -> LateReply | None:
    """The request's `LateReply` (bot/slack/deadline.py), or None for a request the deadline
    middleware never saw (one Bolt answered itself, an SSL check)."""
    late: LateReply | None = getattr(context.get("deadline"), "late", None)
    return late


def handle_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    context: BoltContext,
    respond: Callable[..., Any] | None,
) -> BoltResponse | None:
    if isinstance(error, BoltUnhandledRequestError):
        # A listener still at work when Bolt stopped waiting for its ack claimed the request
        # all the same: its reply follows (bot/slack/deadline.py's `LateReply`).
        late = late_reply_of(context)
        if late is not None and late.bolt_gave_up(context):
            return still_working(body, reader_of(body, context))
        return unhandled(body, respond, reader_of(body, context))
    if response is None:
        # Bolt passes no response once the request was acknowledged.
        report_after_ack(error, body, context)
        return None
    message = message_for(error, reader_of(body, context))
    payload: dict[str, Any] = {
        "response_type": "ephemeral",
        "text": message.text,
        "blocks": message.blocks,
    }
    view = body.get("view") or {}
    if body.get("type") == "view_submission":
        # A modal takes no ephemeral message: the error goes under an input, or, when the
        # submitted view has none to point at, the form becomes a modal saying it.
        if any(b.get("type") == "input" for b in view.get("blocks") or []):
            payload = modal_errors(error, message, view)
        else:
            payload = {"response_action": "update", "view": notice_modal(message)}
    late = late_reply_of(context)
    if late is not None:
        # If Bolt has stopped waiting for the ack, this reply goes by the response_url.
        late.answered(context, payload)
    # Not acknowledged yet: the reply travels in the acknowledgement itself.
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def report_after_ack(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Tell the person what went wrong after their request was acknowledged; never raises."""
    message = message_for(error, reader_of(body, context))
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
