"""`user_change` and `team_join`: the people directory stays current without asking Slack.

Someone renamed, moved timezone, deactivated or made an admin, or new in the workspace: the
event carries the whole user object, which replaces what the directory knew.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.deadline import after_ack_safe
from bot.slack.ids import Event
from bot.slack.services import Services
from bot.slack.users import person_from_api


def register(app: App) -> None:
    app.event(Event.USER_CHANGE)(after_ack_safe(handle_person_changed))
    app.event(Event.TEAM_JOIN)(after_ack_safe(handle_person_changed))


def handle_person_changed(
    event: dict[str, Any], context: dict[str, Any], services: Services
) -> None:
    user = event.get("user")
    if not isinstance(user, dict) or not user.get("id"):
        return
    services.users.remember(str(user.get("team_id") or context["team_id"]), [person_from_api(user)])
