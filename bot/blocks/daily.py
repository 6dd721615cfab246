"""Messages for the principle of the day: the morning card and the schedule replies."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import Message, as_dicts, clip, context, escape, header, section
from bot.blocks.ids import Action, BlockId
from bot.daily.schedule import describe_weekdays
from bot.daily.subscriptions import ChannelSchedule
from bot.i18n.speech import ENGLISH, Speech
from bot.kudos.groups import KudosGroup
from bot.mission.service import PrincipleInfo

KUDOS_QUOTE_LIMIT = 400
FALLBACK_LIMIT = 300


def _principle_blocks(principle: PrincipleInfo, kudos: KudosGroup | None, t: Speech) -> list[Block]:
    _ = t.gettext
    emoji = f"{principle.emoji} " if principle.emoji else ""
    details = [f"`#{principle.key}`"]
    if principle.category:
        details.insert(0, f"*{escape(principle.category)}*")
    blocks: list[Block] = [
        header(_("Principle of the day: {title}").format(title=principle.title)),
        section(f"{emoji}{escape(principle.description or principle.title)}"),
        context(" · ".join(details)),
    ]
    if kudos is not None:
        receivers = ", ".join(f"<@{receiver}>" for receiver in kudos.receiver_ids)
        quote = escape(clip(kudos.message, KUDOS_QUOTE_LIMIT))
        lived = _(":sparkles: *Lived recently:* {giver} to {receivers}").format(
            giver=f"<@{kudos.giver_id}>", receivers=receivers
        )
        blocks.append(section(f"{lived}\n>{quote}"))
    return blocks


def _fallback(principle: PrincipleInfo, t: Speech) -> str:
    title = t.gettext("Principle of the day: {title}").format(title=principle.title)
    description = f": {principle.description}" if principle.description else ""
    return clip(f"{title}{description}", FALLBACK_LIMIT)


def give_kudos_button(principle: PrincipleInfo, t: Speech = ENGLISH) -> ButtonElement:
    return ButtonElement(
        text=t.gettext("Give kudos"), action_id=Action.GIVE_KUDOS, value=principle.key
    )


def daily_card(
    principle: PrincipleInfo,
    kudos: KudosGroup | None,
    *,
    shared_by: str | None = None,
    t: Speech = ENGLISH,
) -> Message:
    """The morning post: title, category, description, a kudos that lived it, and a button; in
    the workspace language (`t`, with the principle put into it)."""
    blocks = _principle_blocks(principle, kudos, t)
    if shared_by:
        blocks.append(
            context(
                t.gettext("Shared by {person} with `/mission today`").format(
                    person=f"<@{shared_by}>"
                )
            )
        )
    blocks.append(
        ActionsBlock(block_id=BlockId.DAILY_ACTIONS, elements=[give_kudos_button(principle, t)])
    )
    return Message(text=_fallback(principle, t), blocks=as_dicts(blocks))


def today_preview(
    principle: PrincipleInfo, kudos: KudosGroup | None, day: dt.date, t: Speech = ENGLISH
) -> Message:
    """`/mission today`, shown only to the asker (in their language), with a button that shares
    it in the channel (in the workspace's)."""
    blocks = _principle_blocks(principle, kudos, t)
    share = ButtonElement(
        text=t.gettext("Share in channel"),
        action_id=Action.SHARE_TODAY,
        value=day.isoformat(),
        style="primary",
    )
    blocks.append(
        ActionsBlock(
            block_id=BlockId.DAILY_ACTIONS, elements=[share, give_kudos_button(principle, t)]
        )
    )
    return Message(text=_fallback(principle, t), blocks=as_dicts(blocks))


def _when(moment: dt.datetime) -> str:
    return f"{moment:%A %-d %B, %H:%M} {moment.tzname()}"


def schedule_line(schedule: ChannelSchedule) -> str:
    return (
        f"at *{schedule.post_time}* on {describe_weekdays(schedule.weekdays)}, "
        f"{schedule.timezone} time"
    )


def subscribed(schedule: ChannelSchedule, next_post: dt.datetime | None) -> Message:
    text = (
        f":white_check_mark: <#{schedule.channel_id}> will get the principle of the day "
        f"{schedule_line(schedule)}."
    )
    if next_post is not None:
        text += f"\nThe next one: {_when(next_post)}."
    text += "\nChange it with `/mission subscribe` again, stop it with `/mission unsubscribe`."
    return Message(text=text, blocks=as_dicts([section(text)]))


def schedule_status(
    channel_id: str, schedule: ChannelSchedule | None, next_post: dt.datetime | None
) -> Message:
    if schedule is None:
        text = (
            f"<#{channel_id}> doesn't get the principle of the day. "
            "`/mission subscribe` starts it (09:00 on weekdays unless you say otherwise)."
        )
    elif schedule.paused_reason:
        text = (
            f":double_vertical_bar: The principle of the day in <#{channel_id}> is paused: "
            f"I couldn't post here (`{schedule.paused_reason}`). Type `/invite @missionbot`, "
            "then `/mission subscribe` again to resume."
        )
    else:
        text = f"<#{channel_id}> gets the principle of the day {schedule_line(schedule)}."
        if next_post is not None:
            text += f"\nThe next one: {_when(next_post)}."
    return Message(text=text, blocks=as_dicts([section(text)]))


def unsubscribed(channel_id: str, existed: bool) -> Message:
    text = (
        f"Done: no more principle of the day in <#{channel_id}>."
        if existed
        else f"<#{channel_id}> wasn't subscribed, so nothing changed."
    )
    return Message(text=text, blocks=as_dicts([section(text)]))
