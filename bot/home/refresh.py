"""Ready before 9:00: the overnight refresh of the App Homes of people active lately.

At 9:00 the morning post goes out and a large office opens the bot's Home at once; Slack
allows about 100 publishes a minute per workspace, so 1,500 people would wait 15 minutes.
Most of those Homes are only out of date because it is a new day (today's principle, the new
month's numbers), and that is known in advance: between `FROM` and `UNTIL` in each person's
own timezone, the Homes of people who opened theirs in the last `ACTIVE_DAYS` days and don't
show today yet are queued for a publish, at most `per_minute` a minute (well under Slack's
limit, leaving the rest to openers), the most recent openers first. A Home refreshed at 6:00
is current at 9:00: the opening costs no call.

`HomeRefresh.run_due` runs every minute from the scheduler in every `serve` process; a
transaction lock makes them take turns, and a person with a publish already queued is left
alone, so two processes never queue one person twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db.dialect import lock_transaction
from bot.db.engine import Database
from bot.db.models import Clock, HomeState
from bot.home.state import STALE_QUEUE, forget_lost_publish, queue_publish
from bot.kudos.service import zone

log = logging.getLogger(__name__)

JOB_ID = "home:refresh"
FROM = dt.time(5, 0)
UNTIL = dt.time(9, 0)
ACTIVE_DAYS = 30
PER_MINUTE = 40


def _due_people(
    session: Session,
    *,
    team_id: str,
    timezone: str | None,
    day: dt.date,
    since: dt.datetime,
    now: dt.datetime,
    limit: int,
) -> list[HomeState]:
    same_zone = HomeState.timezone.is_(None) if timezone is None else HomeState.timezone == timezone
    return list(
        session.scalars(
            select(HomeState)
            .where(
                HomeState.team_id == team_id,
                same_zone,
                HomeState.last_opened_at >= since,
                or_(
                    HomeState.publish_queued_at.is_(None),
                    HomeState.publish_queued_at < now - STALE_QUEUE,
                ),
                or_(
                    HomeState.published.is_(None),
                    # The fingerprint names its day (bot/home/state.py).
                    ~HomeState.published.contains(f":{day.isoformat()}:"),
                ),
            )
            .order_by(HomeState.last_opened_at.desc())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def queue_refreshes(session: Session, *, now: dt.datetime, limit: int, spacing_s: float) -> int:
    """Queue up to `limit` publishes for the Homes due a refresh now, `spacing_s` apart."""
    since = now - dt.timedelta(days=ACTIVE_DAYS)
    lock_transaction(session, JOB_ID)
    zones = session.execute(
        select(HomeState.team_id, HomeState.timezone)
        .where(HomeState.last_opened_at >= since)
        .distinct()
    ).all()
    queued = 0
    for team_id, timezone in zones:
        local = now.astimezone(zone(timezone))
        if not FROM <= local.time() < UNTIL or queued >= limit:
            continue
        for state in _due_people(
            session,
            team_id=team_id,
            timezone=timezone,
            day=local.date(),
            since=since,
            now=now,
            limit=limit - queued,
        ):
            if state.publish_queued_at is not None:
                forget_lost_publish(session, team_id=team_id, user_id=state.user_id, now=now)
            state.publish_queued_at = now
            queue_publish(
                session,
                team_id=team_id,
                user_id=state.user_id,
                now=now,
                not_before=now + dt.timedelta(seconds=queued * spacing_s),
            )
            queued += 1
    return queued


class HomeRefresh:
    """Every minute (from the scheduler): queue the Homes due a refresh, then wake the sender."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        notify: Callable[[], None] | None = None,
        per_minute: int = PER_MINUTE,
        every_s: float = 60.0,
    ) -> None:
        self.database = database
        self.clock = clock
        self.notify = notify
        self.per_minute = per_minute
        self.every_s = every_s

    def run_due(self) -> int:
        limit = max(int(self.per_minute * self.every_s / 60), 1)
        with self.database.transaction() as session:
            queued = queue_refreshes(
                session, now=self.clock(), limit=limit, spacing_s=60.0 / self.per_minute
            )
        if queued:
            log.info("home refresh: %d Home(s) queued ahead of the morning", queued)
            if self.notify is not None:
                self.notify()
        return queued
