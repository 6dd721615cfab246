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
from bot.kudos.groups import KudosGroup
from bot.mission.service import UNCATEGORISED, Catalog, PrincipleInfo
from bot.reports.lived import Lived

# Past this many principles a single list reads as a wall of text: the overview lists the
# categories instead, even when the whole list would fit in a message.
OVERVIEW_MAX_PRINCIPLES = 100
# Principles on one page of `/mission <category>`. A line is at most about 700 characters
# (a 100-character title whose every character is escaped), so 40 lines pack into at most
# 40 sections: within a message's 50 blocks whatever the titles.
CATEGORY_PAGE_SIZE = 40
DETAIL_HINT = "`/mission <number or key>` shows one principle in detail."
# Three quotes of at most this many characters keep the detail short enough to read at once.
LIVED_QUOTE_LIMIT = 400


def principle_line(principle: PrincipleInfo) -> str:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"`{principle.number}.` {emoji}*{escape(principle.title)}*  `#{principle.key}`"


def mission_title(catalog: Catalog) -> str:
    return f"{catalog.company}: our mission" if catalog.company else "Our mission"


def _head(catalog: Catalog) -> list[Block]:
    return [header(mission_title(catalog)), section(escape(catalog.statement)), divider()]


def _grouped(catalog: Catalog) -> list[Block]:
    """Every principle, numbered with its key, under its category's name."""
    blocks: list[Block] = []
    for category, principles in catalog.by_category():
        lines = [f"*{escape(category or UNCATEGORISED)}*", *map(principle_line, principles)]
        blocks.extend(packed_sections(lines))
    return blocks


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def _categories(catalog: Catalog, room: int) -> list[Block]:
    """One line per category with its size and the command that lists it; at most `room`
    blocks, the last saying how many categories did not fit (none can, within the limits
    `mission check` enforces)."""
    groups = catalog.by_category()
    lines = [
        f"*{escape(name)}* — {_plural(len(principles), 'principle')} · `/mission {escape(name)}`"
        for name, principles in ((c or UNCATEGORISED, ps) for c, ps in groups)
    ]
    blocks: list[Block] = [*packed_sections(lines)]
    if len(blocks) <= room:
        return blocks
    kept = len(lines)
    while kept and len(packed_sections(lines[:kept])) > room - 1:
        kept -= 1
    return [*packed_sections(lines[:kept]), context(f"…and {len(lines) - kept} more categories.")]


def mission_overview(catalog: Catalog) -> Message:
    """The statement and every principle; or, when they don't fit, the categories."""
    head = _head(catalog)
    grouped = _grouped(catalog)
    fits = len(head) + len(grouped) + 1 <= MESSAGE_BLOCK_LIMIT
    if fits and len(catalog.principles) <= OVERVIEW_MAX_PRINCIPLES:
        blocks = [*head, *grouped, context(DETAIL_HINT)]
    else:
        count = len(catalog.by_category())
        intro = section(
            f"*{_plural(len(catalog.principles), 'principle')} in "
            f"{_plural(count, 'category', 'categories')}*"
        )
        room = MESSAGE_BLOCK_LIMIT - len(head) - 2
        hint = context(f"`/mission <category>` lists a category's principles. {DETAIL_HINT}")
        blocks = [*head, intro, *_categories(catalog, room), hint]
    return Message(text=f"{mission_title(catalog)}: {catalog.statement}", blocks=as_dicts(blocks))


def category_page(name: str, principles: list[PrincipleInfo], page: int) -> Message:
    """One page of a category's principles, with the command for the next page."""
    pages = max(1, math.ceil(len(principles) / CATEGORY_PAGE_SIZE))
    command = f"/mission {escape(name)}"
    if not 1 <= page <= pages:
        return notice(
            f"*{escape(name)}* has {_plural(pages, 'page')} of principles: "
            f"`{command}` shows the first"
            + (f", `{command} {pages}` the last." if pages > 1 else ".")
        )
    first = (page - 1) * CATEGORY_PAGE_SIZE
    shown = principles[first : first + CATEGORY_PAGE_SIZE]
    title = name
    if pages > 1:
        title = f"{name}: principles {first + 1} to {first + len(shown)} of {len(principles)}"
    footer = [_plural(len(principles), "principle")]
    if pages > 1:
        footer.append(f"page {page} of {pages}")
    if page < pages:
        footer.append(f"next: `{command} {page + 1}`")
    blocks: list[Block] = [header(title), *packed_sections(map(principle_line, shown))]
    blocks.append(context(" · ".join(footer) + f"\n{DETAIL_HINT}"))
    return Message(text=f"{title}: {len(shown)} principles", blocks=as_dicts(blocks))


def principle_detail(principle: PrincipleInfo, lived: Lived | None = None) -> Message:
    """One principle; with `lived`, how it was lived and a button to recognise someone for it."""
    emoji = f"{principle.emoji} " if principle.emoji else ""
    details = [f"`#{principle.key}`"]
    if principle.number is not None:
        details.insert(0, f"Principle {principle.number}")
    if principle.category:
        details.append(escape(principle.category))
    blocks: list[Block] = [
        section(f"{emoji}*{escape(principle.title)}*"),
        section(escape(principle.description or "_No description yet._")),
        context(" · ".join(details)),
    ]
    if lived is not None:
        blocks.extend(_lived_blocks(principle, lived))
    return Message(
        text=f"{principle.title}: {principle.description or ''}", blocks=as_dicts(blocks)
    )


def lived_quote(kudos: KudosGroup) -> str:
    """A kudos as one quote: who to whom, then the words (every line quoted)."""
    receivers = ", ".join(f"<@{receiver}>" for receiver in kudos.receiver_ids)
    words = escape(clip(kudos.message, LIVED_QUOTE_LIMIT)).replace("\n", "\n>")
    return f"<@{kudos.giver_id}> to {receivers}, {kudos.created_at:%-d %b}\n>{words}"


def _lived_blocks(principle: PrincipleInfo, lived: Lived) -> list[Block]:
    button = ButtonElement(
        text="Give kudos for this",
        action_id=Action.GIVE_KUDOS,
        value=principle.key,
        style="primary",
    )
    blocks: list[Block] = [divider()]
    if lived.quiet:
        blocks.append(
            section(
                "*How we lived it*\nNobody has been recognised for this principle in the last "
                "90 days. Seen someone live it? Be the first."
            )
        )
        return [*blocks, ActionsBlock(elements=[button])]
    change = lived.this_month - lived.last_month
    trend = (
        "the same as" if change == 0 else f"{abs(change)} {'more' if change > 0 else 'fewer'} than"
    )
    numbers = (
        f"{_plural(lived.this_month, 'kudos', 'kudos')} this month, {trend} last month "
        f"({lived.last_month}) · in the last 90 days {_plural(lived.givers, 'person', 'people')} "
        f"recognised {_plural(lived.receivers, 'person', 'people')}"
    )
    blocks.append(section("*How we lived it*\n" + numbers))
    blocks.extend(section(lived_quote(quote)) for quote in lived.quotes)
    if not lived.quotes:
        blocks.append(context("The recent kudos for it were given where you can't read them."))
    return [*blocks, ActionsBlock(elements=[button])]


def notice(text: str) -> Message:
    """A one-section message for refusals, confirmations and errors."""
    return Message(text=text, blocks=as_dicts([section(text)]))


def notice_modal(message: Message, title: str = "missionbot") -> dict[str, Any]:
    """A modal that only says `message`: what a submitted form turns into when there is no
    input left to show an error under."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": message.blocks,
    }


MISSION_HELP = (
    "*/mission* keeps our mission and principles at hand.\n"
    "• `/mission` shows the mission statement and every principle "
    "(when there are many, their categories)\n"
    "• `/mission 3` or `/mission ownership` shows one principle in detail\n"
    "• `/mission <category> [page]` lists the principles of a category; "
    "a principle's number, key or title comes first when a category has the same name"
)


def mission_help(subcommand_lines: Sequence[str]) -> Message:
    """The `/mission` help: showing the mission, then one line per subcommand."""
    text = "\n".join((MISSION_HELP, *subcommand_lines))
    return Message(text=text, blocks=as_dicts([section(text)]))
