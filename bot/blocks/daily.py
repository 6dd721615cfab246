"""Messages for the principle of the day: the morning card and the schedule replies."""

from __future__ import annotations

import datetime as dt

from babel.dates import get_day_names
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import Message, as_dicts, clip, context, escape, header, section
from bot.blocks.ids import Action, BlockId
from bot.daily.schedule import WEEKDAYS, WORKING_DAYS
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


def _when(moment: dt.datetime, t: Speech) -> str:
    """'Thursday 3 December, 09:00 GMT' / 'Donnerstag, 3. Dezember, 09:00 MEZ'."""
    return f"{t.day_and_time(moment)} {moment.tzname()}"


def weekdays_phrase(weekdays: tuple[str, ...], t: Speech) -> str:
    """'every day', 'weekdays (Mon to Fri)', or the days, named in the reader's language."""
    if weekdays == WEEKDAYS:
        return t.gettext("every day")
    if weekdays == WORKING_DAYS:
        return t.gettext("weekdays (Mon to Fri)")
    names = get_day_names("abbreviated", locale=t.locale)
    return ", ".join(names[WEEKDAYS.index(day)] for day in weekdays if day in WEEKDAYS)


def schedule_line(schedule: ChannelSchedule, t: Speech = ENGLISH) -> str:
    return t.gettext("at *{time}* on {days}, {zone} time").format(
        time=schedule.post_time,
        days=weekdays_phrase(schedule.weekdays, t),
        zone=schedule.timezone,
    )


def subscribed(
    schedule: ChannelSchedule, next_post: dt.datetime | None, t: Speech = ENGLISH
) -> Message:
    """`/mission subscribe`'s answer, in the asker's language."""
    _ = t.gettext
    lines = [
        _(":white_check_mark: {channel} will get the principle of the day {schedule}.").format(
            channel=f"<#{schedule.channel_id}>", schedule=schedule_line(schedule, t)
        )
    ]
    if next_post is not None:
        lines.append(_("The next one: {when}.").format(when=_when(next_post, t)))
    lines.append(
        _("Change it with `/mission subscribe` again, stop it with `/mission unsubscribe`.")
    )
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))


def schedule_status(
    channel_id: str,
    schedule: ChannelSchedule | None,
    next_post: dt.datetime | None,
    t: Speech = ENGLISH,
) -> Message:
    """`/mission schedule`'s answer, in the asker's language."""
    _ = t.gettext
    channel = f"<#{channel_id}>"
    if schedule is None:
        text = _(
            "{channel} doesn't get the principle of the day. "
            "`/mission subscribe` starts it (09:00 on weekdays unless you say otherwise)."
        ).format(channel=channel)
    elif schedule.paused_reason:
        text = _(
            ":double_vertical_bar: The principle of the day in {channel} is paused: "
            "I couldn't post here (`{reason}`). Type `/invite @missionbot`, "
            "then `/mission subscribe` again to resume."
        ).format(channel=channel, reason=schedule.paused_reason)
    else:
        text = _("{channel} gets the principle of the day {schedule}.").format(
            channel=channel, schedule=schedule_line(schedule, t)
        )
        if next_post is not None:
            text += "\n" + _("The next one: {when}.").format(when=_when(next_post, t))
    return Message(text=text, blocks=as_dicts([section(text)]))


def unsubscribed(channel_id: str, existed: bool, t: Speech = ENGLISH) -> Message:
    _ = t.gettext
    if existed:
        text = _("Done: no more principle of the day in {channel}.")
    else:
        text = _("{channel} wasn't subscribed, so nothing changed.")
    text = text.format(channel=f"<#{channel_id}>")
    return Message(text=text, blocks=as_dicts([section(text)]))
