"""The App Home into Slack, through the outbox: one `views.publish` per person and change.

`HOME_PUBLISH` rows are queued by an opening whose Home is out of date and by the overnight
refresh (bot/home/). The handler draws the Home at send time, for the person's role and local
day (bot/home/state.py's `begin_publish`: nothing at all when the Home Slack has is already
current), with its fingerprint in `private_metadata` so that the next opening can tell. The
kind is paced per workspace under Slack's views.publish limit (`HOME_PACE`), newest openers
first; a person's rows share one "channel" (their user ID), so two never go out at once.

A manager's Home carries this week's promise-health chart. When it isn't uploaded yet, the
publish waits for a `HOME_CHART` row that uploads it into their DM and then queues the
publish again: the chart goes out in the one publish, never in a second one.
`hash_conflict` (someone published meanwhile) and any other refusal end the publish: never
retried, the next opening or change queues another.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.health import chart_comment, health_title
from bot.blocks.home import HOME_PAIRS, HomeContent, home_view
from bot.config import Settings
from bot.daily.rotation import principle_for_day
from bot.db.dialect import dialect_insert
from bot.db.models import HealthChart, HomeState, OutboxMessage
from bot.home.state import (
    HomeRole,
    Publish,
    begin_publish,
    end_publish,
    home_language,
    queue_publish,
)
from bot.i18n.speech import speech
from bot.i18n.whose import workspace_language
from bot.kudos.service import summary, zone
from bot.mission.service import load_catalog
from bot.outbox import queue
from bot.outbox.kinds import OutboxKind
from bot.outbox.queue import Pace
from bot.outbox.sender import FileUpload, Outgoing, QuietHandler, Sender, Sent
from bot.reports.chart import chart_data, chart_png, png_speech
from bot.reports.health import Trend, period_pairs, promise_trend, trend_weeks
from bot.reports.leaderboard import principle_report, top_ranks
from bot.reports.periods import PeriodKind, period_of
from bot.reports.summaries import dashboard_url, participation, principle_counts

log = logging.getLogger(__name__)

HOME_TOP = 5
# Slack allows about 100 views.publish a minute per workspace: keep some room for bursts
# and for the rare publish outside the outbox.
HOME_PACE = Pace(per_minute=95, window_s=10.0, newest_first=True)
# The code Slack answers when the view changed since the hash we sent.
HASH_CONFLICT = "hash_conflict"


@dataclasses.dataclass(frozen=True, slots=True)
class HomeSettings:
    kudos_daily_limit: int = 5
    dashboard_url: str | None = None
    pace: Pace = HOME_PACE
    # MISSIONBOT_LANGUAGE: a Home's language where neither the person nor the workspace chose.
    language: str = "en"

    @classmethod
    def of(cls, settings: Settings) -> HomeSettings:
        return cls(
            settings.kudos_daily_limit,
            dashboard_url(settings.missionbot_public_url),
            dataclasses.replace(
                HOME_PACE, per_minute=settings.missionbot_home_publishes_per_minute
            ),
            settings.missionbot_language,
        )


def home_content(
    session: Session, publish: Publish, settings: HomeSettings, now: dt.datetime
) -> HomeContent:
    """Everything on the person's Home, in their timezone, for their role."""
    team_id, user_id = publish.team_id, publish.user_id
    where = zone(publish.timezone)
    month = period_of(PeriodKind.MONTH, publish.day)
    bounds = month.bounds(where)
    previous = month.previous()
    previous_bounds = previous.bounds(where) if previous else None
    catalog = load_catalog(session, team_id=team_id)
    today = (
        principle_for_day(session=session, team_id=team_id, day=publish.day)
        if catalog.principles
        else None
    )
    mine = summary(
        session=session,
        team_id=team_id,
        user_id=user_id,
        timezone=publish.timezone,
        limit=settings.kudos_daily_limit,
        now=now,
    )
    top = top_ranks(session=session, team_id=team_id, period=month, bounds=bounds, top=HOME_TOP)
    content = HomeContent(user_id, catalog, today, mine, top, dashboard_url=settings.dashboard_url)
    if publish.role != HomeRole.MANAGER:
        return content
    # Kudos per principle read once for both sections: the principle report's month and the
    # month before, health's month (the same) and its 12 weeks. Of promise health the Home
    # shows the chart and the top pairs: its trend and pairs are read, not its people per
    # principle (two statements over the month's person tallies, ~40 ms at ten million).
    periods = [bounds, *([previous_bounds] if previous_bounds else [])]
    periods += [week.bounds(where) for week in trend_weeks(month, publish.day)]
    known = dict(zip(periods, principle_counts(session, team_id, periods), strict=True))
    report = principle_report(
        session=session,
        team_id=team_id,
        period=month,
        bounds=bounds,
        previous_bounds=previous_bounds,
        known=known,
    )
    trend = promise_trend(
        session=session,
        team_id=team_id,
        period=month,
        bounds=bounds,
        where=where,
        today=publish.day,
        known=known,
    )
    return dataclasses.replace(
        content,
        report=report,
        participation=participation(session, team_id, bounds, previous_bounds, now),
        trend=trend,
        pairs=tuple(period_pairs(session, team_id, bounds, limit=HOME_PAIRS)),
        chart_file_id=_chart(session, team_id, user_id, _week(publish.day)),
    )


def _week(day: dt.date) -> dt.date:
    start = period_of(PeriodKind.WEEK, day).start
    assert start is not None
    return start


def _chart(session: Session, team_id: str, user_id: str, week: dt.date) -> str | None:
    """This week's chart, once uploaded (`health_charts`: one upload a week per manager)."""
    return session.scalar(
        select(HealthChart.file_id).where(
            HealthChart.team_id == team_id,
            HealthChart.user_id == user_id,
            HealthChart.week_start == week,
            HealthChart.file_id != "",
        )
    )


def _chart_tried(rows: Sequence[OutboxMessage]) -> bool:
    afters = [(queue.stored_body(row) or {}).get("after") or {} for row in rows]
    return any(after.get("chart_tried") for after in afters)


class HomePublishes(QuietHandler):
    """Draws a person's Home at send time; ends their publish whatever Slack says."""

    # Openings queue one row per person; any extra (a lost queue marker) goes out as one.
    coalesce = 20

    def __init__(self, settings: HomeSettings) -> None:
        self.settings = settings

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        team_id, user_id = rows[0].team_id, rows[0].channel_id
        publish = begin_publish(
            session,
            team_id=team_id,
            user_id=user_id,
            now=now,
            default_language=self.settings.language,
        )
        if publish is None:
            log.info("home current team=%s user=%s: nothing to publish", team_id, user_id)
            return None
        content = home_content(session, publish, self.settings, now)
        if (
            content.trend is not None
            and content.chart_file_id is None
            and not chart_data(content.trend).empty
            and not _chart_tried(rows)
        ):
            # The chart first, then this publish again with it (HomeCharts.on_sent).
            queue.enqueue(
                session,
                team_id=team_id,
                kind=OutboxKind.HOME_CHART,
                channel_id=user_id,
                subject=user_id,
                after={"week": _week(publish.day).isoformat()},
                now=now,
            )
            return None
        view = home_view(content, fingerprint=publish.fingerprint, t=speech(publish.language))
        return Outgoing(
            team_id=team_id,
            channel_id=user_id,
            text="",
            view=view,
            view_hash=publish.view_hash,
        )

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        end_publish(
            session,
            team_id=rows[0].team_id,
            user_id=rows[0].channel_id,
            published=True,
            view_hash=sent.view_hash,
        )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        if reason == HASH_CONFLICT:
            log.info("home hash_conflict user=%s: dropped, newer there", rows[0].channel_id)
        end_publish(
            session,
            team_id=rows[0].team_id,
            user_id=rows[0].channel_id,
            published=False,
            view_hash=None,
        )


class HomeCharts(QuietHandler):
    """Uploads a manager's promise-health chart into their DM, then queues their publish."""

    def __init__(self, settings: HomeSettings) -> None:
        self.settings = settings

    def render(
        self, session: Session, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> Outgoing | None:
        row = rows[0]
        trend = self._trend(session, row, now)
        t = speech(
            home_language(
                session, team_id=row.team_id, user_id=row.channel_id, default=self.settings.language
            )
        )
        # The image's words where its font can draw them: the reader's, else the workspace's.
        said = png_speech(
            t,
            lambda: speech(
                workspace_language(
                    session=session, team_id=row.team_id, default=self.settings.language
                )
            ),
        )
        data = chart_data(trend, t=said) if trend is not None else None
        if trend is None or data is None or data.empty:
            queue_publish(
                session, team_id=row.team_id, user_id=row.channel_id, now=now, chart_tried=True
            )
            return None
        return Outgoing(
            team_id=row.team_id,
            channel_id=row.channel_id,
            text=chart_comment(trend, t),
            file=FileUpload(
                filename=f"promise-health-{trend.period.slug}.png",
                title=health_title(trend, t),
                content=chart_png(data),
            ),
        )

    def _trend(self, session: Session, row: OutboxMessage, now: dt.datetime) -> Trend | None:
        """What the chart draws: health's trend (its people and pairs are not drawn)."""
        state = session.get(HomeState, (row.team_id, row.channel_id))
        if state is None:
            return None
        where = zone(state.timezone)
        day = now.astimezone(where).date()
        month = period_of(PeriodKind.MONTH, day)
        return promise_trend(
            session=session,
            team_id=row.team_id,
            period=month,
            bounds=month.bounds(where),
            where=where,
            today=day,
        )

    def on_sent(
        self, session: Session, rows: Sequence[OutboxMessage], sent: Sent, now: dt.datetime
    ) -> None:
        row = rows[0]
        after: dict[str, Any] = (queue.stored_body(row) or {}).get("after") or {}
        if sent.file_id:
            insert = dialect_insert(session)
            session.execute(
                insert(HealthChart)
                .values(
                    team_id=row.team_id,
                    user_id=row.channel_id,
                    week_start=dt.date.fromisoformat(after["week"]),
                    file_id=sent.file_id,
                    created_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["team_id", "user_id", "week_start"],
                    set_={"file_id": sent.file_id, "created_at": now},
                )
            )
        queue_publish(
            session, team_id=row.team_id, user_id=row.channel_id, now=now, chart_tried=True
        )

    def on_failed(
        self, session: Session, rows: Sequence[OutboxMessage], reason: str, now: dt.datetime
    ) -> None:
        # The Home without its chart rather than no Home.
        row = rows[0]
        queue_publish(
            session, team_id=row.team_id, user_id=row.channel_id, now=now, chart_tried=True
        )


def register(sender: Sender, settings: Settings | None = None) -> None:
    home = HomeSettings.of(settings) if settings is not None else HomeSettings()
    sender.register(OutboxKind.HOME_PUBLISH, HomePublishes(home), pace=home.pace)
    sender.register(OutboxKind.HOME_CHART, HomeCharts(home))
