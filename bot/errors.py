"""Domain errors that end a request with a message for the person who made it.

Services raise these; the one Slack error handler (bot/slack/errors.py) turns them into a
friendly ephemeral reply. Nothing here knows about Slack beyond mrkdwn text.
"""

from __future__ import annotations

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


class UnknownPrinciple(UserError):
    def __init__(self, reference: str, suggestions: list[str], keys: list[str]) -> None:
        self.reference = reference
        self.suggestions = suggestions
        self.keys = keys
        hint = (
            f" Did you mean {', '.join(f'`#{key}`' for key in suggestions)}?" if suggestions else ""
        )
        super().__init__(
            f"I don't know a principle called {echo(reference)}.{hint}\n"
            f"The principles are: {', '.join(f'`#{key}`' for key in keys)}.",
            field="principle",
        )


class KudosRefused(UserError):
    """A kudos that the rules don't allow (yourself, a bot, over the daily allowance…)."""
