"""Listener registration: each feature module maps its IDs to callbacks in `register(app)` and
declares its slash subcommands on the routers of bot/slack/commands.py, registered last."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.commands import ROUTERS
from bot.slack.listeners import (
    conversations,
    daily,
    health,
    home,
    kudos,
    mission,
    onboarding,
    people,
    reports,
)

# Imported for the subcommands they declare on the routers (mission has no other listener).
FEATURES = (conversations, daily, home, kudos, mission, people, reports, health, onboarding)


def register_listeners(app: App) -> None:
    for feature in (daily, home, kudos, reports, conversations, people, onboarding):
        feature.register(app)
    for router in ROUTERS:
        router.register(app)
