"""The bot's Web API client: aimed at SLACK_API_URL, retrying what is worth retrying."""

from __future__ import annotations

from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler

from bot.config import Settings


def create_web_client(settings: Settings, *, retries: int = 2) -> WebClient:
    """A Web API client aimed at SLACK_API_URL that retries 429s, 5xx and dropped connections.

    A call that times out is retried too: Slack may then post a message twice, which is
    better than a kudos announcement or a DM that never arrives.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers: list[RetryHandler] = [
        RateLimitErrorRetryHandler(max_retry_count=retries),
        ServerErrorRetryHandler(
            max_retry_count=retries,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5),
        ),
        ConnectionErrorRetryHandler(
            max_retry_count=retries,
            error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError],
        ),
    ]
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        # slack-sdk types the timeout as int, but urllib takes fractions of a second too.
        timeout=settings.slack_api_timeout,  # type: ignore[arg-type]
        retry_handlers=handlers,
    )
