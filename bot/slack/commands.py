"""One router per slash command: its subcommands declared once, dispatch and help made from that.

A subcommand is a function decorated with `@ROUTER.subcommand(name, help=N_(…))`; it takes
`(ack, request, services)`. The router picks it by the first word of the text (or an alias),
checks who may use it, and writes the `help` lines, so help can't leave a subcommand out.
English words always work; a language may add its own beside them,
`words={"de": ("rangliste",)}`, which anyone may type and the help in that language lists.
Text that starts with no subcommand goes to the command's `default` handler (`/kudos @ana …`,
`/mission 3`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.common import Message
from bot.blocks.ids import Command
from bot.blocks.kudos import kudos_help
from bot.blocks.mission import mission_help
from bot.i18n.speech import ENGLISH, Speech
from bot.mission.service import Catalog
from bot.slack.admins import require_admin
from bot.slack.deadline import after_ack_safe, deadline_of
from bot.slack.installation import team_of
from bot.slack.services import Services
from bot.slack.users import SlackUser


class Who(StrEnum):
    EVERYONE = "everyone"
    MANAGERS = "managers"  # workspace admins and MISSIONBOT_ADMINS
    # Managers when MISSIONBOT_RESTRICT_SCHEDULE is set, else everyone.
    SCHEDULE_MANAGERS = "schedule managers"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """One slash command invocation; `args` is the text after the subcommand's word."""

    command: dict[str, Any]
    args: str
    client: WebClient
    context: BoltContext
    services: Services

    @property
    def team_id(self) -> str:
        return team_of(self.context)

    @property
    def user_id(self) -> str:
        return str(self.command["user_id"])

    @property
    def channel_id(self) -> str | None:
        return self.command.get("channel_id")

    @property
    def response_url(self) -> str | None:
        return self.command.get("response_url")

    @property
    def quick_client(self) -> WebClient:
        """The client for Slack calls before the ack: they end within Slack's three seconds."""
        return deadline_of(self.context).client

    def caller(self) -> SlackUser:
        """Who typed the command, as Slack knows them (cached briefly)."""
        # Every reply asks (for the reader's language): a caller held in memory costs no
        # Slack client, which is built per request and dearer than the look-up.
        held = self.services.users.cached(self.team_id, [self.user_id]).get(self.user_id)
        if held is not None:
            return held
        return self.services.users.get(self.quick_client, self.team_id, self.user_id)

    def speech(self) -> Speech:
        """What only the caller reads (the reply to their command) is in their language."""
        return self.services.reader_speech(self.team_id, self.caller().locale)

    def channel_speech(self) -> Speech:
        """What the channel reads (a shared post) is in the workspace language."""
        return self.services.channel_speech(self.team_id)

    def catalog(self) -> Catalog:
        # Cached: `give` checks again, inside its transaction, that the principle is active.
        return self.services.mission.catalog(self.services.db, self.team_id)


Handler = Callable[[Ack, CommandRequest, Services], None]


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    aliases: tuple[str, ...]
    who: Who
    help: str  # a msgid: one line, without the bullet; managers' lines are marked in the help
    handler: Handler
    refusal: str = ""  # a msgid, said to someone who may not use it
    # More words for it in other languages, by language: {"de": ("rangliste",)}.
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def help_line(self, t: Speech = ENGLISH) -> str:
        _ = t.gettext
        line = _(self.help)
        own = self.words.get(t.language) or self.words.get(t.language.split("_", 1)[0])
        if own:
            also = ", ".join(f"`{word}`" for word in own)
            line = _("{line} (also: {words})").format(line=line, words=also)
        if self.who == Who.MANAGERS:
            return _("• Admins: {line}").format(line=line)
        return f"• {line}"


@dataclass
class Router:
    command: str
    # The command's help from its lines: (services, speech, lines) -> the message.
    render_help: Callable[[Services, Speech, Sequence[str]], Message]
    default: Handler | None = None
    subcommands: dict[str, Subcommand] = field(default_factory=dict)
    _by_word: dict[str, Subcommand] = field(default_factory=dict)

    def subcommand(
        self,
        name: str,
        *,
        help: str,
        aliases: Sequence[str] = (),
        who: Who = Who.EVERYONE,
        refusal: str = "",
        words: Mapping[str, Sequence[str]] | None = None,
    ) -> Callable[[Handler], Handler]:
        own = {language: tuple(w.lower() for w in ws) for language, ws in (words or {}).items()}

        def declare(handler: Handler) -> Handler:
            sub = Subcommand(name, tuple(aliases), who, help, handler, refusal, own)
            spoken = [word for language_words in own.values() for word in language_words]
            for word in dict.fromkeys((name, *aliases, *spoken)):
                if word in self._by_word:
                    raise ValueError(f"{self.command} {word} is declared twice")
                self._by_word[word] = sub
            self.subcommands[name] = sub
            return handler

        return declare

    def help_lines(self, t: Speech = ENGLISH) -> list[str]:
        """Every subcommand's line, in the order declared, `help` itself last."""
        subs = sorted(self.subcommands.values(), key=lambda s: s.name == "help")
        return [sub.help_line(t) for sub in subs]

    def help(self, services: Services, t: Speech = ENGLISH) -> Message:
        return self.render_help(services, t, self.help_lines(t))

    def register(self, app: App) -> None:
        app.command(self.command)(after_ack_safe(self.dispatch))

    def dispatch(
        self,
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        services: Services,
    ) -> None:
        text = (command.get("text") or "").strip()
        word, *rest = text.split(maxsplit=1) or [""]
        sub = self._by_word.get(word.lower())
        args = (rest[0] if rest else "") if sub else text
        request = CommandRequest(command, args, client, context, services)
        if sub is None:
            if self.default is None:
                raise LookupError(f"{self.command} has no default handler")
            self.default(ack, request, services)
            return
        if sub.who == Who.MANAGERS or (
            sub.who == Who.SCHEDULE_MANAGERS and services.settings.missionbot_restrict_schedule
        ):
            require_admin(
                client=request.quick_client,
                settings=services.settings,
                users=services.users,
                team_id=request.team_id,
                user_id=request.user_id,
                refusal=sub.refusal,
            )
        sub.handler(ack, request, services)


# The routers; the feature modules under bot/slack/listeners/ declare their subcommands on them.
KUDOS = Router(
    Command.KUDOS, lambda s, t, lines: kudos_help(s.settings.kudos_daily_limit, lines, t)
)
MISSION = Router(Command.MISSION, lambda _s, t, lines: mission_help(lines, t))
ROUTERS = (MISSION, KUDOS)
