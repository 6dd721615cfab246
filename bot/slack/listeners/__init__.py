"""Listener registration: each feature module maps its IDs to callbacks in `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import conversations, daily, home, kudos, mission, people, reports


def register_listeners(app: App) -> None:
    # Subcommand listeners of /mission first: the general /mission listener matches anything.
    daily.register(app)
    mission.register(app)
    home.register(app)
    kudos.register(app)
    reports.register(app)
    conversations.register(app)
    people.register(app)
