"""The onboarding drip's DM: one principle, a public kudos that lived it, and a Stop button."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import Message, as_dicts, clip, context, escape, header, section
from bot.blocks.daily import give_kudos_button
from bot.blocks.ids import Action
from bot.blocks.mission import lived_quote
from bot.daily.drip import Lesson
from bot.i18n.speech import ENGLISH, Speech, speech

DESCRIPTION_LIMIT = 1500


def drip_message(lesson: Lesson) -> Message:
    """The newcomer's DM, in their language (`lesson.language`)."""
    t = speech(lesson.language)
    _ = t.gettext
    principle = lesson.principle
    emoji = f"{principle.emoji} " if principle.emoji else ""
    if lesson.number == 1:
        intro = _("Welcome! One of our principles a working day, until you have seen them all.")
    else:
        intro = _("Principle {number} of {total} of your first days here.").format(
            number=t.number(lesson.number), total=t.number(lesson.total)
        )
    blocks: list[Block] = [
        context(intro),
        header(f"{principle.title}"),
        section(
            f"{emoji}{escape(clip(principle.description or principle.title, DESCRIPTION_LIMIT))}"
        ),
    ]
    if lesson.example is not None:
        lived = _(":sparkles: *Lived here:*")
        blocks.append(section(f"{lived} {lived_quote(lesson.example, t)}"))
    if lesson.last:
        blocks.append(context(_("That's all of them. `/mission` shows them whenever you like.")))
    stop = ButtonElement(
        text=_("Stop these messages"), action_id=Action.STOP_ONBOARDING, value="stop"
    )
    give = give_kudos_button(principle, t)
    elements = [give] if lesson.last else [give, stop]
    blocks.append(ActionsBlock(elements=elements))
    return Message(
        text=_("Our principles, {number} of {total}: {title}").format(
            number=t.number(lesson.number), total=t.number(lesson.total), title=principle.title
        ),
        blocks=as_dicts(blocks),
    )


def drip_body(lesson: Lesson) -> tuple[str, Sequence[Mapping[str, Any]]]:
    """The DM as the outbox stores it."""
    message = drip_message(lesson)
    return message.text, message.blocks


def drip_stopped(stopped: bool, t: Speech = ENGLISH) -> Message:
    _ = t.gettext
    if stopped:
        text = _("Done: no more principles by DM. `/mission` shows them all whenever you like.")
    else:
        text = _("These messages had already stopped. `/mission` shows every principle.")
    return Message(text=text, blocks=as_dicts([section(text)]))
