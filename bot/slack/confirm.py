"""A note to someone after the ack, straight to Slack rather than through the outbox: for the
listeners that still have one to give (an error after the ack, the form's confirmation).
Ephemeral through the command's response_url, else in the channel, else by DM.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.blocks.common import Message
from bot.slack.api_errors import SLACK_FAILURES

log = logging.getLogger(__name__)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def _send(response_url: str, message: Message, *, response_type: str) -> None:
    response = WebhookClient(response_url, timeout=10).send(
        text=message.text,
        blocks=message.blocks,
        response_type=response_type,
        replace_original=False,
    )
    if response.status_code != 200:
        raise SlackClientError(f"response_url answered HTTP {response.status_code}")


def confirm(
    *,
    client: WebClient,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
    message: Message,
) -> None:
    """An ephemeral note to the giver: through response_url, else in the channel, else by DM."""
    attempts: list[str] = []
    if response_url:
        try:
            _send(response_url, message, response_type="ephemeral")
            return
        except SLACK_FAILURES as error:
            attempts.append(f"response_url: {_reason(error)}")
    if channel_id:
        try:
            client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
            )
            return
        except SLACK_FAILURES as error:
            attempts.append(f"chat.postEphemeral: {_reason(error)}")
    try:
        client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)
    except SLACK_FAILURES as error:
        attempts.append(f"DM: {_reason(error)}")
        log.error("could not confirm to user=%s: %s", user_id, "; ".join(attempts))
