"""Channel subscriptions to the principle of the day: storing them (one row per channel in
`subscriptions`) and `ChannelSchedule`, a subscription as the rest of the bot sees it, with the
rules for which post is due when.

Plain Python over a SQLAlchemy session; time comes in as an aware `now`, so every rule here is
testable without a clock or Slack. The cron trigger that fires the posts lives with the jobs
(bot/daily/jobs.py); the post itself is claimed in bot/daily/claims.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from bot.daily.schedule import (
    DEFAULT_TIME,
    DEFAULT_TIMEZONE,
    WEEKDAYS,
    WORKING_DAYS,
    ScheduleRequest,
    parse_timezone,
)
from bot.db.dialect import dialect_insert
from bot.db.models import Subscription

DIGEST_WEEKDAY = 0
# A post whose time is at or after the cut-off may still catch up for this long.
LATE_POST_GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ChannelSchedule:
    """A channel's subscription as the rest of the bot sees it."""

    team_id: str
    channel_id: str
    post_time: str
    weekdays: tuple[str, ...]
    timezone: str
    digest: bool
    paused_reason: str | None
    updated_at: dt.datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.post_time.split(":")
        return int(hour), int(minute)

    @property
    def job_id(self) -> str:
        return f"daily:{self.team_id}:{self.channel_id}"

    @property
    def fingerprint(self) -> tuple[str, tuple[str, ...], str]:
        """What the cron trigger depends on: a job is replaced only when this changes."""
        return (self.post_time, self.weekdays, self.timezone)

    def local_date(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.zone).date()

    def post_instant(self, day: dt.date) -> dt.datetime:
        """When the post of local `day` is due, as an aware datetime in the channel's zone."""
        hour, minute = self.hour_minute
        wall = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
        # A wall time that falls in a spring-forward gap doesn't exist; round-trip through UTC
        # moves it past the gap, as the cron trigger does.
        return wall.astimezone(dt.UTC).astimezone(self.zone)

    def posts_on(self, day: dt.date) -> bool:
        return WEEKDAYS[day.weekday()] in self.weekdays

    def due(self, now: dt.datetime, *, cutoff: dt.time, catching_up: bool = True) -> dt.date | None:
        """The local date whose post is due at `now`, or None.

        Due means: a posting day in the channel's zone, the post time has come, and (when
        `catching_up`) it is still before the cut-off and the schedule existed at that time,
        so a channel that subscribes at 10:00 for 09:00 starts tomorrow. Never a past day.
        """
        if self.paused_reason:
            return None
        day = self.local_date(now)
        if not self.posts_on(day):
            return None
        return self._due_at(day, now, cutoff=cutoff, catching_up=catching_up)

    def digest_due(
        self, now: dt.datetime, *, cutoff: dt.time, catching_up: bool = True
    ) -> dt.date | None:
        """The local Monday whose weekly digest is due at `now`, or None.

        The same rules as the morning post, on Mondays (whatever the posting days) and only
        for channels subscribed with `digest`.
        """
        if self.paused_reason or not self.digest:
            return None
        day = self.local_date(now)
        if day.weekday() != DIGEST_WEEKDAY:
            return None
        return self._due_at(day, now, cutoff=cutoff, catching_up=catching_up)

    def _due_at(
        self, day: dt.date, now: dt.datetime, *, cutoff: dt.time, catching_up: bool
    ) -> dt.date | None:
        at = self.post_instant(day)
        if now < at:
            return None
        if catching_up:
            if self.updated_at > at:
                return None
            if now >= catch_up_deadline(at, cutoff):
                return None
        return day


def catch_up_deadline(post_at: dt.datetime, cutoff: dt.time) -> dt.datetime:
    """A missed post may still go out until the cut-off (or shortly after a late post time)."""
    limit = post_at.replace(hour=cutoff.hour, minute=cutoff.minute, second=0, microsecond=0)
    limit = limit.astimezone(dt.UTC).astimezone(post_at.tzinfo)
    return limit if post_at < limit else post_at + LATE_POST_GRACE


def _schedule(row: Subscription) -> ChannelSchedule:
    return ChannelSchedule(
        team_id=row.team_id,
        channel_id=row.channel_id,
        post_time=row.post_time,
        weekdays=tuple(day for day in row.weekdays.split(",") if day),
        timezone=row.timezone,
        digest=row.digest,
        paused_reason=row.paused_reason,
        updated_at=row.updated_at,
    )


def subscribe(
    *,
    session: Session,
    team_id: str,
    channel_id: str,
    user_id: str,
    request: ScheduleRequest,
    default_timezone: str | None,
    now: dt.datetime,
) -> ChannelSchedule:
    """Create or update the channel's schedule; subscribing again also lifts a pause.

    One upsert on the (team, channel) key: of two people subscribing the same channel at the
    same moment, both succeed and the later write wins, on SQLite and PostgreSQL alike.
    """
    timezone = request.timezone or default_timezone or DEFAULT_TIMEZONE
    values = {
        "post_time": request.post_time or DEFAULT_TIME,
        "weekdays": ",".join(request.weekdays or WORKING_DAYS),
        "timezone": parse_timezone(timezone),
        "digest": request.digest,
        "paused_reason": None,
        "created_by": user_id,
        "updated_at": now,
    }
    statement = dialect_insert(session)(Subscription).values(
        team_id=team_id, channel_id=channel_id, created_at=now, **values
    )
    row = session.scalars(
        statement.on_conflict_do_update(
            index_elements=[Subscription.team_id, Subscription.channel_id], set_=values
        ).returning(Subscription),
        execution_options={"populate_existing": True},
    ).one()
    return _schedule(row)


def unsubscribe(*, session: Session, team_id: str, channel_id: str) -> bool:
    """Stop the channel's posts; False when it had none (or a racing request stopped them)."""
    result = session.execute(
        delete(Subscription).where(
            Subscription.team_id == team_id, Subscription.channel_id == channel_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def get_schedule(*, session: Session, team_id: str, channel_id: str) -> ChannelSchedule | None:
    row = session.scalar(
        select(Subscription).where(
            Subscription.team_id == team_id, Subscription.channel_id == channel_id
        )
    )
    return _schedule(row) if row else None


def schedules_of(
    *, session: Session, channels: Collection[tuple[str, str]]
) -> list[ChannelSchedule]:
    """The schedules of these (team, channel) pairs (those still subscribed)."""
    if not channels:
        return []
    query = (
        select(Subscription)
        .where(tuple_(Subscription.team_id, Subscription.channel_id).in_(list(channels)))
        .order_by(Subscription.team_id, Subscription.channel_id)
    )
    return [_schedule(row) for row in session.scalars(query)]


def all_schedules(*, session: Session, team_id: str | None = None) -> list[ChannelSchedule]:
    query = select(Subscription).order_by(Subscription.team_id, Subscription.channel_id)
    if team_id is not None:
        query = query.where(Subscription.team_id == team_id)
    return [_schedule(row) for row in session.scalars(query)]


def pause(*, session: Session, team_id: str, channel_id: str, reason: str) -> None:
    session.execute(
        update(Subscription)
        .where(Subscription.team_id == team_id, Subscription.channel_id == channel_id)
        .values(paused_reason=reason[:64])
    )
