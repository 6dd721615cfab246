"""Morning posts and weekly digests through the outbox: claim the post, draw it and queue it in
one transaction; the outbox's sender (bot/outbox/sender.py) sends it and the handler here
records how it went on the claim.

The claim (`scheduled_posts`, unique per channel, local date and kind) keeps each post once
however many processes, cron jobs and sweeps ask for it; the outbox row committed with it means
a claimed post is never lost: a process that dies before sending leaves the row pending, one
that dies while sending leaves it leased, and either way another sender sends it (after the
lease, for the second). The body is drawn here, when the post is due, with the channel's quote
audience (bot/audience.py), and stored in the row: the sender needs no transaction to draw it.

Retries are the sender's (429 waits the workspace's Retry-After, 5xx and network errors back
off, all within its `max_age`, an hour). A post that still fails is marked failed on the claim
(the next start retries it the same local day); a channel the bot can no longer post in pauses
its subscription. Drawing Block Kit is the Slack side's (`Render`): this module knows no Slack.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audience import QuoteScope
from bot.daily.claims import PostKind, PostStatus, claim_post, finish_post
from bot.daily.digest import Digest, weekly_digest
from bot.daily.rotation import principle_for_day, recent_kudos
from bot.daily.subscriptions import ChannelSchedule, get_schedule, pause
from bot.db.engine import Database
from bot.db.models import Clock, OutboxMessage, ScheduledPost, utcnow
from bot.i18n.whose import workspace_language
from bot.kudos.groups import KudosGroup
from bot.mission.service import PrincipleInfo
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.sender import Sent, StoredBodyHandler

log = logging.getLogger(__name__)

# The outbox kind of each kind of scheduled post.
OUTBOX_KINDS = {PostKind.DAILY: OutboxKind.DAILY_POST, PostKind.DIGEST: OutboxKind.WEEKLY_DIGEST}
SETTLE_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class DailyPost:
    """The principle of the day, with a recent kudos that lived it when there is one."""

    principle: PrincipleInfo
    kudos: KudosGroup | None
    # The workspace language: a channel reads it, whoever subscribed the channel.
    language: str = "en"


@dataclass(frozen=True, slots=True)
class DigestPost:
    digest: Digest
    language: str = "en"


Post = DailyPost | DigestPost


@dataclass(frozen=True, slots=True)
class Drawn:
    """A post as the Slack side draws it: fallback text and Block Kit, and what its handler
    needs once it is sent (a digest's chart numbers), stored in the outbox row with it."""

    text: str
    blocks: list[dict[str, Any]]
    after: dict[str, Any] | None = None


class Render(Protocol):
    def __call__(self, post: Post) -> Drawn: ...


class Outcome(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ALREADY_CLAIMED = "already claimed"
    FAILED = "failed"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class PostResult:
    team_id: str
    channel_id: str
    local_date: dt.date
    outcome: Outcome
    detail: str = ""
    message_ts: str | None = None
    kind: PostKind = PostKind.DAILY
    # The claim, while the post is queued (None when already claimed).
    post_id: int | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """A post to queue: the channel's principle of `day`, or (PostKind.DIGEST) its weekly digest."""

    schedule: ChannelSchedule
    day: dt.date
    kind: PostKind = PostKind.DAILY


def _nothing() -> None:
    return None


class DailyPoster:
    """Queues a channel's principle of the day (and weekly digest) at most once per local date.

    Posts due together (a morning fan-out: thousands of channels at one minute) are drawn,
    claimed and queued `BATCH` at a time: the principle of the day is read once per batch,
    the claims and outbox rows of a batch commit in one transaction, the rows in one INSERT.
    """

    BATCH = 50

    def __init__(
        self,
        database: Database,
        render: Render,
        *,
        clock: Clock = utcnow,
        notify: Callable[[], None] = _nothing,
        dashboard_url: str | None = None,
        language: str = "en",
    ) -> None:
        self.database = database
        self.dashboard_url = dashboard_url
        # What channels read where a workspace chose no language (MISSIONBOT_LANGUAGE).
        self.language = language
        self.render = render
        self.clock = clock
        # Wakes the sender after posts are queued (it polls otherwise).
        self.notify = notify

    def queue(
        self, due: Iterable[Due], *, retry_failed: bool = False, force: bool = False
    ) -> list[PostResult]:
        """Claim, draw and queue each post unless already claimed (a failed one again with
        `retry_failed`; any with `force`). Results in the order asked."""
        wanted = list(due)
        # One order for every process: two batches claiming the same posts wait on each other
        # row by row instead of deadlocking.
        order = sorted(
            range(len(wanted)),
            key=lambda n: (
                wanted[n].schedule.team_id,
                wanted[n].schedule.channel_id,
                wanted[n].kind,
                wanted[n].day,
            ),
        )
        results: dict[int, PostResult] = {}
        for start in range(0, len(order), self.BATCH):
            chunk = order[start : start + self.BATCH]
            for n, result in zip(
                chunk,
                self._queue_batch([wanted[n] for n in chunk], retry_failed, force),
                strict=True,
            ):
                results[n] = result
            self.notify()
        return [results[n] for n in range(len(wanted))]

    def _queue_batch(self, batch: list[Due], retry_failed: bool, force: bool) -> list[PostResult]:
        """Draw the posts, then claim and queue them in one short transaction.

        Drawing (the day's quotes, Block Kit) reads only, so it holds no write lock: on SQLite
        the sender's claims and records are not kept waiting behind a batch being drawn.
        """
        now = self.clock()
        days = {(due.schedule.team_id, due.day) for due in batch if due.kind == PostKind.DAILY}
        principles: dict[tuple[str, dt.date], PrincipleInfo] = {}
        if days:
            # The first post of a day chooses and records its principle: a write, kept short.
            with self.database.transaction() as session:
                for team_id, day in sorted(days):
                    principles[team_id, day] = principle_for_day(
                        session=session, team_id=team_id, day=day
                    )
        with self.database.reading() as session:
            drawn = [
                self.render(self._draw(session, due, self._principle(principles, due), now))
                for due in batch
            ]
        results = []
        with self.database.transaction() as session:
            for due, message in zip(batch, drawn, strict=True):
                team_id, channel_id = due.schedule.team_id, due.schedule.channel_id
                principle = self._principle(principles, due)
                post_id = claim_post(
                    session=session,
                    team_id=team_id,
                    channel_id=channel_id,
                    local_date=due.day,
                    now=now,
                    kind=due.kind,
                    principle_id=principle.id if principle else None,
                    retry_failed=retry_failed,
                    force=force,
                )
                if post_id is None:
                    results.append(
                        PostResult(
                            team_id, channel_id, due.day, Outcome.ALREADY_CLAIMED, kind=due.kind
                        )
                    )
                    continue
                queue.enqueue(
                    session,
                    team_id=team_id,
                    kind=OUTBOX_KINDS[due.kind],
                    channel_id=channel_id,
                    text=message.text,
                    blocks=message.blocks,
                    after=message.after,
                    subject=str(post_id),
                    now=now,
                    flush=False,
                )
                results.append(
                    PostResult(
                        team_id, channel_id, due.day, Outcome.QUEUED, kind=due.kind, post_id=post_id
                    )
                )
        return results

    @staticmethod
    def _principle(
        principles: dict[tuple[str, dt.date], PrincipleInfo], due: Due
    ) -> PrincipleInfo | None:
        """The principle a morning post shows (a digest shows none)."""
        if due.kind != PostKind.DAILY:
            return None
        return principles[due.schedule.team_id, due.day]

    def _draw(
        self, session: Session, due: Due, principle: PrincipleInfo | None, now: dt.datetime
    ) -> Post:
        scope = QuoteScope(channel_id=due.schedule.channel_id)
        language = workspace_language(
            session=session, team_id=due.schedule.team_id, default=self.language
        )
        if principle is None:
            digest = weekly_digest(
                session=session,
                team_id=due.schedule.team_id,
                day=due.day,
                zone=due.schedule.zone,
                scope=scope,
                dashboard_url=self.dashboard_url,
            )
            return DigestPost(digest, language)
        kudos = recent_kudos(
            session=session,
            team_id=due.schedule.team_id,
            principle_id=principle.id,
            now=now,
            scope=scope,
        )
        return DailyPost(principle.in_language(language), kudos, language)

    def settle(self, results: Iterable[PostResult], *, timeout: float) -> list[PostResult]:
        """The results once their queued posts were sent or failed (by this process's sender or
        another's); a post still on its way after `timeout` stays QUEUED."""
        results = list(results)
        waiting = {r.post_id for r in results if r.outcome == Outcome.QUEUED and r.post_id}
        deadline = time.monotonic() + timeout
        ended: dict[int, ScheduledPost] = {}
        while waiting:
            with self.database.reading() as session:
                for claim in session.scalars(
                    select(ScheduledPost).where(
                        ScheduledPost.id.in_(list(waiting)),
                        ScheduledPost.status != PostStatus.SENDING,
                    )
                ):
                    ended[claim.id] = claim
                    waiting.discard(claim.id)
                paused = _paused_reasons(session, [r for r in results if r.post_id in ended])
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(SETTLE_POLL_S)
        settled = []
        for result in results:
            done = ended.get(result.post_id or 0)
            if done is None:
                settled.append(result)
            elif done.status == PostStatus.SENT:
                settled.append(replace(result, outcome=Outcome.SENT, message_ts=done.message_ts))
            else:
                error = done.last_error or ""
                reason = paused.get((result.team_id, result.channel_id))
                outcome = Outcome.PAUSED if reason and error.startswith(reason) else Outcome.FAILED
                settled.append(replace(result, outcome=outcome, detail=error))
        return settled


def _paused_reasons(
    session: Session, results: Sequence[PostResult]
) -> dict[tuple[str, str], str | None]:
    found: dict[tuple[str, str], str | None] = {}
    for result in results:
        key = (result.team_id, result.channel_id)
        if key not in found:
            schedule = get_schedule(session=session, team_id=key[0], channel_id=key[1])
            found[key] = schedule.paused_reason if schedule else None
    return found


class ScheduledPostHandler(StoredBodyHandler):
    """The outbox handler of morning posts and digests: records the outcome on the claim.

    `pauses`: the refusals after which the bot can't post in the channel at all (the Slack
    side's error codes); the subscription is paused rather than tried again every day.
    """

    def __init__(self, *, pauses: Collection[str]) -> None:
        self.pauses = frozenset(pauses)

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        for row in rows:
            finish_post(
                session=session,
                post_id=int(row.subject or 0),
                now=now,
                attempts=row.attempts,
                message_ts=sent.ts,
            )
            log.info(
                "%s sent team=%s channel=%s attempts=%d",
                row.kind,
                row.team_id,
                row.channel_id,
                row.attempts,
            )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        for row in rows:
            finish_post(
                session=session,
                post_id=int(row.subject or 0),
                now=now,
                attempts=row.attempts,
                error=reason,
            )
            if reason in self.pauses:
                pause(
                    session=session, team_id=row.team_id, channel_id=row.channel_id, reason=reason
                )
                log.warning(
                    "%s paused team=%s channel=%s: Slack said %s",
                    row.kind,
                    row.team_id,
                    row.channel_id,
                    reason,
                )
            else:
                log.error(
                    "%s failed team=%s channel=%s attempts=%d: %s",
                    row.kind,
                    row.team_id,
                    row.channel_id,
                    row.attempts,
                    reason,
                )
