"""The one `message` listener (`message.channels`, `message.groups`), and kudos in a message.

Bolt runs one listener per event, so every use of channel messages is dispatched from here:
- a channel made private or public (bot/slack/listeners/conversations.py);
- a new message that starts with the trigger word (`kudos @ana #plain-words thanks …`):
  kudos recorded exactly as `/kudos` would, confirmed with a reaction on the message and
  announced in its thread; a refusal is an ephemeral note to its author. A message that
  names nobody (`Kudos to the whole team!`) is just a message, and is left alone;
- `message_deleted`: a kudos message deleted within the undo window withdraws its kudos.

An edited message (`message_changed`) changes nothing: the kudos stands as first written
(delete the message within the undo window to withdraw it, then write it again), and a
message edited to start with the trigger word records nothing. Other subtypes (bots' posts,
joins, topic changes…) are ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.blocks.recognition import message_kudos_refused
from bot.errors import KudosRefused, UserError
from bot.kudos.grammar import parse_kudos
from bot.kudos.ordering import SETTLE, Mark, event_us, note_deleted, still_posted
from bot.kudos.reactions import kudos_written_as, withdraw_written
from bot.kudos.service import Recipient, Source, give
from bot.slack.delivery import SLACK_FAILURES, queue_kudos, queue_withdrawal
from bot.slack.ids import CONFIRMATION_REACTION, Event, KudosBlock, MessageSubtype
from bot.slack.listeners import conversations
from bot.slack.listeners.kudos import group_cost
from bot.slack.listeners.reactions import current_ways
from bot.slack.lookups import look_up_audience
from bot.slack.services import SERVICES, Services
from bot.slack.surfaces import MessageEvent, event
from bot.slack.usergroups import expand_groups

log = logging.getLogger(__name__)

NEW_MESSAGE = frozenset({"None", MessageSubtype.THREAD_BROADCAST})
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>|<!subteam\^S[A-Z0-9]+(?:\|[^>]*)?>")
INCOMPLETE = "Name a principle too (`#key`, `#3`, a title word or its emoji) and what they did."


def register(app: App) -> None:
    app.event(Event.MESSAGE, middleware=[note_deletion_before_ack])(
        event(MessageEvent.of, handle_message)
    )


def note_deletion_before_ack(
    request: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Record a deletion before Slack hears back (Bolt runs a listener's middleware on the
    request's thread, before the ack): a kudos message still being handled then records
    nothing, however long the queue of listeners ahead of the deletion's own
    (bot/kudos/ordering.py). One small write, like the event's claim."""
    deleted = MessageEvent.of(request)
    if deleted.subtype == MessageSubtype.DELETED and deleted.channel_id and deleted.deleted_ts:
        services: Services = context[SERVICES]
        now = services.clock()
        with services.db.transaction() as session:
            mark = Mark(deleted.team_id, deleted.channel_id, deleted.deleted_ts)
            note_deleted(session, mark, event_us=event_us(deleted.event_ts, now), now=now)
    return next()


def handle_message(request: MessageEvent, services: Services) -> None:
    if request.subtype in conversations.CONVERSIONS:
        conversations.handle_message(request, services)
    elif request.subtype == MessageSubtype.DELETED:
        withdraw_deleted(request, services)
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
    except UserError as refusal:
        _tell_author(client, channel_id, user_id, request.thread_ts, refusal, ways.trigger_word)
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
    members = expand_groups(
        groups=services.groups,
        client=client,
        database=services.db,
        team_id=team_id,
        giver_id=user_id,
        group_ids=draft.groups,
        named_ids=draft.recipients,
        cap=services.settings.kudos_group_cap,
    )
    giver = services.users.get(client, team_id, user_id)
    recipients = [_recipient(services, client, team_id, uid, request) for uid in draft.recipients]
    for member in members:
        person = _recipient(services, client, team_id, member, request)
        if not (person.is_bot or person.deleted):
            recipients.append(person)
    now = services.clock()
    audience = look_up_audience(
        client=client, database=services.db, team_id=team_id, channel_id=channel_id, now=now
    )
    with services.db.transaction() as session:
        mark = Mark(team_id, channel_id, ts)
        if not still_posted(session, mark, event_us=event_us(request.event_ts, now), now=now):
            log.info("kudos message deleted before it was handled channel=%s", channel_id)
            return False
        given = give(
            session=session,
            team_id=team_id,
            giver_id=user_id,
            giver_timezone=giver.timezone,
            recipients=recipients,
            principle_id=draft.principle.id,
            message=draft.message,
            channel_id=channel_id,
            source=Source.MESSAGE,
            limit=services.settings.kudos_daily_limit,
            now=now,
            audience=audience,
            message_ts=ts,
            allowance_cost=group_cost(draft.recipients, draft.groups),
        )
        queue_kudos(
            session,
            team_id=team_id,
            given=given,
            response_url=None,
            now=now,
            thread_ts=thread_ts,
            not_before=now + SETTLE,
        )
    services.queued()
    log.info("kudos from a message channel=%s duplicate=%s", channel_id, given.duplicate)
    return not given.duplicate


def _recipient(
    services: Services, client: WebClient, team_id: str, user_id: str, request: MessageEvent
) -> Recipient:
    try:
        person = services.users.get(client, team_id, user_id)
    except SLACK_FAILURES:
        raise KudosRefused(
            "I can't find one of those people in this workspace. Nothing was recorded.",
            field=KudosBlock.RECIPIENTS,
        ) from None
    return Recipient(
        id=person.id,
        name=person.name,
        is_bot=person.is_bot or person.id == request.bot_user_id,
        deleted=person.deleted,
    )


def _tell_author(
    client: WebClient,
    channel_id: str,
    user_id: str,
    thread_ts: str | None,
    refusal: UserError,
    trigger_word: str,
) -> None:
    note = message_kudos_refused(refusal.message, trigger_word)
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


def withdraw_deleted(request: MessageEvent, services: Services) -> None:
    """A kudos message deleted within the undo window withdraws what it recorded."""
    channel_id, deleted_ts, client = request.channel_id, request.deleted_ts, request.client
    if not channel_id or not deleted_ts or client is None:
        return
    team_id = request.team_id
    # The deletion was recorded before the ack (`note_deletion_before_ack`).
    with services.db.reading() as session:
        written = kudos_written_as(
            session=session, team_id=team_id, channel_id=channel_id, ts=deleted_ts
        )
    for kudos in written:
        try:
            giver = services.users.get(client, team_id, kudos.giver_id)
        except SLACK_FAILURES:
            continue
        now = services.clock()
        with services.db.transaction() as session:
            withdrawn = withdraw_written(
                session=session,
                team_id=team_id,
                kudos=kudos,
                giver_timezone=giver.timezone,
                now=now,
            )
            if withdrawn is not None:
                queue_withdrawal(session, team_id=team_id, withdrawn=withdrawn, now=now)
        if withdrawn is not None:
            services.queued()
            log.info("kudos message deleted: kudos withdrawn channel=%s", channel_id)
