"""`/kudos dashboard`: a single-use sign-in link to the web dashboard (bot/web/), answered to
the caller alone. Thin: record the link (bot/web/signin.py) → render (bot/blocks/dashboard.py)."""

from __future__ import annotations

from slack_bolt import Ack

from bot.blocks.dashboard import signin_link_message
from bot.i18n.speech import N_
from bot.slack.commands import KUDOS, CommandRequest
from bot.slack.services import Services
from bot.web.signin import LINK_LIFETIME, issue_link


@KUDOS.subcommand(
    "dashboard",
    help=N_("`/kudos dashboard` gives you a sign-in link to the kudos dashboard on the web"),
)
def dashboard_link(ack: Ack, request: CommandRequest, services: Services) -> None:
    request.caller()  # known to the people directory, which the dashboard reads roles from
    with services.db.transaction() as session:
        url = issue_link(
            session,
            public_url=services.settings.missionbot_public_url,
            team_id=request.team_id,
            user_id=request.user_id,
            now=services.clock(),
        )
    reply = signin_link_message(
        url, minutes=int(LINK_LIFETIME.total_seconds() // 60), t=request.speech()
    )
    ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
