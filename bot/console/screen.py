"""What the console's screen shows of the workspace: each thing that appeared, labelled.

A channel post or DM is labelled with where it went, who posted it and its number (what
`shortcut N` and `react N` refer to); an ephemeral message or a reply through a response_url
says who alone can see it (and the response_url it came through); an edit names the message
it changed; the App Home names whose it is; a file is one line (bot/console/files.py).
Modals are not drawn here: `show` hands them back to the session, which asks for them field
by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.console import files
from bot.console.render import Renderer
from bot.console.standin import Shown, StandIn
from bot.console.workspace import BOT_ID, BOT_USER_ID, Workspace


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
        self, renderer: Renderer, workspace: Workspace, standin: StandIn, files: Path
    ) -> None:
        self.renderer = renderer
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
                via=f"{self.dot}replacing the one above" if shown.detail else "",
                response_url=shown.response_url,
            )
        elif shown.kind == "deleted":
            self.renderer.line(
                "(@missionbot removed its message that only you could see, "
                "through its response_url)",
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
            self.renderer.line(f"@missionbot reacted :{shown.detail}: to message {number}.")
        elif shown.kind == "unknown":
            self.renderer.line(
                f"(The stand-in doesn't know the Web API method "
                f"{shown.detail}; the bot got `unknown_method`.)",
                style="red",
            )
        return None

    def message(self, shown: Shown) -> int:
        """A message in a channel or DM, numbered; its number."""
        channel_id = shown.channel_id or ""
        number = self.number(channel_id, shown.ts or self.standin.next_ts())
        origin = OnScreen(channel_id, shown.ts, shown.author_id, shown.text, shown.blocks)
        self.messages[number] = origin
        where = self.workspace.conversation_label(channel_id)
        style = "bold blue" if shown.author_id == BOT_USER_ID else "bold"
        author = self.workspace.user_label(shown.author_id)
        self.renderer.draw(
            f"{where}{self.dot}{author}{self.dot}message {number}",
            blocks=shown.blocks,
            text=shown.text,
            origin=origin,
            note=_via(shown.response_url),
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
        who = "you" if viewer in (None, "", you) else self.workspace.user_label(viewer)
        where = self.workspace.conversation_label(channel_id) if channel_id else "reply"
        origin = OnScreen(channel_id, None, BOT_USER_ID, text, blocks, ephemeral=True)
        self.renderer.draw(
            f"{where}{self.dot}@missionbot{self.dot}only visible to {who}{via}",
            blocks=blocks,
            text=text,
            origin=origin,
            style="bold cyan",
            note=_via(response_url),
        )

    def number(self, channel_id: str, ts: str) -> int:
        key = (channel_id, ts)
        if key not in self._numbers:
            self._numbers[key] = len(self._numbers) + 1
        return self._numbers[key]

    def no_such(self, what: str, number: int, known: list[int]) -> None:
        if not known:
            self.renderer.line(f"There is no {what} {number}: none on screen yet.", style="yellow")
            return
        self.renderer.line(
            f"There is no {what} {number}; the {what}s on screen are {_ranges(known)}.",
            style="yellow",
        )

    def _edit(self, shown: Shown) -> None:
        number = self._numbers.get((shown.channel_id or "", shown.ts or ""))
        where = self.workspace.conversation_label(shown.channel_id or "")
        origin = self.messages.get(number or 0)
        if origin is not None:
            origin.text, origin.blocks = shown.text, shown.blocks
        self.renderer.draw(
            f"{where}{self.dot}@missionbot{self.dot}message {number} edited",
            blocks=shown.blocks,
            text=shown.text,
            origin=origin,
        )

    def _home(self, shown: Shown) -> None:
        owner = self.workspace.user_label(shown.viewer_id or "")
        origin = OnScreen(None, None, BOT_USER_ID, "", shown.blocks, view=shown.view)
        self.renderer.draw(
            f"App Home of {owner}{self.dot}missionbot",
            blocks=shown.blocks,
            origin=origin,
            style="bold magenta",
        )

    def _file(self, shown: Shown) -> None:
        """One line, as Slack's file card: title, type and size, and where it was saved."""
        where = self.workspace.conversation_label(shown.channel_id or "")
        upload = shown.view or {}
        content = upload.get("content") or b""
        content = content if isinstance(content, bytes) else str(content).encode()
        filename = str(upload.get("filename") or shown.detail)
        about = f"{files.kind(filename, content)}, {files.size(len(content))}"
        try:
            saved = f"saved to {files.shown_path(files.save(self.files, filename, content))}"
        except OSError as exc:
            saved = f"not saved: {files.problem(exc)}"
        label = f"shared a file: {shown.detail} ({about}), {saved}"
        self.renderer.draw(f"{where}{self.dot}@missionbot{self.dot}{label}", text=shown.text)


def _via(response_url: str | None) -> str:
    return f"(sent through the response_url {response_url})" if response_url else ""


def _ranges(numbers: list[int]) -> str:
    if len(numbers) <= 6:
        return ", ".join(str(n) for n in numbers)
    return f"{numbers[0]} to {numbers[-1]}"
