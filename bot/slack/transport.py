"""The outbox's Slack transport: one `Outgoing` message into chat.postMessage, chat.update, a
file upload, an App Home (views.publish) or a response_url answer, and Slack's answer into
`Sent`, `RateLimited`, `Retryable` or `Refused` (bot/outbox/sender.py decides what happens
next).

Its Web client retries nothing: the sender retries, pacing and backing off in its own threads,
and a 429 closes the workspace's rate-limit gate for every worker, where slack-sdk's handlers
would sleep inside the call. A channel the bot isn't in (`not_in_channel`, or
`channel_not_found` for a private one) still gets the message when the row carries the
response_url of the command that caused it: that posts in the conversation the command was
typed in, as in_channel, but gives no ts to edit.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.config import Settings
from bot.outbox.sender import (
    Outgoing,
    RateLimited,
    Refused,
    Retryable,
    SendResult,
    Sent,
)
from bot.slack.api_errors import NOT_A_MEMBER

log = logging.getLogger(__name__)

# `ok: false` codes that say "try again later" rather than "no".
TRANSIENT_CODES = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
DEFAULT_RETRY_AFTER_S = 1.0


def create_transport_client(settings: Settings) -> WebClient:
    """A Web client for the sender: SLACK_API_URL, the API timeout, and no retries of its own."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        # slack-sdk types the timeout as int, but urllib takes fractions of a second too.
        timeout=settings.slack_api_timeout,  # type: ignore[arg-type]
        retry_handlers=[],
    )


class SlackTransport:
    """Sends the outbox's messages with one bot token."""

    def __init__(self, client: WebClient, *, response_url_timeout: float = 10.0) -> None:
        self.client = client
        self.response_url_timeout = response_url_timeout

    def send(self, outgoing: Outgoing) -> SendResult:
        if outgoing.reply:
            return self._reply(outgoing)
        try:
            if outgoing.view is not None:
                return self._publish(outgoing)
            if outgoing.file is not None:
                return self._upload(outgoing)
            if outgoing.update_ts:
                response = self.client.chat_update(
                    channel=outgoing.channel_id,
                    ts=outgoing.update_ts,
                    text=outgoing.text,
                    blocks=outgoing.blocks,
                )
            else:
                response = self.client.chat_postMessage(
                    channel=outgoing.channel_id,
                    text=outgoing.text,
                    blocks=outgoing.blocks,
                    thread_ts=outgoing.thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
        except SlackApiError as exc:
            return self._refusal(outgoing, exc)
        except (SlackClientError, OSError, ValueError) as exc:
            # Timeouts and dropped connections: Slack may or may not have posted it.
            return Retryable(f"network error: {type(exc).__name__}")
        return Sent(ts=_str(response.get("ts")), channel_id=_str(response.get("channel")))

    def _publish(self, outgoing: Outgoing) -> SendResult:
        """An App Home view for the user `channel_id`; its new hash comes back."""
        assert outgoing.view is not None
        response = self.client.views_publish(
            user_id=outgoing.channel_id, view=outgoing.view, hash=outgoing.view_hash
        )
        view = response.get("view") or {}
        return Sent(ts=None, channel_id=outgoing.channel_id, view_hash=_str(view.get("hash")))

    def _upload(self, outgoing: Outgoing) -> SendResult:
        """The file into the conversation (a user ID: their DM, opened first)."""
        assert outgoing.file is not None
        channel_id = outgoing.channel_id
        if channel_id.startswith(("U", "W")):
            opened = self.client.conversations_open(users=channel_id)
            channel_id = str(opened["channel"]["id"])
        response = self.client.files_upload_v2(
            channel=channel_id,
            content=outgoing.file.content,
            thread_ts=outgoing.thread_ts,
            filename=outgoing.file.filename,
            title=outgoing.file.title,
            initial_comment=outgoing.text,
        )
        files = response.get("files") or [{}]
        return Sent(ts=None, channel_id=channel_id, file_id=_str(files[0].get("id")))

    def _reply(self, outgoing: Outgoing) -> SendResult:
        """A private answer to the command, through its response_url."""
        if not outgoing.response_url:
            return Refused("no response_url")
        return self._webhook(outgoing, "ephemeral", "reply")

    def _refusal(self, outgoing: Outgoing, exc: SlackApiError) -> SendResult:
        status = exc.response.status_code
        code = str(exc.response.get("error") or f"HTTP {status}")
        if status >= 500:
            # Whatever the body says: a server error is worth a retry after a back-off.
            return Retryable(f"Slack answered HTTP {status}")
        if status == 429 or code == "ratelimited":
            headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
            return RateLimited(_retry_after(headers.get("retry-after")))
        if code in TRANSIENT_CODES:
            return Retryable(code)
        if (
            code in NOT_A_MEMBER
            and outgoing.response_url
            and not outgoing.update_ts
            and outgoing.file is None
        ):
            log.info("posting through response_url in %s: %s", outgoing.channel_id, code)
            return self._through_response_url(outgoing, code)
        return Refused(code)

    def _through_response_url(self, outgoing: Outgoing, code: str) -> SendResult:
        return self._webhook(outgoing, "in_channel", code)

    def _webhook(self, outgoing: Outgoing, response_type: str, code: str) -> SendResult:
        assert outgoing.response_url is not None
        webhook = WebhookClient(
            outgoing.response_url,
            timeout=self.response_url_timeout,  # type: ignore[arg-type]
            retry_handlers=[],
        )
        try:
            response = webhook.send(
                text=outgoing.text,
                blocks=outgoing.blocks,
                response_type=response_type,
                replace_original=False,
            )
        except (SlackClientError, OSError, ValueError) as exc:
            return Retryable(f"{code}; response_url: network error: {type(exc).__name__}")
        if response.status_code == 200:
            return Sent(ts=None, channel_id=outgoing.channel_id, via_response_url=True)
        if response.status_code == 429:
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            return RateLimited(_retry_after(headers.get("retry-after")))
        if response.status_code >= 500:
            return Retryable(f"{code}; response_url answered HTTP {response.status_code}")
        # Used up or expired (5 uses within 30 minutes): the channel is out of reach.
        return Refused(f"{code}; response_url answered HTTP {response.status_code}")


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _retry_after(value: object) -> float:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(str(value)), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
