"""Who may read a kudos: the audience of the conversation it was given in, and where it may be
quoted again.

A kudos records its audience when it is given. The rule every surface follows:

* a kudos given in a **public channel** may be quoted anywhere in the workspace;
* any other kudos (private or shared channel, group DM, DM, or unknown — the App Home, or a
  conversation Slack wouldn't describe) is quoted only back in the conversation it was given
  in, or to the people it names (its giver and receivers) — never to a third person.

When in doubt a kudos is private: "unknown" counts as private, and so does a channel shared
with another organisation (Slack Connect). Counts (leaderboards, tallies) reveal no words and
stay whole.

A channel made private (or shared) later stops being quoted from then on: `narrow_audience`
marks its kudos as such. A channel made public later does not widen what was said while it
was private. Slack's own copies of old messages are Slack's to show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.db.dialect import dialect_insert
from bot.db.models import Conversation, Kudos, table

# How long what Slack said of a conversation is trusted before it is asked again; the events
# that change an audience (bot/slack/listeners/conversations.py) update it sooner.
AUDIENCE_MAX_AGE = dt.timedelta(hours=6)


class Audience(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"
    GROUP_DM = "group_dm"
    DM = "dm"
    UNKNOWN = "unknown"

    @property
    def quotable_anywhere(self) -> bool:
        return self is Audience.PUBLIC

    @property
    def announced(self) -> bool:
        """Whether a kudos given here is announced in the conversation: not in a DM."""
        return self is not Audience.DM


@dataclass(frozen=True, slots=True)
class QuoteScope:
    """Where a quote would be shown: in a conversation, and/or to one person alone.

    `channel_id` is the conversation the message goes to; `viewer_id` is set when only that
    person will see it (an ephemeral reply). A kudos from that same conversation, or naming
    that person, may be quoted there even if it isn't public.
    """

    channel_id: str | None = None
    viewer_id: str | None = None


def quotable(scope: QuoteScope) -> ColumnElement[bool]:
    """The SQL condition on `Kudos` for "its words may be shown in `scope`"."""
    allowed: list[ColumnElement[bool]] = [Kudos.audience == Audience.PUBLIC.value]
    if scope.channel_id:
        allowed.append(Kudos.channel_id == scope.channel_id)
    if scope.viewer_id:
        named = aliased(Kudos)
        allowed.append(Kudos.giver_id == scope.viewer_id)
        allowed.append(
            exists(
                select(named.id).where(
                    named.team_id == Kudos.team_id,
                    named.group_id == Kudos.group_id,
                    named.receiver_id == scope.viewer_id,
                )
            )
        )
    return or_(*allowed)


def known_audience(
    *, session: Session, team_id: str, channel_id: str, now: dt.datetime
) -> Audience | None:
    """What the bot knows of the conversation's audience, if it is recent enough to trust."""
    row = session.execute(_KNOWN, {"team_id": team_id, "channel_id": channel_id}).first()
    if row is None or row.checked_at < now - AUDIENCE_MAX_AGE:
        return None
    return Audience(row.audience)


# Built once, on the table (see bot.db.models.table): every kudos given in a channel reads it.
_CONVERSATIONS = table(Conversation)
_KNOWN = select(_CONVERSATIONS.c.audience, _CONVERSATIONS.c.checked_at).where(
    _CONVERSATIONS.c.team_id == bindparam("team_id"),
    _CONVERSATIONS.c.channel_id == bindparam("channel_id"),
)


def remember_audience(
    *, session: Session, team_id: str, channel_id: str, audience: Audience, now: dt.datetime
) -> None:
    """Record what Slack said of the conversation; a narrower audience also narrows its kudos."""
    insert = dialect_insert(session)
    values = insert(Conversation).values(
        team_id=team_id, channel_id=channel_id, audience=audience.value, checked_at=now
    )
    session.execute(
        values.on_conflict_do_update(
            index_elements=[Conversation.team_id, Conversation.channel_id],
            set_={"audience": values.excluded.audience, "checked_at": values.excluded.checked_at},
        )
    )
    if not audience.quotable_anywhere:
        narrow_audience(session=session, team_id=team_id, channel_id=channel_id, to=audience)


def forget_audience(*, session: Session, team_id: str, channel_id: str) -> None:
    """Ask Slack again next time (e.g. a channel no longer shared may be public or private)."""
    row = session.get(Conversation, (team_id, channel_id))
    if row is not None:
        session.delete(row)


def narrow_audience(*, session: Session, team_id: str, channel_id: str, to: Audience) -> int:
    """Mark the public kudos of a conversation that is no longer public; how many changed."""
    result = session.execute(
        update(Kudos)
        .where(
            and_(
                Kudos.team_id == team_id,
                Kudos.channel_id == channel_id,
                Kudos.audience == Audience.PUBLIC.value,
            )
        )
        .values(audience=to.value)
    )
    return int(getattr(result, "rowcount", 0) or 0)
