"""Messages for /mission: the overview, one principle in detail, and the help text."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import Message, as_dicts, context, divider, escape, header, section
from bot.mission import Catalog, PrincipleInfo

UNCATEGORISED = "More principles"


def principle_line(principle: PrincipleInfo) -> str:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    return f"`{principle.number}.` {emoji}*{escape(principle.title)}*  `#{principle.key}`"


def mission_title(catalog: Catalog) -> str:
    return f"{catalog.company}: our mission" if catalog.company else "Our mission"


def mission_blocks(catalog: Catalog) -> list[Block]:
    """The statement, then the principles grouped by category, each numbered with its key."""
    blocks: list[Block] = [
        header(mission_title(catalog)),
        section(escape(catalog.statement)),
        divider(),
    ]
    for category, principles in catalog.by_category():
        lines = "\n".join(principle_line(p) for p in principles)
        blocks.append(section(f"*{escape(category or UNCATEGORISED)}*\n{lines}"))
    return blocks


def mission_overview(catalog: Catalog) -> Message:
    blocks = mission_blocks(catalog)
    blocks.append(context("`/mission <number or key>` shows one principle in detail."))
    return Message(text=f"{mission_title(catalog)}: {catalog.statement}", blocks=as_dicts(blocks))


def principle_detail(principle: PrincipleInfo) -> Message:
    emoji = f"{principle.emoji} " if principle.emoji else ""
    details = [f"`#{principle.key}`"]
    if principle.number is not None:
        details.insert(0, f"Principle {principle.number}")
    if principle.category:
        details.append(escape(principle.category))
    blocks = [
        section(f"{emoji}*{escape(principle.title)}*"),
        section(escape(principle.description or "_No description yet._")),
        context(" · ".join(details)),
    ]
    return Message(
        text=f"{principle.title}: {principle.description or ''}", blocks=as_dicts(blocks)
    )


def notice(text: str) -> Message:
    """A one-section message for refusals, confirmations and errors."""
    return Message(text=text, blocks=as_dicts([section(text)]))


MISSION_HELP = (
    "*/mission* keeps our mission and principles at hand.\n"
    "• `/mission` shows the mission statement and every principle\n"
    "• `/mission 3` or `/mission ownership` shows one principle in detail\n"
    "• `/mission help` shows this help"
)


def mission_help(extra_lines: tuple[str, ...] = ()) -> Message:
    text = "\n".join((MISSION_HELP, *extra_lines))
    return Message(text=text, blocks=as_dicts([section(text)]))
