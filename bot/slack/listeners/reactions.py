"""Principle reactions: `reaction_added` gives the message's author a kudos for the principle
whose emoji it is, `reaction_removed` withdraws it within the undo window.

Thin: filter what is no principle reaction (files, DMs, the bot's own posts, unknown emoji,
a retired principle's) → look the people up in the directory → `bot/kudos/reactions.py`
records it, with its thread reply and the author's DM queued in the outbox
(bot/slack/reaction_delivery.py) in the same transaction. Events are acknowledged by Bolt
before this runs; nothing here answers anyone except the once-a-day allowance note.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audience import Audience
from bot.blocks.recognition import allowance_note
from bot.kudos.ordering import SETTLE, event_us
from bot.kudos.reactions import (
    OverAllowance,
    ReactedMessage,
    ReactionSeen,
    Recorded,
    give_by_reaction,
    known_permalink,
    note_removed,
    withdraw_reaction,
)
from bot.kudos.service import Recipient
from bot.kudos.ways import Ways, ways_of
from bot.mission.service import PrincipleInfo
from bot.slack.delivery import SLACK_FAILURES
from bot.slack.ids import Event
from bot.slack.lookups import look_up_audience
from bot.slack.reaction_delivery import queue_author_dm, queue_thread_update
from bot.slack.services import SERVICES, Services
from bot.slack.surfaces import ReactionEvent, event
from bot.slack.users import SlackUser

log = logging.getLogger(__name__)

# Conversations where a reaction gives nothing: the bot can't announce in them.
NOT_HERE = frozenset({Audience.DM, Audience.GROUP_DM})


def register(app: App) -> None:
    app.event(Event.REACTION_ADDED)(event(ReactionEvent.of, handle_reaction_added))
    app.event(Event.REACTION_REMOVED, middleware=[note_removal_before_ack])(
        event(ReactionEvent.of, handle_reaction_removed)
    )


def note_removal_before_ack(
    request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Record the removal before Slack hears back (Bolt runs a listener's middleware on the
    request's thread, before the ack): an add of the same reaction that is still being
    handled then records nothing, however long the queue of listeners ahead of the removal's
    own (bot/kudos/ordering.py). One small write, like the event's claim."""
    removal = ReactionEvent.of(request)
    services: Services = context[SERVICES]
    principle = _principle(removal, services)
    if principle is not None and removal.item_user and removal.item_user != removal.user_id:
        now = services.clock()
        with services.db.transaction() as session:
            note_removed(
                session=session,
                team_id=removal.team_id,
                giver_id=removal.user_id,
                channel_id=str(removal.channel_id),
                ts=str(removal.message_ts),
                reaction=_seen(removal, principle, now),
                now=now,
            )
    return next()


def current_ways(services: Services, team_id: str) -> Ways:
    settings = services.settings
    defaults = Ways(
        reactions=settings.kudos_reactions,
        messages=settings.kudos_messages,
        trigger_word=settings.kudos_trigger_word,
    )
    with services.db.reading() as session:
        return ways_of(session=session, team_id=team_id, defaults=defaults)


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


def _seen(request: ReactionEvent, principle: PrincipleInfo, now: dt.datetime) -> ReactionSeen:
    return ReactionSeen(request.reaction, principle.id, event_us(request.event_ts, now))


def _person(request: ReactionEvent, services: Services, user_id: str) -> SlackUser | None:
    try:
        return services.users.get(request.client, request.team_id, user_id)
    except SLACK_FAILURES as error:
        log.info("reaction ignored: user %s unknown to Slack: %s", user_id, type(error).__name__)
        return None


def handle_reaction_added(request: ReactionEvent, services: Services) -> None:
    principle = _principle(request, services)
    author_id = request.item_user
    if principle is None or not author_id or author_id in {request.user_id, request.bot_user_id}:
        return
    channel_id, message_ts = str(request.channel_id), str(request.message_ts)
    if not current_ways(services, request.team_id).reactions:
        return
    giver = _person(request, services, request.user_id)
    author = _person(request, services, author_id)
    if giver is None or author is None or giver.is_bot or giver.deleted:
        return
    now = services.clock()
    audience = look_up_audience(
        client=request.client,
        database=services.db,
        team_id=request.team_id,
        channel_id=channel_id,
        now=now,
    )
    if audience in NOT_HERE:
        return
    message = ReactedMessage(
        channel_id=channel_id,
        ts=message_ts,
        author=Recipient(
            id=author.id, name=author.name, is_bot=author.is_bot, deleted=author.deleted
        ),
        permalink=_permalink(request, services),
    )
    with services.db.transaction() as session:
        outcome = give_by_reaction(
            session=session,
            team_id=request.team_id,
            giver_id=giver.id,
            giver_timezone=giver.timezone,
            message=message,
            reaction=_seen(request, principle, now),
            limit=services.settings.kudos_daily_limit,
            now=now,
            audience=audience,
        )
        if isinstance(outcome, Recorded):
            queue_thread_update(
                session,
                team_id=request.team_id,
                channel_id=message.channel_id,
                ts=message.ts,
                now=now,
                not_before=now + SETTLE,
            )
            if outcome.tell_author:
                queue_author_dm(
                    session,
                    team_id=request.team_id,
                    author_id=author.id,
                    channel_id=message.channel_id,
                    ts=message.ts,
                    now=now,
                    not_before=now + SETTLE,
                )
    services.queued()
    log.info(
        "principle reaction %s channel=%s principle=%s",
        type(outcome).__name__.lower(),
        message.channel_id,
        principle.key,
    )
    if isinstance(outcome, OverAllowance) and outcome.note:
        note = allowance_note(outcome.limit)
        try:
            request.client.chat_postEphemeral(
                channel=message.channel_id, user=giver.id, text=note.text, blocks=note.blocks
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


def handle_reaction_removed(request: ReactionEvent, services: Services) -> None:
    principle = _principle(request, services)
    if principle is None or not request.item_user or request.item_user == request.user_id:
        return
    channel_id, message_ts = str(request.channel_id), str(request.message_ts)
    now = services.clock()
    seen = _seen(request, principle, now)
    giver = _person(request, services, request.user_id)
    if giver is None:
        return
    with services.db.transaction() as session:
        withdrawn = withdraw_reaction(
            session=session,
            team_id=request.team_id,
            giver_id=giver.id,
            giver_timezone=giver.timezone,
            channel_id=channel_id,
            ts=message_ts,
            reaction=seen,
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
