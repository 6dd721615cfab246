"""Events that change who can read a conversation: a channel made private or public, shared
with another organisation (Slack Connect) or no longer shared.

Each one updates what every bot process knows of the channel (bot/audience.py); a channel
that is no longer public also stops its kudos being quoted anywhere else from now on. The
conversions arrive as `message` events, dispatched here by the one message listener
(bot/slack/listeners/messages.py).
"""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.audience import Audience, forget_audience, remember_audience
from bot.blocks.ids import Event, MessageSubtype
from bot.slack.services import Services
from bot.slack.surfaces import ChannelEvent, MessageEvent, event

log = logging.getLogger(__name__)

CONVERSIONS: dict[str, Audience] = {
    MessageSubtype.CONVERTED_TO_PRIVATE: Audience.PRIVATE,
    MessageSubtype.CONVERTED_TO_PUBLIC: Audience.PUBLIC,
}


def register(app: App) -> None:
    app.event(Event.CHANNEL_SHARED)(event(ChannelEvent.of, handle_channel_shared))
    app.event(Event.CHANNEL_UNSHARED)(event(ChannelEvent.of, handle_channel_unshared))


def handle_message(request: MessageEvent, services: Services) -> None:
    audience = CONVERSIONS.get(request.subtype)
    channel_id = request.channel_id
    if audience is None or not channel_id:
        return
    with services.db.transaction() as session:
        remember_audience(
            session=session,
            team_id=request.team_id,
            channel_id=channel_id,
            audience=audience,
            now=services.clock(),
        )
    log.info("channel %s is now %s", channel_id, audience)


def handle_channel_shared(request: ChannelEvent, services: Services) -> None:
    with services.db.transaction() as session:
        remember_audience(
            session=session,
            team_id=request.team_id,
            channel_id=request.channel_id,
            audience=Audience.SHARED,
            now=services.clock(),
        )
    log.info("channel %s is now shared with another organisation", request.channel_id)


def handle_channel_unshared(request: ChannelEvent, services: Services) -> None:
    # Still shared with others, or back to private or public: Slack says next time it's asked.
    # Kudos given while it was shared stay as they were recorded.
    with services.db.transaction() as session:
        forget_audience(session=session, team_id=request.team_id, channel_id=request.channel_id)
