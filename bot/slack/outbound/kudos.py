"""Kudos into Slack, through the outbox: the channel's announcement, each receiver's DM, and the
announcement's edit after an undo.

- **Announcements** (`queue_kudos`, in the kudos's transaction) are drawn at send time from the
  database, so a kudos withdrawn meanwhile is never announced, and a channel's backlog goes out
  as one message carrying up to `ANNOUNCED_TOGETHER` kudos (a storm is announced at the pace
  it happens, not one message a second behind it). Where the bot is not a member, the
  command's response_url posts it instead (one kudos per message, since each response_url
  belongs to its own command: `KUDOS_ANNOUNCEMENT_ALONE`); where neither works, the giver
  gets a DM saying so.
- **DMs**, one per receiver, drawn again at send time in the receiver's language as it is
  then (`ReceiverDMs`): a locale changed between the command and the delivery is the one
  they read. The body drawn when the kudos was given is stored too, and sent as it is when the
  kudos can no longer be read back.

Announcements and edits are drawn in the workspace language, whoever gave the kudos.
- **Edits** after an undo (`queue_withdrawal` cancels whatever is still queued and edits what
  was posted), redrawn with every kudos the message carries as it is then.

Every row's subject is the kudos's group_id: the send log names it `kudos:<group_id>`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from bot.blocks.kudos import (
    ANNOUNCED_TOGETHER,
    announcement_not_made,
    kudos_announcement,
    kudos_corrected,
    kudos_dm,
)
from bot.db.models import OutboxMessage
from bot.i18n.negotiate import negotiate
from bot.i18n.speech import Speech, speech
from bot.i18n.whose import person_language, workspace_language
from bot.kudos.checks import Correction
from bot.kudos.groups import groups_in_message, kudos_groups
from bot.kudos.service import GivenKudos, Source, WithdrawnKudos, record_public_message
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import NewMessage
from bot.outbox.sender import Outgoing, QuietHandler, Sender, Sent, StoredBodyHandler
from bot.slack.api_errors import NOT_A_MEMBER
from bot.slack.outbound.reactions import queue_thread_update

log = logging.getLogger(__name__)


def queue_kudos(
    session: Session,
    *,
    team_id: str,
    given: GivenKudos,
    response_url: str | None,
    now: dt.datetime,
    thread_ts: str | None = None,
    not_before: dt.datetime | None = None,
    language: str = "en",
    channel_language: str | None = None,
    locales: Mapping[str, str | None] | None = None,
) -> list[tuple[str, str]]:
    """Queue the announcement (in `thread_ts`'s thread, if given) and the receivers' DMs, in
    the kudos's own transaction; the (team_id, channel_id) of each, for `Sender.notify`.
    `language` is the bot's default (MISSIONBOT_LANGUAGE), for a workspace that set none.

    What the caller already knows saves a query per kudos on the request path:
    `channel_language`, the workspace's language (cached), and `locales`, receivers' Slack
    locales by ID (the people the give just looked up). Whatever is not given is read here."""
    if given.duplicate:
        return []
    messages = []
    if given.channel_id and given.audience.announced:
        messages.append(
            NewMessage(
                team_id=team_id,
                kind=OutboxKind.KUDOS_ANNOUNCEMENT,
                channel_id=given.channel_id,
                subject=given.group_id,
                response_url=response_url,
                thread_ts=thread_ts,
            )
        )
    fallback = channel_language or workspace_language(
        session=session, team_id=team_id, default=language
    )
    for receiver_id in given.receiver_ids:
        if locales is not None and receiver_id in locales:
            their = negotiate(locales[receiver_id], fallback)
        else:
            their = person_language(
                session=session, team_id=team_id, user_id=receiver_id, fallback=fallback
            )
        dm = kudos_dm(given.in_language(their), speech(their), announced=given.audience.announced)
        messages.append(
            NewMessage(
                team_id=team_id,
                kind=OutboxKind.KUDOS_DM,
                channel_id=receiver_id,
                text=dm.text,
                blocks=dm.blocks,
                subject=given.group_id,
            )
        )
    queue.enqueue_many(session, messages, now=now, not_before=not_before)
    return [(team_id, message.channel_id) for message in messages]


def queue_withdrawal(
    session: Session, *, team_id: str, withdrawn: WithdrawnKudos, now: dt.datetime
) -> str | None:
    """Unsend what is still queued, edit what was posted; the channel whose announcement can't
    be edited (posted through response_url), for the giver to be told (`not_editable`)."""
    queue.cancel(session, team_id=team_id, subject=withdrawn.group_id, now=now)
    channel, ts = withdrawn.public_channel_id, withdrawn.public_message_ts
    if channel is None:
        return None
    if ts is None:
        return channel
    _queue_edit(
        session, team_id=team_id, channel_id=channel, ts=ts, subject=withdrawn.group_id, now=now
    )
    return None


def queue_correction(
    session: Session,
    *,
    team_id: str,
    correction: Correction,
    now: dt.datetime,
    language: str = "en",
) -> None:
    """A kudos withdrawn for someone found to be a bot or gone (bot/kudos/checks.py): their DM
    unsent, the announcement redrawn without them (or edited as withdrawn), a reaction's thread
    reply redrawn, and the giver told why by DM, in their language (`language`: the bot's
    default, MISSIONBOT_LANGUAGE, for a workspace that set none)."""
    withdrawn = correction.withdrawn
    unedited: str | None = None
    if withdrawn.withdrawn:
        unedited = queue_withdrawal(session, team_id=team_id, withdrawn=withdrawn, now=now)
    else:
        queue.cancel(
            session,
            team_id=team_id,
            subject=withdrawn.group_id,
            kinds=[OutboxKind.KUDOS_DM],
            channel_ids=withdrawn.receiver_ids,
            now=now,
        )
        channel, ts = withdrawn.public_channel_id, withdrawn.public_message_ts
        if channel is not None and ts is None:
            unedited = channel
        elif channel is not None and ts is not None:
            _queue_edit(
                session,
                team_id=team_id,
                channel_id=channel,
                ts=ts,
                subject=withdrawn.group_id,
                now=now,
            )
        # Not announced yet: the announcement is drawn when sent, without them.
    if withdrawn.source == Source.REACTION and withdrawn.channel_id and withdrawn.message_ts:
        queue_thread_update(
            session,
            team_id=team_id,
            channel_id=withdrawn.channel_id,
            ts=withdrawn.message_ts,
            now=now,
        )
    if correction.tell_giver:
        giver_language = person_language(
            session=session,
            team_id=team_id,
            user_id=withdrawn.giver_id,
            fallback=workspace_language(session=session, team_id=team_id, default=language),
        )
        note = kudos_corrected(correction, unedited, speech(giver_language))
        queue.enqueue(
            session,
            team_id=team_id,
            kind=OutboxKind.MESSAGE,
            channel_id=withdrawn.giver_id,
            text=note.text,
            blocks=note.blocks,
            subject=f"kudos-check:{withdrawn.group_id}",
            now=now,
        )


def _queue_edit(
    session: Session, *, team_id: str, channel_id: str, ts: str, subject: str, now: dt.datetime
) -> None:
    queue.enqueue(
        session,
        team_id=team_id,
        kind=OutboxKind.KUDOS_EDIT,
        channel_id=channel_id,
        update_ts=ts,
        subject=subject,
        now=now,
    )


def channel_speech(session: Session, team_id: str, default: str) -> Speech:
    """What a channel of the workspace reads: its language, never the giver's."""
    return speech(workspace_language(session=session, team_id=team_id, default=default))


class Announcements:
    """Draws a channel's queued kudos into one public message and records where it went."""

    def __init__(self, coalesce: int, language: str = "en") -> None:
        self.coalesce = coalesce
        self.language = language

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        groups = kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows))
        standing = [g for g in groups if not g.withdrawn]
        kept = {g.group_id for g in standing}
        gone = [row for row in rows if row.subject not in kept]
        if not standing:
            return None
        if gone:
            queue.drop(gone, now=now, reason="withdrawn before it was announced")
        t = channel_speech(session, team_id, self.language)
        message = kudos_announcement([g.in_language(t.language) for g in standing], t)
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

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
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
                now=now,
            )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        if len(rows) > 1 and reason in NOT_A_MEMBER:
            # The bot isn't in the channel: each command's own response_url may still post it.
            for row in rows:
                queue.enqueue(
                    session,
                    team_id=team_id,
                    kind=OutboxKind.KUDOS_ANNOUNCEMENT_ALONE,
                    channel_id=channel_id,
                    subject=row.subject,
                    response_url=row.response_url,
                    thread_ts=row.thread_ts,
                    now=now,
                )
            return
        for group in kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows)):
            their = person_language(
                session=session,
                team_id=team_id,
                user_id=group.giver_id,
                fallback=workspace_language(
                    session=session, team_id=team_id, default=self.language
                ),
            )
            note = announcement_not_made(
                group.in_language(their), channel_id, reason, speech(their)
            )
            queue.enqueue(
                session,
                team_id=team_id,
                kind=OutboxKind.MESSAGE,
                channel_id=group.giver_id,
                text=note.text,
                blocks=note.blocks,
                now=now,
            )
        log.warning("kudos announcement failed channel=%s n=%d: %s", channel_id, len(rows), reason)


class Edits(QuietHandler):
    """Redraws an announcement after an undo, with every kudos it carries as it is now."""

    coalesce = ANNOUNCED_TOGETHER

    def __init__(self, language: str = "en") -> None:
        self.language = language

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
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
        t = channel_speech(session, row.team_id, self.language)
        message = kudos_announcement([g.in_language(t.language) for g in groups], t)
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=message.text,
            blocks=message.blocks,
            update_ts=row.update_ts,
        )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        log.warning("kudos announcement edit failed channel=%s: %s", rows[0].channel_id, reason)


class ReceiverDMs(StoredBodyHandler):
    """A receiver's DM, drawn at send time in the language they read then: what only they read
    follows them, even when their locale changed after the kudos was given."""

    def __init__(self, language: str = "en") -> None:
        self.language = language

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        row = rows[0]
        found = kudos_groups(session=session, team_id=row.team_id, group_ids=_subjects(rows))
        if not found:
            return Outgoing.from_row(row)  # as drawn when it was given
        fallback = workspace_language(session=session, team_id=row.team_id, default=self.language)
        their = person_language(
            session=session, team_id=row.team_id, user_id=row.channel_id, fallback=fallback
        )
        dm = kudos_dm(
            found[0].in_language(their), speech(their), announced=found[0].audience.announced
        )
        return Outgoing(
            team_id=row.team_id, channel_id=row.channel_id, text=dm.text, blocks=dm.blocks
        )


def _subjects(rows: Sequence[OutboxMessage]) -> list[str]:
    return [row.subject for row in rows if row.subject]


def register(sender: Sender, language: str = "en") -> None:
    """`language`: the bot's default (MISSIONBOT_LANGUAGE) for workspaces that set none."""
    sender.register(OutboxKind.KUDOS_ANNOUNCEMENT, Announcements(ANNOUNCED_TOGETHER, language))
    sender.register(OutboxKind.KUDOS_ANNOUNCEMENT_ALONE, Announcements(1, language))
    sender.register(OutboxKind.KUDOS_EDIT, Edits(language))
    sender.register(OutboxKind.KUDOS_DM, ReceiverDMs(language))
