"""What one console line means: a slash command as typed in Slack, or a console command.

Slash commands are passed on as Slack passes them with "escape channels, users, and links"
on (app.yaml's `should_escape`): `@ben` becomes `<@U…|ben>` and `#support` `<#C…|support>`.
A `#word` that is no channel stays as typed (it is a principle tag: `#plain-words`), as in
Slack; an `@name` nobody has is refused here with the closest names, since Slack would leave it
as plain text that names nobody.

The console commands are few, and `help` lists them (`HELP`). They are typed in English in
every language (as `/kudos leaderboard` is); what they mean, and what a line that can't be
done is told, are said in the console's language (`t`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.console.typed import too_long, whole_number
from bot.console.workspace import Channel, Person, UnknownName, Workspace
from bot.i18n import ENGLISH, Speech
from bot.i18n.speech import N_
from bot.text import clipped

# (what is typed, what it does): the meanings are msgids, said in the console's language.
HELP = (
    (
        "/mission …  /kudos …",
        N_("type slash commands as in Slack (`/kudos help`, `/mission help`)"),
    ),
    ("say TEXT", N_("post a message as yourself where you are (to shortcut or react to)")),
    ("as @carol", N_("become someone else (@carol is a manager)")),
    ("in #support", N_("go to another channel")),
    ("home", N_("open the bot's App Home tab")),
    ("dashboard", N_("a sign-in link to the web dashboard, for whoever you are now")),
    ("click N", N_("press button [N]")),
    ("shortcut N", N_("“Give kudos for this” on message #N")),
    ("react N :emoji:", N_("react to message #N")),
    ("clock tomorrow 09:00", N_("move the clock forward; due morning posts and digests go out")),
    ("who", N_("the people and channels of this workspace")),
    ("help", N_("this list")),
    ("quit", N_("leave (Ctrl-D does too)")),
)
CONSOLE_WORDS = (
    "say",
    "as",
    "in",
    "home",
    "dashboard",
    "click",
    "shortcut",
    "react",
    "clock",
    "who",
    "help",
    "quit",
    "exit",
)
SLASH_COMMANDS = ("/mission", "/kudos")

_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9][\w.-]*)")
_CHANNEL = re.compile(r"(?<![\w<&#])#([a-z0-9][\w-]*)")
_SPECIAL = {"channel": "<!channel>", "here": "<!here>", "everyone": "<!everyone>"}
# Slack's emoji names: lower-case letters, digits and `_+'-`, at most 100 of them.
_EMOJI = re.compile(r"^:?([a-z0-9_+'-]{1,100}(?:::skin-tone-[2-6])?):?$")


@dataclass(frozen=True, slots=True)
class Slash:
    command: str
    text: str  # escaped as Slack sends it


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class BecomePerson:
    person: Person


@dataclass(frozen=True, slots=True)
class GoToChannel:
    channel: Channel


@dataclass(frozen=True, slots=True)
class OpenHome:
    pass


@dataclass(frozen=True, slots=True)
class Click:
    number: int


@dataclass(frozen=True, slots=True)
class Shortcut:
    number: int


@dataclass(frozen=True, slots=True)
class React:
    number: int
    emoji: str  # without colons, as Slack's events carry it


@dataclass(frozen=True, slots=True)
class MoveClock:
    spec: str  # empty: just show the time


@dataclass(frozen=True, slots=True)
class Who:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Nothing:
    pass


@dataclass(frozen=True, slots=True)
class Problem:
    """The line can't be done; `message` says why and what would work."""

    message: str


Command = (
    Slash
    | Say
    | BecomePerson
    | GoToChannel
    | OpenHome
    | Click
    | Shortcut
    | React
    | MoveClock
    | Who
    | Help
    | Quit
    | Nothing
    | Problem
)


def parse(line: str, workspace: Workspace, t: Speech = ENGLISH) -> Command:
    _ = t.gettext
    words = line.strip()
    if not words or words.startswith("//"):
        return Nothing()
    refused = too_long(words, t)
    if refused:
        return Problem(refused)
    head, _space, rest = words.partition(" ")
    rest = rest.strip()
    if head.startswith("/"):
        return _slash(head.lower(), rest, workspace, t)
    name = head.lower()
    try:
        if name == "say":
            return Say(_escaped(rest, workspace)) if rest else Problem(_("Say what? `say TEXT`."))
        if name == "as":
            if len(rest.split()) != 1 or not rest.lstrip("@"):
                people = " ".join(workspace.handles())
                return Problem(
                    _("Who? `as @carol`; the people here: {people}.").format(people=people)
                )
            return BecomePerson(workspace.person(rest))
        if name == "in":
            if len(rest.split()) != 1 or not rest.lstrip("#"):
                return Problem(
                    _("Where? `in #support`; the channels here: {channels}.").format(
                        channels="#general #support"
                    )
                )
            return GoToChannel(workspace.channel(rest))
    except UnknownName as exc:
        return Problem(exc.said(t))
    if name in {"click", "shortcut"}:
        number = whole_number(rest)
        if number is None:
            return Problem(
                _("Which one? `{command} N`, with N the number shown in brackets.").format(
                    command=name
                )
            )
        return Click(number) if name == "click" else Shortcut(number)
    if name == "react":
        return _react(rest, t)
    if name == "clock":
        return MoveClock(rest)
    if name == "dashboard":  # as `/kudos dashboard` typed in Slack
        return _slash("/kudos", "dashboard", workspace, t)
    simple: dict[str, Command] = {
        "home": OpenHome(),
        "who": Who(),
        "help": Help(),
        "?": Help(),
        "quit": Quit(),
        "exit": Quit(),
    }
    if name in simple:
        return simple[name]
    close = difflib.get_close_matches(name, CONSOLE_WORDS, n=2, cutoff=0.6)
    if close:
        return Problem(
            _(
                "I don't know `{word}`. Did you mean `{close}`? Type `help` for the console "
                "commands, or a slash command such as `/mission`."
            ).format(word=clipped(head), close=close[0])
        )
    return Problem(
        _(
            "I don't know `{word}`. Type `help` for the console commands, "
            "or a slash command such as `/mission`."
        ).format(word=clipped(head))
    )


def _slash(command: str, rest: str, workspace: Workspace, t: Speech) -> Command:
    _ = t.gettext
    if command not in SLASH_COMMANDS:
        close = difflib.get_close_matches(command, SLASH_COMMANDS, n=1, cutoff=0.5)
        if close:
            said = _("`{command}` is not a command of this workspace. Did you mean `{close}`?")
        else:
            said = _(
                "`{command}` is not a command of this workspace. "
                "This bot has `/mission` and `/kudos`."
            )
        return Problem(said.format(command=clipped(command), close=close[0] if close else ""))
    try:
        return Slash(command, _escaped(rest, workspace))
    except UnknownName as exc:
        return Problem(_("{problem} Nothing was sent.").format(problem=exc.said(t)))


def _escaped(text: str, workspace: Workspace) -> str:
    """`@ben` → `<@U…|ben>`, `#general` → `<#C…|general>`, `@here` → `<!here>`, a user
    group `@ops-team` → `<!subteam^S…|@ops-team>`."""

    def person(match: re.Match[str]) -> str:
        name = match[1].rstrip(".-")
        tail = match[1][len(name) :]
        if name.lower() in _SPECIAL:
            return _SPECIAL[name.lower()] + tail
        group = workspace.groups.get(name.lower())
        if group is not None:
            return f"<!subteam^{group.id}|@{group.handle}>{tail}"
        found = workspace.person(name)
        return f"<@{found.id}|{found.handle}>{tail}"

    def channel(match: re.Match[str]) -> str:
        if not workspace.has_channel(match[1]):
            return match[0]
        found = workspace.channel(match[1])
        return f"<#{found.id}|{found.name}>"

    return _CHANNEL.sub(channel, _MENTION.sub(person, text))


def _react(rest: str, t: Speech) -> Command:
    parts = rest.split()
    number = whole_number(parts[0]) if parts else None
    emoji = _EMOJI.match(parts[1]) if len(parts) == 2 else None
    if number is None or emoji is None:
        return Problem(t.gettext("React how? `react N :emoji:`, e.g. `react 4 :dart:`."))
    return React(number, emoji[1])
