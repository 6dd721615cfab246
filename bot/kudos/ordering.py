"""Events about one message take effect in the order Slack sent them.

Slack delivers `reaction_added` and `reaction_removed` (or a `kudos …` message and its
`message_deleted`) as separate requests; both are handled after the ack, in parallel, by any
process of the bot, so the removal can be handled before the add it undoes. Each event
therefore first writes what it says into `message_marks`, a last-writer-wins register per
subject ordered by Slack's own `event_ts`:

- a reaction's subject is (team, channel, message ts, reactor, emoji); a message's is
  (team, channel, message ts) with an empty reactor and emoji;
- `note` writes `present` only when its event is newer than the one recorded (on a tie a
  removal wins: nothing given is the safe side), so an add handled after its removal
  leaves the removal's "absent" in place;
- the caller then acts on the register, not on its own event: a reaction kudos is given
  only while some reaction meaning that principle stands (`any_standing`), and withdrawn
  only when none does; a kudos message is recorded only while it isn't deleted.

The write is one `INSERT … ON CONFLICT DO UPDATE … WHERE`; the read that follows runs in the
same transaction, after the giver's lock (reactions: every emoji of one giver) or the mark's
own row lock (a message), so two processes on one PostgreSQL see one order. Marks are kept a
day, like `processed_events`: reordering happens within seconds, retries within minutes, and
a kudos can be undone only within `UNDO_WINDOW`. Plain Python: no Slack here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, false, or_, select
from sqlalchemy.orm import Session

from bot.db.dialect import dialect_insert
from bot.db.models import MessageMark

KEEP_FOR = dt.timedelta(days=1)
# How long what a message or a reaction gave waits before it is announced or DMed: Slack sends
# its undoing (a deletion, a removal) right behind it, and the undoing is handled by then, so a
# reaction toggled off at once says nothing at all instead of posting and then editing.
SETTLE = dt.timedelta(seconds=3)
# The message itself, rather than one person's reaction to it.
WHOLE_MESSAGE = ""


@dataclass(frozen=True, slots=True)
class Mark:
    """One subject: a message, or one person's reaction to it (emoji as Slack names it)."""

    team_id: str
    channel_id: str
    message_ts: str
    user_id: str = WHOLE_MESSAGE
    emoji: str = WHOLE_MESSAGE


def event_us(event_ts: str | None, now: dt.datetime) -> int:
    """Slack's `event_ts` ("1360782804.083113") in microseconds; `now` if it has none."""
    try:
        if event_ts:
            return int(Decimal(event_ts) * 1_000_000)
    except (InvalidOperation, ValueError):
        pass
    return int(now.timestamp() * 1_000_000)


def note(
    session: Session,
    mark: Mark,
    *,
    present: bool,
    event_us: int,
    now: dt.datetime,
    principle_id: int | None = None,
) -> None:
    """Record what an event says about `mark`, unless a later event already said otherwise."""
    insert = dialect_insert(session)
    statement = insert(MessageMark).values(
        team_id=mark.team_id,
        channel_id=mark.channel_id,
        message_ts=mark.message_ts,
        user_id=mark.user_id,
        mark=mark.emoji,
        present=present,
        event_us=event_us,
        principle_id=principle_id,
        updated_at=now,
    )
    newer = or_(
        MessageMark.event_us < statement.excluded.event_us,
        (MessageMark.event_us == statement.excluded.event_us)
        & (statement.excluded.present == false()),
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[
                MessageMark.team_id,
                MessageMark.channel_id,
                MessageMark.message_ts,
                MessageMark.user_id,
                MessageMark.mark,
            ],
            set_={
                "present": statement.excluded.present,
                "event_us": statement.excluded.event_us,
                "principle_id": statement.excluded.principle_id,
                "updated_at": statement.excluded.updated_at,
            },
            where=newer,
        )
    )


def is_present(session: Session, mark: Mark) -> bool:
    """What the latest event about `mark` said (True when none did: nothing said otherwise)."""
    found = session.scalar(
        select(MessageMark.present).where(
            MessageMark.team_id == mark.team_id,
            MessageMark.channel_id == mark.channel_id,
            MessageMark.message_ts == mark.message_ts,
            MessageMark.user_id == mark.user_id,
            MessageMark.mark == mark.emoji,
        )
    )
    return found is None or bool(found)


def any_standing(
    session: Session, *, team_id: str, channel_id: str, ts: str, user_id: str, principle_id: int
) -> bool:
    """Whether some reaction of `user_id` on the message still means `principle_id`."""
    return (
        session.scalar(
            select(MessageMark.mark)
            .where(
                MessageMark.team_id == team_id,
                MessageMark.channel_id == channel_id,
                MessageMark.message_ts == ts,
                MessageMark.user_id == user_id,
                MessageMark.principle_id == principle_id,
                MessageMark.present.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def prune_marks(*, session: Session, now: dt.datetime) -> int:
    """Forget marks older than a day; how many were forgotten."""
    result = session.execute(delete(MessageMark).where(MessageMark.updated_at < now - KEEP_FOR))
    return int(getattr(result, "rowcount", 0) or 0)


def still_posted(session: Session, mark: Mark, *, event_us: int, now: dt.datetime) -> bool:
    """A message is being handled: False when its deletion was handled first."""
    note(session, mark, present=True, event_us=event_us, now=now)
    return is_present(session, mark)


def note_deleted(session: Session, mark: Mark, *, event_us: int, now: dt.datetime) -> None:
    """A message was deleted: whatever handles its posting later records nothing."""
    note(session, mark, present=False, event_us=event_us, now=now)
