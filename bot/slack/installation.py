"""Which workspaces the bot serves: the installation its token belongs to, as `auth.test` says.

The bot runs on one bot token (there is no OAuth multi-workspace install yet), so it serves
the token's workspace — or, for an org-wide Enterprise Grid install (`is_enterprise_install`),
every workspace of that enterprise. A request from any other team, even one correctly signed
(the signing secret belongs to the app, not to a workspace), is refused by a global middleware
before anything is recorded: otherwise it would create a mission and kudos for a team whose
people the bot cannot even message.

`auth.test` is asked once and the answer kept. If Slack can't be reached, the question is
asked again on a later request (at most every `retry_seconds`), and meanwhile requests get an
apology rather than being let through unchecked.

Which team a request's records belong to (`team_of`) is decided here too, once, the way Bolt's
installation store finds an installation: a workspace install is its workspace (`team_id`);
an org-wide install is its enterprise (`enterprise_id`), whichever of its workspaces the
request came from. Org-wide events carry no team in their authorization
(`authorizations[0].team_id: null`), a shared channel's envelope may name another
organisation's team, and one person is one user ID across the enterprise: keyed by the
enterprise, a person has one allowance and one count, and a multi-workspace channel's kudos
are not split between workspaces.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.mission import Message, notice
from bot.db.engine import Database
from bot.i18n.speech import N_, speech
from bot.mission.service import known_teams

log = logging.getLogger(__name__)

# Said before the bot knows who asks (or, for another workspace, can know their language):
# in the bot's own language, MISSIONBOT_LANGUAGE.
FOREIGN_WORKSPACE = N_("This bot is installed for another workspace; nothing was recorded.")
# The context key of the team a request's records belong to (see `team_of`).
TEAM_KEY = "missionbot_team"
# The context key of the workspace a request came from (see `workspace_of`).
WORKSPACE_KEY = "missionbot_workspace"
INSTALLATION_UNKNOWN = N_(
    ":hourglass: I can't reach Slack to confirm this workspace right now, so nothing was "
    "recorded. Please try again in a moment."
)


@dataclass(frozen=True)
class Identity:
    """The installation the bot token is for."""

    team_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool

    @property
    def team(self) -> str | None:
        """The team every record of this installation belongs to: its enterprise when the
        install is org-wide, else its workspace."""
        return self.enterprise_id if self.is_enterprise_install else self.team_id

    def serves(self, *, team_id: str | None, enterprise_id: str | None) -> bool:
        if self.is_enterprise_install:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return team_id is not None and team_id == self.team_id


class Installation:
    """The bot token's `auth.test` answer, asked once and cached (thread-safe)."""

    def __init__(
        self,
        client: WebClient,
        *,
        retry_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.retry_seconds = retry_seconds
        self.monotonic = monotonic
        self._identity: Identity | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    def identity(self) -> Identity | None:
        """The installation, or None while Slack can't say (asked again later)."""
        if self._identity is not None:
            return self._identity
        with self._lock:
            if self._identity is None and self.monotonic() >= self._next_try:
                self._identity = self._ask()
                if self._identity is None:
                    self._next_try = self.monotonic() + self.retry_seconds
        return self._identity

    def _ask(self) -> Identity | None:
        try:
            answer = self.client.auth_test()
        except SlackApiError as error:
            log.warning("auth.test failed (%s); will ask again", error.response.get("error"))
            return None
        except OSError as error:  # URLError, timeouts, refused connections
            log.warning("auth.test failed (%s); will ask again", type(error).__name__)
            return None
        identity = Identity(
            team_id=answer.get("team_id") or None,
            enterprise_id=answer.get("enterprise_id") or None,
            is_enterprise_install=answer.get("is_enterprise_install") is True,
        )
        log.info(
            "serving team=%s enterprise=%s enterprise_install=%s",
            identity.team_id,
            identity.enterprise_id,
            identity.is_enterprise_install,
        )
        return identity


def warn_of_other_teams(identity: Identity | None, database: Database) -> None:
    """Say so at start when the database holds teams this installation no longer serves.

    An org-wide install keeps its records under its enterprise; before it was served, its
    slash commands were recorded under each workspace. Those records stay and still serve a
    workspace install of those teams, but an org install doesn't count them: the operator
    should know, not discover it on a leaderboard.
    """
    if identity is None or identity.team is None:
        return
    if not identity.is_enterprise_install:
        return
    try:
        with database.reading() as session:
            others = [team for team in known_teams(session) if team != identity.team]
    except SQLAlchemyError as error:
        # Only a warning is lost: the bot starts, and `/healthz` says the database is down.
        log.info("could not look for other teams' records: %s", type(error).__name__)
        return
    if others:
        log.warning(
            "org-wide install: records are kept under enterprise %s; those kept under %s "
            "before (workspace installs) are not counted with it (README: Enterprise Grid)",
            identity.team,
            ", ".join(others[:10]) + (" …" if len(others) > 10 else ""),
        )


def register(app: App, installation: Installation, language: str = "en") -> None:
    """Refuse every request that doesn't come from the installation (register it first),
    saying so in `language`."""
    t = speech(language)

    @app.middleware
    def serve_only_this_installation(
        body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # Bolt reads the team from where each kind of request carries it: `team_id` of a
        # command, `team.id` of an interaction, `authorizations[0]` of an event.
        identity = installation.identity()
        if identity is None:
            return _refusal(body, t.gettext(INSTALLATION_UNKNOWN))
        if identity.serves(team_id=context.team_id, enterprise_id=context.enterprise_id):
            context[TEAM_KEY] = identity.team
            context[WORKSPACE_KEY] = _workspace(body, context)
            return next()
        log.info(
            "refused a request from team=%s enterprise=%s: not this bot's installation",
            context.team_id,
            context.enterprise_id,
        )
        return _refusal(body, t.gettext(FOREIGN_WORKSPACE))


def team_of(context: Mapping[str, Any]) -> str:
    """The team a request's records belong to: its installation's (set by the middleware
    above, which refuses any request it can't name a team for)."""
    return str(context[TEAM_KEY])


def workspace_of(context: Mapping[str, Any]) -> str | None:
    """The workspace (`T…`) the request came from, which an org-wide install's token must name
    in the calls about one workspace (`usergroups.users.list`, `usergroups.list`): its user
    groups are the workspace's. None when the request names none."""
    found = context.get(WORKSPACE_KEY)
    return str(found) if found else None


def _workspace(body: Mapping[str, Any], context: BoltContext) -> str | None:
    """Where each kind of request names its workspace: Bolt's team (a command's `team_id`, an
    event's envelope), else the user's team (an interaction), else the event's `team`."""
    user = body.get("user")
    event = body.get("event")
    for candidate in (
        context.team_id,
        user.get("team_id") if isinstance(user, dict) else None,
        event.get("team") if isinstance(event, dict) else None,
        event.get("user_team") if isinstance(event, dict) else None,
    ):
        if isinstance(candidate, str) and candidate.startswith("T"):
            return candidate
    return None


def _refusal(body: dict[str, Any], text: str) -> BoltResponse:
    """200 (Slack shows an error for anything else); a command also gets a line to read."""
    if "command" not in body:
        return BoltResponse(status=200, body="")
    message: Message = notice(text)
    return BoltResponse(
        status=200,
        body=json.dumps(
            {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks}
        ),
        headers={"content-type": "application/json;charset=utf-8"},
    )
