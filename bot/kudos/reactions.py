"""Recognition in the conversation: a principle's emoji as a reaction, and kudos in a message.

**The reaction is the principle.** Reacting to a message with a principle's emoji (or one of
its aliases) gives its author a kudos tagged to that principle, with a link to the message as
its words. The same rules as `/kudos` hold (not yourself, not bots or people who left, the
daily allowance), but a reaction never argues: whatever `/kudos` would refuse is ignored
quietly, except running out of allowance, which earns the reactor one note a day.

It is given by the flow every way in shares (bot/kudos/flow.py), whose rules say that a giver
recognises a message once per principle (Slack redelivers events, people toggle reactions):
the check (`recognised_already`) runs under the giver's lock, as `give`'s allowance does, so
two deliveries at once record one kudos. Removing the reaction within the undo window
withdraws it, allowance and all, unless another of the giver's reactions meaning the same
principle (an alias) still stands; after that the kudos stands. An add and its removal take
effect in Slack's order whichever is handled first (bot/kudos/ordering.py): the flow gives
nothing once `reaction_stands` says the reaction is gone, and the removal is withdrawn before
Slack hears back (`withdraw_reaction`, in the listener's middleware).

Each recognised message gets one `recognised_messages` row: its author, its permalink, the
thread reply the bot keeps up to date (drawn from `recognition()` at send time) and whether
the author has had their one DM about it. Plain Python: the Slack side is in
bot/slack/listeners/reactions.py and bot/slack/outbound/reactions.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import Kudos, KudosAllowance, Principle, RecognisedMessage
from bot.errors import KudosRefused
from bot.kudos.ordering import Mark, any_standing, note, note_deleted
from bot.kudos.service import (
    UNDO_WINDOW,
    Source,
    WithdrawnKudos,
    lock_giver,
    withdraw_group,
)
from bot.mission.service import PrincipleInfo, numbered
from bot.people import find_people


@dataclass(frozen=True, slots=True)
class ReactedMessage:
    """The message a reaction was added to, and who wrote it."""

    channel_id: str
    ts: str
    author_id: str
    permalink: str | None

    @property
    def thread_ts(self) -> str | None:
        """The thread the message is a reply in, if it is one: a reply's permalink says so
        (`…?thread_ts=…&cid=…`), and the bot's reply must go in that thread, not under it."""
        if not self.permalink:
            return None
        thread = parse_qs(urlsplit(self.permalink).query).get("thread_ts")
        return thread[0] if thread and thread[0] != self.ts else None


def reaction_words(permalink: str | None, channel_id: str) -> str:
    """A reaction kudos's words: where it was given, since the reaction itself says nothing."""
    return f"For this message: {permalink}" if permalink else f"For a message in <#{channel_id}>"


def recognised_already(
    session: Session, *, team_id: str, giver_id: str, channel_id: str, ts: str, principle_id: int
) -> bool:
    """Whether the giver's reaction for this principle on this message still stands (the flow
    asks under the giver's lock: bot/kudos/flow.py)."""
    return _standing(session, team_id, giver_id, channel_id, ts, principle_id) is not None


def recognise_message(
    session: Session, *, team_id: str, message: ReactedMessage, now: dt.datetime
) -> bool:
    """Remember a message a reaction kudos was just given for; True for the first kudos it
    earned, whose author gets the one DM about it."""
    _remember_message(session, team_id, message, now)
    return _claim_author_dm(session, team_id, message)


@dataclass(frozen=True, slots=True)
class ReactionSeen:
    """What one `reaction_added`/`reaction_removed` said: the emoji as Slack named it, the
    principle it means, and when Slack sent it (`event_ts`, in microseconds)."""

    emoji: str
    principle_id: int
    event_us: int


def _note(
    session: Session, mark: Mark, reaction: ReactionSeen, now: dt.datetime, *, present: bool
) -> bool:
    """Record the event in Slack's order; whether some reaction meaning its principle stands."""
    note(
        session,
        mark,
        present=present,
        event_us=reaction.event_us,
        now=now,
        principle_id=reaction.principle_id,
    )
    return any_standing(
        session,
        team_id=mark.team_id,
        channel_id=mark.channel_id,
        ts=mark.message_ts,
        user_id=mark.user_id,
        principle_id=reaction.principle_id,
    )


def reaction_stands(session: Session, mark: Mark, reaction: ReactionSeen, now: dt.datetime) -> bool:
    """An add is being given (under the giver's lock, bot/kudos/flow.py): record it in Slack's
    order, and say whether some reaction of the giver meaning its principle still stands —
    False when its removal was handled first."""
    return _note(session, mark, reaction, now, present=True)


def _standing(
    session: Session, team_id: str, giver_id: str, channel_id: str, ts: str, principle_id: int
) -> Kudos | None:
    return session.scalars(
        select(Kudos)
        .where(
            Kudos.team_id == team_id,
            Kudos.channel_id == channel_id,
            Kudos.message_ts == ts,
            Kudos.giver_id == giver_id,
            Kudos.principle_id == principle_id,
            Kudos.source == Source.REACTION.value,
            Kudos.withdrawn_at.is_(None),
        )
        .order_by(Kudos.id.desc())
        .limit(1)
    ).first()


def note_allowance_once(session: Session, *, team_id: str, giver_id: str, day: dt.date) -> bool:
    """Mark the giver's spent allowance of `day` as noted; True only for the call that marked
    it, so a reactor over the allowance hears of it once a day."""
    result = session.execute(
        update(KudosAllowance)
        .where(
            KudosAllowance.team_id == team_id,
            KudosAllowance.giver_id == giver_id,
            KudosAllowance.day == day,
            KudosAllowance.noted.is_(False),
        )
        .values(noted=True)
    )
    return bool(getattr(result, "rowcount", 0))


def _remember_message(
    session: Session, team_id: str, message: ReactedMessage, now: dt.datetime
) -> None:
    statement = dialect_insert(session)(RecognisedMessage).values(
        team_id=team_id,
        channel_id=message.channel_id,
        message_ts=message.ts,
        author_id=message.author_id,
        permalink=message.permalink,
        thread_ts=message.thread_ts,
        dm_queued=False,
        created_at=now,
    )
    session.execute(statement.on_conflict_do_nothing())


def _claim_author_dm(session: Session, team_id: str, message: ReactedMessage) -> bool:
    """True once per message: whoever flips `dm_queued` queues the author's one DM."""
    result = session.execute(
        update(RecognisedMessage)
        .where(
            RecognisedMessage.team_id == team_id,
            RecognisedMessage.channel_id == message.channel_id,
            RecognisedMessage.message_ts == message.ts,
            RecognisedMessage.dm_queued.is_(False),
        )
        .values(dm_queued=True)
    )
    return bool(getattr(result, "rowcount", 0))


def known_permalink(session: Session, *, team_id: str, channel_id: str, ts: str) -> str | None:
    """The permalink stored with the message's first recognition, so later ones needn't ask."""
    row = session.get(RecognisedMessage, (team_id, channel_id, ts))
    return row.permalink if row is not None else None


def withdraw_reaction(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    channel_id: str,
    ts: str,
    reaction: ReactionSeen,
    now: dt.datetime,
) -> WithdrawnKudos | None:
    """The reaction was removed: record it in Slack's order (an add handled later then gives
    nothing) and withdraw its kudos if still within the undo window, unless another reaction
    meaning the same principle (an alias) stands, or the reaction was added again since
    (bot/kudos/ordering.py)."""
    lock_giver(session, team_id, giver_id)
    mark = Mark(team_id, channel_id, ts, giver_id, reaction.emoji)
    if _note(session, mark, reaction, now, present=False):
        return None
    kudos = _standing(session, team_id, giver_id, channel_id, ts, reaction.principle_id)
    if kudos is None or now - kudos.created_at > UNDO_WINDOW:
        return None
    return withdraw_group(
        session=session,
        team_id=team_id,
        giver_id=giver_id,
        giver_timezone=_timezone(session, team_id, giver_id),
        group_id=kudos.group_id,
        now=now,
    )


def _timezone(session: Session, team_id: str, giver_id: str) -> str | None:
    """The giver's timezone as the directory has it (whose allowance day a withdrawal gives
    back): a removal is handled before the ack, with no time to ask Slack, and whoever gave a
    kudos was written to the directory when they did."""
    giver = find_people(session=session, team_id=team_id, user_ids=[giver_id]).get(giver_id)
    return giver.timezone if giver else None


@dataclass(frozen=True, slots=True)
class KudosInMessage:
    group_id: str
    giver_id: str
    created_at: dt.datetime


def kudos_written_as(
    *, session: Session, team_id: str, channel_id: str, ts: str
) -> list[KudosInMessage]:
    """The standing kudos that a message (`kudos @ana …`) recorded, one per group."""
    rows = session.execute(
        select(Kudos.group_id, Kudos.giver_id, Kudos.created_at)
        .where(
            Kudos.team_id == team_id,
            Kudos.channel_id == channel_id,
            Kudos.message_ts == ts,
            Kudos.source == Source.MESSAGE.value,
            Kudos.withdrawn_at.is_(None),
        )
        .order_by(Kudos.id)
    ).all()
    found: dict[str, KudosInMessage] = {}
    for group_id, giver_id, created_at in rows:
        found.setdefault(group_id, KudosInMessage(group_id, giver_id, created_at))
    return list(found.values())


def withdraw_written(
    *,
    session: Session,
    team_id: str,
    kudos: KudosInMessage,
    giver_timezone: str | None,
    now: dt.datetime,
) -> WithdrawnKudos | None:
    """A kudos message was deleted: withdraw what it recorded if within the undo window."""
    if now - kudos.created_at > UNDO_WINDOW:
        return None
    lock_giver(session, team_id, kudos.giver_id)
    try:
        return withdraw_group(
            session=session,
            team_id=team_id,
            giver_id=kudos.giver_id,
            giver_timezone=giver_timezone,
            group_id=kudos.group_id,
            now=now,
        )
    except KudosRefused:
        return None  # withdrawn meanwhile (by `/kudos undo`)


def withdraw_deleted(
    *, session: Session, team_id: str, channel_id: str, ts: str, event_us: int, now: dt.datetime
) -> list[WithdrawnKudos]:
    """A message was deleted: record it in Slack's order (a kudos message handled later then
    records nothing: bot/kudos/flow.py), and withdraw what it recorded within the undo window.
    The mark's row lock comes first, as in the flow, so the two take turns on PostgreSQL."""
    note_deleted(session, Mark(team_id, channel_id, ts), event_us=event_us, now=now)
    withdrawn = []
    for kudos in kudos_written_as(session=session, team_id=team_id, channel_id=channel_id, ts=ts):
        done = withdraw_written(
            session=session,
            team_id=team_id,
            kudos=kudos,
            giver_timezone=_timezone(session, team_id, kudos.giver_id),
            now=now,
        )
        if done is not None:
            withdrawn.append(done)
    return withdrawn


@dataclass(frozen=True, slots=True)
class PrincipleRecognition:
    """One principle a message was recognised for, and by whom, first reactor first."""

    principle: PrincipleInfo
    giver_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MessageRecognition:
    channel_id: str
    ts: str
    author_id: str
    permalink: str | None
    reply_ts: str | None
    principles: tuple[PrincipleRecognition, ...]
    # The thread the reply goes in: the message's own, or its parent's when it is a reply.
    thread_ts: str | None = None


def recognition(
    *, session: Session, team_id: str, channel_id: str, ts: str
) -> MessageRecognition | None:
    """What a recognised message's thread reply says now: its standing reaction kudos."""
    row = session.get(RecognisedMessage, (team_id, channel_id, ts))
    if row is None:
        return None
    kudos = session.execute(
        select(Kudos.principle_id, Kudos.giver_id)
        .where(
            Kudos.team_id == team_id,
            Kudos.channel_id == channel_id,
            Kudos.message_ts == ts,
            Kudos.source == Source.REACTION.value,
            Kudos.withdrawn_at.is_(None),
        )
        .order_by(Kudos.id)
    ).all()
    givers: dict[int, list[str]] = {}
    for principle_id, giver_id in kudos:
        names = givers.setdefault(principle_id, [])
        if giver_id not in names:
            names.append(giver_id)
    principles = numbered(
        list(session.scalars(select(Principle).where(Principle.id.in_(list(givers)))))
    )
    return MessageRecognition(
        channel_id=channel_id,
        ts=ts,
        author_id=row.author_id,
        permalink=row.permalink,
        reply_ts=row.reply_ts,
        thread_ts=row.thread_ts or ts,
        principles=tuple(
            PrincipleRecognition(principles[pid], tuple(ids)) for pid, ids in givers.items()
        ),
    )


def record_reply(
    *, session: Session, team_id: str, channel_id: str, ts: str, reply_ts: str
) -> None:
    """The thread reply was posted: later changes edit it."""
    session.execute(
        update(RecognisedMessage)
        .where(
            RecognisedMessage.team_id == team_id,
            RecognisedMessage.channel_id == channel_id,
            RecognisedMessage.message_ts == ts,
            RecognisedMessage.reply_ts.is_(None),
        )
        .values(reply_ts=reply_ts)
    )
