"""The principle of the day in Slack: `/mission today|subscribe|unsubscribe|schedule` and the
"Share in channel" button. Parse → schedule/rotation services → render.

The subcommands are declared on the `/mission` router (bot/slack/commands.py). Every Slack call
they make comes before the ack, so they use the request's quick client.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.audience import QuoteScope
from bot.blocks import daily as views
from bot.blocks.common import Message
from bot.blocks.ids import Action
from bot.daily.jobs import next_post
from bot.daily.rotation import principle_for_day, recent_kudos
from bot.daily.schedule import DEFAULT_TIMEZONE, parse_schedule_request
from bot.daily.subscriptions import get_schedule, subscribe, unsubscribe
from bot.db.engine import Database
from bot.errors import UserError
from bot.i18n.speech import N_, Speech
from bot.slack.api_errors import CANT_POST_HERE, NOT_A_MEMBER
from bot.slack.commands import MISSION, CommandRequest, Who
from bot.slack.deadline import after_ack_safe
from bot.slack.services import Services
from bot.slack.surfaces import ShareToday, interaction

# Whole sentences, one per case, so that each language words them its own way.
INVITE_TO_SUBSCRIBE = N_(
    "I can't post in {channel} yet. Type `/invite @missionbot` in the channel, "
    "then `/mission subscribe` again."
)
INVITE_TO_SUBSCRIBE_PRIVATE = N_(
    "I can't post in {channel} yet (it looks private). Type `/invite @missionbot` in the "
    "channel, then `/mission subscribe` again."
)
INVITE_TO_SUBSCRIBE_NOT_IN = N_(
    "I can't post in {channel} yet (it's private and I'm not in it). Type `/invite @missionbot` "
    "in the channel, then `/mission subscribe` again."
)
INVITE_TO_SHARE = N_(
    "I can't post in {channel} yet. Type `/invite @missionbot` in the channel, "
    "then press *Share in channel* again."
)
ARCHIVED = N_("{channel} is archived, so I can't post there.")
OUT_OF_DATE = N_("That button is out of date: try `/mission today` again.")
ADMINS_ONLY = N_(
    "Only workspace admins and the bot's managers can change the principle-of-the-day "
    "schedule here. `/mission schedule` shows what it is."
)
NOT_IN_DMS = N_(
    "Type `/mission subscribe` in the channel that should get the principle of the day."
)


def register(app: App) -> None:
    app.action(Action.SHARE_TODAY)(after_ack_safe(interaction(ShareToday.of, handle_share_today)))


@MISSION.subcommand(
    "today", help=N_("`/mission today` shows today's principle, with a button to share it here")
)
def show_today(ack: Ack, request: CommandRequest, services: Services) -> None:
    user = services.users.get(request.quick_client, request.team_id, request.user_id)
    now = services.clock()
    day = now.astimezone(ZoneInfo(user.timezone or DEFAULT_TIMEZONE)).date()
    # Shown to the asker alone, in this channel: quotes they or this channel may read.
    scope = QuoteScope(channel_id=str(request.channel_id), viewer_id=request.user_id)
    reply = _today(services.db, request.team_id, day, now, scope, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@MISSION.subcommand(
    "subscribe",
    help=N_(
        "`/mission subscribe [08:30|8:30am] [weekdays|daily|mon,wed,…] [Area/City] [digest]` "
        "posts the principle of the day in this channel (default 09:00 on weekdays, in your "
        "timezone); `digest` adds a Monday digest of last week's kudos"
    ),
    who=Who.SCHEDULE_MANAGERS,
    refusal=ADMINS_ONLY,
)
def subscribe_channel(ack: Ack, request: CommandRequest, services: Services) -> None:
    schedule_request = parse_schedule_request(request.args)
    channel_id = str(request.channel_id)
    _require_can_post(request.quick_client, channel_id)
    default_timezone = services.users.get(
        request.quick_client, request.team_id, request.user_id
    ).timezone
    now = services.clock()
    with services.db.transaction() as session:
        schedule = subscribe(
            session=session,
            team_id=request.team_id,
            channel_id=channel_id,
            user_id=request.user_id,
            request=schedule_request,
            default_timezone=default_timezone,
            now=now,
        )
    _reload(services)
    reply = views.subscribed(schedule, next_post(schedule, now), request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@MISSION.subcommand(
    "schedule", help=N_("`/mission schedule` shows this channel's schedule and the next post")
)
def show_schedule(ack: Ack, request: CommandRequest, services: Services) -> None:
    channel_id = str(request.channel_id)
    with services.db.transaction() as session:
        schedule = get_schedule(session=session, team_id=request.team_id, channel_id=channel_id)
    upcoming = next_post(schedule, services.clock()) if schedule else None
    reply = views.schedule_status(channel_id, schedule, upcoming, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


@MISSION.subcommand(
    "unsubscribe",
    help=N_("`/mission unsubscribe` stops the posts in this channel"),
    who=Who.SCHEDULE_MANAGERS,
    refusal=ADMINS_ONLY,
)
def unsubscribe_channel(ack: Ack, request: CommandRequest, services: Services) -> None:
    channel_id = str(request.channel_id)
    with services.db.transaction() as session:
        existed = unsubscribe(session=session, team_id=request.team_id, channel_id=channel_id)
    _reload(services)
    reply = views.unsubscribed(channel_id, existed, request.speech())
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def _reload(services: Services) -> None:
    if services.scheduler is not None:
        services.scheduler.reload()


def _today(
    db: Database, team_id: str, day: dt.date, now: dt.datetime, scope: QuoteScope, t: Speech
) -> Message:
    """Today's principle for the asker alone, in their language."""
    with db.transaction() as session:
        principle = principle_for_day(session=session, team_id=team_id, day=day)
        kudos = recent_kudos(
            session=session, team_id=team_id, principle_id=principle.id, now=now, scope=scope
        )
    return views.today_preview(principle.in_language(t.language), kudos, day, t)


def _require_can_post(client: WebClient, channel_id: str) -> None:
    """Refuse, with the way out, when the bot is not a member of the channel."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") in NOT_A_MEMBER:
            raise UserError(
                INVITE_TO_SUBSCRIBE_PRIVATE, fields={"channel": f"<#{channel_id}>"}
            ) from None
        raise
    if channel.get("is_im") or channel.get("is_mpim"):
        raise UserError(NOT_IN_DMS)
    if channel.get("is_archived"):
        raise UserError(ARCHIVED, fields={"channel": f"<#{channel_id}>"})
    if not channel.get("is_member"):
        refusal = INVITE_TO_SUBSCRIBE_NOT_IN if channel.get("is_private") else INVITE_TO_SUBSCRIBE
        raise UserError(refusal, fields={"channel": f"<#{channel_id}>"})


def handle_share_today(ack: Ack, request: ShareToday, services: Services) -> None:
    ack()
    try:
        day = dt.date.fromisoformat(request.day)
    except ValueError:
        raise UserError(OUT_OF_DATE) from None
    team_id, channel_id, user_id = request.team_id, request.channel_id, request.user_id
    with services.db.transaction() as session:
        principle = principle_for_day(session=session, team_id=team_id, day=day)
        # Posted for everyone in the channel: only what this channel may read.
        kudos = recent_kudos(
            session=session,
            team_id=team_id,
            principle_id=principle.id,
            now=services.clock(),
            scope=QuoteScope(channel_id=channel_id),
        )
    # Shared for the whole channel: the workspace language, not the sharer's.
    t = services.channel_speech(team_id)
    card = views.daily_card(principle.in_language(t.language), kudos, shared_by=user_id, t=t)
    try:
        request.client.chat_postMessage(
            channel=channel_id, text=card.text, blocks=card.blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        if exc.response.get("error") in CANT_POST_HERE:
            raise UserError(INVITE_TO_SHARE, fields={"channel": f"<#{channel_id}>"}) from None
        raise
    assert request.respond is not None  # a button's payload always has a response_url
    request.respond(delete_original=True)
