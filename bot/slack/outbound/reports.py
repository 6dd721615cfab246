"""Reports into Slack, through the outbox: a leaderboard shared in the channel, and an export's
CSV uploaded into the person's DM, followed by a note to them through the command.

A shared report is posted in the channel, or through the command's response_url where the bot
isn't a member (bot/slack/transport.py). Both are stored whole when queued: the send log names
each by its own row (`outbox:<id>`), and the note after an export by the export's. The note
is in the language of the person who asked for the export, stored with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.blocks.common import Message
from bot.db.models import OutboxMessage
from bot.i18n.speech import speech
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.sender import Sender, Sent, StoredBodyHandler


def queue_shared(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message: Message,
    response_url: str | None,
) -> int:
    """A report shared in the channel (a leaderboard); the outbox row's id."""
    return queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.SHARED_REPORT,
        channel_id=channel_id,
        text=message.text,
        blocks=message.blocks,
        response_url=response_url,
    ).id


def queue_export(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    filename: str,
    title: str,
    content: str,
    comment: str,
    response_url: str | None,
    language: str = "en",
) -> int:
    """A CSV into the person's DM with `comment`; once it is there, a note to them through
    the command's response_url (when there is one). The outbox row's id."""
    return queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.EXPORT_DM,
        channel_id=user_id,
        text=comment,
        file={"filename": filename, "title": title, "content": content},
        after={"language": language},
        response_url=response_url,
    ).id


class Exports(StoredBodyHandler):
    """Uploads the stored CSV; then tells the person where it is, through the command."""

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        for row in rows:
            if not row.response_url:
                continue
            body = queue.stored_body(row) or {}
            t = speech((body.get("after") or {}).get("language") or "en")
            if sent.channel_id:
                where = t.gettext("I sent you the CSV file in {channel}: {comment}")
            else:
                where = t.gettext("I sent you the CSV file in your DM with me: {comment}")
            said = where.format(channel=f"<#{sent.channel_id}>", comment=body.get("text", ""))
            note = f":page_facing_up: {said}"
            queue.enqueue(
                session,
                team_id=row.team_id,
                kind=OutboxKind.COMMAND_REPLY,
                channel_id=row.channel_id,
                text=note,
                reply=True,
                response_url=row.response_url,
                # The export it follows: logged as `outbox:<export's id>`.
                subject=str(row.id),
                now=now,
            )


def register(sender: Sender, language: str = "en") -> None:
    sender.register(OutboxKind.SHARED_REPORT, StoredBodyHandler())
    sender.register(OutboxKind.EXPORT_DM, Exports())
    sender.register(OutboxKind.COMMAND_REPLY, StoredBodyHandler())
