"""After a kudos is committed: tell Slack — the public message, the DMs, the giver's confirmation.
Where the public message went is handed back (`remember`) for the kudos flow to store.

The kudos is already in the database when this runs, so a Slack failure here loses nothing:
each step that fails is named in the giver's confirmation instead of ending the request. This
is the one place that catches Slack errors, because here they are partial delivery, not a
refusal for the error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.blocks.common import Message
from bot.blocks.kudos import kudos_confirmation, kudos_dm, kudos_public, kudos_withdrawn
from bot.kudos.service import GivenKudos, WithdrawnKudos
from bot.slack.api_errors import NOT_A_MEMBER

log = logging.getLogger(__name__)

# Connection failures surface as OSError (URLError, TimeoutError) once retries are spent.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackApiError, SlackClientError, OSError)

# Told where the public message went (channel, ts; no ts through response_url), to store it.
Remember = Callable[[str, str | None], None]


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def deliver_kudos(
    *,
    client: WebClient,
    given: GivenKudos,
    channel_id: str | None,
    response_url: str | None,
    remember: Remember,
) -> list[str]:
    """Announce, DM each receiver, confirm to the giver; returns what did not reach Slack."""
    failures: list[str] = []
    if not given.duplicate:
        # Announced only where it was given: never out of a DM, never into a channel the
        # giver didn't choose (a kudos from the App Home with no channel stays unannounced).
        if channel_id and given.audience.announced:
            failure = _post_public(client, given, channel_id, response_url, remember)
            if failure:
                failures.append(failure)
        dm = kudos_dm(given)
        for receiver_id in given.receiver_ids:
            try:
                client.chat_postMessage(channel=receiver_id, text=dm.text, blocks=dm.blocks)
            except SLACK_FAILURES as error:
                log.warning("kudos DM failed group=%s: %s", given.group_id, _reason(error))
                failures.append(f"the direct message to <@{receiver_id}> ({_reason(error)})")
    confirm(
        client=client,
        user_id=given.giver_id,
        channel_id=channel_id,
        response_url=response_url,
        message=kudos_confirmation(given, failures),
    )
    return failures


def _post_public(
    client: WebClient,
    given: GivenKudos,
    channel_id: str,
    response_url: str | None,
    remember: Remember,
) -> str | None:
    message = kudos_public(given)
    where = f"<#{channel_id}>"
    # Post first and fall back on "not a member": asking conversations.info beforehand
    # would cost every kudos a round trip to Slack that is almost always a yes.
    try:
        response = client.chat_postMessage(
            channel=channel_id,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    except SLACK_FAILURES as error:
        reason = _reason(error)
        if reason not in NOT_A_MEMBER or not response_url:
            log.warning("kudos public post failed group=%s: %s", given.group_id, reason)
            return f"the public message in {where} ({reason})"
        log.info("kudos public post through response_url group=%s: %s", given.group_id, reason)
    else:
        remember(str(response["channel"]), response.get("ts"))
        return None
    # response_url answers in the conversation the command was typed in: the same one.
    try:
        _send(response_url, message, response_type="in_channel")
    except SLACK_FAILURES as error:
        log.warning("kudos public post failed group=%s: %s", given.group_id, _reason(error))
        return f"the public message in {where} ({_reason(error)})"
    remember(channel_id, None)
    return None


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


def announce_withdrawal(*, client: WebClient, withdrawn: WithdrawnKudos) -> str | None:
    """Edit the public message to say the kudos was withdrawn; returns what went wrong."""
    if withdrawn.public_channel_id is None:
        return None
    if withdrawn.public_message_ts is None:
        return (
            f"The public message in <#{withdrawn.public_channel_id}> was posted through the "
            "command's reply, which I can't edit: you may want to delete it yourself."
        )
    message = kudos_withdrawn(withdrawn)
    try:
        client.chat_update(
            channel=withdrawn.public_channel_id,
            ts=withdrawn.public_message_ts,
            text=message.text,
            blocks=message.blocks,
        )
    except SLACK_FAILURES as error:
        log.warning("kudos withdrawal update failed group=%s: %s", withdrawn.group_id, error)
        return (
            f"I couldn't update the public message in <#{withdrawn.public_channel_id}> "
            f"({_reason(error)}): you may want to delete it yourself."
        )
    return None
