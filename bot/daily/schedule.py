"""Channel schedules for the principle of the day: parsing, subscriptions, due posts, claims.

Plain Python over a SQLAlchemy session; time comes in as an aware `now` so that every rule here
is testable without a clock or Slack. The APScheduler wiring lives in bot/daily/jobs.py and the
queueing in bot/daily/flows.py.

A post is *claimed* in `scheduled_posts` (unique on team, channel, local date and kind) before
it is sent, so two processes, or a cron job and a catch-up sweep, never send the same post twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.models import ScheduledPost, Subscription
from bot.errors import UserError
from bot.text import echo, numeric

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKING_DAYS: tuple[str, ...] = WEEKDAYS[:5]
DEFAULT_TIME = "09:00"
DEFAULT_TIMEZONE = "UTC"


class PostKind(StrEnum):
    """What a scheduled post is (stored in scheduled_posts.kind): the principle of the day, or
    the weekly digest, which goes out on Mondays at the channel's post time where asked."""

    DAILY = "daily"
    DIGEST = "digest"


DIGEST_WEEKDAY = 0
# A post whose time is at or after the cut-off may still catch up for this long.
LATE_POST_GRACE = dt.timedelta(hours=1)

SUBSCRIBE_EXAMPLE = "`/mission subscribe 09:30 weekdays Europe/Berlin`"
# After `ascii_digits` and lower-casing: 9, 09:30, 9.30, 9h30, 9am, 9:30pm, 12 a.m. (the space
# is taken out first). Minutes always have two digits.
_TIME = re.compile(
    r"^(?P<hour>[0-9]{1,2})(?:[:.h](?P<minute>[0-9]{2}))?(?:(?P<half>[ap])\.?(?:m\.?)?)?$"
)
_HALF_DAY = re.compile(r"(?<=\d)\s+(?=[ap]\.?(?:m\.?)?(?:\s|$))", re.IGNORECASE)
TIME_FORMATS = "24-hour HH:MM like 09:30 or 21:00, or 9:30am"
_DAY_NAMES = {
    **{day: day for day in WEEKDAYS},
    **{
        name: day
        for day, names in {
            "mon": ("monday",),
            "tue": ("tues", "tuesday"),
            "wed": ("wednesday",),
            "thu": ("thur", "thurs", "thursday"),
            "fri": ("friday",),
            "sat": ("saturday",),
            "sun": ("sunday",),
        }.items()
        for name in names
    },
}


class DailyCronTrigger(CronTrigger):
    """A CronTrigger that fires at most once per local date and always moves forward.

    APScheduler 3.11's CronTrigger, asked for the fire after a wall time in the hour repeated
    at a DST fall-back, answers that same instant again and again (agronholm/apscheduler#1021),
    which spins the scheduler's loop; it would also fire twice that day. After a fire we ask
    for the first fire of the next local day instead.
    """

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        if previous_fire_time is None:
            return super().get_next_fire_time(None, now)
        next_day = previous_fire_time.astimezone(self.timezone).date() + dt.timedelta(days=1)
        start = dt.datetime.combine(next_day, dt.time(0), tzinfo=self.timezone)
        return super().get_next_fire_time(None, max(now, start))


class PostStatus:
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class InvalidSchedule(UserError):
    """A time, weekday list or timezone that can't be used; the message shows an example."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\nFor example: {SUBSCRIBE_EXAMPLE}")


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """What `/mission subscribe …` asked for; `None` fields take their defaults."""

    post_time: str | None = None
    weekdays: tuple[str, ...] | None = None
    timezone: str | None = None
    digest: bool = False


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

    def trigger(self) -> DailyCronTrigger:
        hour, minute = self.hour_minute
        return DailyCronTrigger(
            day_of_week=",".join(self.weekdays), hour=hour, minute=minute, timezone=self.zone
        )

    def next_post(self, now: dt.datetime) -> dt.datetime | None:
        """The next post time strictly after `now`, in the channel's timezone."""
        return self.trigger().get_next_fire_time(None, now + dt.timedelta(microseconds=1))

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


# -- parsing -------------------------------------------------------------------------------


def parse_time(value: str) -> str:
    """A post time as `HH:MM` (24-hour, ASCII digits), from the ways people write one."""
    wanted = numeric(value).lower().replace(" ", "")
    match = _TIME.match(wanted)
    if match is None:
        raise InvalidSchedule(f"{echo(value)} isn't a time I understand: use {TIME_FORMATS}.")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"] is not None:
        if not 1 <= hour <= 12:
            raise InvalidSchedule(
                f"{echo(value)} isn't a time: with am or pm the hour is 1 to 12. "
                f"Or use {TIME_FORMATS}."
            )
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    if hour > 23 or minute > 59:
        raise InvalidSchedule(
            f"{echo(value)} isn't a time: hours go from 00 to 23 and minutes from 00 to 59. "
            f"Use {TIME_FORMATS}."
        )
    return f"{hour:02d}:{minute:02d}"


def parse_weekdays(value: str) -> tuple[str, ...]:
    lowered = value.lower()
    if lowered in {"weekdays", "workdays"}:
        return WORKING_DAYS
    if lowered in {"daily", "everyday", "every-day"}:
        return WEEKDAYS
    if lowered == "weekends":
        return WEEKDAYS[5:]
    chosen: set[str] = set()
    for part in filter(None, lowered.split(",")):
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _day(first, value), _day(last, value)
            i, j = WEEKDAYS.index(start), WEEKDAYS.index(end)
            span = WEEKDAYS[i : j + 1] if i <= j else WEEKDAYS[i:] + WEEKDAYS[: j + 1]
            chosen.update(span)
        else:
            chosen.add(_day(part, value))
    if not chosen:
        raise InvalidSchedule(f"{echo(value)} names no weekdays.")
    return tuple(day for day in WEEKDAYS if day in chosen)


def _day(name: str, whole: str) -> str:
    day = _DAY_NAMES.get(name.strip())
    if day is None:
        raise InvalidSchedule(
            f"{echo(name)} in {echo(whole)} isn't a weekday: use weekdays, daily, "
            "or days like mon,wed,fri."
        )
    return day


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(value: str) -> str:
    name = _zones_by_lower_name().get(value.lower())
    if name is None:
        raise InvalidSchedule(
            f"{echo(value)} isn't a timezone I know: use an Area/City name like America/New_York."
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"{echo(value)} isn't a timezone I can use.") from None
    return name


def parse_schedule_request(text: str) -> ScheduleRequest:
    """`[time] [weekdays|daily|mon,tue,…] [Area/City] [digest]`, in any order."""
    post_time: str | None = None
    weekdays: tuple[str, ...] | None = None
    timezone: str | None = None
    digest = False
    # `9 am` is one time: join the half-day to its number before splitting into words.
    for token in _HALF_DAY.sub("", text).split():
        lowered = token.lower()
        if lowered == "digest":
            digest = True
        elif "/" in token or lowered in {"utc", "gmt"}:
            timezone = parse_timezone(token)
        elif any(char.isdigit() for char in token):
            # Weekday names have no digits: anything with one is meant as a time.
            post_time = parse_time(token)
        else:
            weekdays = parse_weekdays(token)
    return ScheduleRequest(post_time, weekdays, timezone, digest)


def describe_weekdays(weekdays: tuple[str, ...]) -> str:
    if weekdays == WEEKDAYS:
        return "every day"
    if weekdays == WORKING_DAYS:
        return "weekdays (Mon to Fri)"
    return ", ".join(day.capitalize() for day in weekdays)


# -- subscriptions -------------------------------------------------------------------------


def _insert(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT (SQLAlchemy's generic one doesn't)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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
    statement = _insert(session)(Subscription).values(
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


# -- claims --------------------------------------------------------------------------------


def claim_post(
    *,
    session: Session,
    team_id: str,
    channel_id: str,
    local_date: dt.date,
    now: dt.datetime,
    kind: PostKind = PostKind.DAILY,
    principle_id: int | None = None,
    retry_failed: bool = False,
    force: bool = False,
) -> int | None:
    """Claim the channel's post of `local_date` (showing `principle_id`, for a morning post);
    the claimed row's id, or None if taken.

    The insert is atomic on the unique key, so of two racing processes exactly one wins. A
    failed post can be claimed again with `retry_failed`; `force` takes any existing claim.
    """
    insert = _insert(session)
    keys = {
        "team_id": team_id,
        "channel_id": channel_id,
        "local_date": local_date,
        "kind": kind,
    }
    claimed = session.scalar(
        insert(ScheduledPost)
        .values(
            **keys,
            principle_id=principle_id,
            status=PostStatus.SENDING,
            attempts=0,
            claimed_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(ScheduledPost.id)
    )
    if claimed is not None or not (retry_failed or force):
        return claimed
    conditions = [getattr(ScheduledPost, name) == value for name, value in keys.items()]
    if not force:
        conditions.append(ScheduledPost.status == PostStatus.FAILED)
    return session.scalar(
        update(ScheduledPost)
        .where(*conditions)
        .values(
            principle_id=principle_id,
            status=PostStatus.SENDING,
            claimed_at=now,
            updated_at=now,
            last_error=None,
        )
        .returning(ScheduledPost.id)
    )


def finish_post(
    *,
    session: Session,
    post_id: int,
    now: dt.datetime,
    attempts: int,
    message_ts: str | None = None,
    error: str | None = None,
) -> None:
    """Record how the claimed post went: sent with its ts, or failed with the reason."""
    status = PostStatus.FAILED if error else PostStatus.SENT
    session.execute(
        update(ScheduledPost)
        .where(ScheduledPost.id == post_id)
        .values(
            status=status,
            attempts=ScheduledPost.attempts + attempts,
            message_ts=message_ts,
            last_error=error[:200] if error else None,
            updated_at=now,
        )
        # No session objects of this table to keep in step: skip the ORM's evaluation.
        .execution_options(synchronize_session=False)
    )


def claimed_keys(
    *,
    session: Session,
    since: dt.date,
    kind: PostKind = PostKind.DAILY,
    include_failed: bool = True,
    channels: Collection[tuple[str, str]] | None = None,
) -> set[tuple[str, str, dt.date]]:
    """(team, channel, local date) of the posts claimed since `since`, to skip them cheaply.

    `channels` ((team, channel) pairs) narrows it to those: cron jobs firing for some channels
    must not read every channel's claims, or a fan-out of N channels reads N² rows.
    """
    query = select(ScheduledPost.team_id, ScheduledPost.channel_id, ScheduledPost.local_date).where(
        ScheduledPost.kind == kind, ScheduledPost.local_date >= since
    )
    if channels is not None:
        query = query.where(
            tuple_(ScheduledPost.team_id, ScheduledPost.channel_id).in_(list(channels))
        )
    if not include_failed:
        query = query.where(ScheduledPost.status != PostStatus.FAILED)
    return {(team, channel, day) for team, channel, day in session.execute(query)}
