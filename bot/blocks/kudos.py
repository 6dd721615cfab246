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


def mentions(user_ids: Sequence[str]) -> str:
    names = [f"<@{user_id}>" for user_id in user_ids]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


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


def kudos_announcement(groups: Sequence[KudosGroup]) -> Message:
    """The public message: one kudos, or several given in the same channel moments apart.

    A withdrawn kudos keeps its place as one line saying so (undo edits the message in place).
    At most `ANNOUNCED_TOGETHER` kudos of at most four sections each, plus a footer: within a
    message's 50 blocks.
    """
    blocks: list[Block] = []
    texts: list[str] = []
    for group in groups:
        if group.withdrawn:
            line = (
                f":leftwards_arrow_with_hook: <@{group.giver_id}> withdrew a kudos to "
                f"{mentions(group.receiver_ids)} for {principle_tag(group.principle)}."
            )
            blocks.append(context(line))
            texts.append(line)
            continue
        blocks.append(
            section(
                f":sparkles: <@{group.giver_id}> gave kudos to {mentions(group.receiver_ids)} "
                f"for {principle_tag(group.principle)}"
            )
        )
        blocks.extend(section(piece) for piece in quoted(group.message))
        texts.append(
            f"<@{group.giver_id}> gave kudos to {mentions(group.receiver_ids)} for "
            f"{escape(group.principle.title)}: {escape(group.message)}"
        )
    standing = [g for g in groups if not g.withdrawn]
    if len(standing) == 1:
        blocks.append(context(f"`#{standing[0].principle.key}` · `/kudos` to recognise someone"))
    elif standing:
        blocks.append(context("`/kudos` to recognise someone"))
    return Message(text=clip("\n".join(texts), FALLBACK_TEXT_LIMIT), blocks=as_dicts(blocks))


def announcement_not_made(group: KudosGroup, channel_id: str, reason: str) -> Message:
    """To the giver, when the public message couldn't be posted: the kudos stands all the same."""
    text = (
        f":warning: Your kudos to {mentions(group.receiver_ids)} for "
        f"{principle_tag(group.principle)} is saved and counts, but I couldn't announce it in "
        f"<#{channel_id}> (`{escape(reason)}`). `/invite @missionbot` there lets me next time."
    )
    return Message(text=text, blocks=as_dicts([section(text)]))


def kudos_dm(given: GivenKudos) -> Message:
    where = f" in <#{given.channel_id}>" if given.channel_id and given.audience.announced else ""
    headline = (
        f":tada: <@{given.giver_id}> gave you kudos{where} for {principle_tag(given.principle)}"
    )
    blocks: list[Block] = [section(headline)]
    blocks.extend(section(piece) for piece in quoted(given.message))
    text = f"<@{given.giver_id}> gave you kudos for {escape(given.principle.title)}"
    return Message(text=text, blocks=as_dicts(blocks))


def allowance_line(remaining: int, limit: int) -> str:
    return f"You have {remaining} of {limit} kudos left today."


def kudos_confirmation(given: GivenKudos) -> Message:
    """The giver's answer, in the acknowledgement itself: what was recorded and what is left."""
    if given.duplicate:
        lines = [
            f":white_check_mark: You already gave this kudos to {mentions(given.receiver_ids)} "
            "a moment ago; it counts once."
        ]
    else:
        lines = [
            f":white_check_mark: Kudos recorded for {mentions(given.receiver_ids)} — "
            f"{principle_tag(given.principle)}. Undo within 10 minutes with `/kudos undo`."
        ]
    privacy = _privacy_line(given)
    if privacy:
        lines.append(privacy)
    lines.append(allowance_line(given.remaining, given.limit))
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))


def _privacy_line(given: GivenKudos) -> str | None:
    """Tell the giver where their words will be read, when that is not the whole workspace."""
    if given.duplicate or given.audience.quotable_anywhere:
        return None
    if not given.audience.announced:
        return (
            ":lock: Given in a direct message, so it isn't announced anywhere: I've told "
            f"{mentions(given.receiver_ids)} by DM, and your words are never quoted elsewhere."
        )
    if not given.channel_id:
        return (
            ":lock: No channel was chosen, so it isn't announced: I've told "
            f"{mentions(given.receiver_ids)} by DM, and your words are never quoted elsewhere."
        )
    return (
        ":lock: This conversation isn't public, so your words stay here: the principle of the "
        "day, digests and reports elsewhere never quote them (they still count)."
    )


def undo_confirmation(withdrawn: WithdrawnKudos, failure: str | None = None) -> Message:
    lines = [
        f":leftwards_arrow_with_hook: Withdrawn: your kudos to "
        f"{mentions(withdrawn.receiver_ids)} for {principle_tag(withdrawn.principle)}. "
        "It no longer counts, and today's allowance is given back."
    ]
    if failure:
        lines.append(f":warning: {failure}")
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))


def _tally_lines(tallies: Sequence[PrincipleTally]) -> str:
    return "\n".join(
        f"{principle_tag(t.principle)} — {t.this_month} this month · {t.all_time} all time"
        for t in tallies
    )


def kudos_summary(user_id: str, summary: KudosSummary) -> Message:
    blocks: list[Block] = [section(f"*Your kudos, <@{user_id}>*")]
    for title, tallies in (("Received", summary.received), ("Given", summary.given)):
        if tallies:
            month = sum(t.this_month for t in tallies)
            total = sum(t.all_time for t in tallies)
            body = _tally_lines(tallies)
            blocks.append(section(f"*{title}* — {month} this month, {total} all time\n{body}"))
        else:
            blocks.append(section(f"*{title}* — none yet"))
    blocks.append(context(allowance_line(summary.remaining_today, summary.limit)))
    received = sum(t.all_time for t in summary.received)
    given = sum(t.all_time for t in summary.given)
    return Message(text=f"Your kudos: {received} received, {given} given", blocks=as_dicts(blocks))


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
    ).format(limit=limit)
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
    catalog: Catalog, selected: str | None
) -> StaticSelectElement | ExternalDataSelectElement:
    """The principles grouped by category; a type-ahead menu when there are too many."""
    initial = next((_option(p) for p in catalog.principles if p.key == selected), None)
    if len(catalog.principles) > SELECT_OPTION_LIMIT:
        # The same action_id as the static menu: the submission reads `selected_option`
        # from either. min_query_length 0 lists the first principles as soon as it opens.
        return ExternalDataSelectElement(
            action_id=KudosInput.PRINCIPLE,
            placeholder="Type a principle's name, key or number",
            initial_option=initial,
            min_query_length=0,
        )
    groups = [
        OptionGroup(
            label=(category or UNCATEGORISED)[:OPTION_TEXT_LIMIT],
            options=[_option(p) for p in principles],
        )
        for category, principles in catalog.by_category()
    ]
    return StaticSelectElement(
        action_id=KudosInput.PRINCIPLE,
        placeholder="Which principle did they live?",
        option_groups=groups,
        initial_option=initial,
    )


def principle_options(catalog: Catalog, typed: str) -> list[dict[str, Any]]:
    """The options of the type-ahead menu for what the giver typed, at most 100."""
    return [_option(p).to_dict() for p in catalog.search(typed, SELECT_OPTION_LIMIT)]


def give_kudos_modal(catalog: Catalog, prefill: ModalPrefill) -> dict[str, Any]:
    fields = {"source": prefill.source, "channel": prefill.channel_id}
    if prefill.thread_ts:
        fields["thread_ts"] = prefill.thread_ts
    metadata = json.dumps(fields)
    share_in = ConversationSelectElement(
        action_id=KudosInput.SHARE_IN,
        placeholder="Where should everyone see it?",
        initial_conversation=prefill.channel_id,
        default_to_current_conversation=True,
        response_url_enabled=True,
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=KudosBlock.RECIPIENTS,
            label="Who?",
            element=UserMultiSelectElement(
                action_id=KudosInput.RECIPIENTS,
                placeholder="Choose one or more people",
                initial_users=list(prefill.recipients) or None,
            ),
        ),
        InputBlock(
            block_id=KudosBlock.PRINCIPLE,
            label="For which principle?",
            element=principle_select(catalog, prefill.principle_key),
        ),
        InputBlock(
            block_id=KudosBlock.MESSAGE,
            label="What did they do?",
            element=PlainTextInputElement(
                action_id=KudosInput.MESSAGE,
                multiline=True,
                max_length=MESSAGE_MAX_CHARS,
                initial_value=without_bidi(prefill.message)[:MESSAGE_MAX_CHARS] or None,
                placeholder="Be specific: what did they do, and why did it matter?",
            ),
        ),
        InputBlock(block_id=KudosBlock.SHARE_IN, label="Share in", element=share_in),
    ]
    return View(
        type="modal",
        callback_id=ViewId.GIVE_KUDOS,
        title="Give kudos",
        submit="Give kudos",
        close="Cancel",
        private_metadata=metadata[:PRIVATE_METADATA_LIMIT],
        blocks=blocks,
    ).to_dict()


_WHY = {
    Verdict.BOT: "is a bot, and kudos are for people",
    Verdict.DEACTIVATED: "is no longer active in this workspace",
    Verdict.NOT_IN_WORKSPACE: "isn't a member of this workspace",
}


def kudos_corrected(correction: Correction, failure: str | None = None) -> Message:
    """To the giver, when a kudos recorded before Slack could describe a receiver is withdrawn
    for them: who, why, and that the allowance is given back."""
    withdrawn = correction.withdrawn
    rest = (
        "It no longer counts for them"
        if not withdrawn.withdrawn
        else "It has been withdrawn and no longer counts"
    )
    lines = [
        f":information_source: Your kudos for {principle_tag(withdrawn.principle)} named "
        f"<@{correction.user_id}>, who {_WHY[correction.verdict]}: Slack couldn't tell me when "
        f"you gave it. {rest}, and your allowance for it is given back."
    ]
    if failure:
        lines.append(f":warning: {failure}")
    text = "\n".join(lines)
    return Message(text=text, blocks=as_dicts([section(text)]))
