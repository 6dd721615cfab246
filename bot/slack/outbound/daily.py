"""Morning posts and weekly digests into Slack, through the outbox.

bot/daily/flows.py claims a post, has it drawn here (`draw_post`: Block Kit, stored in the
outbox row with its claim) and queues it; its `ScheduledPostHandler` records how the send went
on the claim and pauses a channel the bot can no longer post in (`PAUSES`). A digest, once
posted, queues its 12-week chart for the digest's thread (`DIGEST_CHART`): a message of its
own, so a failed upload is retried without posting the digest twice.

Every row's subject is its claim's id (scheduled_posts): the send log names it `post:<id>`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.blocks.daily import daily_card
from bot.blocks.reports import digest_message
from bot.daily.flows import DailyPost, Drawn, Post, ScheduledPostHandler
from bot.db.models import OutboxMessage
from bot.i18n.catalogs import SOURCE_LANGUAGE
from bot.i18n.speech import speech
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.sender import FileUpload, Outgoing, Sender, Sent, StoredBodyHandler
from bot.reports.chart import NO_KUDOS, ChartData, chart_data, chart_png, png_speech
from bot.slack.api_errors import CANT_POST_HERE

log = logging.getLogger(__name__)

# The refusals that pause a morning-post subscription: the bot can't post there at all.
PAUSES = CANT_POST_HERE | {"account_inactive"}


def draw_post(post: Post) -> Drawn:
    """A morning post or digest as Block Kit (bot/daily/flows.py stores it in the outbox row);
    a digest keeps its 12-week chart's numbers for `DigestPosts` to queue once it is posted."""
    if isinstance(post, DailyPost):
        message = daily_card(post.principle, post.kudos, t=speech(post.language))
        return Drawn(text=message.text, blocks=message.blocks)
    t = speech(post.language)
    message = digest_message(post.digest, t)
    trend = post.digest.trend
    # The chart goes into the digest's thread: the channel's language, as the digest (or
    # English, where the PNG's font has no glyphs for it).
    chart = chart_data(trend, t=png_speech(t)) if trend is not None else None
    after = {"chart": dataclasses.asdict(chart)} if chart is not None and not chart.empty else None
    return Drawn(text=message.text, blocks=message.blocks, after=after)


class DigestPosts(ScheduledPostHandler):
    """A digest, recorded like a morning post; once it is in the channel, its chart is queued
    to go into the digest's thread."""

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        super().on_sent(session, rows, sent, now)
        for row in rows:
            chart = ((queue.stored_body(row) or {}).get("after") or {}).get("chart")
            if chart and sent.ts:
                queue.enqueue(
                    session,
                    team_id=row.team_id,
                    kind=OutboxKind.DIGEST_CHART,
                    channel_id=row.channel_id,
                    text="",
                    after={"chart": chart},
                    # The digest's claim: the chart is logged as part of the same post.
                    subject=row.subject,
                    thread_ts=sent.ts,
                    now=now,
                )


class DigestCharts(StoredBodyHandler):
    """Draws a digest's chart at send time from its stored numbers and uploads it into the
    digest's thread. Best effort: a chart that can't be uploaded is logged, the digest stands."""

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        row = rows[0]
        stored = ((queue.stored_body(row) or {}).get("after") or {}).get("chart")
        if not stored:
            return None
        data = ChartData(
            rows=tuple(stored["rows"]),
            weeks=tuple(stored["weeks"]),
            values=tuple(tuple(values) for values in stored["values"]),
            title=stored["title"],
            note=stored.get("note", NO_KUDOS),
            language=stored.get("language", SOURCE_LANGUAGE),
        )
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text="",
            thread_ts=row.thread_ts,
            file=FileUpload(
                filename="kudos-12-weeks.png", title=data.title, content=chart_png(data)
            ),
        )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        log.warning("digest chart not uploaded to %s: %s", rows[0].channel_id, reason)


def register(sender: Sender, language: str = "en") -> None:
    sender.register(OutboxKind.DAILY_POST, ScheduledPostHandler(pauses=PAUSES))
    sender.register(OutboxKind.WEEKLY_DIGEST, DigestPosts(pauses=PAUSES))
    sender.register(OutboxKind.DIGEST_CHART, DigestCharts())
