"""Kudos: giving one (with its rules and the daily allowance), undoing it, and a person's tally.

Plain Python over a SQLAlchemy session. A kudos is described by three small values — what is
given (`Giving`), by whom (`Giver`) and where (`Place`) — and given by `give`, whose one caller
is the flow every way in shares (bot/kudos/flow.py): it looks people up and passes them in as
`Recipient`s. The daily allowance is enforced by one conditional
upsert on `kudos_allowances` (see `_consume_allowance`), so concurrent requests from one
giver can never together exceed it, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import JSON, String, bindparam, case, func, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, ReturningInsert

from bot.audience import Audience
from bot.db.dialect import dialect_insert, lock_transaction
from bot.db.models import Kudos, KudosAllowance, Principle, table
from bot.errors import AllowanceSpent, Count, KudosRefused
from bot.home.versions import bump_people
from bot.i18n.speech import N_, NP_
from bot.kudos.grammar import check_message
from bot.kudos.groups import KudosGroup
from bot.mission.service import PrincipleInfo, principle_info, stored_translations
from bot.reports import summaries

DUPLICATE_WINDOW = dt.timedelta(seconds=60)
UNDO_WINDOW = dt.timedelta(minutes=10)


class Source(StrEnum):
    COMMAND = "command"
    MODAL = "modal"
    SHORTCUT = "shortcut"
    # A principle's emoji as a reaction to a message (bot/kudos/reactions.py).
    REACTION = "reaction"
    # A channel message that starts with the trigger word ("kudos @ana #key …").
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a kudos would go to, as Slack describes them."""

    id: str
    name: str = ""
    is_bot: bool = False
    deleted: bool = False

    @property
    def handle(self) -> str:
        """`@name` as plain text: readable in a message and in a modal's error line alike."""
        name = (self.name or self.id).replace("<", "").replace(">", "").replace("&", "and")
        return f"@{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GivenKudos(KudosGroup):
    """The outcome of `give`: the kudos recorded (or had been, for a duplicate) and the giver's
    allowance after it."""

    remaining: int
    limit: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawnKudos(KudosGroup):
    """The outcome of withdrawing a kudos: it, and the announcement to redraw."""

    public_channel_id: str | None
    public_message_ts: str | None
    # How it was given, and the message it was about (a reaction's thread reply is redrawn).
    source: str = ""
    message_ts: str | None = None


@dataclass(frozen=True, slots=True)
class PrincipleTally:
    principle: PrincipleInfo
    this_month: int
    all_time: int


@dataclass(frozen=True, slots=True)
class KudosSummary:
    received: list[PrincipleTally]
    given: list[PrincipleTally]
    remaining_today: int
    limit: int

    def in_language(self, language: str) -> KudosSummary:
        """The same tallies with the principles as a reader of `language` sees them."""

        def put(tallies: list[PrincipleTally]) -> list[PrincipleTally]:
            return [replace(t, principle=t.principle.in_language(language)) for t in tallies]

        return replace(self, received=put(self.received), given=put(self.given))


def zone(timezone: str | None) -> ZoneInfo:
    """The giver's timezone; UTC when Slack gave none or one we don't know."""
    try:
        return ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(now: dt.datetime, timezone: str | None) -> dt.date:
    return now.astimezone(zone(timezone)).date()


# The statements of `give`, built once on the tables: building a statement, or running one
# written on the ORM's attributes, cost more CPU than PostgreSQL took to run it.
_KUDOS = table(Kudos)
_PRINCIPLES = table(Principle)
_ALLOWANCES = table(KudosAllowance)
_ACTIVE_PRINCIPLE = select(
    _PRINCIPLES.c.id,
    _PRINCIPLES.c.key,
    _PRINCIPLES.c.title,
    _PRINCIPLES.c.description,
    _PRINCIPLES.c.category,
    _PRINCIPLES.c.emoji,
    _PRINCIPLES.c.translations,
).where(
    _PRINCIPLES.c.id == bindparam("id"),
    _PRINCIPLES.c.team_id == bindparam("team_id"),
    _PRINCIPLES.c.retired_at.is_(None),
)
_RECENT_TWINS = select(_KUDOS.c.receiver_id).where(
    _KUDOS.c.team_id == bindparam("team_id"),
    _KUDOS.c.giver_id == bindparam("giver_id"),
    _KUDOS.c.receiver_id.in_(bindparam("receiver_ids", expanding=True)),
    _KUDOS.c.principle_id == bindparam("principle_id"),
    _KUDOS.c.message == bindparam("message"),
    _KUDOS.c.withdrawn_at.is_(None),
    _KUDOS.c.created_at >= bindparam("since"),
)
# What a kudos's rows share; each row adds its receiver.
_SHARED_COLUMNS = (
    "team_id",
    "group_id",
    "giver_id",
    "principle_id",
    "message",
    "channel_id",
    "source",
    "created_at",
    "audience",
    "message_ts",
    "allowance_day",
)


@functools.cache
def _insert_kudos(dialect: str) -> Insert:
    """One INSERT for every receiver of a kudos, in the order named: the shared values once,
    the receivers as one array (PostgreSQL) or JSON list (SQLite) spread into rows by the
    database. One statement, not one per receiver, because migration 0023's statement
    trigger then moves the giver's, the day's and the people counts' channel tallies once: a
    statement per receiver updated each once per receiver, and every update of a row the
    transaction had updated already cost more than the last (a kudos to 500 people took
    longer than the database's 10 s deadline). Not a multi-row VALUES: SQLAlchemy took
    longer to compile one for 500 receivers than PostgreSQL took to run it."""
    if dialect == "postgresql":
        receivers = (
            func.unnest(bindparam("receiver_ids", type_=postgresql.ARRAY(String)))
            .table_valued("value", with_ordinality="n")
            .render_derived()
        )
        order = receivers.c.n
    else:
        receivers = func.json_each(bindparam("receiver_ids", type_=JSON)).table_valued(
            "value", "key"
        )
        order = receivers.c.key
    shared = [bindparam(name, type_=_KUDOS.c[name].type) for name in _SHARED_COLUMNS]
    rows = select(*shared, receivers.c.value).order_by(order)
    return _KUDOS.insert().from_select([*_SHARED_COLUMNS, "receiver_id"], rows)


@functools.cache
def _allowance_upsert(dialect: str) -> ReturningInsert[Any]:
    """`INSERT … ON CONFLICT DO UPDATE SET used = used + n WHERE used + n <= limit RETURNING
    used`, in the dialect's spelling (see `_consume_allowance`)."""
    values = dialect_insert(dialect)(_ALLOWANCES).values(
        team_id=bindparam("team_id"),
        giver_id=bindparam("giver_id"),
        day=bindparam("day"),
        used=bindparam("used"),
    )
    return values.on_conflict_do_update(
        index_elements=[_ALLOWANCES.c.team_id, _ALLOWANCES.c.giver_id, _ALLOWANCES.c.day],
        set_={"used": _ALLOWANCES.c.used + values.excluded.used},
        where=_ALLOWANCES.c.used + values.excluded.used <= bindparam("limit"),
    ).returning(_ALLOWANCES.c.used)


@dataclass(frozen=True, slots=True)
class Giver:
    """Who gives: a person, and the timezone whose day their allowance counts."""

    id: str
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a kudos is given: the workspace, the conversation and who can read it there
    (bot/audience.py; unknown is private), and the Slack message it is about or was written as
    (reactions, messages)."""

    team_id: str
    channel_id: str | None = None
    audience: Audience = Audience.UNKNOWN
    message_ts: str | None = None


@dataclass(frozen=True, slots=True)
class Giving:
    """What is given: to whom, for which principle, in which words, and which way in.

    `allowance_cost` is what it takes from the daily allowance when that is not one per
    recipient: a user-group mention counts once, however many members it reaches.
    """

    recipients: tuple[Recipient, ...]
    principle_id: int
    message: str
    source: Source
    allowance_cost: int | None = None


def give(
    *,
    session: Session,
    giving: Giving,
    giver: Giver,
    place: Place,
    limit: int,
    now: dt.datetime,
) -> GivenKudos:
    """Record a kudos from `giver` to each recipient, or refuse with `KudosRefused`.

    The one place a kudos row is inserted (its withdrawal is `withdraw_group`), inside the
    caller's transaction; `bot/kudos/flow.py` is the one caller that gives.
    """
    team_id, giver_id, channel_id = place.team_id, giver.id, place.channel_id
    recipients, audience, allowance_cost = giving.recipients, place.audience, giving.allowance_cost
    principle_id, message = giving.principle_id, giving.message
    message = check_message(message)
    receiver_ids = _check_recipients(giver_id, recipients)
    principle = _active_principle(session, team_id, principle_id)
    lock_giver(session, team_id, giver_id)
    day = local_day(now, giver.timezone)

    already = set(
        session.scalars(
            _RECENT_TWINS,
            {
                "team_id": team_id,
                "giver_id": giver_id,
                "receiver_ids": list(receiver_ids),
                "principle_id": principle.id,
                "message": message,
                "since": now - DUPLICATE_WINDOW,
            },
        )
    )
    new_ids = tuple(r for r in receiver_ids if r not in already)
    if not new_ids:
        group_id = session.scalars(
            select(Kudos.group_id)
            .where(Kudos.team_id == team_id, Kudos.giver_id == giver_id)
            .where(Kudos.receiver_id.in_(receiver_ids), Kudos.message == message)
            .order_by(Kudos.created_at.desc())
        ).first()
        return GivenKudos(
            group_id=group_id or "",
            giver_id=giver_id,
            receiver_ids=receiver_ids,
            principle=principle,
            message=message,
            channel_id=channel_id,
            created_at=now,
            remaining=limit - _used(session, team_id, giver_id, day),
            limit=limit,
            duplicate=True,
            audience=audience,
        )

    cost = len(new_ids) if allowance_cost is None else max(min(allowance_cost, len(new_ids)), 1)
    used = _consume_allowance(session, team_id, giver_id, day, cost, limit)
    group_id = str(uuid.uuid4())
    # A Core insert: nothing reads these rows back as objects, and the ORM's unit of work
    # cost more than the rest of the transaction. One statement for every receiver
    # (`_insert_kudos`).
    session.execute(
        _insert_kudos(session.get_bind().dialect.name),
        {
            "team_id": team_id,
            "group_id": group_id,
            "giver_id": giver_id,
            "principle_id": principle.id,
            "message": message,
            "channel_id": channel_id,
            "source": str(giving.source),
            "created_at": now,
            "audience": audience.value,
            "message_ts": place.message_ts,
            "allowance_day": day,
            "receiver_ids": list(new_ids),
        },
    )
    summaries.count_given(session, team_id, giver_id, new_ids, principle.id, now)
    bump_people(session, team_id=team_id, user_ids=(giver_id, *new_ids))
    return GivenKudos(
        group_id=group_id,
        giver_id=giver_id,
        receiver_ids=new_ids,
        principle=principle,
        message=message,
        channel_id=channel_id,
        created_at=now,
        remaining=limit - used,
        limit=limit,
        audience=audience,
    )


def _check_recipients(giver_id: str, recipients: Sequence[Recipient]) -> tuple[str, ...]:
    if not recipients:
        raise KudosRefused(
            N_("Who is the kudos for? Mention at least one person, like `@ana`."),
            field="recipients",
        )
    if any(r.id == giver_id for r in recipients):
        raise KudosRefused(
            N_(
                "Kudos are for recognising others, so you can't give one to yourself. "
                "Nothing was recorded."
            ),
            field="recipients",
        )
    bots = [r.handle for r in recipients if r.is_bot]
    if bots:
        raise KudosRefused(
            NP_(
                "{people} is a bot: kudos are for people. Nothing was recorded.",
                "{people} are bots: kudos are for people. Nothing was recorded.",
            ),
            field="recipients",
            fields={"people": _people(bots)},
            count=len(bots),
        )
    gone = [r.handle for r in recipients if r.deleted]
    if gone:
        raise KudosRefused(
            NP_(
                "{people} is no longer active in this workspace, so they can't receive kudos. "
                "Nothing was recorded.",
                "{people} are no longer active in this workspace, so they can't receive kudos. "
                "Nothing was recorded.",
            ),
            field="recipients",
            fields={"people": _people(gone)},
            count=len(gone),
        )
    return tuple(dict.fromkeys(r.id for r in recipients))


def _people(handles: Sequence[str]) -> str:
    return ", ".join(handles)


def _active_principle(session: Session, team_id: str, principle_id: int) -> PrincipleInfo:
    row = session.execute(_ACTIVE_PRINCIPLE, {"id": principle_id, "team_id": team_id}).first()
    if row is None:
        raise KudosRefused(
            N_(
                "That principle has been retired and no longer takes kudos. "
                "`/mission` lists the current ones."
            ),
            field="principle",
        )
    return PrincipleInfo(
        id=row.id,
        key=row.key,
        title=row.title,
        description=row.description,
        category=row.category,
        emoji=row.emoji,
        number=None,
        translations=stored_translations(row.title, row.translations),
    )


def lock_giver(session: Session, team_id: str, giver_id: str) -> None:
    """Serialise one giver's requests so that a double submit is seen as a duplicate.

    SQLite transactions already take the write lock up front (BEGIN IMMEDIATE).
    """
    lock_transaction(session, f"kudos:{team_id}:{giver_id}")


def _consume_allowance(
    session: Session, team_id: str, giver_id: str, day: dt.date, count: int, limit: int
) -> int:
    """Take `count` from the giver's allowance for `day` atomically; returns the new total.

    One statement, `INSERT … ON CONFLICT DO UPDATE SET used = used + n WHERE used + n <=
    limit RETURNING used`: the row lock (PostgreSQL) or the write lock (SQLite) makes the
    check and the increment one step, so no interleaving of requests can pass the limit.
    """
    if count > limit:
        raise AllowanceSpent(
            NP_(
                "You can give kudos to at most {limit} person a day, and you named {count}. "
                "Nothing was recorded.",
                "You can give kudos to at most {limit} people a day, and you named {count}. "
                "Nothing was recorded.",
            ),
            field="recipients",
            fields={"limit": Count(limit), "count": Count(count)},
            count=limit,
        )
    used = session.scalar(
        _allowance_upsert(session.get_bind().dialect.name),
        {"team_id": team_id, "giver_id": giver_id, "day": day, "used": count, "limit": limit},
    )
    if used is None:
        left = max(limit - _used(session, team_id, giver_id, day), 0)
        raise AllowanceSpent(
            NP_(
                "You've reached today's kudos allowance ({limit} a day): you have {left} left "
                "and named {count} person. Nothing was recorded; it renews at midnight your time.",
                "You've reached today's kudos allowance ({limit} a day): you have {left} left "
                "and named {count} people. Nothing was recorded; it renews at midnight your "
                "time.",
            ),
            field="recipients",
            fields={"limit": Count(limit), "left": Count(left), "count": Count(count)},
            count=count,
            day=day,
        )
    return int(used)


def _used(session: Session, team_id: str, giver_id: str, day: dt.date) -> int:
    row = session.get(KudosAllowance, (team_id, giver_id, day))
    return row.used if row else 0


def remaining_today(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    giver_timezone: str | None,
    limit: int,
    now: dt.datetime,
) -> int:
    return max(limit - _used(session, team_id, giver_id, local_day(now, giver_timezone)), 0)


def record_public_message(
    *, session: Session, team_id: str, group_id: str, channel_id: str, message_ts: str | None
) -> None:
    """Remember where a kudos was announced, so that undo can update the message."""
    session.execute(
        update(Kudos)
        .where(Kudos.team_id == team_id, Kudos.group_id == group_id)
        .values(public_channel_id=channel_id, public_message_ts=message_ts)
    )


def undo(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    giver_timezone: str | None,
    now: dt.datetime,
) -> WithdrawnKudos:
    """Withdraw the giver's most recent kudos if it is younger than ten minutes."""
    lock_giver(session, team_id, giver_id)
    latest = session.scalars(
        select(Kudos)
        .where(Kudos.team_id == team_id, Kudos.giver_id == giver_id, Kudos.withdrawn_at.is_(None))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        raise KudosRefused(N_("You have no kudos to undo."))
    age = now - latest.created_at
    if age > UNDO_WINDOW:
        minutes = int(age.total_seconds() // 60)
        raise KudosRefused(
            N_(
                "Your last kudos was given {minutes} minutes ago; it can be undone only within "
                "{window} minutes, so it stays."
            ),
            fields={
                "minutes": Count(minutes),
                "window": Count(UNDO_WINDOW.total_seconds() // 60),
            },
        )
    return withdraw_group(
        session=session,
        team_id=team_id,
        giver_id=giver_id,
        giver_timezone=giver_timezone,
        group_id=latest.group_id,
        now=now,
    )


def withdraw_group(
    *,
    session: Session,
    team_id: str,
    giver_id: str,
    giver_timezone: str | None,
    group_id: str,
    now: dt.datetime,
    receiver_ids: Collection[str] | None = None,
) -> WithdrawnKudos:
    """Withdraw one kudos (all its receivers, or only `receiver_ids`) and give its allowance
    back; the caller checked that it may (its giver within the undo window, or a receiver
    found to be a bot or gone: bot/kudos/checks.py) and holds the giver's lock. The outcome's
    `receiver_ids` are those withdrawn now; it is `withdrawn` once nobody is left standing."""
    query = select(Kudos).where(
        Kudos.team_id == team_id,
        Kudos.group_id == group_id,
        Kudos.withdrawn_at.is_(None),
    )
    standing = list(session.scalars(query))
    rows = [r for r in standing if receiver_ids is None or r.receiver_id in receiver_ids]
    if not rows:
        raise KudosRefused(N_("That kudos was already withdrawn."))
    latest = rows[0]
    if session.get_bind().dialect.name == "postgresql":
        # `kudos` for writing before the tallies' quarter lock, in the order a kudos given
        # takes them (its rows, then the lock). A rebuild of the latest month holds `kudos`
        # (SHARE) and then takes that lock: a withdrawal that took the lock first and then
        # waited for `kudos` deadlocked against it. Now it waits for the rebuild's month.
        session.execute(text("LOCK TABLE kudos IN ROW EXCLUSIVE MODE"))
    summaries.count_withdrawn(session, team_id, rows)
    # One statement for every receiver (the session's rows follow it), as `give` inserts
    # them: migration 0023's statement trigger moves each channel tally once.
    session.execute(
        update(Kudos).where(Kudos.id.in_([row.id for row in rows])).values(withdrawn_at=now)
    )
    bump_people(session, team_id=team_id, user_ids=[giver_id, *(row.receiver_id for row in rows)])
    # Give the allowance back for the day the kudos was counted against.
    day = latest.allowance_day or local_day(latest.created_at, giver_timezone)
    session.execute(
        update(KudosAllowance)
        .where(
            KudosAllowance.team_id == team_id,
            KudosAllowance.giver_id == giver_id,
            KudosAllowance.day == day,
        )
        .values(
            used=case((KudosAllowance.used > len(rows), KudosAllowance.used - len(rows)), else_=0)
        )
    )
    principle = session.get(Principle, latest.principle_id)
    assert principle is not None
    session.flush()
    return WithdrawnKudos(
        group_id=group_id,
        giver_id=giver_id,
        receiver_ids=tuple(row.receiver_id for row in rows),
        principle=principle_info(principle),
        message=latest.message,
        created_at=latest.created_at,
        withdrawn=len(rows) == len(standing),
        public_channel_id=latest.public_channel_id,
        public_message_ts=latest.public_message_ts,
        source=latest.source,
        channel_id=latest.channel_id,
        message_ts=latest.message_ts,
    )


def summary(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    timezone: str | None,
    limit: int,
    now: dt.datetime,
) -> KudosSummary:
    """A person's kudos received and given, by principle, this month and all time."""
    local_now = now.astimezone(zone(timezone))
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return KudosSummary(
        received=_tally(session, team_id, user_id, summaries.Role.RECEIVERS, month_start),
        given=_tally(session, team_id, user_id, summaries.Role.GIVERS, month_start),
        remaining_today=remaining_today(
            session=session,
            team_id=team_id,
            giver_id=user_id,
            giver_timezone=timezone,
            limit=limit,
            now=now,
        ),
        limit=limit,
    )


def _tally(
    session: Session, team_id: str, user_id: str, role: summaries.Role, month_start: dt.datetime
) -> list[PrincipleTally]:
    """Each principle's kudos this month (the person's kudos since the month's start, a range
    of their covering index) and over all time (their all-time tallies), for every principle
    they have any for, the most kudos first."""
    who = Kudos.receiver_id if role == summaries.Role.RECEIVERS else Kudos.giver_id
    month = (
        select(Kudos.principle_id, func.count().label("month"))
        .where(
            Kudos.team_id == team_id,
            who == user_id,
            Kudos.created_at >= month_start,
            Kudos.withdrawn_at.is_(None),
        )
        .group_by(Kudos.principle_id)
        .subquery()
    )
    total = summaries.all_time_by_principle(team_id, role, user_id).subquery()
    rows = session.execute(
        select(Principle, func.coalesce(month.c.month, 0), total.c.kudos)
        .join(total, total.c.principle_id == Principle.id)
        .outerjoin(month, month.c.principle_id == Principle.id)
        .order_by(total.c.kudos.desc(), Principle.position)
    ).all()
    return [
        PrincipleTally(principle=principle_info(principle), this_month=int(month), all_time=total)
        for principle, month, total in rows
    ]
