"""Listener registration: each feature module maps its IDs to callbacks in `register(app)` and
declares its slash subcommands on the routers of bot/slack/commands.py, registered first:
Bolt tries every listener's matchers in registration order, each through its keyword-argument
injection, and most requests are commands (a `/kudos` used to be tried against fourteen
listeners before its own)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.commands import ROUTERS
from bot.slack.listeners import (
    conversations,
    daily,
    dashboard,
    health,
    home,
    kudos,
    kudos_settings,
    messages,
    mission,
    onboarding,
    people,
    reactions,
    reports,
)

# Imported for the subcommands they declare on the routers (mission has no other listener).
FEATURES = (
    conversations,
    daily,
    dashboard,
    health,
    home,
    kudos,
    kudos_settings,
    messages,
    mission,
    onboarding,
    people,
    reactions,
    reports,
)


def register_listeners(app: App) -> None:
    for router in ROUTERS:
        router.register(app)
    for feature in (
        daily,
        home,
        kudos,
        reports,
        conversations,
        people,
        onboarding,
        reactions,
        messages,
    ):
        feature.register(app)
