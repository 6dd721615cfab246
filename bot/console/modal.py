"""A modal, asked for field by field, then submitted as Slack submits it (`view_submission`).

Each input block is one question: people by `@name`, a menu by the number of its choice (a
type-ahead menu first asks what to search for, and the bot's options listener answers, as it
would in Slack), a channel by `#name`, text as typed. Enter keeps what the form was opened
with. `cancel` (or Ctrl-D / Ctrl-C) at any question closes the form and sends nothing, as
closing a modal in Slack does. When the bot answers a submission with field errors, those
fields are shown with their errors and asked again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.console.render import Renderer, unescape
from bot.console.slackside import Ack, SlackSide
from bot.console.typed import whole_number
from bot.console.workspace import UnknownName, Workspace
from bot.i18n import ENGLISH, Speech
from bot.text import clipped

Ask = Callable[[str], "str | None"]
CANCEL_WORDS = {"cancel", "/cancel"}
# Not submitted twice over: a form that keeps failing after this many rounds is closed.
MAX_ROUNDS = 5
# Slack's longest plain_text_input, for a field that names no max_length of its own.
PLAIN_TEXT_LIMIT = 3000


class Abandoned(Exception):
    """The person left the form; nothing is sent."""


@dataclass
class FormResult:
    submitted: bool
    ack: Ack | None = None


class ModalForm:
    """One open modal and the person filling it in."""

    def __init__(
        self,
        view: dict[str, Any],
        *,
        user_id: str,
        channel_id: str | None,
        slack: SlackSide,
        renderer: Renderer,
        ask: Ask,
        t: Speech = ENGLISH,
    ) -> None:
        self.view = view
        # The language of whom the console acts as: the form is their view.
        self.t = t
        self.user_id = user_id
        self.channel_id = channel_id
        self.slack = slack
        self.renderer = renderer
        self.workspace: Workspace = slack.workspace
        self.ask_line = ask
        self.values: dict[str, dict[str, Any]] = {}

    def fill_and_submit(self) -> FormResult:
        _ = self.t.gettext
        title = _plain(self.view.get("title")) or _("Form")
        said = _("[form] {title}  (Enter keeps what is shown; `cancel` closes it)")
        self.renderer.line(said.format(title=title), style="bold magenta")
        inputs = [b for b in self.view.get("blocks") or [] if b.get("type") == "input"]
        for block in self.view.get("blocks") or []:
            if block.get("type") not in {"input", "actions"}:
                for drawn in self.renderer.block(block, None):
                    self.renderer.indented(drawn)
        try:
            for block in inputs:
                self._ask_block(block, error=None)
            for _round in range(MAX_ROUNDS):
                ack = self.slack.view_submission(
                    self.user_id, self.view, self.values, channel_id=self.channel_id
                )
                errors = _errors(ack)
                if not errors:
                    return FormResult(True, ack)
                for block in inputs:
                    if block.get("block_id") in errors:
                        self._ask_block(block, error=errors[block["block_id"]])
        except Abandoned:
            said = _("[form] {title} closed; nothing was sent.").format(title=title)
            self.renderer.line(said, style="yellow")
            return FormResult(False)
        said = _("[form] {title} closed after {count} tries.")
        self.renderer.line(said.format(title=title, count=MAX_ROUNDS), style="yellow")
        return FormResult(False)

    # -- one field ---------------------------------------------------------------------------
    def _ask_block(self, block: dict[str, Any], error: str | None) -> None:
        element = block.get("element") or {}
        label = _plain(block.get("label"))
        optional = bool(block.get("optional"))
        if error:
            self.renderer.line(f"  ! {label}: {error}", style="bold red")
        if block.get("hint"):
            self.renderer.line(f"  {_plain(block['hint'])}", style="dim")
        kind = element.get("type")
        ask = {
            "multi_users_select": self._people,
            "users_select": self._people,
            "static_select": self._static,
            "external_select": self._external,
            "conversations_select": self._conversation,
            "channels_select": self._conversation,
        }.get(str(kind), self._text)
        state = ask(block, element, label, optional)
        self.values[block["block_id"]] = {str(element.get("action_id")): {"type": kind, **state}}

    def _people(
        self, _block: dict[str, Any], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any]:
        single = element.get("type") == "users_select"
        current = self._current(element, "users_select" if single else "multi_users_select")
        shown = " ".join(self.workspace.user_label(u) for u in current)
        while True:
            answer = self._ask(
                self.t.gettext("{label} (@names)").format(label=label) + f"{_keep(shown)}: "
            )
            if not answer:
                if current or optional:
                    break
                self.renderer.line(
                    "  " + self.t.gettext("Please name someone, like @ben."), style="red"
                )
                continue
            try:
                current = [
                    self.workspace.person(name).id for name in answer.replace(",", " ").split()
                ]
            except UnknownName as exc:
                self.renderer.line(f"  {exc.said(self.t)}", style="red")
                continue
            break
        if single:
            return {"selected_user": current[0] if current else None}
        return {"selected_users": current}

    def _static(
        self, _block: dict[str, Any], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any]:
        options = _options(element)
        for number, option in enumerate(options, 1):
            self._option(number, option)
        return {"selected_option": self._choose(options, element, label, optional)}

    def _external(
        self, block: dict[str, Any], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any]:
        initial = element.get("initial_option")
        while True:
            keep = _keep(_plain(initial.get("text")) if initial else "")
            typed = self._ask(
                self.t.gettext("{label}: type to search").format(label=label) + f"{keep}: "
            )
            if not typed:
                if initial or optional:
                    return {"selected_option": initial}
                continue
            ack = self.slack.options(
                self.user_id, self.view, block["block_id"], element["action_id"], typed
            )
            options = _options(ack.json() or {})
            if not options:
                self.renderer.line(
                    "  "
                    + self.t.gettext("Nothing matches `{typed}`; try another word.").format(
                        typed=clipped(typed)
                    ),
                    style="red",
                )
                continue
            for number, option in enumerate(options, 1):
                self._option(number, option)
            return {"selected_option": self._choose(options, {}, label, optional)}

    def _choose(
        self, options: list[dict[str, Any]], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any] | None:
        initial = element.get("initial_option")
        while True:
            keep = _keep(_plain(initial.get("text")) if initial else "")
            numbers = self.t.gettext("{label} (1-{last})").format(
                label=label, last=self.t.number(len(options))
            )
            answer = self._ask(f"{numbers}{keep}: ")
            if not answer:
                if initial or optional:
                    return initial
                self.renderer.line(
                    "  " + self.t.gettext("Please choose one of the numbers."), style="red"
                )
                continue
            number = whole_number(answer)
            if number is not None and number <= len(options):
                return options[number - 1]
            matches = [o for o in options if answer.lower() in _plain(o.get("text")).lower()]
            if len(matches) == 1:
                return matches[0]
            said = self.t.gettext("Choose a number from 1 to {last}.").format(last=len(options))
            self.renderer.line(f"  {said}", style="red")

    def _conversation(
        self, _block: dict[str, Any], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any]:
        current = element.get("initial_conversation") or element.get("initial_channel")
        if not current and element.get("default_to_current_conversation"):
            current = self.channel_id
        while True:
            shown = self.workspace.conversation_label(current, self.t) if current else ""
            named = self.t.gettext("{label} (#channel)").format(label=label)
            answer = self._ask(f"{named}{_keep(shown)}: ")
            if not answer:
                break
            try:
                current = self.workspace.channel(answer).id
            except UnknownName as exc:
                self.renderer.line(f"  {exc.said(self.t)}", style="red")
                continue
            break
        return {"selected_conversation": current}

    def _text(
        self, _block: dict[str, Any], element: dict[str, Any], label: str, optional: bool
    ) -> dict[str, Any]:
        current = self._current(element, "plain_text_input")
        initial = current if isinstance(current, str) else element.get("initial_value") or ""
        if initial:
            self.renderer.indented(
                self.renderer.mrkdwn(self.t.gettext("now: {text}").format(text=initial))
            )
        while True:
            keeps = self.t.gettext("{label} (Enter keeps it)") if initial else "{label}"
            answer = self._ask(keeps.format(label=label) + ": ")
            limit = int(element.get("max_length") or PLAIN_TEXT_LIMIT)
            if len(answer) > limit:
                # Slack's text box stops taking characters at the field's limit.
                self.renderer.line(
                    "  "
                    + self.t.gettext(
                        "That's {count} characters; this field takes at most {limit}."
                    ).format(count=self.t.number(len(answer)), limit=self.t.number(limit)),
                    style="red",
                )
                continue
            value = answer or initial
            if value or optional:
                return {"value": value or None}
            self.renderer.line("  " + self.t.gettext("This one is needed."), style="red")

    # -- helpers -----------------------------------------------------------------------------
    def _option(self, number: int, option: dict[str, Any]) -> None:
        self.renderer.indented(self.renderer.plain(f"{number}. {_plain(option.get('text'))}"))

    def _current(self, element: dict[str, Any], kind: str) -> Any:
        """What the field holds: the last answer (asked again after an error), else initial."""
        for block_values in self.values.values():
            state = block_values.get(str(element.get("action_id")))
            if state is not None:
                return state.get("selected_users") or state.get("value") or []
        if kind == "users_select":
            return [element["initial_user"]] if element.get("initial_user") else []
        if kind == "plain_text_input":
            return element.get("initial_value") or ""
        return list(element.get("initial_users") or [])

    def _ask(self, prompt: str) -> str:
        while True:
            try:
                answer = self.ask_line("  " + prompt)
            except KeyboardInterrupt:
                self.renderer.console.print()
                raise Abandoned from None
            if answer is None or answer.strip().lower() in CANCEL_WORDS:
                raise Abandoned
            if not answer.strip().startswith("/"):
                return answer.strip()
            # As in Slack, nothing else can be typed while a modal is open.
            said = self.t.gettext("The form is still open: answer it, or type `cancel`.")
            self.renderer.line(f"  {said}", "yellow")


def _keep(shown: str) -> str:
    return f" [{shown}]" if shown else ""


def _plain(text: Any) -> str:
    return unescape(str(text.get("text", ""))) if isinstance(text, dict) else str(text or "")


def _options(holder: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(holder.get("options") or [])
    for group in holder.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _errors(ack: Ack) -> dict[str, str]:
    answer = ack.json() or {}
    if answer.get("response_action") != "errors":
        return {}
    errors = answer.get("errors") or {}
    return {str(k): str(v) for k, v in errors.items()}
