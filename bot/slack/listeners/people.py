"""`user_change` and `team_join`: the people directory stays current without asking Slack.

Someone renamed, moved timezone, deactivated or made an admin, or new in the workspace: the
event carries the whole user object, which replaces what the directory knew.
"""

from __future__ import annotations

from slack_bolt import App

from bot.blocks.ids import Event
from bot.slack.deadline import after_ack_safe
from bot.slack.listeners.onboarding import start_drip
from bot.slack.services import Services
from bot.slack.surfaces import PersonChanged, event
from bot.slack.users import person_from_api


def register(app: App) -> None:
    listener = after_ack_safe(event(PersonChanged.of, handle_person_changed))
    app.event(Event.USER_CHANGE)(listener)
    app.event(Event.TEAM_JOIN)(after_ack_safe(event(PersonChanged.of, handle_team_join)))


def handle_person_changed(request: PersonChanged, services: Services) -> None:
    if request.user is None:
        return
    services.users.remember(request.team_id, [person_from_api(request.user)])


def handle_team_join(request: PersonChanged, services: Services) -> None:
    """Someone new: into the directory, and (when it is on) into the onboarding drip."""
    handle_person_changed(request, services)
    if request.user is not None:
        start_drip(services=services, team_id=request.team_id, user=request.user)
