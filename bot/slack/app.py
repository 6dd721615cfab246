"""The Bolt app factory: one `App` per `create_app(...)` call, never a module global."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.mission.service import MissionKeeper
from bot.slack import dedup, installation, text_guard
from bot.slack.deadline import ACK_LIMITS, RECEIVED_AT, AckClock, SlackDeadline
from bot.slack.errors import handle_error
from bot.slack.installation import Installation, team_of
from bot.slack.languages import WorkspaceLanguages
from bot.slack.listener_pool import ListenerPool
from bot.slack.listeners import register_listeners
from bot.slack.services import SERVICES, Services
from bot.slack.users import UserDirectory
from bot.slack.web import create_web_client

if TYPE_CHECKING:
    from bot.daily.jobs import DailyScheduler
    from bot.outbox.sender import Sender

log = logging.getLogger(__name__)

# Bolt runs listeners in a pool of min(32, CPUs + 4) threads by default. A kudos listener keeps
# its thread after the ack while it tells Slack (several Web API calls), so on a small machine
# the default pool queued new commands behind deliveries; these threads mostly wait on I/O.
LISTENER_THREADS = 32


def create_app(
    settings: Settings,
    *,
    database: Database,
    mission: MissionKeeper,
    clock: Clock = utcnow,
    scheduler: DailyScheduler | None = None,
    users: UserDirectory | None = None,
    sender: Sender | None = None,
    ack_clock: AckClock = time.monotonic,
) -> App:
    services = Services(
        db=database,
        mission=mission,
        settings=settings,
        clock=clock,
        users=users or UserDirectory(database, clock=clock),
        scheduler=scheduler,
        sender=sender,
        languages=WorkspaceLanguages(settings.missionbot_language),
    )
    secret = settings.slack_signing_secret
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    app = App(
        # Named, or Bolt names the app after its caller's file with inspect.stack(), which
        # reads the source of every frame on the stack: 35 ms per app in the tests.
        name="missionbot",
        client=create_web_client(settings),
        signing_secret=secret.get_secret_value() if secret else None,
        # Requests no listener claims go to the error handler, which answers 200 (Slack shows
        # the user an error for Bolt's default 404) and notes a retired button or command.
        raise_error_for_unhandled_request=True,
        logger=logging.getLogger("bot.slack.bolt"),
        listener_executor=ListenerPool.of_threads(LISTENER_THREADS),
    )

    # First of our middleware: a foreign team's request must not even sync a mission row.
    # Its own client with a short timeout: a lazy retry runs inside a request.
    served = Installation(
        WebClient(token=token, base_url=settings.slack_api_url, timeout=2, retry_handlers=[])
    )
    # Asked at start; if Slack can't answer now, asked again later.
    installation.warn_of_other_teams(served.identity(), database)
    installation.register(app, served, settings.missionbot_language)
    # Next: nothing below (not even the mission sync) sees text it can't store.
    text_guard.register(app, settings.missionbot_language)

    limits = ACK_LIMITS.faster(settings.slack_deadline_scale)

    @app.middleware
    def provide_services(context: BoltContext, next: Callable[[], Any]) -> Any:
        context[SERVICES] = services
        # Slack calls before the ack go through `deadline.client` (bot/slack/deadline.py).
        context["deadline"] = SlackDeadline(
            context.client, started=context.get(RECEIVED_AT), limits=limits, clock=ack_clock
        )
        mission.ensure_synced(database, team_of(context))
        return next()

    dedup.register(app, database, clock)
    app.error(handle_error)
    register_listeners(app)
    return app
