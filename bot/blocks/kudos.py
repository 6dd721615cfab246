"""Block Kit for kudos: the public message, the DM, confirmations, `/kudos me`, help, the modal.

Every piece of user text goes through `escape`, so `<!channel>` or `<https://evil|bank>` typed
into a message shows as text and pings or disguises nothing; the people named are rendered
by us as `<@U…>` mentions, which do render.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ConversationSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    SECTION_TEXT_LIMIT,
    Message,
    as_dicts,
    clip,
    context,
    escape,
    section,
)
from bot.blocks.ids import KudosBlock, KudosInput
from bot.blocks.ids import View as ViewId
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.kudos.checks import Correction, Verdict
from bot.kudos.grammar import MESSAGE_MAX_CHARS
from bot.kudos.service import (
    GivenKudos,
    KudosGroup,
    KudosSummary,
    PrincipleTally,
    WithdrawnKudos,
)
from bot.mission.service import UNCATEGORISED, Catalog, PrincipleInfo
from bot.text import without_bidi

OPTION_TEXT_LIMIT = 75
# Kudos one public message carries when a channel's announcements are combined (see above).
ANNOUNCED_TOGETHER = 10
FALLBACK_TEXT_LIMIT = 3000
# A static select holds at most 100 options; past that the menu is an external select whose
# options the bot serves as the giver types (bot/slack/listeners/kudos.py), 100 at a time.
SELECT_OPTION_LIMIT = 100
PRIVATE_METADATA_LIMIT = 3000


def mentions(user_ids: Sequence[str], t: Speech = ENGLISH) -> str:
    """'<@A>', '<@A> and <@B>', '<@A>, <@B> and <@C>' in the reader's language."""
    return t.list([f"<@{user_id}>" for user_id in user_ids])


def principle_tag(principle: PrincipleInfo) -> str:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"{emoji}*{escape(principle.title)}*"


def quoted(message: str) -> list[str]:
    """The message escaped and quoted, in section-sized pieces split at line breaks."""
    pieces: list[str] = []
    current = ""
    for raw in message.split("\n"):
        line = f"&gt; {escape(raw)}" if raw else "&gt;"
        while len(line) > SECTION_TEXT_LIMIT:
            cut = _safe_cut(line, SECTION_TEXT_LIMIT)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = "&gt; " + line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT_LIMIT:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _safe_cut(line: str, limit: int) -> int:
    """A cut point at or before `limit` that does not split an `&…;` entity."""
    amp = line.rfind("&", max(limit - 5, 0), limit)
    return amp if amp > 0 and ";" not in line[amp:limit] else limit


def kudos_announcement(groups: Sequence[KudosGroup], t: Speech = ENGLISH) -> Message:
    """The public message: one kudos, or several given in the same channel moments apart; in
    the workspace language (`t`), whoever gave them, and with the principles as the mission
    file gives them in that language (the caller puts the groups' principles into it).

    A withdrawn kudos keeps its place as one line saying so (undo edits the message in place).
    At most `ANNOUNCED_TOGETHER` kudos of at most four sections each, plus a footer: within a
    message's 50 blocks.
    """
    _ = t.gettext
    blocks: list[Block] = []
    texts: list[str] = []
    for group in groups:
        fields = {
            "giver": f"<@{group.giver_id}>",
            "receivers": mentions(group.receiver_ids, t),
            "principle": principle_tag(group.principle),
        }
        if group.withdrawn:
            line = _(
                ":leftwards_arrow_with_hook: {giver} withdrew a kudos to {receivers} "
                "for {principle}."
            ).format(**fields)
            blocks.append(context(line))
            texts.append(line)
            continue
        blocks.append(
            section(
                _(":sparkles: {giver} gave kudos to {receivers} for {principle}").format(**fields)
            )
        )
        blocks.extend(section(piece) for piece in quoted(group.message))
        texts.append(
            _("{giver} gave kudos to {receivers} for {principle}: {message}").format(
                giver=fields["giver"],
                receivers=fields["receivers"],
                principle=escape(group.principle.title),
                message=escape(group.message),
            )
        )
    standing = [g for g in groups if not g.withdrawn]
    if len(standing) == 1:
        blocks.append(
            context(
                _("`#{key}` · `/kudos` to recognise someone").format(key=standing[0].principle.key)
            )
        )
    elif standing:
        blocks.append(context(_("`/kudos` to recognise someone")))
    return Message(text=clip("\n".join(texts), FALLBACK_TEXT_LIMIT), blocks=as_dicts(blocks))


def announcement_not_made(
    group: KudosGroup, channel_id: str, reason: str, t: Speech = ENGLISH
) -> Message:
    """To the giver, when the public message couldn't be posted: the kudos stands all the same."""
    text = t.gettext(
        ":warning: Your kudos to {receivers} for {principle} is saved and counts, but I "
        "couldn't announce it in {channel} (`{reason}`). `/invite @missionbot` there lets me "
        "next time."
    ).format(
        receivers=mentions(group.receiver_ids, t),
        principle=principle_tag(group.principle),
        channel=f"<#{channel_id}>",
        reason=escape(reason),
    )
    return Message(text=text, blocks=as_dicts([section(text)]))


def kudos_dm(given: KudosGroup, t: Speech = ENGLISH, *, announced: bool) -> Message:
    """To a receiver, in their language (`t`, with `given.principle` put into it);
    `announced`: the kudos is announced where it was given (not given in a DM)."""
    _ = t.gettext
    fields = {"giver": f"<@{given.giver_id}>", "principle": principle_tag(given.principle)}
    if given.channel_id and announced:
        headline = _(":tada: {giver} gave you kudos in {channel} for {principle}").format(
            channel=f"<#{given.channel_id}>", **fields
        )
    else:
        headline = _(":tada: {giver} gave you kudos for {principle}").format(**fields)
    blocks: list[Block] = [section(headline)]
    blocks.extend(section(piece) for piece in quoted(given.message))
    text = _("{giver} gave you kudos for {principle}").format(
        giver=fields["giver"], principle=escape(given.principle.title)
    )
    return Message(text=text, blocks=as_dicts(blocks))


def allowance_line(remaining: int, limit: int, t: Speech = ENGLISH) -> str:
    return t.ngettext(
        "You have {remaining} of {limit} kudos left today.",
        "You have {remaining} of {limit} kudos left today.",
        remaining,
    ).format(remaining=t.number(remaining), limit=t.number(limit))


def kudos_confirmation(given: GivenKudos, t: Speech = ENGLISH) -> Message:
    """The giver's answer, in the acknowledgement itself: what was recorded and what is left;
    in the giver's language."""
    _ = t.gettext
    receivers = mentions(given.receiver_ids, t)
    if given.duplicate:
        lines = [
            _(
                ":white_check_mark: You already gave this kudos to {receivers} a moment ago; "
                "it counts once."
            ).format(receivers=receivers)
        ]
    else:
        lines = [
            _(
                ":white_check_mark: Kudos recorded for {receivers} — {principle}. "
                "Undo within 10 minutes with `/kudos undo`."
            ).format(receivers=receivers, principle=principle_tag(given.principle))
        ]
    privacy = _privacy_line(given, t)
    if privacy:
        lines.append(privacy)
    lines.append(allowance_line(given.remaining, given.limit, t))
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))


def _privacy_line(given: GivenKudos, t: Speech) -> str | None:
    """Tell the giver where their words will be read, when that is not the whole workspace."""
    _ = t.gettext
    if given.duplicate or given.audience.quotable_anywhere:
        return None
    receivers = mentions(given.receiver_ids, t)
    if not given.audience.announced:
        return _(
            ":lock: Given in a direct message, so it isn't announced anywhere: I've told "
            "{receivers} by DM, and your words are never quoted elsewhere."
        ).format(receivers=receivers)
    if not given.channel_id:
        return _(
            ":lock: No channel was chosen, so it isn't announced: I've told {receivers} by DM, "
            "and your words are never quoted elsewhere."
        ).format(receivers=receivers)
    return _(
        ":lock: This conversation isn't public, so your words stay here: the principle of the "
        "day, digests and reports elsewhere never quote them (they still count)."
    )


def undo_confirmation(
    withdrawn: WithdrawnKudos, failure: str | None = None, t: Speech = ENGLISH
) -> Message:
    _ = t.gettext
    lines = [
        _(
            ":leftwards_arrow_with_hook: Withdrawn: your kudos to {receivers} for {principle}. "
            "It no longer counts, and today's allowance is given back."
        ).format(
            receivers=mentions(withdrawn.receiver_ids, t),
            principle=principle_tag(withdrawn.principle),
        )
    ]
    if failure:
        lines.append(f":warning: {failure}")
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))


def _tally_lines(tallies: Sequence[PrincipleTally], t: Speech) -> str:
    return "\n".join(
        t.gettext("{principle} — {month} this month · {total} all time").format(
            principle=principle_tag(tally.principle),
            month=t.number(tally.this_month),
            total=t.number(tally.all_time),
        )
        for tally in tallies
    )


def kudos_summary(user_id: str, summary: KudosSummary, t: Speech = ENGLISH) -> Message:
    """`/kudos me`, in the asker's language."""
    _ = t.gettext
    blocks: list[Block] = [section(_("*Your kudos, {user}*").format(user=f"<@{user_id}>"))]
    for title, tallies in ((_("Received"), summary.received), (_("Given"), summary.given)):
        if tallies:
            month = sum(tally.this_month for tally in tallies)
            total = sum(tally.all_time for tally in tallies)
            heading = _("*{title}* — {month} this month, {total} all time").format(
                title=title, month=t.number(month), total=t.number(total)
            )
            blocks.append(section(f"{heading}\n{_tally_lines(tallies, t)}"))
        else:
            blocks.append(section(_("*{title}* — none yet").format(title=title)))
    blocks.append(context(allowance_line(summary.remaining_today, summary.limit, t)))
    received = sum(tally.all_time for tally in summary.received)
    given = sum(tally.all_time for tally in summary.given)
    text = _("Your kudos: {received} received, {given} given").format(
        received=t.number(received), given=t.number(given)
    )
    return Message(text=text, blocks=as_dicts(blocks))


KUDOS_HELP = N_(
    "*/kudos* recognises a colleague for living one of our principles.\n"
    "• `/kudos @ana #plain-words thanks for the clear delay notice` gives a kudos "
    "(several people, `#key`, `#3` or a title word like `#invoice`; any order)\n"
    "• `/kudos` on its own opens a form; so does the message menu's *Give kudos for this*"
)


def kudos_help(limit: int, subcommand_lines: Sequence[str], t: Speech = ENGLISH) -> Message:
    """The `/kudos` help: giving, then one line per subcommand (bot/slack/commands.py)."""
    end = t.ngettext(
        "Each person gets {limit} kudos to give a day; `/mission` lists the principles.",
        "Each person gets {limit} kudos to give a day; `/mission` lists the principles.",
        limit,
    ).format(limit=t.number(limit))
    text = "\n".join((t.gettext(KUDOS_HELP), *subcommand_lines, end))
    return Message(text=text, blocks=as_dicts([section(text)]))


# -- the modal ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModalPrefill:
    recipients: tuple[str, ...] = ()
    principle_key: str | None = None
    message: str = ""
    channel_id: str | None = None
    source: str = "modal"
    # The thread to announce in (the message a shortcut was used on).
    thread_ts: str | None = None


def _option(principle: PrincipleInfo) -> Option:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    label = f"{emoji}{principle.number}. {principle.title}"
    if len(label) > OPTION_TEXT_LIMIT:
        label = label[: OPTION_TEXT_LIMIT - 1] + "…"
    return Option(value=principle.key, text=label)


def principle_select(
    catalog: Catalog, selected: str | None, t: Speech = ENGLISH
) -> StaticSelectElement | ExternalDataSelectElement:
    """The principles grouped by category; a type-ahead menu when there are too many."""
    _ = t.gettext
    initial = next((_option(p) for p in catalog.principles if p.key == selected), None)
    if len(catalog.principles) > SELECT_OPTION_LIMIT:
        # The same action_id as the static menu: the submission reads `selected_option`
        # from either. min_query_length 0 lists the first principles as soon as it opens.
        return ExternalDataSelectElement(
            action_id=KudosInput.PRINCIPLE,
            placeholder=_("Type a principle's name, key or number"),
            initial_option=initial,
            min_query_length=0,
        )
    groups = [
        OptionGroup(
            label=(category or _(UNCATEGORISED))[:OPTION_TEXT_LIMIT],
            options=[_option(p) for p in principles],
        )
        for category, principles in catalog.by_category()
    ]
    return StaticSelectElement(
        action_id=KudosInput.PRINCIPLE,
        placeholder=_("Which principle did they live?"),
        option_groups=groups,
        initial_option=initial,
    )


def principle_options(catalog: Catalog, typed: str) -> list[dict[str, Any]]:
    """The options of the type-ahead menu for what the giver typed, at most 100."""
    return [_option(p).to_dict() for p in catalog.search(typed, SELECT_OPTION_LIMIT)]


def give_kudos_modal(
    catalog: Catalog, prefill: ModalPrefill, t: Speech = ENGLISH
) -> dict[str, Any]:
    """The kudos form, in the giver's language (`catalog` put into it too)."""
    _ = t.gettext
    fields = {"source": prefill.source, "channel": prefill.channel_id}
    if prefill.thread_ts:
        fields["thread_ts"] = prefill.thread_ts
    metadata = json.dumps(fields)
    share_in = ConversationSelectElement(
        action_id=KudosInput.SHARE_IN,
        placeholder=_("Where should everyone see it?"),
        initial_conversation=prefill.channel_id,
        default_to_current_conversation=True,
        response_url_enabled=True,
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=KudosBlock.RECIPIENTS,
            label=_("Who?"),
            element=UserMultiSelectElement(
                action_id=KudosInput.RECIPIENTS,
                placeholder=_("Choose one or more people"),
                initial_users=list(prefill.recipients) or None,
            ),
        ),
        InputBlock(
            block_id=KudosBlock.PRINCIPLE,
            label=_("For which principle?"),
            element=principle_select(catalog, prefill.principle_key, t),
        ),
        InputBlock(
            block_id=KudosBlock.MESSAGE,
            label=_("What did they do?"),
            element=PlainTextInputElement(
                action_id=KudosInput.MESSAGE,
                multiline=True,
                max_length=MESSAGE_MAX_CHARS,
                initial_value=without_bidi(prefill.message)[:MESSAGE_MAX_CHARS] or None,
                placeholder=_("Be specific: what did they do, and why did it matter?"),
            ),
        ),
        InputBlock(block_id=KudosBlock.SHARE_IN, label=_("Share in"), element=share_in),
    ]
    return View(
        type="modal",
        callback_id=ViewId.GIVE_KUDOS,
        # Slack allows 24 characters for each of these three.
        title=_("Give kudos")[:24],
        submit=_("Give kudos")[:24],
        close=_("Cancel")[:24],
        private_metadata=metadata[:PRIVATE_METADATA_LIMIT],
        blocks=blocks,
    ).to_dict()


_WHY = {
    Verdict.BOT: N_(
        ":information_source: Your kudos for {principle} named {person}, who is a bot, and "
        "kudos are for people; Slack couldn't tell me so when you gave it. It no longer counts "
        "for them, and your allowance for it is given back."
    ),
    Verdict.DEACTIVATED: N_(
        ":information_source: Your kudos for {principle} named {person}, who is no longer "
        "active in this workspace; Slack couldn't tell me so when you gave it. It no longer "
        "counts for them, and your allowance for it is given back."
    ),
    Verdict.NOT_IN_WORKSPACE: N_(
        ":information_source: Your kudos for {principle} named {person}, who isn't a member of "
        "this workspace; Slack couldn't tell me so when you gave it. It no longer counts for "
        "them, and your allowance for it is given back."
    ),
}
NOT_EDITABLE = N_(
    "The public message in {channel} was posted through the command's reply, which I "
    "can't edit: you may want to delete it yourself."
)


def not_editable(channel_id: str, t: Speech = ENGLISH) -> str:
    """Why an announcement stays as it was: posted through response_url, which can't edit."""
    return t.gettext(NOT_EDITABLE).format(channel=f"<#{channel_id}>")


def kudos_corrected(
    correction: Correction, unedited: str | None = None, t: Speech = ENGLISH
) -> Message:
    """To the giver, in their language, when a kudos recorded before Slack could describe a
    receiver is withdrawn for them: who, why, and that the allowance is given back;
    `unedited`: the channel whose announcement couldn't be edited."""
    withdrawn = correction.withdrawn.in_language(t.language)
    lines = [
        t.gettext(_WHY[correction.verdict]).format(
            principle=principle_tag(withdrawn.principle), person=f"<@{correction.user_id}>"
        )
    ]
    if unedited:
        lines.append(f":warning: {not_editable(unedited, t)}")
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))
