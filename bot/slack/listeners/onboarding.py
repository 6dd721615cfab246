"""The onboarding drip in Slack: enrolling whoever joins (`team_join`, when
`MISSIONBOT_ONBOARDING_DRIP` is on), the DMs' Stop button, and the job that queues the DMs.

The decisions are bot/daily/drip.py's; this module draws the DMs (bot/blocks/onboarding.py)
and wakes the outbox's sender after each batch is committed.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.ids import Action
from bot.blocks.onboarding import drip_body, drip_stopped
from bot.daily.drip import Lesson, enrol, run_due, stop
from bot.db.engine import Database
from bot.db.models import Clock
from bot.outbox.sender import Sender
from bot.slack.deadline import after_ack_safe
from bot.slack.installation import team_of
from bot.slack.services import Services

log = logging.getLogger(__name__)

DRIP_JOB_ID = "onboarding:drip"


def register(app: App) -> None:
    app.action(Action.STOP_ONBOARDING)(after_ack_safe(handle_stop))


def start_drip(*, services: Services, team_id: str, user: dict[str, Any]) -> None:
    """Someone joined: their drip starts, unless the setting is off or they are a bot."""
    if not services.settings.missionbot_onboarding_drip:
        return
    if user.get("is_bot") or user.get("deleted") or user.get("id") == "USLACKBOT":
        return
    with services.db.transaction() as session:
        started = enrol(
            session=session,
            team_id=team_id,
            user_id=str(user["id"]),
            timezone=user.get("tz"),
            now=services.clock(),
        )
    if started:
        log.info("onboarding drip started team=%s user=%s", team_id, user["id"])


def handle_stop(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, services: Services
) -> None:
    ack()
    team_id, user_id = team_of(context), str(context.user_id)
    with services.db.transaction() as session:
        stopped = stop(session=session, team_id=team_id, user_id=user_id, now=services.clock())
    channel = (body.get("channel") or {}).get("id") or user_id
    person = services.users.cached(team_id, [user_id]).get(user_id)
    reply = drip_stopped(
        stopped, services.reader_speech(team_id, person.locale if person else None)
    )
    client.chat_postMessage(channel=channel, text=reply.text, blocks=reply.blocks)


class OnboardingDripJob:
    """Every minute (from the scheduler): queue the DMs due now, then wake the sender."""

    def __init__(
        self, database: Database, *, clock: Clock, sender: Sender | None, language: str = "en"
    ) -> None:
        self.database = database
        self.clock = clock
        self.sender = sender
        # For newcomers whose language isn't shipped, in a workspace that chose none.
        self.language = language

    def run_due(self) -> list[Lesson]:
        with self.database.transaction() as session:
            lessons = run_due(
                session=session, now=self.clock(), render=drip_body, language=self.language
            )
        if lessons and self.sender is not None:
            self.sender.notify()
        for lesson in lessons:
            log.info(
                "onboarding DM queued user=%s principle=%s", lesson.user_id, lesson.principle.key
            )
        return lessons
