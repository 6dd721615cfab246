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
    # A conversation's audience changes (bot/slack/listeners/conversations.py).
    CHANNEL_SHARED = "channel_shared"
    CHANNEL_UNSHARED = "channel_unshared"
    # Subscribed as message.channels and message.groups: Slack reports a channel made
    # private or public only as a message with subtype channel_convert_to_private/public.
    MESSAGE = "message"
    # The people directory (bot/people.py) follows these.
    USER_CHANGE = "user_change"
    TEAM_JOIN = "team_join"
    # Principle reactions (bot/slack/listeners/reactions.py).
    REACTION_ADDED = "reaction_added"
    REACTION_REMOVED = "reaction_removed"


class MessageSubtype(StrEnum):
    CONVERTED_TO_PRIVATE = "channel_convert_to_private"
    CONVERTED_TO_PUBLIC = "channel_convert_to_public"
    # A message deleted: a `kudos …` message deleted within the undo window withdraws it.
    DELETED = "message_deleted"
    CHANGED = "message_changed"
    # New messages by a person, like one without a subtype: a thread reply also sent to the
    # channel, a message with a file attached, and a `/me` message.
    THREAD_BROADCAST = "thread_broadcast"
    FILE_SHARE = "file_share"
    ME_MESSAGE = "me_message"


# The bot's reaction on a `kudos …` message that recorded kudos.
CONFIRMATION_REACTION = "white_check_mark"


SLASH_COMMANDS: tuple[Command, ...] = tuple(Command)


# The "Give kudos" button: the morning post and the App Home emit it; its `value` may carry
# a principle key to preselect in the kudos modal.
GIVE_KUDOS = "give_kudos"


class Action(StrEnum):
    GIVE_KUDOS = GIVE_KUDOS
    SHARE_TODAY = "share_today"
    EXPORT_KUDOS = "export_kudos"
    # The onboarding drip's DM (bot/daily/drip.py): no more principles by DM.
    STOP_ONBOARDING = "stop_onboarding"


class BlockId(StrEnum):
    DAILY_ACTIONS = "daily_actions"


class Shortcut(StrEnum):
    GIVE_KUDOS_FOR_MESSAGE = "give_kudos_for_message"


class View(StrEnum):
    GIVE_KUDOS = "give_kudos_modal"


class KudosBlock(StrEnum):
    """Input blocks of the kudos modal; named like the fields a refusal points at."""

    RECIPIENTS = "recipients"
    PRINCIPLE = "principle"
    MESSAGE = "message"
    SHARE_IN = "share_in"


class KudosInput(StrEnum):
    """The action_ids of the elements inside the kudos modal's input blocks."""

    RECIPIENTS = "recipients_select"
    PRINCIPLE = "principle_select"
    MESSAGE = "message_input"
    SHARE_IN = "share_in_select"
