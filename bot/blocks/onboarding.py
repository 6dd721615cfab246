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

DESCRIPTION_LIMIT = 1500


def drip_message(lesson: Lesson) -> Message:
    principle = lesson.principle
    emoji = f"{principle.emoji} " if principle.emoji else ""
    intro = (
        "Welcome! One of our principles a working day, until you have seen them all."
        if lesson.number == 1
        else f"Principle {lesson.number} of {lesson.total} of your first days here."
    )
    blocks: list[Block] = [
        context(intro),
        header(f"{principle.title}"),
        section(
            f"{emoji}{escape(clip(principle.description or principle.title, DESCRIPTION_LIMIT))}"
        ),
    ]
    if lesson.example is not None:
        blocks.append(section(":sparkles: *Lived here:* " + lived_quote(lesson.example)))
    if lesson.last:
        blocks.append(context("That's all of them. `/mission` shows them whenever you like."))
    stop = ButtonElement(text="Stop these messages", action_id=Action.STOP_ONBOARDING, value="stop")
    elements = (
        [give_kudos_button(principle)] if lesson.last else [give_kudos_button(principle), stop]
    )
    blocks.append(ActionsBlock(elements=elements))
    return Message(
        text=f"Our principles, {lesson.number} of {lesson.total}: {principle.title}",
        blocks=as_dicts(blocks),
    )


def drip_body(lesson: Lesson) -> tuple[str, Sequence[Mapping[str, Any]]]:
    """The DM as the outbox stores it."""
    message = drip_message(lesson)
    return message.text, message.blocks


def drip_stopped(stopped: bool) -> Message:
    text = (
        "Done: no more principles by DM. `/mission` shows them all whenever you like."
        if stopped
        else "These messages had already stopped. `/mission` shows every principle."
    )
    return Message(text=text, blocks=as_dicts([section(text)]))
