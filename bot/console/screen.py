"""What the console's screen shows of the workspace: each thing that appeared, labelled.

A channel post or DM is labelled with where it went, who posted it and its number (what
`shortcut N` and `react N` refer to); an ephemeral message or a reply through a response_url
says who alone can see it (and the response_url it came through); an edit names the message
it changed; the App Home names whose it is; a file is one line (bot/console/files.py).
Modals are not drawn here: `show` hands them back to the session, which asks for them field
by field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.console import files
from bot.console.render import Renderer
from bot.console.standin import Shown, StandIn
from bot.console.workspace import BOT_ID, BOT_USER_ID, Workspace
from bot.i18n import ENGLISH, Speech


@dataclass
class OnScreen:
    """A message on screen that buttons, shortcuts and reactions can refer to."""

    channel_id: str | None
    ts: str | None
    author_id: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    view: dict[str, Any] | None = None  # set for a modal or the App Home

    def as_message(self) -> dict[str, Any]:
        """The message as Slack puts it in a shortcut's or a click's payload."""
        message: dict[str, Any] = {
            "type": "message",
            "user": self.author_id,
            "ts": self.ts,
            "text": self.text,
        }
        if self.author_id == BOT_USER_ID:
            message["bot_id"] = BOT_ID
        if self.blocks:
            message["blocks"] = self.blocks
        return message


class Screen:
    """Draws what appeared and numbers the messages, as they appear."""

    def __init__(
        self,
        renderer: Renderer,
        workspace: Workspace,
        standin: StandIn,
        files: Path,
        *,
        speech: Callable[[], Speech] = lambda: ENGLISH,
        console: Callable[[], Speech] = lambda: ENGLISH,
    ) -> None:
        self.renderer = renderer
        # The language of whom the console acts as: their view's labels are in it; and the
        # console's own (the workspace's), for its refusals.
        self.speech = speech
        self.console_speech = console
        self.workspace = workspace
        self.standin = standin
        self.files = files  # where shared files are saved
        self.messages: dict[int, OnScreen] = {}
        self._numbers: dict[tuple[str, str], int] = {}
        # Between the parts of a label; a terminal without Unicode gets a plain dash.
        self.dot = renderer.glyph(" · ", " - ")

    def show(self, shown: Shown, *, you: str) -> dict[str, Any] | None:
        """Draw one thing that appeared; a modal is returned, to be asked for, not drawn."""
        if shown.kind == "modal":
            return shown.view
        if shown.kind == "message":
            self.message(shown)
        elif shown.kind == "ephemeral":
            self.ephemeral(
                shown.channel_id, shown.text, shown.blocks, you=you, viewer=shown.viewer_id
            )
        elif shown.kind == "reply":
            self.ephemeral(
                shown.channel_id,
                shown.text,
                shown.blocks,
                you=you,
                viewer=shown.viewer_id,
                via=f"{self.dot}{self.speech().gettext('replacing the one above')}"
                if shown.detail
                else "",
                response_url=shown.response_url,
            )
        elif shown.kind == "deleted":
            self.renderer.line(
                self.speech().gettext(
                    "(@missionbot removed its message that only you could see, "
                    "through its response_url)"
                ),
                style="dim",
            )
        elif shown.kind == "edit":
            self._edit(shown)
        elif shown.kind == "home":
            self._home(shown)
        elif shown.kind == "file":
            self._file(shown)
        elif shown.kind == "reaction":
            number = self._numbers.get((shown.channel_id or "", shown.ts or ""))
            said = self.speech().gettext("@{handle} reacted :{emoji}: to message {number}.")
            self.renderer.line(said.format(handle="missionbot", emoji=shown.detail, number=number))
        elif shown.kind == "unknown":
            said = self.speech().gettext(
                "(The stand-in doesn't know the Web API method {method}; "
                "the bot got `unknown_method`.)"
            )
            self.renderer.line(said.format(method=shown.detail), style="red")
        return None

    def message(self, shown: Shown) -> int:
        """A message in a channel or DM, numbered; its number."""
        channel_id = shown.channel_id or ""
        number = self.number(channel_id, shown.ts or self.standin.next_ts())
        origin = OnScreen(channel_id, shown.ts, shown.author_id, shown.text, shown.blocks)
        self.messages[number] = origin
        where = self.workspace.conversation_label(channel_id, self.speech())
        style = "bold blue" if shown.author_id == BOT_USER_ID else "bold"
        author = self.workspace.user_label(shown.author_id)
        label = self.speech().gettext("message {number}").format(number=number)
        self.renderer.draw(
            f"{where}{self.dot}{author}{self.dot}{label}",
            blocks=shown.blocks,
            text=shown.text,
            origin=origin,
            note=self._via(shown.response_url),
            style=style,
        )
        return number

    def ephemeral(
        self,
        channel_id: str | None,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        you: str,
        viewer: str | None = None,
        via: str = "",
        response_url: str | None = None,
    ) -> None:
        """A message only one person sees (an answer, an ephemeral post, a reply)."""
        t = self.speech()
        if viewer in (None, "", you):
            visible = t.gettext("only visible to you")
        else:
            visible = t.gettext("only visible to {who}").format(
                who=self.workspace.user_label(viewer or "")
            )
        where = (
            self.workspace.conversation_label(channel_id, t) if channel_id else t.gettext("reply")
        )
        origin = OnScreen(channel_id, None, BOT_USER_ID, text, blocks, ephemeral=True)
        self.renderer.draw(
            f"{where}{self.dot}@missionbot{self.dot}{visible}{via}",
            blocks=blocks,
            text=text,
            origin=origin,
            style="bold cyan",
            note=self._via(response_url),
        )

    def number(self, channel_id: str, ts: str) -> int:
        key = (channel_id, ts)
        if key not in self._numbers:
            self._numbers[key] = len(self._numbers) + 1
        return self._numbers[key]

    def no_such(self, what: str, number: int, known: list[int]) -> None:
        """`what`: "button" or "message" (the console's own words: the workspace's language)."""
        t = self.console_speech()
        if what == "button":
            none = t.gettext("There is no button {number}: none on screen yet.")
            some = t.gettext("There is no button {number}; the buttons on screen are {numbers}.")
        else:
            none = t.gettext("There is no message {number}: none on screen yet.")
            some = t.gettext("There is no message {number}; the messages on screen are {numbers}.")
        if not known:
            self.renderer.line(none.format(number=number), style="yellow")
            return
        self.renderer.line(some.format(number=number, numbers=_ranges(known, t)), style="yellow")

    def _edit(self, shown: Shown) -> None:
        number = self._numbers.get((shown.channel_id or "", shown.ts or ""))
        where = self.workspace.conversation_label(shown.channel_id or "", self.speech())
        origin = self.messages.get(number or 0)
        if origin is not None:
            origin.text, origin.blocks = shown.text, shown.blocks
        edited = self.speech().gettext("message {number} edited").format(number=number)
        self.renderer.draw(
            f"{where}{self.dot}@missionbot{self.dot}{edited}",
            blocks=shown.blocks,
            text=shown.text,
            origin=origin,
        )

    def _home(self, shown: Shown) -> None:
        owner = self.workspace.user_label(shown.viewer_id or "")
        origin = OnScreen(None, None, BOT_USER_ID, "", shown.blocks, view=shown.view)
        home = self.speech().gettext("App Home of {owner}").format(owner=owner)
        self.renderer.draw(
            f"{home}{self.dot}missionbot",
            blocks=shown.blocks,
            origin=origin,
            style="bold magenta",
        )

    def _file(self, shown: Shown) -> None:
        """One line, as Slack's file card: title, type and size, and where it was saved."""
        where = self.workspace.conversation_label(shown.channel_id or "", self.speech())
        upload = shown.view or {}
        content = upload.get("content") or b""
        content = content if isinstance(content, bytes) else str(content).encode()
        filename = str(upload.get("filename") or shown.detail)
        t = self.speech()
        about = f"{files.kind(filename, content)}, {files.size(len(content), t)}"
        try:
            path = files.shown_path(files.save(self.files, filename, content))
            saved = t.gettext("saved to {path}").format(path=path)
        except OSError as exc:
            saved = t.gettext("not saved: {problem}").format(problem=files.problem(exc, t))
        label = t.gettext("shared a file: {name} ({about}), {saved}").format(
            name=shown.detail, about=about, saved=saved
        )
        self.renderer.draw(f"{where}{self.dot}@missionbot{self.dot}{label}", text=shown.text)

    def _via(self, response_url: str | None) -> str:
        if not response_url:
            return ""
        said = self.speech().gettext("(sent through the response_url {url})")
        return said.format(url=response_url)


def _ranges(numbers: list[int], t: Speech) -> str:
    if len(numbers) <= 6:
        return ", ".join(str(n) for n in numbers)
    return t.gettext("{first} to {last}").format(first=numbers[0], last=numbers[-1])
