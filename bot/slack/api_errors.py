"""Slack Web API error codes the bot acts on, and what a call to Slack can raise, defined once.

Its own module, importing no bot module: the error handler, the transport, the outbound
handlers and the listeners all read these.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

# What a call to Slack raises for anything Slack or the network can do. Connection failures
# surface as OSError (URLError, TimeoutError) once retries are spent.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackApiError, SlackClientError, OSError)

# Slack's error codes for "the bot can't post in this channel": retrying won't help, so the
# morning post pauses the subscription and the share button asks for an /invite.
CANT_POST_HERE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# The ones where the bot isn't a member (channel_not_found is how a private channel answers):
# a slash command's or modal's response_url still reaches the channel; an archived one, nobody.
NOT_A_MEMBER = CANT_POST_HERE - {"is_archived"}
