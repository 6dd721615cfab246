"""The console's session: who you are and where, a line read, sent to the bot, and shown.

Each line becomes what Slack would send (bot/console/slackside.py). The answer in the
acknowledgement is drawn at once; then `settle` waits until the bot has finished what it does
after the ack — its listener threads idle, the outbox drained (here, in this thread: the
sender's own threads aren't started, so nothing prints while you type), the stand-in quiet —
and draws what reached Slack meanwhile. A modal the bot opens is asked for there and then
(bot/console/modal.py). Messages get numbers as they appear (`shortcut N`, `react N`), and
so do buttons (`click N`, numbered by the renderer).

The console's own lines (help, refusals, "You are now …") are in the workspace language; what
is drawn as someone's view of Slack (its labels, a modal's prompts) is in the language of whom
the console is acting as (`as @emma`: German), as the bot's own words to them are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.ids import Shortcut as ShortcutId
from bot.console.clock import ClockRefused, ConsoleClock, parse_target
from bot.console.commands import (
    HELP,
    BecomePerson,
    Click,
    Command,
    GoToChannel,
    Help,
    MoveClock,
    Nothing,
    OpenHome,
    Problem,
    Quit,
    React,
    Say,
    Shortcut,
    Slash,
    Who,
    parse,
)
from bot.console.modal import ModalForm
from bot.console.render import Renderer
from bot.console.screen import OnScreen, Screen
from bot.console.slackside import Ack, SlackSide
from bot.console.standin import Shown, StandIn
from bot.console.workspace import TEAM_ID, Channel, Person
from bot.daily.flows import Outcome
from bot.i18n import Speech, negotiate, speech
from bot.i18n.speech import N_
from bot.i18n.whose import workspace_language
from bot.runtime import Runtime
from bot.slack.listener_pool import ListenerPool
from bot.text import clipped

log = logging.getLogger(__name__)

# How long the console waits for the bot's work after an answer before drawing the prompt.
SETTLE_TIMEOUT_S = 15.0
# The stand-in counts as quiet once no call has come for this long.
QUIET_S = 0.05
# What became of a due morning post or digest, in the console's words.
OUTCOMES: dict[str, str] = {
    Outcome.QUEUED: N_("queued"),
    Outcome.SENT: N_("sent"),
    Outcome.ALREADY_CLAIMED: N_("already claimed"),
    Outcome.FAILED: N_("failed"),
    Outcome.PAUSED: N_("paused"),
}


class Session:
    """One person at the console: who they are, where they are, and what is on screen."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        standin: StandIn,
        slack: SlackSide,
        renderer: Renderer,
        clock: ConsoleClock,
        executor: ListenerPool,
        read_line: Callable[[str], str | None],
        files: Path,
    ) -> None:
        self.runtime = runtime
        self.standin = standin
        self.slack = slack
        self.renderer = renderer
        self.clock = clock
        self.executor = executor
        self.read_line = read_line
        self.workspace = slack.workspace
        self.user: Person = self.workspace.you
        self.channel: Channel = self.workspace.channels[0]
        self.screen = Screen(
            renderer,
            self.workspace,
            standin,
            files,
            speech=lambda: self.their,
            console=lambda: self.t,
        )
        self.unhandled = UnhandledWatch()
        renderer.speech = lambda: self.their

    @property
    def t(self) -> Speech:
        """The console's own words: the workspace language (`/kudos settings language`)."""
        default = self.runtime.settings.missionbot_language
        try:
            with self.runtime.database.reading() as session:
                language = workspace_language(session=session, team_id=TEAM_ID, default=default)
        except SQLAlchemyError:
            # Saying that a line failed must not fail too when the database is what failed.
            language = default
        return speech(language)

    @property
    def their(self) -> Speech:
        """The words of the view of whom the console acts as: their locale, else the
        workspace's."""
        workspace = self.t
        return speech(negotiate(self.user.locale, workspace.language))

    @property
    def prompt(self) -> str:
        return f"@{self.user.handle} #{self.channel.name}> "

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> int:
        while True:
            try:
                line = self.read_line(self.prompt)
            except KeyboardInterrupt:
                self.renderer.console.print()  # after the ^C the terminal shows
                line = None
            if line is None:
                self.renderer.line(self.t.gettext("Bye."))
                return 0
            try:
                command = parse(line, self.workspace, self.t)
                if isinstance(command, Quit):
                    self.renderer.line(self.t.gettext("Bye."))
                    return 0
                self.do(command)
            except KeyboardInterrupt:
                self.renderer.line(self.t.gettext("Bye."))
                return 0
            except Exception as exc:  # the console's one last-resort handler
                # Whatever a line does, the person keeps their console: one line says what
                # broke (a bug of ours; the traceback is logged at DEBUG), then the prompt.
                log.debug("console line failed: %r", line[:200], exc_info=True)
                said = self.t.gettext(
                    "That line failed: {problem} "
                    "(a bug in missionbot; LOG_LEVEL=DEBUG shows where)."
                )
                problem = f"{type(exc).__name__}: {clipped(str(exc), 120)}"
                self.renderer.line(said.format(problem=problem), style="red")

    def do(self, command: Command) -> None:
        if isinstance(command, Nothing):
            return
        if isinstance(command, Problem):
            self.renderer.line(command.message, style="yellow")
        elif isinstance(command, Help):
            self.show_help()
        elif isinstance(command, Who):
            self.show_who()
        elif isinstance(command, BecomePerson):
            self.user = command.person
            said = self.t.gettext("You are now @{handle} ({name}, {timezone}).")
            self.renderer.line(
                said.format(
                    handle=self.user.handle, name=self.user.real_name, timezone=self.user.timezone
                ),
                style="green",
            )
        elif isinstance(command, GoToChannel):
            self.channel = command.channel
            self.renderer.line(
                self.t.gettext("You are now in #{channel}.").format(channel=self.channel.name),
                style="green",
            )
        elif isinstance(command, Slash):
            self.show_ack(
                self.slack.command(self.user.id, self.channel.id, command.command, command.text)
            )
        elif isinstance(command, Say):
            self.say(command.text)
        elif isinstance(command, OpenHome):
            self.slack.event(
                {
                    "type": "app_home_opened",
                    "user": self.user.id,
                    "channel": "D" + self.user.id,
                    "tab": "home",
                }
            )
        elif isinstance(command, Click):
            self.click(command.number)
        elif isinstance(command, Shortcut):
            self.shortcut(command.number)
        elif isinstance(command, React):
            self.react(command.number, command.emoji)
        elif isinstance(command, MoveClock):
            self.move_clock(command.spec)
        self.settle()

    # -- console commands --------------------------------------------------------------------
    def show_help(self) -> None:
        width = max(len(usage) for usage, _ in HELP)
        for usage, meaning in HELP:
            self.renderer.line(f"  {usage.ljust(width)}  {self.t.gettext(meaning)}")

    def show_who(self) -> None:
        t = self.t
        for person in self.workspace.people:
            about = (
                t.gettext("{title}, manager").format(title=person.title)
                if person.manager
                else person.title
            )
            # The title is the workspace's own words; the time zone its IANA name, as typed.
            described = t.gettext("{name} ({about}), {zone}").format(
                name=person.real_name, about=about, zone=person.timezone
            )
            self.renderer.line(f"  @{person.handle:<6} {described}")
        for group in self.workspace.groups.values():
            members = " ".join(self.workspace.user_label(m) for m in group.member_ids)
            self.renderer.line(f"  @{group.handle} {group.name}: {members}")
        for channel in self.workspace.channels:
            self.renderer.line(f"  #{channel.name:<8} {channel.purpose}")

    def say(self, text: str) -> None:
        ts = self.standin.next_ts()
        posted = Shown(
            "message", channel_id=self.channel.id, text=text, ts=ts, author_id=self.user.id
        )
        self.standin.remember_message(posted)
        self.screen.message(posted)
        self.slack.event(
            {
                "type": "message",
                "channel": self.channel.id,
                "user": self.user.id,
                "text": text,
                "ts": ts,
                "channel_type": "channel",
            }
        )

    def click(self, number: int) -> None:
        button = self.renderer.buttons.get(number)
        if button is None:
            self.screen.no_such("button", number, sorted(self.renderer.buttons))
            return
        origin: OnScreen = button.origin
        if "url" in button.action:
            opens = self.t.gettext("(opens {url})").format(url=button.action["url"])
            self.renderer.line(opens, style="dim")
        ack = self.slack.block_action(
            self.user.id,
            button.action,
            channel_id=origin.channel_id,
            message=origin.as_message() if origin.view is None else None,
            ephemeral=origin.ephemeral,
            view=origin.view,
        )
        self.show_ack(ack)

    def shortcut(self, number: int) -> None:
        message = self.screen.messages.get(number)
        if message is None or message.channel_id is None:
            self.screen.no_such("message", number, sorted(self.screen.messages))
            return
        callback_id = next(iter(ShortcutId))
        self.show_ack(
            self.slack.message_shortcut(
                self.user.id, callback_id, message.channel_id, message.as_message()
            )
        )

    def react(self, number: int, emoji: str) -> None:
        message = self.screen.messages.get(number)
        if message is None or message.channel_id is None:
            self.screen.no_such("message", number, sorted(self.screen.messages))
            return
        before = self.unhandled.count
        said = self.their.gettext("@{handle} reacted :{emoji}: to message {number}.")
        self.renderer.line(
            said.format(handle=self.user.handle, emoji=emoji, number=number), style="dim"
        )
        self.slack.event(
            {
                "type": "reaction_added",
                "user": self.user.id,
                "reaction": emoji,
                "item_user": message.author_id,
                "item": {
                    "type": "message",
                    "channel": message.channel_id,
                    "ts": message.ts,
                    # Slack's newer payloads say what kind of conversation the item is in.
                    "channel_type": "im" if message.channel_id.startswith("D") else "channel",
                },
            }
        )
        self.settle()
        if self.unhandled.count > before:
            self.renderer.line(
                self.t.gettext(
                    "Nothing in the bot handled this reaction_added event (no reaction listener "
                    "yet); Slack would have delivered it the same way."
                ),
                style="yellow",
            )

    def move_clock(self, spec: str) -> None:
        if spec:
            try:
                target = parse_target(spec, self.clock(), self.user.timezone)
                self.clock.move_to(target)
            except ClockRefused as exc:
                self.renderer.line(exc.said(self.t), style="yellow")
                return
        said = self.t.gettext("The clock says {now}.").format(now=self._now())
        self.renderer.line(said, style="green")
        if spec:
            results = self.runtime.scheduler.run_due()
            if not results:
                self.renderer.line(
                    self.t.gettext("No morning post or digest was due."), style="dim"
                )
            for result in results:
                where = self.workspace.conversation_label(result.channel_id, self.t)
                outcome = self.t.gettext(OUTCOMES.get(result.outcome, result.outcome))
                # The detail is Slack's error code, as the logs and Slack's docs spell it.
                detail = f" ({result.detail})" if result.detail else ""
                said = self.t.gettext("Scheduler: {where} {day}: {outcome}").format(
                    where=where, day=result.local_date, outcome=f"{outcome}{detail}"
                )
                self.renderer.line(said, style="dim")

    def _now(self) -> str:
        local = self.clock().astimezone(ZoneInfo(self.user.timezone))
        t = self.t
        # The weekday in the console's language; the date and time as ISO, as `clock` takes them.
        moment = f"{format_date(local, 'EEE', locale=t.locale)} {local:%Y-%m-%d %H:%M}"
        return t.gettext("{moment} for @{handle} ({zone})").format(
            moment=moment, handle=self.user.handle, zone=local.tzname()
        )

    # -- what the bot answered ----------------------------------------------------------------
    def show_ack(self, ack: Ack) -> None:
        """The acknowledgement: a command's answer travels in it (empty for most clicks)."""
        if ack.status != 200:
            said = self.t.gettext("The bot answered HTTP {status}: {text}")
            self.renderer.line(said.format(status=ack.status, text=ack.text[:200]), style="red")
            return
        answer = ack.json()
        if answer is None:
            if ack.body.strip():
                self.screen.ephemeral(self.channel.id, ack.text, [], you=self.user.id)
            return
        if "text" not in answer and "blocks" not in answer:
            return
        text, blocks = str(answer.get("text") or ""), list(answer.get("blocks") or [])
        if answer.get("response_type") == "in_channel":
            posted = Shown(
                "message",
                channel_id=self.channel.id,
                text=text,
                blocks=blocks,
                ts=self.standin.next_ts(),
            )
            self.screen.message(posted)
        else:
            self.screen.ephemeral(self.channel.id, text, blocks, you=self.user.id)

    def settle(self) -> None:
        """Wait until the bot is done with the last request, then draw what reached Slack."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            self.executor.wait_idle(deadline - time.monotonic())
            sender = self.runtime.sender
            pending = (
                sender.drain(timeout=max(deadline - time.monotonic(), 0)).pending if sender else 0
            )
            if self.executor.wait_idle(0) and pending == 0 and self.standin.quiet_for() >= QUIET_S:
                break
            time.sleep(QUIET_S / 2)
        for shown in self.standin.take():
            view = self.screen.show(shown, you=self.user.id)
            if view is not None:
                self._fill_modal(view)

    def _fill_modal(self, view: dict[str, Any]) -> None:
        result = ModalForm(
            view,
            user_id=self.user.id,
            channel_id=self.channel.id,
            slack=self.slack,
            renderer=self.renderer,
            ask=self.read_line,
            t=self.their,
        ).fill_and_submit()
        if result.submitted:
            self.settle()


class UnhandledWatch(logging.Handler):
    """Counts requests the bot had no listener for (bot/slack/errors.py logs each one)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.count = 0
        logger = logging.getLogger("bot.slack.errors")
        logger.setLevel(logging.INFO)
        logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("no listener for this"):
            self.count += 1
