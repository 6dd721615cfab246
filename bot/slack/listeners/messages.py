"""The one `message` listener (`message.channels`, `message.groups`), and kudos in a message.

Bolt runs one listener per event, so every use of channel messages is dispatched from here:
- a channel made private or public (bot/slack/listeners/conversations.py);
- a new message that starts with the trigger word (`kudos @ana #plain-words thanks …`):
  kudos recorded exactly as `/kudos` would (by the same flow, bot/kudos/flow.py), confirmed
  with a reaction on the message and announced in its thread; a refusal is an ephemeral note
  to its author. A message that names nobody (`Kudos to the whole team!`) is just a message,
  and is left alone;
- `message_deleted`: a kudos message deleted within the undo window withdraws its kudos. That
  is done before the ack (`withdraw_before_ack`: one small write, no call to Slack), and a
  kudos message handled after its deletion records nothing (bot/kudos/ordering.py), so once
  Slack has the deletion's answer the kudos is gone; its announcement waits a few seconds
  (`settled`) for a deletion that follows at once.

An edited message (`message_changed`) changes nothing: the kudos stands as first written
(delete the message within the undo window to withdraw it, then write it again), and a
message edited to start with the trigger word records nothing. A message with a file attached
(`file_share`), a thread reply also sent to the channel (`thread_broadcast`) and a `/me`
message (`me_message`) are new messages by a person like any other; other subtypes (bots'
posts, joins, topic changes…) are ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.blocks.ids import CONFIRMATION_REACTION, Event, MessageSubtype
from bot.blocks.recognition import message_kudos_refused
from bot.errors import KudosRefused, UndoneMeanwhile, UserError
from bot.i18n.speech import N_, Speech
from bot.kudos.flow import KudosRequest, give_and_queue
from bot.kudos.grammar import parse_kudos
from bot.kudos.ordering import event_us
from bot.kudos.reactions import withdraw_deleted
from bot.kudos.service import Source
from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.dedup import EventClaim, undo_once
from bot.slack.listeners import conversations
from bot.slack.listeners.kudos import announcement
from bot.slack.listeners.reactions import current_ways, settled
from bot.slack.lookups import SlackDirectory
from bot.slack.outbound.kudos import queue_withdrawal
from bot.slack.services import SERVICES, Services
from bot.slack.surfaces import MessageEvent, event

log = logging.getLogger(__name__)

# A person's new message: no subtype, or one of these (bots' posts, joins, topic changes… never).
NEW_MESSAGE = frozenset(
    {"None", MessageSubtype.THREAD_BROADCAST, MessageSubtype.FILE_SHARE, MessageSubtype.ME_MESSAGE}
)
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|<!subteam\^S[A-Z0-9]+(?:\|[^>]*)?>")
INCOMPLETE = N_("Name a principle too (`#key`, `#3`, a title word or its emoji) and what they did.")


def register(app: App) -> None:
    app.event(Event.MESSAGE, middleware=[withdraw_before_ack])(
        event(MessageEvent.of, handle_message)
    )


def withdraw_before_ack(
    request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Handle a deletion before Slack hears back (Bolt runs a listener's middleware on the
    request's thread, before the ack), however long the queue of listeners after the ack."""
    message, services = MessageEvent.of(request), context[SERVICES]
    if message.subtype != MessageSubtype.DELETED:
        return next()
    # Claimed in the deletion's own write (bot/slack/dedup.py): a failed one is retried.
    return undo_once(lambda claim: handle_deletion(message, services, claim), context, next)


def handle_message(request: MessageEvent, services: Services) -> None:
    if request.subtype in conversations.CONVERSIONS:
        conversations.handle_message(request, services)
    elif request.subtype == MessageSubtype.DELETED:
        return  # handled before the ack (`withdraw_before_ack`)
    elif request.subtype in NEW_MESSAGE:
        give_from_message(request, services)


def kudos_text(text: str, trigger_word: str) -> str | None:
    """What follows the trigger word, when the message starts with it and names someone."""
    match = re.match(rf"\s*{re.escape(trigger_word)}(?![\w])[\s:,!.-]*", text, re.IGNORECASE)
    if match is None or not MENTION.search(text):
        return None
    return text[match.end() :]


def give_from_message(request: MessageEvent, services: Services) -> None:
    channel_id, ts, user_id, client = (
        request.channel_id,
        request.ts,
        request.user_id,
        request.client,
    )
    if request.from_a_bot or not channel_id or not ts or not user_id or client is None:
        return
    if request.channel_type in {"im", "mpim"} or channel_id.startswith("D"):
        return
    ways = current_ways(services, request.team_id)
    text = kudos_text(request.text, ways.trigger_word) if ways.messages else None
    if text is None:
        return
    thread_ts = request.thread_ts or ts
    try:
        recorded = _record(request, services, text, channel_id, ts, user_id, client, thread_ts)
    except UndoneMeanwhile:
        log.info("kudos message deleted before it was handled channel=%s", channel_id)
        return
    except UserError as refusal:
        person = services.users.cached(request.team_id, [user_id]).get(user_id)
        t = services.reader_speech(request.team_id, person.locale if person else None)
        _tell_author(client, channel_id, user_id, request.thread_ts, refusal, ways.trigger_word, t)
        return
    if not recorded:
        return
    try:
        client.reactions_add(channel=channel_id, timestamp=ts, name=CONFIRMATION_REACTION)
    except SLACK_FAILURES as error:
        # The kudos stands and is announced in the thread; only the tick is missing.
        log.info("confirmation reaction not added: %s", type(error).__name__)


def _record(
    request: MessageEvent,
    services: Services,
    text: str,
    channel_id: str,
    ts: str,
    user_id: str,
    client: WebClient,
    thread_ts: str,
) -> bool:
    """Record the message's kudos (False for a duplicate), or raise the refusal."""
    team_id = request.team_id
    draft = parse_kudos(text, services.mission.catalog(services.db, team_id))
    if not draft.complete or draft.principle is None:
        raise KudosRefused(INCOMPLETE)
    kudos = KudosRequest(
        team_id=team_id,
        giver_id=user_id,
        named_ids=tuple(draft.recipients),
        group_ids=tuple(draft.groups),
        principle_id=draft.principle.id,
        message=draft.message,
        source=Source.MESSAGE,
        channel_id=channel_id,
        message_ts=ts,
        event_us=event_us(request.event_ts, services.clock()),
    )

    queued = give_and_queue(
        kudos,
        directory=SlackDirectory.of(services, client, request.bot_user_id, request.workspace_id),
        database=services.db,
        announce=announcement(
            team_id,
            None,
            thread_ts,
            services,
            held_until=lambda: settled(services),
        ),
        limit=services.settings.kudos_daily_limit,
        now=services.clock(),
    )
    services.queued(queued.channels)
    log.info("kudos from a message channel=%s duplicate=%s", channel_id, queued.given.duplicate)
    return not queued.given.duplicate


def _tell_author(
    client: WebClient,
    channel_id: str,
    user_id: str,
    thread_ts: str | None,
    refusal: UserError,
    trigger_word: str,
    t: Speech,
) -> None:
    note = message_kudos_refused(refusal.said(t), trigger_word, t)
    try:
        client.chat_postEphemeral(
            channel=channel_id,
            user=user_id,
            text=note.text,
            blocks=note.blocks,
            thread_ts=thread_ts,
        )
    except SLACK_FAILURES as error:
        log.info("refusal note not shown: %s", type(error).__name__)


def handle_deletion(
    request: MessageEvent, services: Services, claim: EventClaim | None = None
) -> bool:
    """A kudos message deleted within the undo window withdraws what it recorded, with its
    announcement and DMs if still queued; one handled later records nothing. The delivery's
    `claim` is taken in the same transaction; False for a redelivery."""
    channel_id, deleted_ts = request.channel_id, request.deleted_ts
    team_id = request.team_id
    now = services.clock()
    if not channel_id or not deleted_ts:
        if claim is None:
            return True
        with services.db.transaction() as session:
            return claim.take(session, now)
    with services.db.transaction() as session:
        if claim is not None and not claim.take(session, now):
            return False
        withdrawn = withdraw_deleted(
            session=session,
            team_id=team_id,
            channel_id=channel_id,
            ts=deleted_ts,
            event_us=event_us(request.event_ts, now),
            now=now,
        )
        for each in withdrawn:
            queue_withdrawal(session, team_id=team_id, withdrawn=each, now=now)
    if withdrawn:
        services.queued()
        log.info(
            "kudos message deleted: kudos withdrawn channel=%s n=%d", channel_id, len(withdrawn)
        )
    return True
