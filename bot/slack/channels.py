"""A conversation's audience as Slack describes it (`conversations.info`), remembered in the
database so that every bot process, and every kudos in the same channel, asks Slack rarely.

Channel ID prefixes say too little (private channels have `C…` IDs today), so the answer comes
from what Slack says of the conversation. Whatever can't be established — Slack failing,
`channel_not_found` (a private channel or a DM the bot isn't in), no channel at all — is
`unknown`, which the audience rule treats as private.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audience import Audience
from bot.slack.deadline import SlackTooSlow

log = logging.getLogger(__name__)


def audience_of(channel: dict[str, Any]) -> Audience:
    """The audience of a `conversations.info` channel object; private when anything is unclear."""
    if channel.get("is_im"):
        return Audience.DM
    if channel.get("is_mpim"):
        return Audience.GROUP_DM
    if (
        channel.get("is_ext_shared")
        or channel.get("is_pending_ext_shared")
        or channel.get("is_shared")
        or channel.get("is_org_shared")
    ):
        return Audience.SHARED
    if channel.get("is_private") or channel.get("is_group"):
        return Audience.PRIVATE
    if channel.get("is_channel") or channel.get("is_private") is False:
        return Audience.PUBLIC
    return Audience.UNKNOWN


def ask_audience(*, client: WebClient, channel_id: str) -> Audience | None:
    """Who can read `channel_id`, as Slack says (`conversations.info`); None when it won't say.

    The caller remembers an answer (`remember_audience`), in the transaction that uses it.
    """
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as error:
        # channel_not_found: a private conversation the bot isn't in. Not remembered: the
        # bot may be invited later, and then Slack will say more.
        log.info("audience unknown channel=%s: %s", channel_id, error.response.get("error"))
        return None
    except (SlackClientError, OSError, SlackTooSlow) as error:
        # Slack slow or away: the kudos is still recorded, as private.
        log.info("audience unknown channel=%s: %s", channel_id, type(error).__name__)
        return None
    return audience_of(channel)


def unanswered(channel_id: str) -> Audience:
    """When Slack won't say: only DM IDs are recognisable by their prefix (`D…`, never reused
    for channels); everything else is unknown, and so private."""
    return Audience.DM if channel_id.startswith("D") else Audience.UNKNOWN
