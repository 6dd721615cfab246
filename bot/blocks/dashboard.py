"""The reply to `/kudos dashboard`: a sign-in link for the person who asked, and them alone."""

from __future__ import annotations

from bot.blocks.common import Message, as_dicts, context, section


def signin_link_message(url: str, *, minutes: int) -> Message:
    # A plain link, not a URL button: Slack would send the bot an action for the button.
    return Message(
        text=f"Your sign-in link to the kudos dashboard (once, within {minutes} minutes): {url}",
        blocks=as_dicts(
            [
                section(
                    f"*<{url}|Open the kudos dashboard>* — this link works once, for you "
                    f"alone, within {minutes} minutes."
                ),
                context("Don't share it: whoever opens it first is signed in as you."),
            ]
        ),
    )
