"""Domain errors that end a request with a message for the person who made it.

Services raise these; the one Slack error handler (bot/slack/errors.py) turns them into a
friendly ephemeral reply. Nothing here knows about Slack beyond mrkdwn text.
"""

from __future__ import annotations

import datetime as dt

from bot.text import echo


class UserError(Exception):
    """A refusal or a mistake the user can fix; `message` is shown to them as it is.

    `field` names the part of the request at fault ("recipients", "principle", "message"…),
    so that a modal can show the message next to that input.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Past this many, "the principles are …" would be a wall of keys (and pass a section's 3,000
# characters well before 250): the reply points at /mission instead.
LISTED_KEYS = 30


class UnknownPrinciple(UserError):
    def __init__(self, reference: str, suggestions: list[str], keys: list[str]) -> None:
        self.reference = reference
        self.suggestions = suggestions
        self.keys = keys
        hint = (
            f" Did you mean {', '.join(f'`#{key}`' for key in suggestions)}?" if suggestions else ""
        )
        every = (
            f"The principles are: {', '.join(f'`#{key}`' for key in keys)}."
            if len(keys) <= LISTED_KEYS
            else f"`/mission` lists all {len(keys)} principles."
        )
        super().__init__(
            f"I don't know a principle called {echo(reference)}.{hint}\n{every}",
            field="principle",
        )


class KudosRefused(UserError):
    """A kudos that the rules don't allow (yourself, a bot, over the daily allowance…)."""


class UndoneMeanwhile(KudosRefused):
    """Slack said the reaction was removed, or the message deleted, before its kudos was
    recorded (bot/kudos/ordering.py): nothing is given, and nobody needs telling."""


class AllowanceSpent(KudosRefused):
    """Over the giver's daily allowance: a reaction is then noted once a day, not refused aloud.

    `day` is the giver's local day whose allowance is spent (None when one kudos names more
    people than a whole day allows).
    """

    def __init__(self, message: str, *, field: str | None = None, day: dt.date | None = None):
        super().__init__(message, field=field)
        self.day = day
