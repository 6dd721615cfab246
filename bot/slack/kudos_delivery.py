"""Kudos messages into Slack, through the outbox (bot/outbox/): queued in the transaction that
records the kudos, sent afterwards by the sender's threads at Slack's pace — never by the
request thread, which has already answered the giver in the acknowledgement.

What is queued for a kudos (`queue_kudos`):
- **the announcement**, in the conversation it was given in — unless it was given in a DM or
  nowhere (the App Home with no channel chosen): those are never announced. It is drawn at
  send time from the database, so a kudos withdrawn meanwhile is left out, and a channel's
  backlog goes out as one message carrying up to `ANNOUNCED_TOGETHER` kudos: a storm is
  announced at the pace it happens, not one message a second behind it. Where the bot is not
  a member, the command's response_url posts it instead (one kudos per message, since each
  response_url belongs to its own command); where neither works, the giver gets a DM saying so.
- **one DM per receiver**.

Undo (`queue_withdrawal`) cancels whatever of that is still queued, and edits an announcement
already posted (the other kudos it carries stay as they are).

`confirm` is the one place left that talks to Slack directly: a note after the ack for the
listeners that still have one to give (exports, errors after the ack).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from bot.blocks.common import Message
from bot.blocks.kudos import (
    ANNOUNCED_TOGETHER,
    announcement_not_made,
    kudos_announcement,
    kudos_dm,
)
from bot.db.models import OutboxMessage, utcnow
from bot.kudos.service import (
    GivenKudos,
    WithdrawnKudos,
    groups_in_message,
    kudos_groups,
    record_public_message,
)
from bot.outbox import queue
from bot.outbox.queue import MESSAGE_KIND
from bot.outbox.sender import Outgoing, Sender, Sent, StoredBodyHandler
from bot.slack.api_errors import NOT_A_MEMBER

log = logging.getLogger(__name__)

# Connection failures surface as OSError (URLError, TimeoutError) once retries are spent.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackApiError, SlackClientError, OSError)

ANNOUNCEMENT = "kudos_announcement"
# One kudos a message: a combined announcement the bot couldn't post goes out again this way,
# each through its own command's response_url.
ANNOUNCEMENT_ALONE = "kudos_announcement_alone"
EDIT = "kudos_edit"
DM = "kudos_dm"
NOT_EDITABLE = (
    "The public message in <#{channel}> was posted through the command's reply, which I "
    "can't edit: you may want to delete it yourself."
)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def queue_kudos(
    session: Session,
    *,
    team_id: str,
    given: GivenKudos,
    response_url: str | None,
    now: dt.datetime,
    thread_ts: str | None = None,
) -> None:
    """Queue the announcement (in `thread_ts`'s thread, if given) and the receivers' DMs, in
    the kudos's own transaction."""
    if given.duplicate:
        return
    if given.channel_id and given.audience.announced:
        queue.enqueue(
            session,
            team_id=team_id,
            kind=ANNOUNCEMENT,
            channel_id=given.channel_id,
            subject=given.group_id,
            response_url=response_url,
            thread_ts=thread_ts,
            now=now,
        )
    dm = kudos_dm(given)
    for receiver_id in given.receiver_ids:
        queue.enqueue(
            session,
            team_id=team_id,
            kind=DM,
            channel_id=receiver_id,
            text=dm.text,
            blocks=dm.blocks,
            subject=given.group_id,
            now=now,
        )


def queue_withdrawal(
    session: Session, *, team_id: str, withdrawn: WithdrawnKudos, now: dt.datetime
) -> str | None:
    """Unsend what is still queued, edit what was posted; what the giver should know, if any."""
    queue.cancel(session, team_id=team_id, subject=withdrawn.group_id, now=now)
    channel, ts = withdrawn.public_channel_id, withdrawn.public_message_ts
    if channel is None:
        return None
    if ts is None:
        return NOT_EDITABLE.format(channel=channel)
    _queue_edit(session, team_id=team_id, channel_id=channel, ts=ts, subject=withdrawn.group_id)
    return None


def _queue_edit(session: Session, *, team_id: str, channel_id: str, ts: str, subject: str) -> None:
    queue.enqueue(
        session, team_id=team_id, kind=EDIT, channel_id=channel_id, update_ts=ts, subject=subject
    )


class Announcements:
    """Draws a channel's queued kudos into one public message and records where it went."""

    def __init__(self, coalesce: int) -> None:
        self.coalesce = coalesce

    def render(self, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing | None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        groups = kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows))
        standing = [g for g in groups if not g.withdrawn]
        kept = {g.group_id for g in standing}
        gone = [row for row in rows if row.subject not in kept]
        if not standing:
            return None
        if gone:
            queue.drop(gone, now=utcnow(), reason="withdrawn before it was announced")
        message = kudos_announcement(standing)
        sending = [row for row in rows if row.subject in kept]
        return Outgoing(
            team_id=team_id,
            channel_id=channel_id,
            text=message.text,
            blocks=message.blocks,
            # A response_url answers for its own command only: one kudos, one message.
            response_url=sending[0].response_url if len(sending) == 1 else None,
            thread_ts=rows[0].thread_ts,
        )

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        team_id = rows[0].team_id
        channel_id = sent.channel_id or rows[0].channel_id
        for group_id in _subjects(rows):
            record_public_message(
                session=session,
                team_id=team_id,
                group_id=group_id,
                channel_id=channel_id,
                message_ts=sent.ts,
            )
        if sent.ts is None:
            return
        # An undo that landed while the message was on its way: edit it now.
        withdrawn = [
            g
            for g in kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows))
            if g.withdrawn
        ]
        if withdrawn:
            _queue_edit(
                session,
                team_id=team_id,
                channel_id=channel_id,
                ts=sent.ts,
                subject=withdrawn[0].group_id,
            )

    def on_failed(self, session: Session, rows: Sequence[OutboxMessage], reason: str) -> None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        if len(rows) > 1 and reason in NOT_A_MEMBER:
            # The bot isn't in the channel: each command's own response_url may still post it.
            for row in rows:
                queue.enqueue(
                    session,
                    team_id=team_id,
                    kind=ANNOUNCEMENT_ALONE,
                    channel_id=channel_id,
                    subject=row.subject,
                    response_url=row.response_url,
                    thread_ts=row.thread_ts,
                )
            return
        for group in kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows)):
            note = announcement_not_made(group, channel_id, reason)
            queue.enqueue(
                session,
                team_id=team_id,
                kind=MESSAGE_KIND,
                channel_id=group.giver_id,
                text=note.text,
                blocks=note.blocks,
            )
        log.warning("kudos announcement failed channel=%s n=%d: %s", channel_id, len(rows), reason)


class Edits:
    """Redraws an announcement after an undo, with every kudos it carries as it is now."""

    coalesce = ANNOUNCED_TOGETHER

    def render(self, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing | None:
        row = rows[0]
        if row.update_ts is None:
            return None
        groups = groups_in_message(
            session=session,
            team_id=row.team_id,
            channel_id=row.channel_id,
            message_ts=row.update_ts,
        )
        if not groups:
            return None
        message = kudos_announcement(groups)
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=message.text,
            blocks=message.blocks,
            update_ts=row.update_ts,
        )

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        return None

    def on_failed(self, session: Session, rows: Sequence[OutboxMessage], reason: str) -> None:
        log.warning("kudos announcement edit failed channel=%s: %s", rows[0].channel_id, reason)


def _subjects(rows: Sequence[OutboxMessage]) -> list[str]:
    return [row.subject for row in rows if row.subject]


def register_kudos_messages(sender: Sender) -> None:
    sender.register(ANNOUNCEMENT, Announcements(ANNOUNCED_TOGETHER))
    sender.register(ANNOUNCEMENT_ALONE, Announcements(1))
    sender.register(EDIT, Edits())
    sender.register(DM, StoredBodyHandler())


def _send(response_url: str, message: Message, *, response_type: str) -> None:
    response = WebhookClient(response_url, timeout=10).send(
        text=message.text,
        blocks=message.blocks,
        response_type=response_type,
        replace_original=False,
    )
    if response.status_code != 200:
        raise SlackClientError(f"response_url answered HTTP {response.status_code}")


def confirm(
    *,
    client: WebClient,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
    message: Message,
) -> None:
    """An ephemeral note to the giver: through response_url, else in the channel, else by DM."""
    attempts: list[str] = []
    if response_url:
        try:
            _send(response_url, message, response_type="ephemeral")
            return
        except SLACK_FAILURES as error:
            attempts.append(f"response_url: {_reason(error)}")
    if channel_id:
        try:
            client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
            )
            return
        except SLACK_FAILURES as error:
            attempts.append(f"chat.postEphemeral: {_reason(error)}")
    try:
        client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)
    except SLACK_FAILURES as error:
        attempts.append(f"DM: {_reason(error)}")
        log.error("could not confirm to user=%s: %s", user_id, "; ".join(attempts))
