"""Recognition in the conversation: a principle's emoji as a reaction, and kudos in a message.

**The reaction is the principle.** Reacting to a message with a principle's emoji (or one of
its aliases) gives its author a kudos tagged to that principle, with a link to the message as
its words. The same rules as `/kudos` hold (not yourself, not bots or people who left, the
daily allowance), but a reaction never argues: whatever `/kudos` would refuse is ignored
quietly, except running out of allowance, which earns the reactor one note a day.

A giver recognises a message once per principle (Slack redelivers events, people toggle
reactions): the check runs under the giver's lock (`lock_giver`), as `give`'s allowance does,
so two deliveries at once record one kudos. Removing the reaction within the undo window
withdraws it, allowance and all, unless another of the giver's reactions meaning the same
principle (an alias) still stands; after that the kudos stands. An add and its removal take
effect in Slack's order whichever is handled first (bot/kudos/ordering.py).

Each recognised message gets one `recognised_messages` row: its author, its permalink, the
thread reply the bot keeps up to date (drawn from `recognition()` at send time) and whether
the author has had their one DM about it. Plain Python: the Slack side is in
bot/slack/listeners/reactions.py and bot/slack/reaction_delivery.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.audience import Audience
from bot.db.models import Kudos, KudosAllowance, Principle, RecognisedMessage
from bot.errors import AllowanceSpent, KudosRefused
from bot.kudos.ordering import Mark, any_standing, note
from bot.kudos.service import (
    UNDO_WINDOW,
    GivenKudos,
    Recipient,
    Source,
    WithdrawnKudos,
    give,
    local_day,
    lock_giver,
    withdraw_group,
)
from bot.mission.service import PrincipleInfo, numbered


@dataclass(frozen=True, slots=True)
class ReactedMessage:
    """The message a reaction was added to, and who wrote it."""

    channel_id: str
    ts: str
    author: Recipient
    permalink: str | None

    @property
    def thread_ts(self) -> str | None:
        """The thread the message is a reply in, if it is one: a reply's permalink says so
        (`…?thread_ts=…&cid=…`), and the bot's reply must go in that thread, not under it."""
        if not self.permalink:
            return None
        thread = parse_qs(urlsplit(self.permalink).query).get("thread_ts")
        return thread[0] if thread and thread[0] != self.ts else None


@dataclass(frozen=True, slots=True)
class Recorded:
    """A new kudos; `tell_author` is True for the first kudos the message earned."""

    given: GivenKudos
    tell_author: bool


@dataclass(frozen=True, slots=True)
class Ignored:
    """Nothing recorded, nothing said: given already, or a rule of `/kudos` said no."""

    reason: str


@dataclass(frozen=True, slots=True)
class OverAllowance:
    """Nothing recorded; `note` is True for the reactor's first such reaction of the day."""

    note: bool
    limit: int


ReactionOutcome = Recorded | Ignored | OverAllowance


def reaction_words(permalink: str | None, channel_id: str) -> str:
    """A reaction kudos's words: where it was given, since the reaction itself says nothing."""
    return f"For this message: {permalink}" if permalink else f"For a message in <#{channel_id}>"


def give_by_reaction(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    giver_timezone: str | None,
    message: ReactedMessage,
    reaction: ReactionSeen,
    limit: int,
    now: dt.datetime,
    audience: Audience,
) -> ReactionOutcome:
    """Record the kudos a principle reaction gives, once per giver, message and principle,
    unless the reaction was removed meanwhile (bot/kudos/ordering.py)."""
    principle_id = reaction.principle_id
    lock_giver(session, team_id, giver_id)
    mark = Mark(team_id, message.channel_id, message.ts, giver_id, reaction.emoji)
    if not _note(session, mark, reaction, now, present=True):
        return Ignored("removed since")
    if _standing(session, team_id, giver_id, message.channel_id, message.ts, principle_id):
        return Ignored("already given")
    try:
        given = give(
            session=session,
            team_id=team_id,
            giver_id=giver_id,
            giver_timezone=giver_timezone,
            recipients=[message.author],
            principle_id=principle_id,
            message=reaction_words(message.permalink, message.channel_id),
            channel_id=message.channel_id,
            source=Source.REACTION,
            limit=limit,
            now=now,
            audience=audience,
            message_ts=message.ts,
        )
    except AllowanceSpent:
        return OverAllowance(
            note=_first_note_today(session, team_id, giver_id, giver_timezone, now), limit=limit
        )
    except KudosRefused as refusal:
        return Ignored(refusal.message)
    _remember_message(session, team_id, message, now)
    return Recorded(given=given, tell_author=_claim_author_dm(session, team_id, message))


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


def note_removed(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    channel_id: str,
    ts: str,
    reaction: ReactionSeen,
    now: dt.datetime,
) -> None:
    """Record a removal as soon as it arrives, before anything is looked up: an add being
    handled meanwhile then finds it and gives nothing. `withdraw_reaction` follows."""
    _note(
        session,
        Mark(team_id, channel_id, ts, giver_id, reaction.emoji),
        reaction,
        now,
        present=False,
    )


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


def _first_note_today(
    session: Session, team_id: str, giver_id: str, giver_timezone: str | None, now: dt.datetime
) -> bool:
    """Mark today's allowance as noted; True only for the call that marked it."""
    result = session.execute(
        update(KudosAllowance)
        .where(
            KudosAllowance.team_id == team_id,
            KudosAllowance.giver_id == giver_id,
            KudosAllowance.day == local_day(now, giver_timezone),
            KudosAllowance.noted.is_(False),
        )
        .values(noted=True)
    )
    return bool(getattr(result, "rowcount", 0))


def _insert(session: Session) -> Any:
    """The dialect's INSERT, for ON CONFLICT (both databases have it, spelled alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _remember_message(
    session: Session, team_id: str, message: ReactedMessage, now: dt.datetime
) -> None:
    statement = _insert(session)(RecognisedMessage).values(
        team_id=team_id,
        channel_id=message.channel_id,
        message_ts=message.ts,
        author_id=message.author.id,
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
    giver_timezone: str | None,
    channel_id: str,
    ts: str,
    reaction: ReactionSeen,
    now: dt.datetime,
) -> WithdrawnKudos | None:
    """The reaction was removed: withdraw its kudos if still within the undo window, unless
    another reaction meaning the same principle (an alias) stands, or the reaction was added
    again since (bot/kudos/ordering.py)."""
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
        giver_timezone=giver_timezone,
        group_id=kudos.group_id,
        now=now,
    )


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
