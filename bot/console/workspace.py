"""The demo workspace: who is in it, which channels it has, and how names map to Slack IDs.

You plus six colleagues (README's `@ana` and `@ben` among them), each with a timezone; Carol
is a workspace admin, so she is a manager to the bot (`as @carol` to use the manager
commands). Two public channels, #general and #support, with the bot in both. The stand-in
answers `users.info`, `users.list` and `conversations.info` from here, so the bot learns of
these people exactly as it would from Slack.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list

from bot.i18n import ENGLISH, Speech
from bot.simulator.server import public_channel
from bot.text import clipped

TEAM_ID = "T0CONSOLE"
TEAM_DOMAIN = "tidewater"
TEAM_NAME = "Tidewater Freight (console)"
BOT_USER_ID = "UMISSIONBOT"
BOT_ID = "BMISSIONBOT"
APP_ID = "AMISSIONBOT"


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    handle: str  # what you type after @
    real_name: str
    timezone: str
    title: str
    manager: bool = False
    # Slack's locale for them: Emma reads German, Ana Brazilian Portuguese (`as @emma`).
    locale: str = "en-GB"

    def as_slack_user(self) -> dict[str, Any]:
        """The user object `users.info` and `users.list` answer with, as Slack shapes it."""
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.handle,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "is_admin": self.manager,
            "is_owner": False,
            "tz": self.timezone,
            "tz_label": self.timezone,
            "locale": self.locale,
            "profile": {
                "display_name": self.handle,
                "real_name": self.real_name,
                "title": self.title,
            },
        }


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str
    purpose: str

    def as_slack_channel(self) -> dict[str, Any]:
        """What `conversations.info` answers: a public channel the bot is a member of."""
        return {**public_channel(self.id, self.name), "purpose": {"value": self.purpose}}


PEOPLE: tuple[Person, ...] = (
    Person("U0CONSOLEYOU", "you", "You", "Europe/London", "Operations"),
    Person(
        "U0CONSOLEANA", "ana", "Ana Lima", "America/Sao_Paulo", "Customer support", locale="pt-BR"
    ),
    Person("U0CONSOLEBEN", "ben", "Ben Okafor", "Europe/London", "Dispatch"),
    Person(
        "U0CONSOLECAR", "carol", "Carol Nguyen", "America/New_York", "Head of ops", True, "en-US"
    ),
    Person("U0CONSOLEDEV", "dev", "Dev Patel", "Asia/Kolkata", "Billing", locale="en-IN"),
    Person(
        "U0CONSOLEEMM", "emma", "Emma Schulz", "Europe/Berlin", "Warehouse lead", locale="de-DE"
    ),
    Person("U0CONSOLEFIN", "finn", "Finn Larsen", "Europe/Oslo", "Driver planning", locale="nb-NO"),
)
CHANNELS: tuple[Channel, ...] = (
    Channel("C0GENERAL", "general", "Company-wide announcements and chat"),
    Channel("C0SUPPORT", "support", "Customer questions and the answers"),
)
BOT_NAME = "missionbot"


@dataclass(frozen=True, slots=True)
class Group:
    """A user group (`@ops-team`): Slack mentions it as `<!subteam^S…|@ops-team>`."""

    id: str
    handle: str
    name: str
    member_ids: tuple[str, ...]


GROUPS: tuple[Group, ...] = (
    Group("S0OPSTEAM", "ops-team", "Night-shift operations", ("U0CONSOLEBEN", "U0CONSOLEFIN")),
)

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_MENTION = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")


class UnknownName(LookupError):
    """`@name` or `#channel` that the demo workspace doesn't have; says what was close."""

    def __init__(self, what: str, suggestions: list[str], everyone: list[str]) -> None:
        self.what, self.suggestions, self.everyone = what, suggestions, everyone
        super().__init__(self.said(ENGLISH))

    def said(self, t: Speech) -> str:
        """What was wrong, in the console's language."""
        if self.suggestions:
            close = format_list(self.suggestions, style="or", locale=t.locale)
            said = t.gettext("There is no {name} in this workspace. Did you mean {close}?")
            return said.format(name=self.what, close=close)
        said = t.gettext("There is no {name} in this workspace. There are {everyone}.")
        return said.format(name=self.what, everyone=", ".join(self.everyone))


class Workspace:
    """Lookups over the demo people and channels, in both directions."""

    def __init__(
        self,
        people: tuple[Person, ...] = PEOPLE,
        channels: tuple[Channel, ...] = CHANNELS,
        groups: tuple[Group, ...] = GROUPS,
    ) -> None:
        self.people = people
        self.channels = channels
        self.groups = {g.handle: g for g in groups}
        self.groups_by_id = {g.id: g for g in groups}
        self._by_handle = {p.handle: p for p in people}
        self._by_id = {p.id: p for p in people}
        self._channels_by_name = {c.name: c for c in channels}
        self._channels_by_id = {c.id: c for c in channels}

    @property
    def you(self) -> Person:
        return self.people[0]

    def person(self, name: str) -> Person:
        """`@ben`, `ben` or `U0CONSOLEBEN` → Ben; an unknown name raises `UnknownName`."""
        handle = name.strip().lstrip("@").lower()
        found = self._by_handle.get(handle) or self._by_id.get(name.strip().lstrip("@"))
        if found is None:
            close = difflib.get_close_matches(handle, list(self._by_handle), n=2, cutoff=0.5)
            raise UnknownName(f"@{clipped(handle)}", [f"@{c}" for c in close], self.handles())
        return found

    def channel(self, name: str) -> Channel:
        """`#support` or `support` → the channel; an unknown name raises `UnknownName`."""
        wanted = name.strip().lstrip("#").lower()
        found = self._channels_by_name.get(wanted) or self._channels_by_id.get(name.strip())
        if found is None:
            close = difflib.get_close_matches(wanted, list(self._channels_by_name), n=2)
            everyone = [f"#{c}" for c in self._channels_by_name]
            raise UnknownName(f"#{clipped(wanted)}", [f"#{c}" for c in close], everyone)
        return found

    def has_channel(self, name: str) -> bool:
        return name.strip().lstrip("#").lower() in self._channels_by_name

    def handles(self) -> list[str]:
        return [f"@{p.handle}" for p in self.people]

    def person_by_id(self, user_id: str) -> Person | None:
        return self._by_id.get(user_id)

    def channel_by_id(self, channel_id: str) -> Channel | None:
        return self._channels_by_id.get(channel_id)

    # -- what the screen shows for an ID -----------------------------------------------------
    def user_label(self, user_id: str) -> str:
        if user_id == BOT_USER_ID:
            return f"@{BOT_NAME}"
        person = self._by_id.get(user_id)
        return f"@{person.handle}" if person else f"@{user_id}"

    def conversation_label(self, channel_id: str, t: Speech = ENGLISH) -> str:
        """#general, or "DM with @ben" for a direct message (its ID is D + the user's ID)."""
        channel = self._channels_by_id.get(channel_id)
        if channel is not None:
            return f"#{channel.name}"
        user_id = dm_user(channel_id)
        if user_id is not None:
            return t.gettext("DM with {name}").format(name=self.user_label(user_id))
        return f"#{channel_id}"

    def readable(self, mrkdwn: str) -> str:
        """`<@U…>` as @name and `<#C…>` as #channel: how Slack shows mentions."""
        text = _USER_MENTION.sub(lambda m: self.user_label(m[1]), mrkdwn)
        return _CHANNEL_MENTION.sub(
            lambda m: self.conversation_label(m[1]) if not m[2] else f"#{m[2]}", text
        )


def dm_id(user_id: str) -> str:
    """The ID of the bot's DM with a person: Slack's are D…, ours D + the user's ID."""
    return "D" + user_id


def dm_user(channel_id: str) -> str | None:
    if channel_id.startswith("DU"):
        return channel_id[1:]
    if channel_id.startswith("U"):  # chat.postMessage(channel=user_id) opens the DM
        return channel_id
    return None
