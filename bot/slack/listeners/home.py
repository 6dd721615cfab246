"""The App Home tab: an opening publishes nothing when the Home Slack shows is current.

Thin: who opened it (role, timezone) → bot/home/state.py decides → a `HOME_PUBLISH` row for
the outbox (bot/slack/outbound/home.py draws and publishes it, paced under Slack's limit).
The opening itself calls no Web API method unless neither the directory nor an earlier
Home knows the person.
"""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.blocks.ids import Event
from bot.home.state import (
    HomeRole,
    Opening,
    Viewer,
    is_current,
    open_home,
    parse_metadata,
    remembered_viewer,
)
from bot.slack.admins import is_admin
from bot.slack.api_errors import SLACK_FAILURES
from bot.slack.deadline import after_ack_safe
from bot.slack.services import Services
from bot.slack.surfaces import HomeOpened, event

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event(Event.APP_HOME_OPENED)(after_ack_safe(event(HomeOpened.of, handle_home_opened)))


def viewer_of(request: HomeOpened, services: Services) -> Viewer:
    """Who opened it, from the directory; for someone it doesn't hold yet, as their Home was
    last drawn (a person Slack couldn't describe then is not asked about again at each
    opening: the directory's fill and checks ask, at Slack's pace); a Web API call only for
    someone the bot has never drawn a Home for."""
    settings, users = services.settings, services.users
    team_id, user_id, client = request.team_id, request.user_id, request.client
    if not users.cached(team_id, [user_id]):
        with services.db.reading() as session:
            if not users.stored(session, team_id, [user_id]):
                remembered = remembered_viewer(session, team_id=team_id, user_id=user_id)
                if remembered is not None:
                    return remembered
    try:
        user = users.get(client, team_id, user_id)
        timezone = user.timezone
        admin = is_admin(
            client=client, settings=settings, users=users, team_id=team_id, user_id=user_id
        )
    except SLACK_FAILURES as error:
        # The Home is still worth showing when Slack can't say who this is (busy, failing):
        # in the default timezone, and without the managers' part unless MISSIONBOT_ADMINS
        # names them.
        log.warning("home tab without users.info for user=%s: %s", user_id, error)
        timezone, admin = None, user_id in settings.missionbot_admins
    return Viewer(user_id, HomeRole.MANAGER if admin else HomeRole.MEMBER, timezone)


def handle_home_opened(request: HomeOpened, services: Services) -> None:
    if request.tab != "home":
        return
    viewer = viewer_of(request, services)
    shown = parse_metadata(request.private_metadata)
    now = services.clock()
    team_id = request.team_id
    language = services.settings.missionbot_language
    with services.db.reading() as session:
        if is_current(
            session,
            team_id=team_id,
            viewer=viewer,
            shown=shown,
            now=now,
            default_language=language,
        ):
            return
    with services.db.transaction() as session:
        opening = open_home(
            session,
            team_id=team_id,
            viewer=viewer,
            shown=shown,
            view_hash=request.view_hash,
            now=now,
            default_language=language,
        )
    log.info("home opened team=%s user=%s: %s", team_id, viewer.user_id, opening)
    if opening != Opening.CURRENT:
        services.queued([(team_id, viewer.user_id)])
