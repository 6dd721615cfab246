"""The onboarding drip: someone new in the workspace gets one principle a working day by DM,
at 10:00 in their own timezone, each with a real public kudos that lived it, until they have
seen them all, or press Stop. Off unless `MISSIONBOT_ONBOARDING_DRIP` is set.

Plain Python over a session; drawing the DM is the caller's (`render`, from bot/blocks/),
sending it the outbox's: the DM is queued in the same transaction that records the
principle as seen and sets the next time, so a principle is sent once, whatever crashes.
`run_due()` is the whole decision "who gets their DM now", called every minute by the
scheduler and by the tests with time travel. On PostgreSQL, processes claim due drips with
`FOR UPDATE SKIP LOCKED`; on SQLite the write transaction (BEGIN IMMEDIATE) serialises them.

Working days are Monday to Friday. 10:00 is always a real local time (DST changes happen at
night), so it stays 10:00 on the wall clock across DST, which moves it an hour in UTC. A
person whose timezone changes follows it from their next DM (the people directory is read
at each send). Someone deactivated gets nothing more.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audience import QuoteScope
from bot.daily.rotation import recent_kudos
from bot.db.dialect import dialect_insert
from bot.db.models import OnboardingDrip, utcnow
from bot.i18n.negotiate import negotiate
from bot.i18n.whose import workspace_language
from bot.kudos.groups import KudosGroup
from bot.mission.service import PrincipleInfo, load_catalog
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import enqueue
from bot.people import find_people

log = logging.getLogger(__name__)

DRIP_TIME = dt.time(10, 0)
WORKING_DAYS = frozenset(range(5))  # Monday to Friday
BATCH = 200
SEEN_ALL, STOPPED, LEFT = "seen all", "stopped", "left"


@dataclass(frozen=True, slots=True)
class Lesson:
    """One drip DM: the principle, an example (public), where it is in the sequence."""

    user_id: str
    principle: PrincipleInfo
    example: KudosGroup | None
    number: int  # 1 for the first principle sent to this person
    total: int  # principles in the mission now
    # The newcomer's language (their Slack locale, else the workspace's): a DM is theirs.
    language: str = "en"

    @property
    def last(self) -> bool:
        return self.number >= self.total


# Draws a lesson as (text, blocks) for the outbox.
Render = Callable[[Lesson], tuple[str, Sequence[Mapping[str, Any]]]]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_drip_time(after: dt.datetime, timezone: str | None) -> dt.datetime:
    """The first working day's 10:00 in `timezone` strictly after `after`, in UTC."""
    zone = _zone(timezone)
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        if day.weekday() not in WORKING_DAYS:
            continue
        at = dt.datetime.combine(day, DRIP_TIME, tzinfo=zone)
        if at > local:
            return at.astimezone(dt.UTC)
    raise AssertionError("a week always has a working day")


def enrol(
    *, session: Session, team_id: str, user_id: str, timezone: str | None, now: dt.datetime
) -> bool:
    """Start someone's drip (once: a second team_join changes nothing); whether it started."""
    insert = dialect_insert(session)
    result = session.execute(
        insert(OnboardingDrip)
        .values(
            team_id=team_id,
            user_id=user_id,
            timezone=timezone,
            seen="[]",
            next_at=next_drip_time(now, timezone),
            started_at=now,
        )
        .on_conflict_do_nothing(index_elements=[OnboardingDrip.team_id, OnboardingDrip.user_id])
    )
    return bool(getattr(result, "rowcount", 0))


def stop(*, session: Session, team_id: str, user_id: str, now: dt.datetime) -> bool:
    """The Stop button: no more DMs; whether a running drip was stopped."""
    row = session.get(OnboardingDrip, (team_id, user_id), with_for_update=True)
    if row is None or row.ended_at is not None:
        return False
    row.ended_at, row.ended_reason = now, STOPPED
    return True


def public_example(*, session: Session, team_id: str, principle_id: int) -> KudosGroup | None:
    """The latest kudos for the principle given in a public channel: a newcomer may read it
    wherever they are (bot/audience.py), and may not read anything else."""
    return recent_kudos(
        session=session,
        team_id=team_id,
        principle_id=principle_id,
        now=utcnow(),
        scope=QuoteScope(),
        window=None,
    )


def run_due(
    *, session: Session, now: dt.datetime, render: Render, language: str = "en"
) -> list[Lesson]:
    """Queue the DM of every drip due now, record it, and set the next; what was queued."""
    due = select(OnboardingDrip).where(
        OnboardingDrip.next_at <= now, OnboardingDrip.ended_at.is_(None)
    )
    due = due.order_by(OnboardingDrip.next_at).limit(BATCH)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    sent: list[Lesson] = []
    for drip in session.scalars(due).all():
        lesson = _next_lesson(session, drip, now, language)
        if lesson is None:
            continue
        text, blocks = render(lesson)
        enqueue(
            session,
            team_id=drip.team_id,
            kind=OutboxKind.MESSAGE,
            channel_id=drip.user_id,
            text=text,
            blocks=blocks,
            subject=f"onboarding:{drip.user_id}",
            now=now,
        )
        sent.append(lesson)
    return sent


def _next_lesson(
    session: Session, drip: OnboardingDrip, now: dt.datetime, language: str = "en"
) -> Lesson | None:
    """The drip's next principle, with the row moved on; None (and the drip ended) when
    there is nothing to send: they left, or have seen every principle."""
    person = find_people(session=session, team_id=drip.team_id, user_ids=[drip.user_id]).get(
        drip.user_id
    )
    if person is not None and person.deleted:
        drip.ended_at, drip.ended_reason = now, LEFT
        return None
    if person is not None and person.timezone:
        drip.timezone = person.timezone
    seen: list[int] = json.loads(drip.seen)
    catalog = load_catalog(session, team_id=drip.team_id)
    unseen = [p for p in catalog.principles if p.id not in seen]
    if not unseen:
        drip.ended_at, drip.ended_reason = now, SEEN_ALL
        return None
    principle = unseen[0]
    seen.append(principle.id)
    drip.seen = json.dumps(seen)
    drip.next_at = next_drip_time(now, drip.timezone)
    if len(unseen) == 1:
        drip.ended_at, drip.ended_reason = now, SEEN_ALL
    example = public_example(session=session, team_id=drip.team_id, principle_id=principle.id)
    fallback = workspace_language(session=session, team_id=drip.team_id, default=language)
    theirs = negotiate(person.locale if person is not None else None, fallback)
    return Lesson(
        user_id=drip.user_id,
        principle=principle.in_language(theirs),
        example=example,
        number=len([p for p in catalog.principles if p.id in seen]),
        total=len(catalog.principles),
        language=theirs,
    )
