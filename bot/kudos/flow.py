"""One way to give kudos: `give_and_queue`, shared by every way in — `/kudos`, the form, the
"Give kudos for this" shortcut (which opens the form), a principle reaction and kudos in a
message.

The rules, written once, in the order they apply:
1. A user-group mention reaches its members (`Directory.members`): not the giver, not those
   named, at most the group cap; one group counts once against the allowance (`group_cost`).
2. Everyone is looked up at once, with who can read the conversation (`Directory.look_up`:
   memory, then one database read, then Slack only for what neither knows). Someone Slack
   can't answer about in time is taken as a person for now and checked after the answer
   (bot/kudos/checks.py): a kudos is never refused for the bot's own Slack budget.
3. The giver is an active person; kudos in the conversation (a reaction, a message) are not
   given in a DM (the bot couldn't announce them there).
4. A person named who is a bot or has left refuses the kudos (`give` says who); a group's bots
   and leavers are passed over.
5. A reaction recognises a message once per giver and principle, however often it is toggled or
   redelivered; and events about one message take effect in Slack's order (its `event_ts`,
   bot/kudos/ordering.py): a reaction removed, or a message deleted, before its kudos is
   recorded gives nothing (`UndoneMeanwhile`), and an alias of the principle keeps it standing.
6. `give`: not yourself, an active principle, the daily allowance, a double submit seen as one.
7. The way in's announcement (`Announce`) is queued in the kudos's own transaction, so a kudos
   is never recorded without it; what Slack told us on the way is written there too (or on its
   own when the kudos is refused, so the answer is still kept).
   A way in whose undoing may follow at once (a reaction, a kudos message) holds it a few
   seconds (`ordering.SETTLE`), and every announcement is drawn again when it is sent.

Plain Python: Slack is behind the two protocols, so the flow runs in tests without it. How a way
in answers the giver (an ephemeral reply, a tick on the message, nothing) is its listener's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from bot.audience import Audience
from bot.db.engine import Database
from bot.errors import KudosRefused, UndoneMeanwhile
from bot.i18n.speech import N_
from bot.kudos.checks import queue_checks
from bot.kudos.ordering import Mark, still_posted
from bot.kudos.reactions import ReactionSeen, reaction_stands, recognised_already
from bot.kudos.service import GivenKudos, Giver, Giving, Place, Recipient, Source, give, lock_giver
from bot.people import Person

# Conversations where kudos in the conversation give nothing: the bot can't announce in them.
NOT_HERE = frozenset({Audience.DM, Audience.GROUP_DM})
IN_CONVERSATION = frozenset({Source.REACTION, Source.MESSAGE})
RECOGNISED_ALREADY = N_("You already recognised this message for that principle.")


@dataclass(frozen=True, slots=True)
class KudosRequest:
    """A kudos as a way in understood it: who gives it, to whom, for what, and where."""

    team_id: str
    giver_id: str
    named_ids: tuple[str, ...]
    principle_id: int
    message: str
    source: Source
    channel_id: str | None = None
    # The Slack message it is about (a reaction) or was written as (a message).
    message_ts: str | None = None
    group_ids: tuple[str, ...] = ()
    # When Slack sent the event (`event_ts`, in microseconds), and the reaction's emoji as Slack
    # named it: what rule 5 orders by. None for the ways with no event (a command, the form).
    event_us: int | None = None
    emoji: str | None = None


class Found(Protocol):
    """What `Directory.look_up` found, and how to keep what Slack told it."""

    @property
    def people(self) -> Mapping[str, Person]: ...

    @property
    def audience(self) -> Audience: ...

    @property
    def unconfirmed(self) -> Collection[str]:
        """Those Slack couldn't answer about in time: in `people` with what is known (the
        workspace's usual timezone), checked after the answer (bot/kudos/checks.py)."""
        ...

    def remember(self, session: Session, now: dt.datetime) -> None:
        """Write what Slack said in the caller's transaction (the kudos's own)."""

    def remember_alone(self, database: Database, now: dt.datetime) -> None:
        """Write what Slack said in a transaction of its own (the kudos was refused)."""


class Directory(Protocol):
    """The look-ups a kudos needs, answered by Slack (bot/slack/lookups.py) or by a test."""

    def members(
        self, *, team_id: str, giver_id: str, group_ids: Sequence[str], named_ids: Sequence[str]
    ) -> Sequence[str]:
        """The people the groups add to those named; refuses a group too big or empty."""

    def look_up(
        self,
        *,
        team_id: str,
        giver_id: str,
        recipient_ids: Sequence[str],
        channel_id: str | None,
        now: dt.datetime,
    ) -> Found:
        """The giver, the recipients and the conversation's audience, in one go; refuses a
        recipient Slack doesn't know. The bot itself is described as a bot."""


class Announce(Protocol):
    """Queue a new kudos's messages in its transaction; the (team_id, channel_id) of each."""

    def __call__(
        self, session: Session, given: GivenKudos, now: dt.datetime
    ) -> Sequence[tuple[str, str]]: ...


@dataclass(frozen=True, slots=True)
class Queued:
    """A kudos recorded (or seen as a duplicate) and the channels its messages were queued for."""

    given: GivenKudos
    channels: tuple[tuple[str, str], ...]


def give_and_queue(
    request: KudosRequest,
    *,
    directory: Directory,
    database: Database,
    announce: Announce,
    limit: int,
    now: dt.datetime,
) -> Queued:
    """Give the kudos by the rules above and queue its messages, or raise `KudosRefused`.

    One read (the look-up, when memory lacks something) and one write (the kudos with its
    messages), so that `/kudos` answers within Slack's three seconds.
    """
    members = directory.members(
        team_id=request.team_id,
        giver_id=request.giver_id,
        group_ids=request.group_ids,
        named_ids=request.named_ids,
    )
    found = directory.look_up(
        team_id=request.team_id,
        giver_id=request.giver_id,
        recipient_ids=(*request.named_ids, *members),
        channel_id=request.channel_id,
        now=now,
    )
    place = Place(
        team_id=request.team_id,
        channel_id=request.channel_id,
        audience=found.audience,
        message_ts=request.message_ts,
    )
    giving = Giving(
        recipients=recipients(found.people, request.named_ids, members),
        principle_id=request.principle_id,
        message=request.message,
        source=request.source,
        allowance_cost=group_cost(request.named_ids, request.group_ids),
    )
    person = found.people[request.giver_id]
    giver = Giver(id=person.id, timezone=person.timezone)
    try:
        _check_giver_and_place(person, request.source, place)
        with database.transaction() as session:
            recognised = _check_in_order(session, request, giver, place, now)
            if not recognised:
                found.remember(session, now)
                given = give(
                    session=session, giving=giving, giver=giver, place=place, limit=limit, now=now
                )
                if found.unconfirmed and not given.duplicate:
                    involved = {giver.id, *given.receiver_ids}
                    queue_checks(
                        session,
                        team_id=request.team_id,
                        group_id=given.group_id,
                        giver_id=giver.id,
                        user_ids=[u for u in found.unconfirmed if u in involved],
                        counted_timezone=giver.timezone,
                        now=now,
                    )
                channels = () if given.duplicate else tuple(announce(session, given, now))
        if recognised:
            # Refused after the transaction: the reaction's mark stays, an alias keeping the
            # kudos standing when the first reaction goes.
            raise KudosRefused(RECOGNISED_ALREADY)
    except KudosRefused:
        found.remember_alone(database, now)
        raise
    return Queued(given=given, channels=channels)


def group_cost(named_ids: Sequence[str], group_ids: Sequence[str]) -> int | None:
    """What a kudos takes from the allowance: one per person named, one per group mentioned
    (None: one per recipient, as `give` counts by default)."""
    return len(named_ids) + len(group_ids) if group_ids else None


def recipients(
    people: Mapping[str, Person], named_ids: Sequence[str], members: Sequence[str]
) -> tuple[Recipient, ...]:
    """Those named, as they are (`give` refuses bots and leavers among them), then the groups'
    members, passing over their bots and leavers (bot/slack/usergroups.py)."""
    named = [people[user_id] for user_id in named_ids]
    added = [people[user_id] for user_id in members]
    return (
        *(_recipient(person) for person in named),
        *(_recipient(person) for person in added if not (person.is_bot or person.deleted)),
    )


def _recipient(person: Person) -> Recipient:
    return Recipient(id=person.id, name=person.name, is_bot=person.is_bot, deleted=person.deleted)


def _check_giver_and_place(giver: Person, source: Source, place: Place) -> None:
    if giver.is_bot or giver.deleted:
        raise KudosRefused(N_("Kudos are given by people who are active in this workspace."))
    if source in IN_CONVERSATION and place.audience in NOT_HERE:
        raise KudosRefused(N_("Kudos in a direct message can't be announced, so none is given."))


def _check_in_order(
    session: Session, request: KudosRequest, giver: Giver, place: Place, now: dt.datetime
) -> bool:
    """Rule 5, first in the write transaction, as the undoing's withdrawal takes the same locks
    (bot/slack/listeners/reactions.py, messages.py): a reaction under the giver's lock, as
    `give`'s allowance is, so two deliveries at once record one; a message under its mark's.
    True when the giver's reaction already recognised the message for the principle."""
    if request.source not in IN_CONVERSATION:
        return False
    assert place.channel_id is not None
    assert place.message_ts is not None
    event_us = request.event_us
    if request.source is Source.MESSAGE:
        if event_us is not None and not still_posted(
            session,
            Mark(place.team_id, place.channel_id, place.message_ts),
            event_us=event_us,
            now=now,
        ):
            raise UndoneMeanwhile("The message was deleted before its kudos was recorded.")
        return False
    lock_giver(session, place.team_id, giver.id)
    if (
        event_us is not None
        and request.emoji is not None
        and not reaction_stands(
            session,
            Mark(place.team_id, place.channel_id, place.message_ts, giver.id, request.emoji),
            ReactionSeen(request.emoji, request.principle_id, event_us),
            now,
        )
    ):
        raise UndoneMeanwhile("The reaction was removed before its kudos was recorded.")
    return recognised_already(
        session,
        team_id=place.team_id,
        giver_id=giver.id,
        channel_id=place.channel_id,
        ts=place.message_ts,
        principle_id=request.principle_id,
    )
