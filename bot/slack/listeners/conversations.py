"""Events that change who can read a conversation: a channel made private or public, shared
with another organisation (Slack Connect) or no longer shared.

Each one updates what every bot process knows of the channel (bot/audience.py); a channel
that is no longer public also stops its kudos being quoted anywhere else from now on. Every
other message event is of no interest yet and is acknowledged without work.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.audience import Audience, forget_audience, remember_audience
from bot.slack.ids import Event, MessageSubtype
from bot.slack.services import Services

log = logging.getLogger(__name__)

CONVERSIONS: dict[str, Audience] = {
    MessageSubtype.CONVERTED_TO_PRIVATE: Audience.PRIVATE,
    MessageSubtype.CONVERTED_TO_PUBLIC: Audience.PUBLIC,
}


def register(app: App) -> None:
    app.event(Event.MESSAGE)(handle_message)
    app.event(Event.CHANNEL_SHARED)(handle_channel_shared)
    app.event(Event.CHANNEL_UNSHARED)(handle_channel_unshared)


def handle_message(event: dict[str, Any], context: dict[str, Any], services: Services) -> None:
    audience = CONVERSIONS.get(str(event.get("subtype")))
    channel_id = event.get("channel")
    if audience is None or not channel_id:
        return
    with services.db.transaction() as session:
        remember_audience(
            session=session,
            team_id=str(context["team_id"]),
            channel_id=str(channel_id),
            audience=audience,
            now=services.clock(),
        )
    log.info("channel %s is now %s", channel_id, audience)


def handle_channel_shared(
    event: dict[str, Any], context: dict[str, Any], services: Services
) -> None:
    with services.db.transaction() as session:
        remember_audience(
            session=session,
            team_id=str(context["team_id"]),
            channel_id=str(event["channel"]),
            audience=Audience.SHARED,
            now=services.clock(),
        )
    log.info("channel %s is now shared with another organisation", event["channel"])


def handle_channel_unshared(
    event: dict[str, Any], context: dict[str, Any], services: Services
) -> None:
    # Still shared with others, or back to private or public: Slack says next time it's asked.
    # Kudos given while it was shared stay as they were recorded.
    with services.db.transaction() as session:
        forget_audience(
            session=session, team_id=str(context["team_id"]), channel_id=str(event["channel"])
        )
