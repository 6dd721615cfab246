"""The daily poster's `Sender` in Slack: draws a post as Block Kit, `chat.postMessage`s it, and
says which failures are worth a retry (429, 5xx, the network) and which pause the channel.

The retrying itself is the posting flow's (bot/daily/flows.py): this client retries nothing.
"""

from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import Message
from bot.blocks.daily import daily_card
from bot.blocks.reports import digest_message
from bot.config import Settings
from bot.daily.flows import (
    DailyPost,
    DigestPost,
    Post,
    RateLimited,
    SendRefused,
    TemporaryFailure,
)
from bot.reports.chart import chart_data, chart_png
from bot.slack.api_errors import CANT_POST_HERE
from bot.slack.web import create_web_client

log = logging.getLogger(__name__)


class SlackSender:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSender:
        # No client-side retries: the poster waits out 429s and 5xx itself, for longer.
        return cls(create_web_client(settings, retries=0))

    def send(self, channel_id: str, post: Post) -> str:
        message = draw(post)
        try:
            response = self.client.chat_postMessage(
                channel=channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            code = str(exc.response.get("error") or f"http {status}")
            if code in CANT_POST_HERE:
                raise SendRefused(code, pause=True) from None
            if status == 429:
                headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
                raise RateLimited(_retry_after(headers.get("retry-after"))) from None
            if status >= 500:
                raise TemporaryFailure(f"Slack answered HTTP {status}") from None
            raise SendRefused(code) from None
        except (URLError, OSError, ValueError) as exc:
            raise TemporaryFailure(f"network error: {type(exc).__name__}") from None
        ts = str(response["ts"])
        if isinstance(post, DigestPost):
            self._digest_chart(channel_id, ts, post)
        return ts

    def _digest_chart(self, channel_id: str, ts: str, post: DigestPost) -> None:
        """The digest's 12-week chart, in its thread. Best effort: the digest is what counts,
        and it is sent already, so a failed upload is logged and not retried."""
        health = post.digest.health
        if health is None:
            return
        data = chart_data(health)
        if data.empty:
            return
        try:
            self.client.files_upload_v2(
                channel=channel_id,
                thread_ts=ts,
                content=chart_png(data),
                filename=f"kudos-12-weeks-{health.period.slug}.png",
                title=data.title,
            )
        except (SlackApiError, URLError, OSError) as exc:
            log.warning("digest chart not uploaded to %s: %s", channel_id, exc)


def draw(post: Post) -> Message:
    if isinstance(post, DailyPost):
        return daily_card(post.principle, post.kudos)
    return digest_message(post.digest)


def _retry_after(value: object) -> float:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(str(value)), 0.0)
    except ValueError:
        return 1.0
