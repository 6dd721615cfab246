"""The schema, as typed SQLAlchemy 2.x models. Every table is scoped by the Slack team_id.

Alembic migrations in `migrations/` build exactly this schema; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TeamId = String(32)
UserId = String(32)
ChannelId = String(32)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases.

    PostgreSQL keeps `timestamptz`; SQLite keeps text without an offset, so values are
    normalised to UTC on the way in and given their UTC tzinfo back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# What tells the time: `utcnow` in production; tests pass in a clock they control.
Clock = Callable[[], dt.datetime]


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def table(model: type[Base]) -> Table:
    """The model's table, for Core statements on the request path: a statement written on the
    ORM's attributes goes through the ORM's machinery even when it loads no objects, which cost
    a kudos more CPU than the database spent on it."""
    return Base.metadata.tables[model.__tablename__]


class Mission(Base):
    """The mission statement of a workspace, synchronised from the mission file."""

    __tablename__ = "missions"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    company: Mapped[str | None] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    # The mission file's own language, and its translations of the company and statement:
    # JSON, {"de": {"company": …, "mission": …}} (bot/mission/file.py).
    language: Mapped[str | None] = mapped_column(String(16))
    translations: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Principle(Base):
    """A principle of a workspace. Retired principles stay so that past kudos point somewhere."""

    __tablename__ = "principles"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index(None, "team_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40))
    emoji: Mapped[str | None] = mapped_column(String(100))
    # More emoji that mean this principle as a reaction: space-separated `:codes:`.
    aliases: Mapped[str | None] = mapped_column(Text)
    # The title and description in other languages: JSON, {"de": {"title": …, "description": …}}.
    translations: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DailyPrinciple(Base):
    """Which principle a date got in a workspace: chosen once, then the same everywhere."""

    __tablename__ = "daily_principles"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    principle_id: Mapped[int] = mapped_column(ForeignKey("principles.id"))
    cycle: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Base):
    """A channel's request for the principle of the day (and optionally the weekly digest)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    channel_id: Mapped[str] = mapped_column(ChannelId)
    post_time: Mapped[str] = mapped_column(String(5))
    weekdays: Mapped[str] = mapped_column(String(27))
    timezone: Mapped[str] = mapped_column(String(64))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ScheduledPost(Base):
    """The claim on one channel's post of one local day: unique, so it is sent at most once."""

    __tablename__ = "scheduled_posts"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "local_date", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    channel_id: Mapped[str] = mapped_column(ChannelId)
    local_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    principle_id: Mapped[int | None] = mapped_column(ForeignKey("principles.id"))
    status: Mapped[str] = mapped_column(String(16))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


MESSAGE_LENGTH_INDEX = "ix_kudos_team_id_message_length"


class Kudos(Base):
    """One recognition from a giver to one receiver; a multi-recipient kudos shares group_id.

    The reports (bot/reports/leaderboard.py) read kudos by team and time, or by team and person; the
    indexes for those carry every column the reports filter or group on after their key, so
    both databases answer from the index alone (PostgreSQL's index-only scan, SQLite's
    covering index) instead of visiting each row. Plain trailing columns rather than
    PostgreSQL's INCLUDE, which SQLite doesn't have. Named by hand: the naming convention's
    names for them would pass PostgreSQL's 63 characters.
    """

    __tablename__ = "kudos"
    __table_args__ = (
        Index(
            "ix_kudos_team_id_created_at_covering",
            "team_id",
            "created_at",
            "withdrawn_at",
            "receiver_id",
            "giver_id",
            "principle_id",
        ),
        Index(
            "ix_kudos_team_id_receiver_id_covering",
            "team_id",
            "receiver_id",
            "created_at",
            "withdrawn_at",
            "principle_id",
            "giver_id",  # the weighted board's counts per giver (migration 0015)
        ),
        Index(None, "team_id", "principle_id", "created_at"),
        Index(
            "ix_kudos_team_id_giver_id_covering",
            "team_id",
            "giver_id",
            "created_at",
            "withdrawn_at",
            "principle_id",
        ),
        Index(None, "team_id", "group_id"),
        Index(None, "team_id", "channel_id", "message_ts"),
        Index(
            "ix_kudos_team_id_channel_id_covering",  # the dashboard's channel filter (0019)
            "team_id",
            "channel_id",
            "created_at",
            "withdrawn_at",
            "receiver_id",
            "giver_id",
            "principle_id",
        ),
        # The digest's highlights (the longest messages of the week, latest first): the
        # week's kudos of each length, from the longest down, without reading every message
        # (bot/daily/digest.py; migration 0020).
        Index(MESSAGE_LENGTH_INDEX, "team_id", text("length(message)"), "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    group_id: Mapped[str] = mapped_column(String(36))
    giver_id: Mapped[str] = mapped_column(UserId)
    receiver_id: Mapped[str] = mapped_column(UserId)
    principle_id: Mapped[int] = mapped_column(ForeignKey("principles.id"))
    message: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(ChannelId)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    public_channel_id: Mapped[str | None] = mapped_column(ChannelId)
    public_message_ts: Mapped[str | None] = mapped_column(String(32))
    # Who could read the kudos where it was given (bot/audience.py): only "public" may be
    # quoted outside that conversation. Rows from before the column was added are "unknown".
    audience: Mapped[str] = mapped_column(String(16), default="unknown", server_default="unknown")
    # The Slack message a reaction kudos is about, or a message kudos was written as (in
    # `channel_id`): for "once per giver, message and principle" and for undo by removal.
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # The giver's local day the kudos was counted against in their allowance, so that a
    # withdrawal gives it back to that day even if the timezone the bot knows for the giver
    # changed meanwhile (a giver Slack had not yet described is counted in UTC). Rows from
    # before migration 0016 have none: their day is worked out from the giver's timezone.
    allowance_day: Mapped[dt.date | None] = mapped_column(Date)


class Conversation(Base):
    """What the bot last learnt of a conversation's audience (conversations.info, or an event).

    Shared by every bot process, so that an event handled by one (a channel made private) is
    what all of them go by.
    """

    __tablename__ = "conversations"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ChannelId, primary_key=True)
    audience: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class KudosAllowance(Base):
    """How many recipients a giver has used on one local day; the daily limit is checked here."""

    __tablename__ = "kudos_allowances"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    giver_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    # A reaction over the allowance earns one note a day, not one per reaction.
    noted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ProcessedEvent(Base):
    """Events API deliveries already handled, so that Slack's retries are handled once."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index(None, "received_at"),)


class MessageMark(Base):
    """The latest thing Slack said about a message (posted or deleted), or about one person's
    reaction to it (added or removed), ordered by the event's own `event_ts` (bot/kudos/
    ordering.py): so that events handled out of order still take effect in Slack's order.
    Kept a day, like `processed_events`: Slack's retries and our threads reorder within
    minutes."""

    __tablename__ = "message_marks"
    __table_args__ = (Index(None, "updated_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ChannelId, primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The reactor; "" for the message itself.
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    # The emoji as Slack named it (skin tone and all); "" for the message itself.
    mark: Mapped[str] = mapped_column(String(128), primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean)
    # Slack's `event_ts` of the event that said so, in microseconds.
    event_us: Mapped[int] = mapped_column(BigInteger)
    # The principle the reaction meant when it was seen (NULL: none, or the message itself).
    principle_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """One message the bot will send into Slack on its own initiative (bot/outbox/).

    Written in the same transaction as the change that causes it, drained by the sender.
    The claim reads due rows by status and time; a channel's rows by team, channel and status
    (coalescing, and "is this channel busy in another process?"); cancel reads by subject.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "not_before"),
        Index(None, "team_id", "channel_id", "status"),
        Index(None, "team_id", "subject"),
        # A paced kind's sends in the last seconds (bot/outbox/queue.py's `recent_sends`).
        Index(None, "kind", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    kind: Mapped[str] = mapped_column(String(32))
    # Where it goes: a channel, or a user ID for a DM.
    channel_id: Mapped[str] = mapped_column(ChannelId)
    # What it is about (a kudos group_id, a scheduled_posts id): for handlers and cancel.
    subject: Mapped[str | None] = mapped_column(String(64))
    # JSON {"text", "blocks"}; NULL when the kind's handler draws it at send time.
    body: Mapped[str | None] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(Text)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    update_ts: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it ended: sent, failed or cancelled.
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Person(Base):
    """Someone in the workspace as Slack last described them (users.list, user_change, team_join).

    Answering a person never waits on Slack's rate-limited `users.info`: who they are, their
    timezone, whether they are a bot, deactivated or an admin come from here.
    """

    __tablename__ = "people"
    # The bots and the deactivated, a few hundred of 50,000: participation takes them away
    # from counts of everyone (migration 0025).
    __table_args__ = (
        Index(
            "ix_people_team_id_inactive",
            "team_id",
            "user_id",
            postgresql_where=text("is_bot OR deleted"),
            sqlite_where=text("is_bot OR deleted"),
        ),
    )

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    # Slack's locale for them (`de-DE`, `pt-BR`; `include_locale=true`), as Slack wrote it:
    # bot/i18n/negotiate.py turns it into a shipped language when it is read.
    locale: Mapped[str | None] = mapped_column(String(35))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecognisedMessage(Base):
    """A message recognised with principle reactions (bot/kudos/reactions.py): its one thread
    reply, edited in place as reactions come and go, and whether its author was told by DM."""

    __tablename__ = "recognised_messages"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ChannelId, primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    author_id: Mapped[str] = mapped_column(UserId)
    permalink: Mapped[str | None] = mapped_column(Text)
    # When the message is itself a reply: its thread (from the permalink), where the reply goes.
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    reply_ts: Mapped[str | None] = mapped_column(String(32))
    dm_queued: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceSettings(Base):
    """A workspace's own choices (`/kudos settings`); NULL means the environment's default."""

    __tablename__ = "workspace_settings"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    reactions: Mapped[bool | None] = mapped_column(Boolean)
    messages: Mapped[bool | None] = mapped_column(Boolean)
    trigger_word: Mapped[str | None] = mapped_column(String(32))
    # What its channels read in (`/kudos settings language de`); NULL: MISSIONBOT_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(16))
    updated_by: Mapped[str | None] = mapped_column(UserId)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HealthChart(Base):
    """The promise-health chart last uploaded for a manager's App Home (bot/slack/listeners/
    health.py): drawn and shared into their DM at most once a week, then shown from Slack by
    file ID, so opening the tab doesn't upload a new image each time."""

    __tablename__ = "health_charts"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnboardingDrip(Base):
    """A newcomer's onboarding drip (bot/daily/drip.py): one principle a working day by DM.

    `seen` is the JSON list of the principle IDs already sent, so that a principle added to
    the mission mid-drip is still sent and none is sent twice; `next_at` is when the next DM
    is due (10:00 on a working day in the person's timezone).
    """

    __tablename__ = "onboarding_drips"
    __table_args__ = (Index(None, "next_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    seen: Mapped[str] = mapped_column(Text, default="[]")
    next_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why it ended, and when: "seen all", "stopped" (the button), "left" (deactivated).
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(16))


class DashboardSignin(Base):
    """A sign-in link for the dashboard (`/kudos dashboard`): single use, for one person of one
    workspace, until `expires_at`. Only a hash of the link's token is kept, so the table
    can't be read back into working links."""

    __tablename__ = "dashboard_signins"
    __table_args__ = (Index(None, "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    user_id: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KudosTally(Base):
    """The read model (bot/reports/summaries.py): standing kudos counted per UTC bucket, kept
    current in the same transaction as every kudos and withdrawal.

    `role` says what is counted: kudos received by `user_id`, given by `user_id`, or (with
    `user_id` empty) all kudos of the principle. `grain` is the bucket's length: a UTC day,
    month or year starting at `bucket`. `principle_id` 0 is every principle together (the
    unfiltered leaderboards), so they never sum a person's principles at read time.
    The key leads with what every read filters on, then the bucket range it scans.
    """

    __tablename__ = "kudos_tallies"
    # The count rides in the key's index (PostgreSQL's INCLUDE, migration 0014): reports read
    # the index alone instead of visiting a table page per tally.
    __table_args__ = (
        PrimaryKeyConstraint(
            "team_id",
            "role",
            "grain",
            "principle_id",
            "bucket",
            "user_id",
            postgresql_include=["kudos"],
        ),
    )

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    principle_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    kudos: Mapped[int] = mapped_column(Integer)


class KudosPair(Base):
    """Standing kudos from one person to another per UTC quarter (`bucket`, its first day),
    for promise health's reciprocal pairs (bot/reports/health.py), and over all time (`bucket`
    1970-01-01, summaries.ALL_TIME), for the all-time weighted board (bot/reports/weighted.py).
    Kept by triggers on `kudos` (migrations 0017 and 0020), so every release that writes kudos
    keeps it exact; no code writes it.

    Pairs rarely repeat (a quarter of a million kudos: ~85,000 rows for 87,000 kudos), so
    health reads only the rows with two kudos or more, through the partial index."""

    __tablename__ = "kudos_pairs"
    __table_args__ = (
        Index(
            "ix_kudos_pairs_repeated",
            "team_id",
            "bucket",
            "giver_id",
            "receiver_id",
            "kudos",  # read from the index alone (migration 0020)
            postgresql_where=text("kudos >= 2"),
            sqlite_where=text("kudos >= 2"),
        ),
    )

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    giver_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    receiver_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    kudos: Mapped[int] = mapped_column(Integer)


class KudosChannelTally(Base):
    """Standing kudos per channel (migration 0023), and per tallied user group under its ID
    (migration 0026: a group's ID starts with S), for the dashboard's pages filtered by a
    channel or a group: `role` "p" per UTC day and principle (`user_id` empty); "r" / "g"
    received / given per UTC month, person and principle (0: any); "R" / "G" how many people
    have a row above 0 of that month, principle and role (`user_id` empty). Kept by triggers
    on `kudos`, as `kudos_pairs` is; no code writes it but a group's fill and membership
    changes (bot/reports/usergroup_tallies.py). The key leads with what every read filters
    on, then the bucket a month's or a range of days' reads seek."""

    __tablename__ = "kudos_channel_tallies"
    __table_args__ = (
        PrimaryKeyConstraint(
            "team_id",
            "channel_id",
            "role",
            "bucket",
            "principle_id",
            "user_id",
            postgresql_include=["kudos"],
        ),
    )

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ChannelId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    principle_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    kudos: Mapped[int] = mapped_column(Integer)


class TalliedUsergroup(Base):
    """A user group whose standing kudos `kudos_channel_tallies` counts under its ID (migration
    0026): for the members whose digest (`usergroup_tallies.digest`) is kept here, and for
    kudos created at or after `counted_since` (NULL: all; older ones are still being
    filled); an empty digest: being forgotten (its rows deleted before it starts over).
    Written by bot/reports/usergroup_tallies.py; read by the triggers."""

    __tablename__ = "tallied_usergroups"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    members_digest: Mapped[str] = mapped_column(String(64))
    counted_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TalliedUsergroupMember(Base):
    """A member of a tallied user group, as its tallies count it (migration 0026)."""

    __tablename__ = "tallied_usergroup_members"
    __table_args__ = (Index(None, "team_id", "user_id", "group_id"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)


class KudosTallyHistogram(Base):
    """How many people have exactly `kudos` standing kudos received (`role` "r") or given
    ("g") of a principle (0: any) in a UTC month or quarter bucket (`grain` "m" or "q"): the
    person tallies of that bucket counted per count. Promise health's and the principles'
    distinct givers, receivers and top-5 share read a bucket's few hundred rows here instead
    of its hundreds of thousands of person tallies.

    Kept by triggers on `kudos_tallies` (migration 0018): every change to a person tally of
    those grains moves one person from its old count to its new one, so whatever writes the
    tallies (the write path, a rebuild, a hand fix) keeps this exact; no code writes it but
    the rebuild's recount. A count no one has any more stays as a row of 0 people."""

    __tablename__ = "kudos_tally_histogram"
    __table_args__ = (
        PrimaryKeyConstraint("team_id", "role", "grain", "principle_id", "bucket", "kudos"),
    )

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    principle_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kudos: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    people: Mapped[int] = mapped_column(Integer)


class KudosLatest(Base):
    """When a person last received (`role` "r") or gave ("g") a standing kudos: the latest
    `created_at` of their kudos not withdrawn, None once none stands. Participation reads it
    once per active person: "received in the last 60 days" is `last_at` >= its start, and
    "gave this month" (a period ending after now) is `last_at` inside the month, where a
    person tally read each person's hashed month or their raw kudos of the edge days.

    Kept by triggers (migration 0021), not by this code: on `kudos_tallies`, when a person's
    all-time tally changes (every kudos given or withdrawn changes it), and on `kudos`, when a
    row's `withdrawn_at` changes; each seeks the person's latest standing kudos in their
    covering index. The rebuild refills it (`summaries.refill_latest`)."""

    __tablename__ = "kudos_latest"
    # Participation counts the people whose latest kudos lies in a period (this month, the
    # last 60 days) as a range of this index, not each active person joined with their rows
    # (migration 0025).
    __table_args__ = (Index("ix_kudos_latest_team_id_role_last_at", "team_id", "role", "last_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KudosUnlisted(Base):
    """People of `kudos_latest` who may have no row in `people` (no directory row when their
    first kudos of a role was counted, or their row deleted since): candidates, each checked
    against `people` when read, so a stale one costs a seek and nothing else. With the bots
    and the deactivated (a partial index of `people`) they are who participation takes away
    from `kudos_latest`'s counts to count the active people alone, without reading every
    person (bot/reports/summaries.py `participation`).

    Kept by triggers (migration 0025): a `kudos_latest` row inserted while the directory has
    no row for its person adds one (written only by the transaction holding that person's
    all-time tally, as the `kudos_latest` row is); a `people` row deleted adds both roles'
    always, whatever the deleting transaction can see of `kudos_latest`; a `people` row
    inserted removes the person's. The rebuild refills it (`summaries.refill_latest`)."""

    __tablename__ = "kudos_unlisted"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)


class SettledCountGeneration(Base):
    """A team's generation of settled counts (`SettledPeopleCount`): moved on by triggers on
    `kudos` (migration 0027) by every write touching a kudos over 30 minutes old, and by the
    rebuild once done, so every count kept before it is stale."""

    __tablename__ = "settled_count_generations"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class SettledPeopleCount(Base):
    """How many people received (`role` "r") or gave ("g") standing kudos in `[start_at,
    end_at)`, a period that ended over an hour before it was counted, of one principle or all
    (`principle_id` 0), as counted at the team's `generation`: read back while the team's
    generation is still that (bot/reports/settled.py)."""

    __tablename__ = "settled_people_counts"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    role: Mapped[str] = mapped_column(String(1), primary_key=True)
    principle_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)


class SettledReport(Base):
    """A report's whole result (`body`, JSON) for a period that ended over an hour before it
    was counted, named by `report` (bot/reports/settled.Report) and the period's UTC bounds
    (`period`), as counted at the team's `generation`: read back while it is still that."""

    __tablename__ = "settled_reports"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    report: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(80), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class TallyRebuild(Base):
    """A `missionbot db rebuild-summaries` under way: the next UTC month to rebuild, so that an
    interrupted rebuild resumes where it stopped."""

    __tablename__ = "tally_rebuilds"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    first_month: Mapped[dt.date] = mapped_column(Date)
    next_month: Mapped[dt.date] = mapped_column(Date)
    last_month: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryFill(Base):
    """Where the people directory's `users.list` fill of a workspace stands (bot/slack/users.py).

    The cursor Slack gave for the next page is stored after each page, so a restart resumes
    there instead of at page one (50,000 people are 250 pages at 20 a minute); the lease says
    which process fills now, so that two `serve` processes on one database fill it once.
    """

    __tablename__ = "directory_fills"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    # The next page's cursor; NULL before the first page (and after the last).
    cursor: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    people: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the last page was stored; NULL while a fill is under way.
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PersonCheck(Base):
    """A person a kudos was recorded for before Slack could say who they are (bot/kudos/checks.py).

    One row per person and kudos: looked up after the answer at Slack's pace, the kudos is
    withdrawn for a receiver who turns out to be a bot or deactivated. `counted_timezone` is the
    timezone whose day the giver's allowance was counted in, so a withdrawal gives it back there.
    """

    __tablename__ = "person_checks"
    __table_args__ = (Index(None, "next_attempt_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Whether the person gave the kudos (else they received it).
    giver: Mapped[bool] = mapped_column(Boolean, default=False)
    counted_timezone: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HomeState(Base):
    """A person's App Home as the bot last published it (bot/home/state.py): the fingerprint
    of that view, the data version that changes whenever something on it does, who they were
    (role, timezone) when they last opened it, and whether a publish is queued or in flight
    (`publish_queued_at`), so that an unchanged Home is never published again and a person
    never has two publishes waiting."""

    __tablename__ = "home_states"
    __table_args__ = (Index("ix_home_states_team_id_last_opened_at", "team_id", "last_opened_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    data_version: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[str | None] = mapped_column(String(200))
    publishing: Mapped[str | None] = mapped_column(String(200))
    view_hash: Mapped[str | None] = mapped_column(String(100))
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publish_queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
