"""The reply to `/kudos dashboard`: a sign-in link for the person who asked, and them alone."""

from __future__ import annotations

from bot.blocks.common import Message, as_dicts, context, section
from bot.i18n.speech import ENGLISH, Speech


def signin_link_message(url: str, *, minutes: int, t: Speech = ENGLISH) -> Message:
    """In the asker's language."""
    _ = t.gettext
    # A plain link, not a URL button: Slack would send the bot an action for the button.
    return Message(
        text=_(
            "Your sign-in link to the kudos dashboard (once, within {minutes} minutes): {url}"
        ).format(minutes=minutes, url=url),
        blocks=as_dicts(
            [
                section(
                    _(
                        "*<{url}|Open the kudos dashboard>* — this link works once, for you "
                        "alone, within {minutes} minutes."
                    ).format(url=url, minutes=minutes)
                ),
                context(_("Don't share it: whoever opens it first is signed in as you.")),
            ]
        ),
    )
