"""What every message builder shares: the `Message` they return and small Block Kit helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import text as user_text
from bot.i18n.speech import ENGLISH, Speech
from bot.reports.periods import Period, PeriodKind

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Message:
    """A message payload: Block Kit blocks plus the plain-text fallback Slack wants."""

    text: str
    blocks: list[dict[str, Any]]


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


# A week and a month as the language writes them in a heading; elsewhere CLDR's own skeleton.
_WEEK_PATTERNS = {"en": "EEE d MMM y", "en_XA": "EEE d MMM y"}
_MONTH_PATTERNS = {"en": "MMMM y", "en_XA": "MMMM y"}


def period_label(period: Period, t: Speech = ENGLISH) -> str:
    """A report's period in the reader's language: 'March 2026' / 'März 2026' / '2026年3月',
    'the week of Mon 2 Mar 2026', '2026-Q1', 'all time'. In English exactly `Period.label`."""
    _ = t.gettext
    start = period.start
    if start is None:
        return _("all time")
    if period.kind == PeriodKind.WEEK:
        pattern = _WEEK_PATTERNS.get(t.language)
        day = t.date(start, pattern) if pattern else t.skeleton("yMMMd", start)
        return _("the week of {day}").format(day=day)
    if period.kind == PeriodKind.MONTH:
        pattern = _MONTH_PATTERNS.get(t.language)
        return t.date(start, pattern) if pattern else t.skeleton("yMMMM", start)
    if period.kind == PeriodKind.QUARTER:
        return _("{year}-Q{quarter}").format(year=start.year, quarter=(start.month - 1) // 3 + 1)
    return str(start.year)


def escape(value: str) -> str:
    """User text for mrkdwn: Slack's control characters escaped, bidi controls dropped."""
    return user_text.escape(value)
