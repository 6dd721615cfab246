"""Block Kit drawn in a terminal, with `rich`: what Slack would show, readably.

Headers in bold, sections as wrapped text, context lines dimmed, dividers as rules, images
by their alt text, and every button with its number (`click N` presses it; numbers keep
counting up through the session, so an old message's button still works, as in Slack).
Slack's mrkdwn is read as Slack reads it: `<@U…>` is @name, `<#C…>` #channel, `<url|label>`
the label and its address, `*bold*`, `_italic_`, `~strike~`, `` `code` ``, and `&gt;` lines
as quotes; `&lt;`, `&gt;` and `&amp;` are shown as the characters they stand for.

`rich` decides from the output whether to colour: a terminal gets styles, a pipe or file gets
plain text with the same words (that is what scripts and the README transcript read). Lines
are wrapped to the terminal's width (80 columns when it is not a terminal). Where the output
can't encode Unicode, the rules and quote bars fall back to ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.emoji import Emoji
from rich.text import Text

from bot.console.workspace import Workspace
from bot.i18n import ENGLISH, Speech

_LINK = re.compile(r"<(https?://[^|>]+|mailto:[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_STYLED = re.compile(
    r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"
    r"|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"
    r"|(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"
    r"|`([^`\n]+)`"
)
_STYLES = ("bold", "italic", "strike", "cyan")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")
# Stands in for "_" inside :emoji_codes: while styles are read, so `_:speech_balloon: 1_`
# is one italic run, as in Slack.
_HIDDEN_UNDERSCORE = "\x00"


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True, slots=True)
class Button:
    """A button on screen: its number, the element Slack would report, and where it is."""

    number: int
    action: dict[str, Any]
    origin: Any  # the session's record of the message or view it belongs to


class Renderer:
    """Draws messages and views on a `rich` console and numbers their buttons."""

    def __init__(self, console: Console, workspace: Workspace) -> None:
        self.console = console
        self.workspace = workspace
        self.buttons: dict[int, Button] = {}
        self._next_button = 1
        # Whose words its placeholders ([image: …]) are in: those of whom the console acts as
        # (the session sets it).
        self.speech: Callable[[], Speech] = lambda: ENGLISH

    @property
    def unicode(self) -> bool:
        return self.console.encoding.lower().replace("-", "").startswith("utf")

    def glyph(self, fancy: str, plain: str) -> str:
        return fancy if self.unicode else plain

    # -- whole items -------------------------------------------------------------------------
    def draw(
        self,
        title: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        text: str = "",
        origin: Any = None,
        style: str = "bold blue",
        note: str = "",
    ) -> None:
        """A titled item: its blocks (or its fallback text when it has none), indented."""
        body = self.blocks(blocks or [], origin) if blocks else [self.mrkdwn(text)]
        self.indented(Text(title, style=style), indent=0)
        if note:
            self.indented(Text(note, style="dim"))
        for piece in body:
            self.indented(piece)

    def indented(self, piece: Text, indent: int = 2) -> None:
        """Text wrapped to the width left after the indent, each line indented."""
        for line in piece.wrap(self.console, max(self.console.width - indent, 20)):
            line.rstrip()
            self.console.print(Text(" " * indent) + line if indent else line, soft_wrap=True)

    def line(self, text: str, style: str = "") -> None:
        """One line of the console's own (not the bot's): plain words, wrapped."""
        self.indented(Text(text, style=style), indent=0)

    # -- blocks ------------------------------------------------------------------------------
    def blocks(self, blocks: Iterable[dict[str, Any]], origin: Any) -> list[Text]:
        drawn: list[Text] = []
        for block in blocks:
            drawn.extend(self.block(block, origin))
        return drawn

    def block(self, block: dict[str, Any], origin: Any) -> list[Text]:
        kind = block.get("type")
        if kind == "header":
            return [Text(_plain(block.get("text")), style="bold underline")]
        if kind == "divider":
            rule = self.glyph("─", "-") * min(self.console.width - 2, 60)
            return [Text(rule, style="dim")]
        if kind == "context":
            parts = [self._element_text(e) for e in block.get("elements") or []]
            joined = Text(" · " if self.unicode else " - ", style="dim").join(parts)
            joined.stylize("dim")
            return [joined]
        if kind == "image":
            return [
                Text(
                    self.speech()
                    .gettext("[image: {text}]")
                    .format(text=block.get("alt_text") or block.get("title") or ""),
                    style="dim",
                )
            ]
        if kind == "actions":
            return [self._elements(block.get("elements") or [], block, origin)]
        if kind == "section":
            drawn: list[Text] = []
            if block.get("text"):
                drawn.append(self._element_text(block["text"]))
            for field in block.get("fields") or []:
                drawn.append(self._element_text(field))
            accessory = block.get("accessory")
            if accessory:
                drawn.append(self._elements([accessory], block, origin))
            return drawn
        if kind == "rich_text":
            return [Text(_rich_text(block))]
        if kind == "input":
            field = self.speech().gettext("{label}: (a form field)")
            return [Text(field.format(label=_plain(block.get("label"))), style="dim")]
        return [Text(self.speech().gettext("[{kind} block]").format(kind=kind), style="dim")]

    def _elements(self, elements: list[dict[str, Any]], block: dict[str, Any], origin: Any) -> Text:
        line = Text()
        for element in elements:
            if line:
                line.append("  ")
            if element.get("type") == "button":
                number = self.add_button(element, block, origin)
                style = {"primary": "bold green", "danger": "bold red"}.get(
                    str(element.get("style")), "bold"
                )
                line.append(f"[{number}: {_plain(element.get('text'))}]", style=style)
            elif element.get("type") == "image":
                image = self.speech().gettext("[image: {text}]")
                line.append(image.format(text=element.get("alt_text", "")), style="dim")
            else:
                label = _plain(element.get("placeholder")) or str(element.get("type"))
                line.append(self.speech().gettext("[menu: {text}]").format(text=label), style="dim")
        return line

    def add_button(self, element: dict[str, Any], block: dict[str, Any], origin: Any) -> int:
        number = self._next_button
        self._next_button += 1
        action = {
            "type": "button",
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id") or "",
            "text": element.get("text"),
            "value": element.get("value"),
        }
        if element.get("url"):
            action["url"] = element["url"]
        self.buttons[number] = Button(
            number, {k: v for k, v in action.items() if v is not None}, origin
        )
        return number

    def _element_text(self, element: dict[str, Any] | str | None) -> Text:
        if isinstance(element, str):
            return self.mrkdwn(element)
        if not element:
            return Text()
        if element.get("type") == "mrkdwn":
            return self.mrkdwn(str(element.get("text", "")))
        if element.get("type") == "image":
            image = self.speech().gettext("[image: {text}]")
            return Text(image.format(text=element.get("alt_text", "")))
        return Text(str(element.get("text", "")))

    # -- mrkdwn ------------------------------------------------------------------------------
    def mrkdwn(self, source: str) -> Text:
        """Slack's mrkdwn as styled text (see the module docstring for what it reads)."""
        text = self.workspace.readable(source)
        text = _SPECIAL.sub(lambda m: f"@{m[1]}", text)
        text = _SUBTEAM.sub(lambda m: m[1] or "@group", text)
        text = _DATE.sub(lambda m: m[1], text)
        text = _LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] and m[2] != m[1] else m[1], text)
        text = _EMOJI_CODE.sub(lambda m: m[0].replace("_", _HIDDEN_UNDERSCORE), text)
        out = Text()
        bar = self.glyph("│ ", "| ")
        for index, raw in enumerate(text.split("\n")):
            if index:
                out.append("\n")
            line = raw
            quote = "&gt;" if line.startswith("&gt;") else ">" if line.startswith(">") else ""
            if quote:
                out.append(bar, style="dim")
                line = line[len(quote) :].removeprefix(" ")
                self._styled(out, line, extra="italic")
            else:
                self._styled(out, line)
        return out

    def _styled(self, out: Text, line: str, extra: str = "") -> None:
        position = 0
        for match in _STYLED.finditer(line):
            out.append(self._words(line[position : match.start()]), style=extra)
            group = next(i for i in range(1, 5) if match[i] is not None)
            out.append(self._words(match[group]), style=f"{_STYLES[group - 1]} {extra}".strip())
            position = match.end()
        out.append(self._words(line[position:]), style=extra)

    def plain(self, text: str) -> Text:
        """Plain text (no mrkdwn) with its emoji codes shown as `_words` shows them."""
        return Text(self._words(text))

    def _words(self, text: str) -> str:
        """Entities decoded; emoji codes as emoji on a Unicode terminal, else as typed."""
        text = unescape(text.replace(_HIDDEN_UNDERSCORE, "_"))
        if self.console.is_terminal and self.unicode:
            return Emoji.replace(text)
        return text


def _plain(text: Any) -> str:
    if isinstance(text, dict):
        return unescape(str(text.get("text", "")))
    return unescape(str(text or ""))


def _rich_text(block: dict[str, Any]) -> str:
    pieces: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                pieces.append(str(node.get("text", "")))
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(pieces)
