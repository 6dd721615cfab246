"""Everything the bot sends into Slack on its own initiative, in one place: the outbox's Slack
transport, and a handler per kind of message (bot/outbox/sender.py drains the queue).

Kinds of message, and when they are queued:
- **kudos announcements** (`queue_kudos`, in the kudos's transaction): drawn at send time from
  the database, so a kudos withdrawn meanwhile is never announced, and a channel's backlog goes
  out as one message carrying up to `ANNOUNCED_TOGETHER` kudos (a storm is announced at the pace
  it happens, not one message a second behind it). Where the bot is not a member, the
  command's response_url posts it instead (one kudos per message, since each response_url
  belongs to its own command); where neither works, the giver gets a DM saying so.
- **kudos DMs**, one per receiver, and **edits** of an announcement after an undo
  (`queue_withdrawal` cancels whatever is still queued and edits what was posted). A kind
  that posts a thread reply and later edits it in place (reactions) queues a row with
  `thread_ts`, records the reply's ts in its `on_sent`, and queues the edit with `update_ts`.
- **morning posts and weekly digests** (bot/daily/flows.py queues them with their claim,
  drawn by `draw_post`; `ScheduledPostHandler` records the outcome and pauses a channel the
  bot can no longer post in: `PAUSES`).
- **shared leaderboards** (`queue_shared`): posted in the channel, through the command's
  response_url where the bot isn't a member.
- **export DMs** (`queue_export`): the CSV uploaded into the person's DM, then a note to them
  through the command's response_url.

`SlackTransport` makes one `Outgoing` into chat.postMessage, chat.update, a file upload or a
response_url answer, and Slack's answer into `Sent`, `RateLimited`, `Retryable` or `Refused`.
Its Web client retries nothing: the sender retries, pacing and backing off in its own threads,
and a 429 closes the workspace's rate-limit gate (bot/outbox/sender.py) for every worker, where
slack-sdk's handlers would sleep inside the call. A channel the bot isn't in
(`not_in_channel`, or `channel_not_found` for a private one) still gets the message when the
row carries the response_url of the command that caused it: that posts in the conversation
the command was typed in, as in_channel, but gives no ts to edit.

`confirm` is the one place left that talks to Slack directly: a note after the ack for the
listeners that still have one to give (errors after the ack, the form's confirmation).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from bot.blocks.common import Message
from bot.blocks.daily import daily_card
from bot.blocks.kudos import (
    ANNOUNCED_TOGETHER,
    announcement_not_made,
    kudos_announcement,
    kudos_dm,
)
from bot.blocks.reports import digest_message
from bot.config import Settings
from bot.daily.flows import OUTBOX_KINDS, DailyPost, Drawn, Post, ScheduledPostHandler
from bot.daily.schedule import DAILY_KIND, DIGEST_KIND
from bot.db.engine import Database
from bot.db.models import Clock, OutboxMessage, utcnow
from bot.kudos.service import (
    GivenKudos,
    WithdrawnKudos,
    groups_in_message,
    kudos_groups,
    record_public_message,
)
from bot.outbox import queue
from bot.outbox.queue import MESSAGE_KIND, NewMessage
from bot.outbox.sender import (
    FileUpload,
    Outgoing,
    RateLimited,
    Refused,
    Retryable,
    Sender,
    SenderSettings,
    SendResult,
    Sent,
    StoredBodyHandler,
)
from bot.reports.chart import ChartData, chart_data, chart_png
from bot.slack.api_errors import CANT_POST_HERE, NOT_A_MEMBER
from bot.slack.reaction_delivery import register_reaction_messages

log = logging.getLogger(__name__)

# Connection failures surface as OSError (URLError, TimeoutError) once retries are spent.
SLACK_FAILURES: tuple[type[Exception], ...] = (SlackApiError, SlackClientError, OSError)

ANNOUNCEMENT = "kudos_announcement"
# One kudos a message: a combined announcement the bot couldn't post goes out again this way,
# each through its own command's response_url.
ANNOUNCEMENT_ALONE = "kudos_announcement_alone"
EDIT = "kudos_edit"
DM = "kudos_dm"
SHARED = "shared_report"
EXPORT = "export_dm"
# A private note to whoever typed a command, through its response_url.
REPLY = "command_reply"
# A weekly digest's chart, uploaded into the digest's thread once the digest is posted.
DIGEST_CHART = "digest_chart"
# The refusals that pause a morning-post subscription: the bot can't post there at all.
PAUSES = CANT_POST_HERE | {"account_inactive"}
NOT_EDITABLE = (
    "The public message in <#{channel}> was posted through the command's reply, which I "
    "can't edit: you may want to delete it yourself."
)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def queue_kudos(
    session: Session,
    *,
    team_id: str,
    given: GivenKudos,
    response_url: str | None,
    now: dt.datetime,
    thread_ts: str | None = None,
    not_before: dt.datetime | None = None,
) -> list[tuple[str, str]]:
    """Queue the announcement (in `thread_ts`'s thread, if given) and the receivers' DMs, in
    the kudos's own transaction; the (team_id, channel_id) of each, for `Sender.notify`.
    `not_before`: held until then (a kudos message, whose deletion may follow at once)."""
    if given.duplicate:
        return []
    messages = []
    if given.channel_id and given.audience.announced:
        messages.append(
            NewMessage(
                team_id=team_id,
                kind=ANNOUNCEMENT,
                channel_id=given.channel_id,
                subject=given.group_id,
                response_url=response_url,
                thread_ts=thread_ts,
            )
        )
    dm = kudos_dm(given)
    for receiver_id in given.receiver_ids:
        messages.append(
            NewMessage(
                team_id=team_id,
                kind=DM,
                channel_id=receiver_id,
                text=dm.text,
                blocks=dm.blocks,
                subject=given.group_id,
            )
        )
    queue.enqueue_many(session, messages, now=now, not_before=not_before)
    return [(team_id, message.channel_id) for message in messages]


def queue_withdrawal(
    session: Session, *, team_id: str, withdrawn: WithdrawnKudos, now: dt.datetime
) -> str | None:
    """Unsend what is still queued, edit what was posted; what the giver should know, if any."""
    queue.cancel(session, team_id=team_id, subject=withdrawn.group_id, now=now)
    channel, ts = withdrawn.public_channel_id, withdrawn.public_message_ts
    if channel is None:
        return None
    if ts is None:
        return NOT_EDITABLE.format(channel=channel)
    _queue_edit(session, team_id=team_id, channel_id=channel, ts=ts, subject=withdrawn.group_id)
    return None


def _queue_edit(session: Session, *, team_id: str, channel_id: str, ts: str, subject: str) -> None:
    queue.enqueue(
        session, team_id=team_id, kind=EDIT, channel_id=channel_id, update_ts=ts, subject=subject
    )


class Announcements:
    """Draws a channel's queued kudos into one public message and records where it went."""

    def __init__(self, coalesce: int) -> None:
        self.coalesce = coalesce

    def render(self, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing | None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        groups = kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows))
        standing = [g for g in groups if not g.withdrawn]
        kept = {g.group_id for g in standing}
        gone = [row for row in rows if row.subject not in kept]
        if not standing:
            return None
        if gone:
            queue.drop(gone, now=utcnow(), reason="withdrawn before it was announced")
        message = kudos_announcement(standing)
        sending = [row for row in rows if row.subject in kept]
        return Outgoing(
            team_id=team_id,
            channel_id=channel_id,
            text=message.text,
            blocks=message.blocks,
            # A response_url answers for its own command only: one kudos, one message.
            response_url=sending[0].response_url if len(sending) == 1 else None,
            thread_ts=rows[0].thread_ts,
        )

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        team_id = rows[0].team_id
        channel_id = sent.channel_id or rows[0].channel_id
        for group_id in _subjects(rows):
            record_public_message(
                session=session,
                team_id=team_id,
                group_id=group_id,
                channel_id=channel_id,
                message_ts=sent.ts,
            )
        if sent.ts is None:
            return
        # An undo that landed while the message was on its way: edit it now.
        withdrawn = [
            g
            for g in kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows))
            if g.withdrawn
        ]
        if withdrawn:
            _queue_edit(
                session,
                team_id=team_id,
                channel_id=channel_id,
                ts=sent.ts,
                subject=withdrawn[0].group_id,
            )

    def on_failed(self, session: Session, rows: Sequence[OutboxMessage], reason: str) -> None:
        team_id, channel_id = rows[0].team_id, rows[0].channel_id
        if len(rows) > 1 and reason in NOT_A_MEMBER:
            # The bot isn't in the channel: each command's own response_url may still post it.
            for row in rows:
                queue.enqueue(
                    session,
                    team_id=team_id,
                    kind=ANNOUNCEMENT_ALONE,
                    channel_id=channel_id,
                    subject=row.subject,
                    response_url=row.response_url,
                    thread_ts=row.thread_ts,
                )
            return
        for group in kudos_groups(session=session, team_id=team_id, group_ids=_subjects(rows)):
            note = announcement_not_made(group, channel_id, reason)
            queue.enqueue(
                session,
                team_id=team_id,
                kind=MESSAGE_KIND,
                channel_id=group.giver_id,
                text=note.text,
                blocks=note.blocks,
            )
        log.warning("kudos announcement failed channel=%s n=%d: %s", channel_id, len(rows), reason)


class Edits:
    """Redraws an announcement after an undo, with every kudos it carries as it is now."""

    coalesce = ANNOUNCED_TOGETHER

    def render(self, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing | None:
        row = rows[0]
        if row.update_ts is None:
            return None
        groups = groups_in_message(
            session=session,
            team_id=row.team_id,
            channel_id=row.channel_id,
            message_ts=row.update_ts,
        )
        if not groups:
            return None
        message = kudos_announcement(groups)
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=message.text,
            blocks=message.blocks,
            update_ts=row.update_ts,
        )

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        return None

    def on_failed(self, session: Session, rows: Sequence[OutboxMessage], reason: str) -> None:
        log.warning("kudos announcement edit failed channel=%s: %s", rows[0].channel_id, reason)


def _subjects(rows: Sequence[OutboxMessage]) -> list[str]:
    return [row.subject for row in rows if row.subject]


# -- morning posts and digests ------------------------------------------------------------------
def draw_post(post: Post) -> Drawn:
    """A morning post or digest as Block Kit (bot/daily/flows.py stores it in the outbox row);
    a digest keeps its 12-week chart's numbers for `DigestPosts` to queue once it is posted."""
    if isinstance(post, DailyPost):
        message = daily_card(post.principle, post.kudos)
        return Drawn(text=message.text, blocks=message.blocks)
    message = digest_message(post.digest)
    health = post.digest.health
    chart = chart_data(health) if health is not None else None
    after = {"chart": dataclasses.asdict(chart)} if chart is not None and not chart.empty else None
    return Drawn(text=message.text, blocks=message.blocks, after=after)


class DigestPosts(ScheduledPostHandler):
    """A digest, recorded like a morning post; once it is in the channel, its chart is queued
    to go into the digest's thread (a message of its own: an upload can fail and be retried
    without posting the digest twice)."""

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        super().on_sent(session, rows, sent)
        for row in rows:
            chart = ((queue.stored_body(row) or {}).get("after") or {}).get("chart")
            if chart and sent.ts:
                queue.enqueue(
                    session,
                    team_id=row.team_id,
                    kind=DIGEST_CHART,
                    channel_id=row.channel_id,
                    text="",
                    after={"chart": chart},
                    thread_ts=sent.ts,
                )


class DigestCharts(StoredBodyHandler):
    """Draws a digest's chart at send time from its stored numbers and uploads it into the
    digest's thread. Best effort: a chart that can't be uploaded is logged, the digest stands."""

    def render(self, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing | None:
        row = rows[0]
        stored = ((queue.stored_body(row) or {}).get("after") or {}).get("chart")
        if not stored:
            return None
        data = ChartData(
            rows=tuple(stored["rows"]),
            weeks=tuple(stored["weeks"]),
            values=tuple(tuple(values) for values in stored["values"]),
            title=stored["title"],
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

    def on_failed(self, session: Session, rows: Sequence[OutboxMessage], reason: str) -> None:
        log.warning("digest chart not uploaded to %s: %s", rows[0].channel_id, reason)


# -- shared reports and exports -----------------------------------------------------------------
def queue_shared(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message: Message,
    response_url: str | None,
) -> int:
    """A report shared in the channel (a leaderboard); the outbox row's id."""
    return queue.enqueue(
        session,
        team_id=team_id,
        kind=SHARED,
        channel_id=channel_id,
        text=message.text,
        blocks=message.blocks,
        response_url=response_url,
    ).id


def queue_export(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    filename: str,
    title: str,
    content: str,
    comment: str,
    response_url: str | None,
) -> int:
    """A CSV into the person's DM with `comment`; once it is there, a note to them through
    the command's response_url (when there is one). The outbox row's id."""
    return queue.enqueue(
        session,
        team_id=team_id,
        kind=EXPORT,
        channel_id=user_id,
        text=comment,
        file={"filename": filename, "title": title, "content": content},
        response_url=response_url,
    ).id


class Exports(StoredBodyHandler):
    """Uploads the stored CSV; then tells the person where it is, through the command."""

    def on_sent(self, session: Session, rows: Sequence[OutboxMessage], sent: Sent) -> None:
        for row in rows:
            if not row.response_url:
                continue
            body = queue.stored_body(row) or {}
            where = f"<#{sent.channel_id}>" if sent.channel_id else "your DM with me"
            note = f":page_facing_up: I sent you the CSV file in {where}: {body.get('text', '')}"
            queue.enqueue(
                session,
                team_id=row.team_id,
                kind=REPLY,
                channel_id=row.channel_id,
                text=note,
                reply=True,
                response_url=row.response_url,
            )


# The outbox lease: this many times SLACK_API_TIMEOUT (15 s at least).
LEASE_PER_CALL_TIMEOUT = 3


# -- the transport ------------------------------------------------------------------------------
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

    def _upload(self, outgoing: Outgoing) -> SendResult:
        """The file into the conversation (a user ID: their DM, opened first)."""
        assert outgoing.file is not None
        channel_id = outgoing.channel_id
        if channel_id.startswith(("U", "W")):
            opened = self.client.conversations_open(users=channel_id)
            channel_id = str(opened["channel"]["id"])
        self.client.files_upload_v2(
            channel=channel_id,
            content=outgoing.file.content,
            thread_ts=outgoing.thread_ts,
            filename=outgoing.file.filename,
            title=outgoing.file.title,
            initial_comment=outgoing.text,
        )
        return Sent(ts=None, channel_id=channel_id)

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


def create_sender(settings: Settings, database: Database, *, clock: Clock = utcnow) -> Sender:
    """The outbox's sender for this bot token, with every kind of message registered."""
    sender = Sender(
        database,
        SlackTransport(create_transport_client(settings)),
        # A lease well past one call's timeout: a send still in flight is never claimed twice.
        settings=SenderSettings(
            lease=dt.timedelta(
                seconds=max(15.0, LEASE_PER_CALL_TIMEOUT * settings.slack_api_timeout)
            )
        ),
        clock=clock,
    )
    register_handlers(sender)
    return sender


def register_handlers(sender: Sender) -> None:
    """Every kind of message above, on the outbox's sender."""
    sender.register(ANNOUNCEMENT, Announcements(ANNOUNCED_TOGETHER))
    sender.register(ANNOUNCEMENT_ALONE, Announcements(1))
    sender.register(EDIT, Edits())
    sender.register(DM, StoredBodyHandler())
    sender.register(OUTBOX_KINDS[DAILY_KIND], ScheduledPostHandler(pauses=PAUSES))
    sender.register(OUTBOX_KINDS[DIGEST_KIND], DigestPosts(pauses=PAUSES))
    sender.register(DIGEST_CHART, DigestCharts())
    sender.register(SHARED, StoredBodyHandler())
    sender.register(EXPORT, Exports())
    sender.register(REPLY, StoredBodyHandler())
    register_reaction_messages(sender)


# -- after the ack --------------------------------------------------------------------------------
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
