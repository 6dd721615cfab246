"""Who sees what on the dashboard, read again on every request.

Managers — as in Slack (bot/slack/admins.py): MISSIONBOT_ADMINS, and workspace admins and
owners as the people directory last heard from Slack — see every page. Everyone else sees the
overview, principles and leaderboards (what Slack already shows them) and their own person
page. A deactivated person (or a bot) is no viewer at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.i18n import negotiate
from bot.people import find_reader


class Page(StrEnum):
    OVERVIEW = "overview"
    PRINCIPLES = "principles"
    PRINCIPLE = "principle"
    PERSON = "person"
    LEADERBOARDS = "leaderboards"
    NETWORK = "network"
    HEALTH = "health"
    QUIET = "quiet"  # the 60-day lists

    @property
    def managers_only(self) -> bool:
        return self in {Page.NETWORK, Page.HEALTH, Page.QUIET}


@dataclass(frozen=True, slots=True)
class Viewer:
    team_id: str
    user_id: str
    name: str
    timezone: str | None
    manager: bool
    # What they read the dashboard in: their Slack locale negotiated, else the workspace's.
    language: str = "en"

    def may_see(self, page: Page, person_id: str | None = None) -> bool:
        if self.manager:
            return True
        if page is Page.PERSON:
            return person_id == self.user_id
        return not page.managers_only


def viewer(session: Session, settings: Settings, team_id: str, user_id: str) -> Viewer | None:
    """The signed-in person as they are now; None when deactivated (or a bot)."""
    # The person and the workspace's language in one statement: every request reads them.
    person, chosen = find_reader(session=session, team_id=team_id, user_id=user_id)
    if person is not None and (person.deleted or person.is_bot):
        return None
    listed = user_id in settings.missionbot_admins
    workspace = chosen or settings.missionbot_language
    return Viewer(
        team_id=team_id,
        user_id=user_id,
        name=person.name if person else user_id,
        timezone=person.timezone if person else None,
        manager=listed or bool(person and (person.is_admin or person.is_owner)),
        language=negotiate(person.locale if person else None, workspace),
    )
