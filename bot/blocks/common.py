"""Small Block Kit helpers shared by the message builders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50


def clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def header(value: str) -> HeaderBlock:
    return HeaderBlock(text=clip(value, HEADER_TEXT_LIMIT))


def section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, SECTION_TEXT_LIMIT)))


def packed_sections(lines: Iterable[str], limit: int = SECTION_TEXT_LIMIT) -> list[SectionBlock]:
    """Lines joined into sections, each within `limit` characters (a long line is clipped)."""
    blocks: list[SectionBlock] = []
    current = ""
    for raw in lines:
        line = clip(raw, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            blocks.append(section(current))
            current = line
        else:
            current = candidate
    if current:
        blocks.append(section(current))
    return blocks


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(mrkdwn, SECTION_TEXT_LIMIT))])


def divider() -> DividerBlock:
    return DividerBlock()


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def escape(value: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
