"""Every command, action, callback and block ID the bot registers, defined once.

The listeners register these, the Block Kit builders emit them, and the manifest test
checks app.yaml against them.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    MISSION = "/mission"
    KUDOS = "/kudos"


class Event(StrEnum):
    APP_HOME_OPENED = "app_home_opened"


SLASH_COMMANDS: tuple[Command, ...] = tuple(Command)


class Action(StrEnum):
    # The morning card's "Give kudos" button; the kudos feature registers its listener.
    GIVE_KUDOS = "give_kudos"
    SHARE_TODAY = "share_today"


class BlockId(StrEnum):
    DAILY_ACTIONS = "daily_actions"
