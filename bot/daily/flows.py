"""Sending the morning post and the weekly digest: claim it, draw it, send it, record how it
went. Both kinds share the claim (`scheduled_posts`, unique per kind) and retries.

Sending goes through a `Sender` (bot/slack/sender.py posts with `chat.postMessage`), which
renders the post and says how a failure should be treated: wait and retry, or give up (and
pause the channel when the bot can no longer post there). The retrying is decided here.

Retries are ours, not the Web client's, because a morning post may wait much longer than a
request thread should: 429 waits the Retry-After Slack asks for, 5xx and network errors back off
exponentially, all within one hour. A post that still fails is marked failed (the next start
retries it the same local day). A channel the bot can no longer post in pauses its subscription.

A 429 stops every posting thread, not only the one that got it: Slack limits chat.postMessage
per app and workspace, so the others would only collect more 429s. They share a `RateLimitGate`
and all resume when the Retry-After has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from bot.audience import QuoteScope
from bot.daily.digest import Digest, weekly_digest
from bot.daily.rotation import KudosExample, principle_for_day, recent_kudos
from bot.daily.schedule import (
    DAILY_KIND,
    DIGEST_KIND,
    ChannelSchedule,
    claim_post,
    finish_post,
    pause,
)
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.mission.service import PrincipleInfo
from bot.outbox.gate import RateLimitGate

log = logging.getLogger(__name__)

RETRY_WINDOW = dt.timedelta(hours=1)
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 300.0


@dataclass(frozen=True, slots=True)
class DailyPost:
    """The principle of the day, with a recent kudos that lived it when there is one."""

    principle: PrincipleInfo
    kudos: KudosExample | None


@dataclass(frozen=True, slots=True)
class DigestPost:
    digest: Digest


Post = DailyPost | DigestPost


class RateLimited(Exception):
    """Too many posts: every posting thread waits `retry_after` seconds, then this one retries."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class TemporaryFailure(Exception):
    """Worth retrying after a back-off (a server error, a network error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendRefused(Exception):
    """Not worth retrying; `pause` when the bot can no longer post in the channel at all."""

    def __init__(self, reason: str, *, pause: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pause = pause


class Sender(Protocol):
    def send(self, channel_id: str, post: Post) -> str:
        """Post it in the channel; the message's ts. Raises the three failures above."""
        ...


class Outcome(StrEnum):
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
    kind: str = DAILY_KIND


class _Retry(Exception):
    def __init__(self, delay: float, reason: str, *, backoff: bool = True) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason
        self.backoff = backoff


class _GiveUp(Exception):
    def __init__(self, reason: str, *, pause: bool = False, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pause = pause
        self.attempts = attempts


class DailyPoster:
    """Posts a channel's principle of the day (and weekly digest) at most once per local date."""

    def __init__(
        self,
        database: Database,
        sender: Sender,
        *,
        clock: Clock = utcnow,
        retry_window: dt.timedelta = RETRY_WINDOW,
        backoff_first: float = BACKOFF_FIRST_S,
        stopping: threading.Event | None = None,
        gate: RateLimitGate | None = None,
    ) -> None:
        self.database = database
        self.sender = sender
        self.clock = clock
        self.retry_window = retry_window
        self.backoff_first = backoff_first
        # Set at shutdown: waits end at once and the post is marked failed for the next start.
        self.stopping = stopping or threading.Event()
        self.gate = gate or RateLimitGate()

    def post(
        self,
        schedule: ChannelSchedule,
        day: dt.date,
        *,
        retry_failed: bool = False,
        force: bool = False,
    ) -> PostResult:
        """The principle of the day of local `day`, at most once."""

        def draw(session: Session, now: dt.datetime) -> tuple[Post, int | None, str]:
            principle = principle_for_day(session=session, team_id=schedule.team_id, day=day)
            kudos = recent_kudos(
                session=session,
                team_id=schedule.team_id,
                principle_id=principle.id,
                now=now,
                scope=QuoteScope(channel_id=schedule.channel_id),
            )
            return DailyPost(principle, kudos), principle.id, principle.key

        return self._deliver(
            schedule, day, DAILY_KIND, draw, retry_failed=retry_failed, force=force
        )

    def post_digest(
        self, schedule: ChannelSchedule, day: dt.date, *, retry_failed: bool = False
    ) -> PostResult:
        """The weekly digest of the week before local `day` (a Monday), at most once."""

        def draw(session: Session, _now: dt.datetime) -> tuple[Post, int | None, str]:
            digest = weekly_digest(
                session=session,
                team_id=schedule.team_id,
                day=day,
                zone=schedule.zone,
                scope=QuoteScope(channel_id=schedule.channel_id),
            )
            return DigestPost(digest), None, "digest"

        return self._deliver(schedule, day, DIGEST_KIND, draw, retry_failed=retry_failed)

    def _deliver(
        self,
        schedule: ChannelSchedule,
        day: dt.date,
        kind: str,
        draw: Callable[[Session, dt.datetime], tuple[Post, int | None, str]],
        *,
        retry_failed: bool = False,
        force: bool = False,
    ) -> PostResult:
        """Claim the (channel, day, kind) post, draw it, send it with retries, record it."""
        team_id, channel_id = schedule.team_id, schedule.channel_id
        with self.database.transaction() as session:
            now = self.clock()
            post_id = claim_post(
                session=session,
                team_id=team_id,
                channel_id=channel_id,
                local_date=day,
                now=now,
                kind=kind,
                retry_failed=retry_failed,
                force=force,
            )
            if post_id is None:
                return PostResult(team_id, channel_id, day, Outcome.ALREADY_CLAIMED, kind=kind)
            post, principle_id, what = draw(session, now)
        attempts = 0
        error: _GiveUp | None = None
        ts: str | None = None
        try:
            ts, attempts = self._send(channel_id, post)
        except _GiveUp as exc:
            error, attempts = exc, exc.attempts
        with self.database.transaction() as session:
            finish_post(
                session=session,
                post_id=post_id,
                now=self.clock(),
                principle_id=principle_id,
                attempts=attempts,
                message_ts=ts,
                error=error.reason if error else None,
            )
            if error is not None and error.pause:
                pause(session=session, team_id=team_id, channel_id=channel_id, reason=error.reason)
        if error is None:
            log.info(
                "%s post sent team=%s channel=%s date=%s %s attempts=%d",
                kind,
                team_id,
                channel_id,
                day,
                what,
                attempts,
            )
            return PostResult(team_id, channel_id, day, Outcome.SENT, message_ts=ts, kind=kind)
        if error.pause:
            log.warning(
                "%s post paused team=%s channel=%s date=%s: Slack said %s",
                kind,
                team_id,
                channel_id,
                day,
                error.reason,
            )
            return PostResult(team_id, channel_id, day, Outcome.PAUSED, error.reason, kind=kind)
        log.error(
            "%s post failed team=%s channel=%s date=%s attempts=%d: %s",
            kind,
            team_id,
            channel_id,
            day,
            attempts,
            error.reason,
        )
        return PostResult(team_id, channel_id, day, Outcome.FAILED, error.reason, kind=kind)

    def _send(self, channel_id: str, post: Post) -> tuple[str, int]:
        deadline = time.monotonic() + self.retry_window.total_seconds()
        attempts = 0
        backoff = self.backoff_first
        while True:
            if not self.gate.wait(self.stopping):
                raise _GiveUp("rate limited; stopped", attempts=attempts)
            attempts += 1
            try:
                return self._send_once(channel_id, post, backoff), attempts
            except _GiveUp as give_up:
                give_up.attempts = attempts
                raise
            except _Retry as retry:
                if time.monotonic() + retry.delay > deadline:
                    raise _GiveUp(f"{retry.reason}; gave up", attempts=attempts) from None
                log.warning(
                    "post to %s will retry in %.1fs: %s",
                    channel_id,
                    retry.delay,
                    retry.reason,
                )
                if not retry.backoff:
                    # Rate limited: every posting thread waits at the gate, this one with them.
                    self.gate.close_for(retry.delay)
                    continue
                if self.stopping.wait(retry.delay):
                    raise _GiveUp(f"{retry.reason}; stopped", attempts=attempts) from None
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _send_once(self, channel_id: str, post: Post, backoff: float) -> str:
        try:
            return self.sender.send(channel_id, post)
        except SendRefused as refused:
            raise _GiveUp(refused.reason, pause=refused.pause) from None
        except RateLimited as limited:
            raise _Retry(limited.retry_after, "rate limited", backoff=False) from None
        except TemporaryFailure as failure:
            raise _Retry(backoff, failure.reason) from None
