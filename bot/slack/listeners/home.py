"""The App Home tab: published (`views.publish`) each time someone opens it.

Everything on it is computed for the person opening it, in their timezone: today's principle,
their kudos this month, the month's top 5, and for admins the principle breakdown.
"""

from __future__ import annotations

import dataclasses
import logging

from slack_bolt import App

from bot.blocks.home import HomeContent, home_view
from bot.blocks.ids import Event
from bot.daily.rotation import principle_for_day
from bot.kudos.service import summary, zone
from bot.mission.service import load_catalog
from bot.reports.leaderboard import leaderboard, principle_report
from bot.reports.periods import PeriodKind, period_of
from bot.reports.scope import ReportScope
from bot.reports.summaries import dashboard_url, participation
from bot.slack.admins import is_admin
from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.deadline import after_ack_safe
from bot.slack.listeners.health import cached_chart, chart_for_home, health_for
from bot.slack.services import Services
from bot.slack.surfaces import HomeOpened, event
from bot.slack.users import SlackUser

log = logging.getLogger(__name__)

HOME_TOP = 5


def register(app: App) -> None:
    app.event(Event.APP_HOME_OPENED)(after_ack_safe(event(HomeOpened.of, handle_home_opened)))


def handle_home_opened(request: HomeOpened, services: Services) -> None:
    if request.tab != "home":
        return
    db, settings, users = services.db, services.settings, services.users
    team_id, user_id, client = request.team_id, request.user_id, request.client
    try:
        user: SlackUser | None = users.get(client, team_id, user_id)
    except SLACK_FAILURES as error:
        # The tab is still worth showing when Slack can't say who this is (busy, failing):
        # in the default timezone, and without the managers' part unless MISSIONBOT_ADMINS
        # names them.
        log.warning("home tab without users.info for user=%s: %s", user_id, error)
        user = None
    admin = (
        is_admin(client=client, settings=settings, users=users, team_id=team_id, user_id=user_id)
        if user is not None
        else user_id in settings.missionbot_admins
    )
    timezone = user.timezone if user else None
    now = services.clock()
    where = zone(timezone)
    month = period_of(PeriodKind.MONTH, now.astimezone(where).date())
    bounds = month.bounds(where)
    with db.transaction() as session:
        catalog = load_catalog(session, team_id=team_id)
        today = (
            principle_for_day(session=session, team_id=team_id, day=now.astimezone(where).date())
            if catalog.principles
            else None
        )
        mine = summary(
            session=session,
            team_id=team_id,
            user_id=user_id,
            timezone=timezone,
            limit=settings.kudos_daily_limit,
            now=now,
        )
        top = leaderboard(
            session=session, team_id=team_id, period=month, bounds=bounds, top=HOME_TOP, split_top=0
        )
        previous = month.previous()
        report = (
            principle_report(
                session=session,
                team_id=team_id,
                period=month,
                bounds=bounds,
                previous_bounds=previous.bounds(where) if previous else None,
            )
            if admin
            else None
        )
        taking_part = (
            participation(
                session, team_id, bounds, previous.bounds(where) if previous else None, now
            )
            if admin
            else None
        )
    content = HomeContent(
        user_id,
        catalog,
        today,
        mine,
        top,
        report,
        participation=taking_part,
        dashboard_url=dashboard_url(settings.missionbot_public_url),
    )
    local_today = now.astimezone(where).date()
    if admin:
        health = health_for(db, ReportScope(team_id, where, month), now)
        week = period_of(PeriodKind.WEEK, local_today).start
        assert week is not None
        chart = cached_chart(db=db, team_id=team_id, user_id=user_id, week=week)
        content = dataclasses.replace(content, health=health, chart_file_id=chart)
    client.views_publish(user_id=user_id, view=home_view(content))
    if content.health is not None and content.chart_file_id is None:
        # Drawn and uploaded after the tab is shown: the tab never waits for the chart.
        chart = chart_for_home(
            client=client,
            db=db,
            health=content.health,
            team_id=team_id,
            user_id=user_id,
            today=local_today,
            now=now,
        )
        if chart is not None:
            with_chart = dataclasses.replace(content, chart_file_id=chart)
            client.views_publish(user_id=user_id, view=home_view(with_chart))
