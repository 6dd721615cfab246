"""Principle reactions: `reaction_added` gives the message's author a kudos for the principle
whose emoji it is, `reaction_removed` withdraws it within the undo window.

Thin: filter what is no principle reaction (files, DMs, the bot's own posts, unknown emoji,
a retired principle's) → the give flow every way in shares (bot/kudos/flow.py) records it,
with its thread reply and the author's DM queued in the outbox (bot/slack/outbound/reactions.py)
in the same transaction, held a few seconds (`settled`) since a removal may follow at once.
An add is handled after the ack; a removal before it (`withdraw_before_ack`, one small write
under the giver's lock, with no call to Slack), so that once Slack has the removal's answer the
kudos is gone, whatever the add still being handled does (bot/kudos/ordering.py). Nothing here
answers anyone except the once-a-day allowance note.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.blocks.ids import Event
from bot.blocks.recognition import allowance_note
from bot.errors import AllowanceSpent, KudosRefused
from bot.kudos.flow import KudosRequest, give_and_queue
from bot.kudos.ordering import event_us
from bot.kudos.reactions import (
    ReactedMessage,
    ReactionSeen,
    known_permalink,
    note_allowance_once,
    reaction_words,
    recognise_message,
    withdraw_reaction,
)
from bot.kudos.service import GivenKudos, Source
from bot.kudos.ways import Ways, ways_of
from bot.mission.service import PrincipleInfo
from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.dedup import EventClaim, undo_once
from bot.slack.lookups import SlackDirectory
from bot.slack.outbound.reactions import queue_author_dm, queue_thread_update
from bot.slack.services import SERVICES, Services
from bot.slack.surfaces import ReactionEvent, event

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event(Event.REACTION_ADDED)(event(ReactionEvent.of, handle_reaction_added))
    app.event(Event.REACTION_REMOVED, middleware=[withdraw_before_ack])(removal_handled)


def withdraw_before_ack(
    request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Handle a removal before Slack hears back (Bolt runs a listener's middleware on the
    request's thread, before the ack), however long the queue of listeners after the ack;
    its delivery is claimed in the same write (bot/slack/dedup.py)."""
    removal, services = ReactionEvent.of(request), context[SERVICES]
    return undo_once(lambda claim: handle_reaction_removed(removal, services, claim), context, next)


def removal_handled() -> None:
    """A removal was handled before the ack (`withdraw_before_ack`): nothing is left to do."""


def current_ways(services: Services, team_id: str) -> Ways:
    settings = services.settings
    defaults = Ways(
        reactions=settings.kudos_reactions,
        messages=settings.kudos_messages,
        trigger_word=settings.kudos_trigger_word,
    )
    with services.db.reading() as session:
        return ways_of(session=session, team_id=team_id, defaults=defaults)


def settled(services: Services) -> dt.datetime:
    """When what a reaction or a kudos message gave may be announced: KUDOS_SETTLE_SECONDS
    (ordering.SETTLE) after it is written (not after its event came: its look-ups may have
    taken a while), since Slack sends its undoing right behind it."""
    return services.clock() + dt.timedelta(seconds=services.settings.kudos_settle_seconds)


def _principle(request: ReactionEvent, services: Services) -> PrincipleInfo | None:
    """The principle the reaction stands for, if it is a reaction to a channel message."""
    if request.item_type != "message" or not request.user_id:
        return None
    if request.channel_id is None or request.message_ts is None:
        return None
    if request.channel_id.startswith("D") or request.channel_type in {"im", "mpim"}:
        return None
    if request.user_id == request.bot_user_id:
        return None
    catalog = services.mission.catalog(services.db, request.team_id)
    # Retired principles are not in the catalog: their emoji mean nothing now.
    return catalog.by_reaction(request.reaction)


def handle_reaction_added(request: ReactionEvent, services: Services) -> None:
    principle = _principle(request, services)
    author_id = request.item_user
    if principle is None or not author_id or author_id in {request.user_id, request.bot_user_id}:
        return
    channel_id, message_ts = str(request.channel_id), str(request.message_ts)
    if not current_ways(services, request.team_id).reactions:
        return
    message = ReactedMessage(
        channel_id=channel_id,
        ts=message_ts,
        author_id=author_id,
        permalink=_permalink(request, services),
    )
    kudos = KudosRequest(
        team_id=request.team_id,
        giver_id=request.user_id,
        named_ids=(author_id,),
        principle_id=principle.id,
        message=reaction_words(message.permalink, channel_id),
        source=Source.REACTION,
        channel_id=channel_id,
        message_ts=message_ts,
        event_us=event_us(request.event_ts, services.clock()),
        emoji=request.reaction,
    )

    def announce(session: Session, given: GivenKudos, now: dt.datetime) -> list[tuple[str, str]]:
        """A reaction's kudos is shown in the message's thread reply, and its author hears
        of the message's first recognition by DM."""
        tell_author = recognise_message(session, team_id=request.team_id, message=message, now=now)
        # Both are drawn when sent: a removal handled by then leaves nothing to say.
        held_until = settled(services)
        queue_thread_update(
            session,
            team_id=request.team_id,
            channel_id=channel_id,
            ts=message_ts,
            now=now,
            not_before=held_until,
        )
        if tell_author:
            queue_author_dm(
                session,
                team_id=request.team_id,
                author_id=author_id,
                channel_id=channel_id,
                ts=message_ts,
                now=now,
                not_before=held_until,
            )
        return []

    # A reaction never argues: what `/kudos` would refuse is ignored quietly, except an
    # allowance spent, which the reactor hears of once a day.
    try:
        give_and_queue(
            kudos,
            directory=SlackDirectory.of(services, request.client, request.bot_user_id),
            database=services.db,
            announce=announce,
            limit=services.settings.kudos_daily_limit,
            now=services.clock(),
        )
    except AllowanceSpent as spent:
        _log_outcome("overallowance", channel_id, principle)
        _note_allowance(request, services, spent)
        return
    except KudosRefused as refusal:
        _log_outcome("ignored", channel_id, principle, refusal.message)
        return
    except SLACK_FAILURES as error:
        _log_outcome("ignored", channel_id, principle, f"Slack: {type(error).__name__}")
        return
    services.queued()
    _log_outcome("recorded", channel_id, principle)


def _log_outcome(outcome: str, channel_id: str, principle: PrincipleInfo, why: str = "") -> None:
    log.info(
        "principle reaction %s channel=%s principle=%s %s", outcome, channel_id, principle.key, why
    )


def _note_allowance(request: ReactionEvent, services: Services, spent: AllowanceSpent) -> None:
    """Tell the reactor, once a day, that their reaction gave nothing: the allowance is spent."""
    if spent.day is None:
        return
    with services.db.transaction() as session:
        first = note_allowance_once(
            session, team_id=request.team_id, giver_id=request.user_id, day=spent.day
        )
    if not first:
        return
    person = services.users.cached(request.team_id, [request.user_id]).get(request.user_id)
    t = services.reader_speech(request.team_id, person.locale if person else None)
    note = allowance_note(services.settings.kudos_daily_limit, t)
    try:
        request.client.chat_postEphemeral(
            channel=str(request.channel_id),
            user=request.user_id,
            text=note.text,
            blocks=note.blocks,
        )
    except SLACK_FAILURES as error:
        log.info("allowance note not shown: %s", type(error).__name__)


def _permalink(request: ReactionEvent, services: Services) -> str | None:
    """The message's link: stored with its first recognition, else asked of Slack once."""
    if request.channel_id is None or request.message_ts is None:
        return None
    with services.db.reading() as session:
        known = known_permalink(
            session, team_id=request.team_id, channel_id=request.channel_id, ts=request.message_ts
        )
    if known:
        return known
    try:
        answer = request.client.chat_getPermalink(
            channel=request.channel_id, message_ts=request.message_ts
        )
        return str(answer["permalink"])
    except (SlackApiError, SlackClientError, OSError, KeyError) as error:
        log.info("chat.getPermalink failed: %s", type(error).__name__)
        return None


def handle_reaction_removed(
    request: ReactionEvent, services: Services, claim: EventClaim | None = None
) -> bool:
    """Withdraw the reaction's kudos (unless an alias of it stands), and note the removal so
    that an add still being handled gives nothing, in one transaction with the delivery's
    `claim`. No call to Slack: this runs before the ack. False for a redelivery."""
    principle = _principle(request, services)
    now = services.clock()
    if principle is None or not request.item_user or request.item_user == request.user_id:
        if claim is None:
            return True
        with services.db.transaction() as session:
            return claim.take(session, now)
    channel_id, message_ts = str(request.channel_id), str(request.message_ts)
    with services.db.transaction() as session:
        if claim is not None and not claim.take(session, now):
            return False
        withdrawn = withdraw_reaction(
            session=session,
            team_id=request.team_id,
            giver_id=request.user_id,
            channel_id=channel_id,
            ts=message_ts,
            reaction=ReactionSeen(request.reaction, principle.id, event_us(request.event_ts, now)),
            now=now,
        )
        if withdrawn is not None:
            queue_thread_update(
                session,
                team_id=request.team_id,
                channel_id=channel_id,
                ts=message_ts,
                now=now,
            )
    if withdrawn is not None:
        services.queued()
        log.info("principle reaction removed: kudos withdrawn channel=%s", channel_id)
    return True
