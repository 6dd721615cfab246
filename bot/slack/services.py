"""The services every listener may use, as one typed object in the Bolt context.

`create_app` puts one `Services` into `context["services"]`; Bolt injects it into a listener
that asks for `services`. The per-request `SlackDeadline` stays its own context key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.db.engine import Database
from bot.db.models import Clock
from bot.i18n.speech import Speech
from bot.mission.service import MissionKeeper
from bot.slack.languages import WorkspaceLanguages
from bot.slack.usergroups import GroupDirectory
from bot.slack.users import UserDirectory

if TYPE_CHECKING:
    from bot.daily.jobs import DailyScheduler
    from bot.outbox.sender import Sender

SERVICES = "services"


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    mission: MissionKeeper
    settings: Settings
    clock: Clock
    users: UserDirectory
    # None where nothing posts on a clock (tests that build an app on its own).
    scheduler: DailyScheduler | None = None
    # Drains the outbox; told when a request queued something, so it goes out at once.
    sender: Sender | None = None
    # Who is in a user group (`<!subteam^S…>` in a kudos), cached.
    groups: GroupDirectory = field(default_factory=GroupDirectory)
    # Each workspace's language (what its channels read), cached.
    languages: WorkspaceLanguages = field(default_factory=WorkspaceLanguages)

    def channel_speech(self, team_id: str) -> Speech:
        """What a channel of `team_id` reads in: the workspace language, whoever caused it."""
        return self.languages.channel_speech(self.db, team_id)

    def reader_speech(self, team_id: str, locale: str | None) -> Speech:
        """What a person whose Slack locale is `locale` reads in."""
        return self.languages.reader_speech(self.db, team_id, locale)

    def queued(self, channels: Sequence[tuple[str, str]] = ()) -> None:
        """Wake the sender: something was just committed to the outbox (for `channels`,
        (team_id, channel_id) pairs, when known)."""
        if self.sender is not None:
            self.sender.notify(channels)
