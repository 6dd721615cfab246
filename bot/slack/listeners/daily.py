"""The principle of the day in Slack: `/mission today|subscribe|unsubscribe|schedule` and the
"Share in channel" button. Parse → schedule/rotation services → render.

These subcommands are routed here by a matcher on `/mission`, registered before the general
`/mission` listener (bolt runs the first listener whose matchers accept the request).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.audience import QuoteScope
from bot.blocks import daily as views
from bot.blocks.common import Message
from bot.config import Settings
from bot.daily.rotation import principle_for_day, recent_kudos
from bot.daily.schedule import (
    DEFAULT_TIMEZONE,
    get_schedule,
    parse_schedule_request,
    subscribe,
    unsubscribe,
)
from bot.db.engine import Database
from bot.db.models import Clock
from bot.errors import UserError
from bot.slack.admins import require_admin
from bot.slack.api_errors import CANT_POST_HERE, NOT_A_MEMBER
from bot.slack.deadline import SlackDeadline, after_ack_safe
from bot.slack.ids import Action, Command
from bot.slack.users import UserDirectory

if TYPE_CHECKING:
    from bot.daily.jobs import DailyScheduler

SUBCOMMANDS = frozenset({"today", "subscribe", "unsubscribe", "schedule"})

INVITE_FIRST = (
    "I can't post in <#{channel}> yet{why}. Type `/invite @missionbot` in the channel, "
    "then {retry}."
)
RETRY_SUBSCRIBE = "`/mission subscribe` again"
RETRY_SHARE = "press *Share in channel* again"
ADMINS_ONLY = (
    "Only workspace admins and the bot's managers can change the principle-of-the-day "
    "schedule here. `/mission schedule` shows what it is."
)
NOT_IN_DMS = "Type `/mission subscribe` in the channel that should get the principle of the day."


def register(app: App) -> None:
    app.command(Command.MISSION, matchers=[is_daily_subcommand])(
        after_ack_safe(handle_daily_subcommand)
    )
    app.action(Action.SHARE_TODAY)(after_ack_safe(handle_share_today))


def _split(command: dict[str, Any]) -> tuple[str, str]:
    text = (command.get("text") or "").strip()
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


def is_daily_subcommand(command: dict[str, Any]) -> bool:
    return _split(command)[0] in SUBCOMMANDS


def handle_daily_subcommand(
    ack: Ack,
    command: dict[str, Any],
    deadline: SlackDeadline,
    db: Database,
    settings: Settings,
    users: UserDirectory,
    clock: Clock,
    scheduler: DailyScheduler | None,
) -> None:
    subcommand, rest = _split(command)
    client = deadline.client  # every Slack call here comes before the ack
    team_id, channel_id, user_id = command["team_id"], command["channel_id"], command["user_id"]
    now = clock()
    if subcommand == "today":
        timezone = users.get(client, team_id, user_id).timezone or DEFAULT_TIMEZONE
        # Shown to the asker alone, in this channel: quotes they or this channel may read.
        scope = QuoteScope(channel_id=channel_id, viewer_id=user_id)
        reply = _today(db, team_id, now.astimezone(ZoneInfo(timezone)).date(), now, scope)
    elif subcommand == "schedule":
        with db.transaction() as session:
            schedule = get_schedule(session=session, team_id=team_id, channel_id=channel_id)
        next_post = schedule.next_post(now) if schedule else None
        reply = views.schedule_status(channel_id, schedule, next_post)
    else:
        _require_schedule_rights(client, settings, users, team_id, user_id)
        if subcommand == "subscribe":
            request = parse_schedule_request(rest)
            _require_can_post(client, channel_id)
            default_timezone = users.get(client, team_id, user_id).timezone
            with db.transaction() as session:
                schedule = subscribe(
                    session=session,
                    team_id=team_id,
                    channel_id=channel_id,
                    user_id=user_id,
                    request=request,
                    default_timezone=default_timezone,
                    now=now,
                )
            reply = views.subscribed(schedule, schedule.next_post(now))
        else:
            with db.transaction() as session:
                existed = unsubscribe(session=session, team_id=team_id, channel_id=channel_id)
            reply = views.unsubscribed(channel_id, existed)
        if scheduler is not None:
            scheduler.reload()
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")


def _today(
    db: Database, team_id: str, day: dt.date, now: dt.datetime, scope: QuoteScope
) -> Message:
    with db.transaction() as session:
        principle = principle_for_day(session=session, team_id=team_id, day=day)
        kudos = recent_kudos(
            session=session, team_id=team_id, principle_id=principle.id, now=now, scope=scope
        )
    return views.today_preview(principle, kudos, day)


def _require_schedule_rights(
    client: WebClient, settings: Settings, users: UserDirectory, team_id: str, user_id: str
) -> None:
    if settings.missionbot_restrict_schedule:
        require_admin(
            client=client,
            settings=settings,
            users=users,
            team_id=team_id,
            user_id=user_id,
            refusal=ADMINS_ONLY,
        )


def _require_can_post(client: WebClient, channel_id: str) -> None:
    """Refuse, with the way out, when the bot is not a member of the channel."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") in NOT_A_MEMBER:
            raise UserError(
                INVITE_FIRST.format(
                    channel=channel_id, why=" (it looks private)", retry=RETRY_SUBSCRIBE
                )
            ) from None
        raise
    if channel.get("is_im") or channel.get("is_mpim"):
        raise UserError(NOT_IN_DMS)
    if channel.get("is_archived"):
        raise UserError(f"<#{channel_id}> is archived, so I can't post there.")
    if not channel.get("is_member"):
        why = " (it's private and I'm not in it)" if channel.get("is_private") else ""
        raise UserError(INVITE_FIRST.format(channel=channel_id, why=why, retry=RETRY_SUBSCRIBE))


def handle_share_today(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    db: Database,
    clock: Clock,
    respond: Respond,
) -> None:
    ack()
    try:
        day = dt.date.fromisoformat(action.get("value") or "")
    except ValueError:
        raise UserError("That button is out of date: try `/mission today` again.") from None
    team_id = body["team"]["id"] if body.get("team") else body["user"]["team_id"]
    channel_id = body["channel"]["id"]
    user_id = body["user"]["id"]
    with db.transaction() as session:
        principle = principle_for_day(session=session, team_id=team_id, day=day)
        # Posted for everyone in the channel: only what this channel may read.
        kudos = recent_kudos(
            session=session,
            team_id=team_id,
            principle_id=principle.id,
            now=clock(),
            scope=QuoteScope(channel_id=channel_id),
        )
    card = views.daily_card(principle, kudos, shared_by=user_id)
    try:
        client.chat_postMessage(
            channel=channel_id, text=card.text, blocks=card.blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        if exc.response.get("error") in CANT_POST_HERE:
            raise UserError(
                INVITE_FIRST.format(channel=channel_id, why="", retry=RETRY_SHARE)
            ) from None
        raise
    respond(delete_original=True)
