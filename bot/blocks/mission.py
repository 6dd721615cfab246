"""Messages for /mission: the overview, a category's principles, one principle, the help.

Every message stays within Slack's 50 blocks and 3000 characters a section, and no principle
is left out silently: a mission that fits is listed whole, grouped by category; a longer one
gets an overview of its categories, and `/mission <category> [page]` lists each, in pages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import (
    MESSAGE_BLOCK_LIMIT,
    Message,
    as_dicts,
    clip,
    context,
    divider,
    escape,
    header,
    packed_sections,
    section,
)
from bot.blocks.ids import Action
from bot.i18n.speech import ENGLISH, N_, Speech
from bot.kudos.groups import KudosGroup
from bot.mission.service import Catalog, PrincipleInfo
from bot.reports.lived import Lived

# Past this many principles a single list reads as a wall of text: the overview lists the
# categories instead, even when the whole list would fit in a message.
OVERVIEW_MAX_PRINCIPLES = 100
# Principles on one page of `/mission <category>`. A line is at most about 700 characters
# (a 100-character title whose every character is escaped), so 40 lines pack into at most
# 40 sections: within a message's 50 blocks whatever the titles.
CATEGORY_PAGE_SIZE = 40
DETAIL_HINT = N_("`/mission <number or key>` shows one principle in detail.")
# Three quotes of at most this many characters keep the detail short enough to read at once.
LIVED_QUOTE_LIMIT = 400
# The group of the principles without a category, as a reader sees it; typed, the English
# name (UNCATEGORISED) and the reader's both work.
MORE_PRINCIPLES = N_("More principles")


def principle_line(principle: PrincipleInfo) -> str:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"`{principle.number}.` {emoji}*{escape(principle.title)}*  `#{principle.key}`"


def mission_title(catalog: Catalog, t: Speech = ENGLISH) -> str:
    _ = t.gettext
    if catalog.company:
        return _("{company}: our mission").format(company=catalog.company)
    return _("Our mission")


def category_name(category: str | None, t: Speech) -> str:
    return category or t.gettext(MORE_PRINCIPLES)


def _head(catalog: Catalog, t: Speech) -> list[Block]:
    return [header(mission_title(catalog, t)), section(escape(catalog.statement)), divider()]


def _grouped(catalog: Catalog, t: Speech) -> list[Block]:
    """Every principle, numbered with its key, under its category's name."""
    blocks: list[Block] = []
    for category, principles in catalog.by_category():
        name = escape(category_name(category, t))
        blocks.extend(packed_sections([f"*{name}*", *map(principle_line, principles)]))
    return blocks


def _count(t: Speech, count: int) -> str:
    return t.ngettext("{count} principle", "{count} principles", count).format(
        count=t.number(count)
    )


def _categories(catalog: Catalog, room: int, t: Speech) -> list[Block]:
    """One line per category with its size and the command that lists it; at most `room`
    blocks, the last saying how many categories did not fit (none can, within the limits
    `mission check` enforces)."""
    groups = catalog.by_category()
    lines = [
        f"*{escape(name)}* — {_count(t, len(principles))} · `/mission {escape(name)}`"
        for name, principles in ((category_name(c, t), ps) for c, ps in groups)
    ]
    blocks: list[Block] = [*packed_sections(lines)]
    if len(blocks) <= room:
        return blocks
    kept = len(lines)
    while kept and len(packed_sections(lines[:kept])) > room - 1:
        kept -= 1
    more = len(lines) - kept
    return [
        *packed_sections(lines[:kept]),
        context(
            t.ngettext("…and {count} more category.", "…and {count} more categories.", more).format(
                count=t.number(more)
            )
        ),
    ]


def mission_overview(catalog: Catalog, t: Speech = ENGLISH) -> Message:
    """The statement and every principle; or, when they don't fit, the categories."""
    _ = t.gettext
    head = _head(catalog, t)
    grouped = _grouped(catalog, t)
    fits = len(head) + len(grouped) + 1 <= MESSAGE_BLOCK_LIMIT
    if fits and len(catalog.principles) <= OVERVIEW_MAX_PRINCIPLES:
        blocks = [*head, *grouped, context(_(DETAIL_HINT))]
    else:
        count = len(catalog.by_category())
        sizes = t.ngettext(
            "{principles} in {count} category", "{principles} in {count} categories", count
        ).format(principles=_count(t, len(catalog.principles)), count=t.number(count))
        intro = section(f"*{sizes}*")
        room = MESSAGE_BLOCK_LIMIT - len(head) - 2
        hint = context(
            _("`/mission <category>` lists a category's principles. {detail}").format(
                detail=_(DETAIL_HINT)
            )
        )
        blocks = [*head, intro, *_categories(catalog, room, t), hint]
    return Message(
        text=f"{mission_title(catalog, t)}: {catalog.statement}", blocks=as_dicts(blocks)
    )


def category_page(
    name: str, principles: list[PrincipleInfo], page: int, t: Speech = ENGLISH
) -> Message:
    """One page of a category's principles, with the command for the next page."""
    _ = t.gettext
    pages = max(1, math.ceil(len(principles) / CATEGORY_PAGE_SIZE))
    command = f"/mission {escape(name)}"
    if not 1 <= page <= pages:
        if pages > 1:
            text = _(
                "*{name}* has {pages} pages of principles: `{command}` shows the first, "
                "`{command} {pages}` the last."
            )
        else:
            text = _("*{name}* has 1 page of principles: `{command}` shows the first.")
        # `pages` is also typed back in `{command} {pages}`: the digits as the command reads them.
        return notice(text.format(name=escape(name), pages=pages, command=command))
    first = (page - 1) * CATEGORY_PAGE_SIZE
    shown = principles[first : first + CATEGORY_PAGE_SIZE]
    title = name
    if pages > 1:
        title = _("{name}: principles {first} to {last} of {count}").format(
            name=name,
            first=t.number(first + 1),
            last=t.number(first + len(shown)),
            count=t.number(len(principles)),
        )
    footer = [_count(t, len(principles))]
    if pages > 1:
        footer.append(
            _("page {page} of {pages}").format(page=t.number(page), pages=t.number(pages))
        )
    if page < pages:
        footer.append(_("next: `{command}`").format(command=f"{command} {page + 1}"))
    blocks: list[Block] = [header(title), *packed_sections(map(principle_line, shown))]
    blocks.append(context(" · ".join(footer) + f"\n{_(DETAIL_HINT)}"))
    return Message(text=f"{title}: {_count(t, len(shown))}", blocks=as_dicts(blocks))


def principle_detail(
    principle: PrincipleInfo, lived: Lived | None = None, t: Speech = ENGLISH
) -> Message:
    """One principle; with `lived`, how it was lived and a button to recognise someone for it."""
    _ = t.gettext
    emoji = f"{principle.emoji} " if principle.emoji else ""
    details = [f"`#{principle.key}`"]
    if principle.number is not None:
        details.insert(0, _("Principle {number}").format(number=principle.number))
    if principle.category:
        details.append(escape(principle.category))
    blocks: list[Block] = [
        section(f"{emoji}*{escape(principle.title)}*"),
        section(escape(principle.description or _("_No description yet._"))),
        context(" · ".join(details)),
    ]
    if lived is not None:
        blocks.extend(_lived_blocks(principle, lived, t))
    return Message(
        text=f"{principle.title}: {principle.description or ''}", blocks=as_dicts(blocks)
    )


def lived_quote(kudos: KudosGroup, t: Speech = ENGLISH) -> str:
    """A kudos as one quote: who to whom, then the words (every line quoted)."""
    receivers = ", ".join(f"<@{receiver}>" for receiver in kudos.receiver_ids)
    words = escape(clip(kudos.message, LIVED_QUOTE_LIMIT)).replace("\n", "\n>")
    who = t.gettext("{giver} to {receivers}, {date}").format(
        giver=f"<@{kudos.giver_id}>", receivers=receivers, date=t.short_day(kudos.created_at)
    )
    return f"{who}\n>{words}"


def give_button(principle: PrincipleInfo, t: Speech) -> ButtonElement:
    return ButtonElement(
        text=t.gettext("Give kudos for this"),
        action_id=Action.GIVE_KUDOS,
        value=principle.key,
        style="primary",
    )


def _lived_blocks(principle: PrincipleInfo, lived: Lived, t: Speech) -> list[Block]:
    _ = t.gettext
    button = give_button(principle, t)
    blocks: list[Block] = [divider()]
    heading = _("How we lived it")
    if lived.quiet:
        quiet = _(
            "Nobody has been recognised for this principle in the last 90 days. "
            "Seen someone live it? Be the first."
        )
        blocks.append(section(f"*{heading}*\n{quiet}"))
        return [*blocks, ActionsBlock(elements=[button])]
    change = lived.this_month - lived.last_month
    if change == 0:
        month = t.ngettext(
            "{count} kudos this month, the same as last month ({last})",
            "{count} kudos this month, the same as last month ({last})",
            lived.this_month,
        )
    elif change > 0:
        month = t.ngettext(
            "{count} kudos this month, {change} more than last month ({last})",
            "{count} kudos this month, {change} more than last month ({last})",
            lived.this_month,
        )
    else:
        month = t.ngettext(
            "{count} kudos this month, {change} fewer than last month ({last})",
            "{count} kudos this month, {change} fewer than last month ({last})",
            lived.this_month,
        )
    month = month.format(
        count=t.number(lived.this_month),
        change=t.number(abs(change)),
        last=t.number(lived.last_month),
    )
    people = t.ngettext(
        "in the last 90 days {givers} recognised {receivers}",
        "in the last 90 days {givers} recognised {receivers}",
        lived.givers,
    ).format(
        givers=t.ngettext("{count} person", "{count} people", lived.givers).format(
            count=t.number(lived.givers)
        ),
        receivers=t.ngettext("{count} person", "{count} people", lived.receivers).format(
            count=t.number(lived.receivers)
        ),
    )
    blocks.append(section(f"*{heading}*\n{month} · {people}"))
    blocks.extend(section(lived_quote(quote, t)) for quote in lived.quotes)
    if not lived.quotes:
        blocks.append(context(_("The recent kudos for it were given where you can't read them.")))
    return [*blocks, ActionsBlock(elements=[button])]


def notice(text: str) -> Message:
    """A one-section message for refusals, confirmations and errors."""
    return Message(text=text, blocks=as_dicts([section(text)]))


def notice_modal(
    message: Message, title: str = "missionbot", t: Speech = ENGLISH
) -> dict[str, Any]:
    """A modal that only says `message`: what a submitted form turns into when there is no
    input left to show an error under."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": t.gettext("Close")[:24]},
        "blocks": message.blocks,
    }


MISSION_HELP = N_(
    "*/mission* keeps our mission and principles at hand.\n"
    "• `/mission` shows the mission statement and every principle "
    "(when there are many, their categories)\n"
    "• `/mission 3` or `/mission ownership` shows one principle in detail\n"
    "• `/mission <category> [page]` lists the principles of a category; "
    "a principle's number, key or title comes first when a category has the same name"
)


def mission_help(subcommand_lines: Sequence[str], t: Speech = ENGLISH) -> Message:
    """The `/mission` help: showing the mission, then one line per subcommand."""
    text = "\n".join((t.gettext(MISSION_HELP), *subcommand_lines))
    return Message(text=text, blocks=as_dicts([section(text)]))
