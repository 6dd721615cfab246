"""Listener registration: each feature module maps its IDs to callbacks in `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import home, kudos, mission


def register_listeners(app: App) -> None:
    mission.register(app)
    home.register(app)
    kudos.register(app)
