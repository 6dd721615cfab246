"""Who may manage the bot: the one admin check, shared by every feature that needs it.

An admin is someone listed in MISSIONBOT_ADMINS, or a workspace admin or owner as
`users.info` says (through the cached `UserDirectory`).
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.config import Settings
from bot.errors import UserError
from bot.slack.users import UserDirectory


def is_admin(
    *, client: WebClient, settings: Settings, users: UserDirectory, team_id: str, user_id: str
) -> bool:
    if user_id in settings.missionbot_admins:
        return True
    user = users.get(client, team_id, user_id)
    return user.is_admin or user.is_owner


def require_admin(
    *,
    client: WebClient,
    settings: Settings,
    users: UserDirectory,
    team_id: str,
    user_id: str,
    refusal: str,
) -> None:
    """Raise `UserError(refusal)` unless the user is an admin."""
    if not is_admin(
        client=client, settings=settings, users=users, team_id=team_id, user_id=user_id
    ):
        raise UserError(refusal)
