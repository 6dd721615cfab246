"""The App Home tab: publish the mission when someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.db.engine import Database
from bot.mission import load_catalog
from bot.slack.ids import Event


def register(app: App) -> None:
    app.event(Event.APP_HOME_OPENED)(handle_home_opened)


def handle_home_opened(
    event: dict[str, Any], context: dict[str, Any], client: WebClient, db: Database
) -> None:
    if event.get("tab", "home") != "home":
        return
    with db.transaction() as session:
        catalog = load_catalog(session, team_id=context["team_id"])
    client.views_publish(user_id=event["user"], view=home_view(catalog))
