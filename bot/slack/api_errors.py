"""Slack Web API error codes the bot acts on, defined once.

Its own module, importing nothing: the error handler, the delivery code and the listeners
all read these, and the error handler itself imports the delivery code.
"""

from __future__ import annotations

# Slack's error codes for "the bot can't post in this channel": retrying won't help, so the
# morning post pauses the subscription and the share button asks for an /invite.
CANT_POST_HERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# The ones where the bot isn't a member (channel_not_found is how a private channel answers):
# a slash command's or modal's response_url still reaches the channel; an archived one, nobody.
NOT_A_MEMBER = CANT_POST_HERE - {"is_archived"}
