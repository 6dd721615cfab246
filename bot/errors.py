"""Domain errors that end a request with a message for the person who made it.

Services raise these; the one Slack error handler (bot/slack/errors.py) turns them into a
friendly ephemeral reply. Nothing here knows about Slack beyond mrkdwn text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.i18n.speech import ENGLISH, N_, Speech
from bot.text import echo

# A command used the wrong way: `usage` is a `Msgid`, its right way in the reader's language.
TRY_USAGE = N_("Try {usage}")


class Msgid(str):
    """A field of a `UserError` that is itself a message (a usage line marked with `N_`): it
    is translated into the reader's language with the message around it."""

    __slots__ = ()


class Count(int):
    """A field of a `UserError` that counts something: written the reader's way (1.234 in
    German, 1 234 in French). Plain ints stay digits: a year, or a number the reader types."""

    __slots__ = ()


class UserError(Exception):
    """A refusal or a mistake the user can fix; `message` is shown to them.

    `field` names the part of the request at fault ("recipients", "principle", "message"…),
    so that a modal can show the message next to that input. With `fields`, `message` is a
    gettext msgid with `{named}` fields, which the error handler translates into the reader's
    language before filling in (`said`); `.message` is always the English.
    """

    def __init__(
        self,
        message: str | tuple[str, str],
        *,
        field: str | None = None,
        fields: Mapping[str, object] | None = None,
        count: int = 1,
    ) -> None:
        # A (singular, plural) pair (marked with NP_) is chosen by `count`, in each language
        # by that language's rule.
        self.template = message
        self.fields = fields
        self.count = count
        self.field = field
        english = self.said(ENGLISH)
        super().__init__(english)
        self.message = english

    def said(self, t: Speech) -> str:
        """The message in `t`'s language (a message without a translation stays English)."""
        if isinstance(self.template, tuple):
            text = t.ngettext(*self.template, self.count)
        else:
            text = t.gettext(self.template)
        if self.fields is None:
            return text
        fields = {name: _said(value, t) for name, value in self.fields.items()}
        return text.format(**fields)


def _said(value: object, t: Speech) -> object:
    if isinstance(value, Msgid):
        return t.gettext(value)
    if isinstance(value, Count):
        return t.number(int(value))
    return value


# Past this many, "the principles are …" would be a wall of keys (and pass a section's 3,000
# characters well before 250): the reply points at /mission instead.
LISTED_KEYS = 30


class UnknownPrinciple(UserError):
    def __init__(self, reference: str, suggestions: list[str], keys: list[str]) -> None:
        self.reference = reference
        self.suggestions = suggestions
        self.keys = keys
        super().__init__(
            N_("I don't know a principle called {reference}."),
            field="principle",
            fields={"reference": echo(reference)},
        )
        self.message = self.said(ENGLISH)

    def said(self, t: Speech) -> str:
        _ = t.gettext
        lines = [_(str(self.template)).format(**(self.fields or {}))]
        if self.suggestions:
            keys = ", ".join(f"`#{key}`" for key in self.suggestions)
            lines[0] += " " + _("Did you mean {keys}?").format(keys=keys)
        if len(self.keys) <= LISTED_KEYS:
            every = ", ".join(f"`#{key}`" for key in self.keys)
            lines.append(_("The principles are: {keys}.").format(keys=every))
        else:
            lines.append(
                t.ngettext(
                    "`/mission` lists the {count} principle.",
                    "`/mission` lists all {count} principles.",
                    len(self.keys),
                ).format(count=t.number(len(self.keys)))
            )
        return "\n".join(lines)


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

    def __init__(
        self,
        message: str | tuple[str, str],
        *,
        field: str | None = None,
        fields: Mapping[str, object] | None = None,
        count: int = 1,
        day: dt.date | None = None,
    ):
        super().__init__(message, field=field, fields=fields, count=count)
        self.day = day
