"""Everything the bot sends into Slack on its own initiative, by feature.

Each module here owns its feature's kinds of outbox message (`OutboxKind`, bot/outbox/kinds.py):
the `queue_…` functions its listeners call in their own transaction, the handlers that draw
the rows at send time and follow up on the outcome, and a `register(sender)` that puts those
handlers on the sender. `FEATURES` collects them; `create_sender` wires the engine
(bot/outbox/sender.py) to the Slack transport (bot/slack/transport.py) and every feature.

- `kudos`: announcements, receivers' DMs, edits after an undo.
- `reactions`: a recognised message's thread reply and its author's DM.
- `daily`: morning posts, weekly digests and their charts.
- `reports`: shared leaderboards, export DMs and the note after them.
- `home`: App Home publishes (paced per workspace) and the managers' charts before them.

A body stored whole at enqueue time with nothing to follow up (`OutboxKind.MESSAGE`: notes,
onboarding DMs) needs no feature: the sender sends it as stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Clock, utcnow
from bot.outbox.sender import Sender, SenderSettings
from bot.slack.outbound import daily, home, kudos, reactions, reports
from bot.slack.transport import SlackTransport, create_transport_client

FEATURES = (kudos, reactions, daily, reports, home)
# The outbox lease: this many times SLACK_API_TIMEOUT (15 s at least).
LEASE_PER_CALL_TIMEOUT = 3


def register_handlers(sender: Sender, settings: Settings | None = None) -> None:
    """Every feature's kinds of message, on the outbox's sender. Channels read the workspace
    language where a workspace chose none (MISSIONBOT_LANGUAGE, from `settings`); the App Home
    is drawn with `settings` (the daily allowance and the dashboard's address)."""
    language = settings.missionbot_language if settings is not None else "en"
    for feature in FEATURES:
        if feature is home:
            home.register(sender, settings)
        else:
            feature.register(sender, language)


def outbox_lease(settings: Settings) -> float:
    """Seconds a claimed message is leased: MISSIONBOT_OUTBOX_LEASE_SECONDS, else well past one
    call's timeout, so that a send still in flight is never claimed twice."""
    if settings.missionbot_outbox_lease_seconds is not None:
        return settings.missionbot_outbox_lease_seconds
    return max(15.0, LEASE_PER_CALL_TIMEOUT * settings.slack_api_timeout)


def create_sender(
    settings: Settings,
    database: Database,
    *,
    clock: Clock = utcnow,
    settled: Callable[[dt.datetime], dt.datetime] | None = None,
) -> Sender:
    """The outbox's sender for this bot token, with every kind of message registered; held
    messages wait for `settled` too (the process's `Intake`, bot/intake.py)."""
    sender = Sender(
        database,
        SlackTransport(create_transport_client(settings)),
        settings=SenderSettings(
            lease=dt.timedelta(seconds=outbox_lease(settings)),
            backoff_first=settings.missionbot_outbox_retry_seconds,
        ),
        clock=clock,
        settled=settled,
    )
    register_handlers(sender, settings)
    return sender
