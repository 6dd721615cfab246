"""Principle reactions into Slack, through the outbox: the thread reply and the author's DM.

**One thread reply per recognised message.** Every reaction kudos (and every withdrawal)
queues a `REACTION_THREAD` row for its message; the sender coalesces every due row of one
message (same channel and `thread_ts`) into one send, and paces a channel at one message a
second, so a burst of 200 reactions becomes a post and then an edit a second at most. The
reply is drawn at send time from the database (`recognition`): the first send posts it in
the message's thread, `on_sent` records its ts, and every later send edits it in place.

**One DM per message.** The author hears once, when the message earns its first kudos; the
DM is drawn when sent, so it lists whatever the burst had gathered by then.

Both are about the recognised message: the send log names it `message:<channel>/<ts>`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from bot.blocks.recognition import author_dm, thread_reply
from bot.db.models import OutboxMessage
from bot.i18n.speech import speech
from bot.i18n.whose import person_language, workspace_language
from bot.kudos.reactions import MessageRecognition, recognition, record_reply
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.sender import Outgoing, QuietHandler, Sender, Sent
from bot.people import find_people

log = logging.getLogger(__name__)

# Everything due for one message goes in one send: the reply is redrawn whole anyway.
THREAD_COALESCE = 10_000
SUBJECT_LIMIT = 64


def queue_thread_update(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    ts: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> None:
    """The message's recognition changed: (re)draw its thread reply (not before `not_before`)."""
    queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.REACTION_THREAD,
        channel_id=channel_id,
        thread_ts=ts,
        now=now,
        not_before=not_before,
    )


def queue_author_dm(
    session: Session,
    *,
    team_id: str,
    author_id: str,
    channel_id: str,
    ts: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> None:
    subject = f"{channel_id}/{ts}"
    if len(subject) > SUBJECT_LIMIT:
        log.warning("reaction DM not queued: message reference too long: %s", subject[:80])
        return
    queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.REACTION_DM,
        channel_id=author_id,
        subject=subject,
        now=now,
        not_before=not_before,
    )


def names_of(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """People's names from the directory; someone it doesn't know yet is left out."""
    found = find_people(session=session, team_id=team_id, user_ids=user_ids)
    return {user_id: person.name for user_id, person in found.items()}


def _named(session: Session, team_id: str, found: MessageRecognition) -> dict[str, str]:
    return names_of(
        session, team_id, (gid for line in found.principles for gid in line.giver_ids[:2])
    )


def _in_language(found: MessageRecognition, language: str) -> MessageRecognition:
    """The recognition with its principles as a reader of `language` sees them."""
    lines = tuple(
        dataclasses.replace(line, principle=line.principle.in_language(language))
        for line in found.principles
    )
    return dataclasses.replace(found, principles=lines)


class ThreadReplies:
    """Posts a recognised message's thread reply, then edits it as its reactions change: in
    the workspace language, whoever reacted."""

    coalesce = THREAD_COALESCE

    def __init__(self, language: str = "en") -> None:
        self.language = language

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        row = rows[0]
        if row.thread_ts is None:
            return None
        found = recognition(
            session=session, team_id=row.team_id, channel_id=row.channel_id, ts=row.thread_ts
        )
        if found is None or (found.reply_ts is None and not found.principles):
            return None  # withdrawn before anything was posted: nothing to say
        t = speech(workspace_language(session=session, team_id=row.team_id, default=self.language))
        message = thread_reply(
            _in_language(found, t.language), _named(session, row.team_id, found), t
        )
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=message.text,
            blocks=message.blocks,
            thread_ts=None if found.reply_ts else found.thread_ts,
            update_ts=found.reply_ts,
        )

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        row = rows[0]
        if sent.ts and row.thread_ts:
            record_reply(
                session=session,
                team_id=row.team_id,
                channel_id=row.channel_id,
                ts=row.thread_ts,
                reply_ts=sent.ts,
            )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        # The kudos stand and were DMed; only the thread reply is missing.
        log.warning("reaction thread reply failed channel=%s: %s", rows[0].channel_id, reason)


class AuthorDms(QuietHandler):
    """The author's one DM about a recognised message, drawn when it is sent, in their
    language."""

    def __init__(self, language: str = "en") -> None:
        self.language = language

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        row = rows[0]
        channel_id, _, ts = (row.subject or "").partition("/")
        found = recognition(session=session, team_id=row.team_id, channel_id=channel_id, ts=ts)
        if found is None or not found.principles:
            return None  # every reaction withdrawn before the DM went: nothing to tell
        fallback = workspace_language(session=session, team_id=row.team_id, default=self.language)
        their = person_language(
            session=session, team_id=row.team_id, user_id=found.author_id, fallback=fallback
        )
        message = author_dm(
            _in_language(found, their), _named(session, row.team_id, found), speech(their)
        )
        return Outgoing(
            team_id=row.team_id, channel_id=row.channel_id, text=message.text, blocks=message.blocks
        )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        log.warning("reaction DM failed user=%s: %s", rows[0].channel_id, reason)


def register(sender: Sender, language: str = "en") -> None:
    sender.register(OutboxKind.REACTION_THREAD, ThreadReplies(language))
    sender.register(OutboxKind.REACTION_DM, AuthorDms(language))
