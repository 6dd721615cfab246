"""Generated missions of any size, at the limits `mission check` allows, and a Block Kit
checker that holds a message or view to Slack's limits (slack-sdk's models validate shapes
and most lengths; the counts a model can't see are checked here)."""

from __future__ import annotations

import functools
from typing import Any

import yaml
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.mission.file import (
    MAX_CATEGORY_LENGTH,
    MAX_COMPANY_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_KEY_LENGTH,
    MAX_STATEMENT_LENGTH,
    MAX_TITLE_LENGTH,
)

CATEGORIES = 10


def category_of(number: int, categories: int = CATEGORIES) -> str:
    return f"Category {number % categories + 1}"


def principle_key(number: int) -> str:
    return f"principle-{number}"


def title_of(number: int) -> str:
    # Characters Slack makes us escape (& < >), so each one takes four or five in a message.
    return f"{number}. Keep <promises> & say so " + "&" * MAX_TITLE_LENGTH


# Cached: the same text every time, and PyYAML's pure-Python dump of 250 principles cost
# more CPU than the test that wrote it (test_mission_sizes.py asks for it 52 times).
@functools.cache
def generated_mission(size: int, *, categories: int = CATEGORIES, longest: bool = False) -> str:
    """A mission of `size` principles spread over `categories` categories; `longest` makes
    every text as long as the limits allow."""
    principles = []
    for number in range(1, size + 1):
        key = principle_key(number)
        if longest:
            key = (key + "-" + "k" * MAX_KEY_LENGTH)[:MAX_KEY_LENGTH]
        principle: dict[str, Any] = {
            "key": key,
            "title": title_of(number)[:MAX_TITLE_LENGTH],
            "category": category_of(number, categories).ljust(
                MAX_CATEGORY_LENGTH if longest else 0, "x"
            ),
            # Each its own: a reaction's emoji may mean only one principle.
            "emoji": f":handshake-{number}:",
            "description": (f"What principle {number} asks of us. " + "<&>" * 700)[
                :MAX_DESCRIPTION_LENGTH
            ],
        }
        principles.append(principle)
    document = {
        "company": ("Generated & Sons " + "c" * MAX_COMPANY_LENGTH)[
            : MAX_COMPANY_LENGTH if longest else 40
        ],
        "mission": ("We keep <every> promise & then some. " * 60)[:MAX_STATEMENT_LENGTH].strip(),
        "principles": principles,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=10_000)


MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_LIMITS = {"section": 3000, "header": 150, "context": 3000}
OPTION_TEXT = 75
OPTIONS = 100


def assert_valid_blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    assert 0 < len(blocks) <= limit, f"{len(blocks)} blocks"
    for block in Block.parse_all(blocks):
        assert block is not None
        block.validate_json()
    for block in blocks:
        kind = block["type"]
        if kind in {"section", "header"}:
            assert len(block["text"]["text"]) <= TEXT_LIMITS[kind]
        if kind == "context":
            for element in block["elements"]:
                assert len(element["text"]) <= TEXT_LIMITS["context"]
        element = block.get("element") or {}
        options = element.get("options") or []
        groups = element.get("option_groups") or []
        assert len(options) <= OPTIONS
        assert len(groups) <= OPTIONS
        assert_valid_options(options + [o for g in groups for o in g["options"]])
        for group in groups:
            assert len(group["options"]) <= OPTIONS
            assert len(group["label"]["text"]) <= OPTION_TEXT


def assert_valid_options(options: list[dict[str, Any]]) -> None:
    assert len(options) <= OPTIONS
    for option in options:
        assert 0 < len(option["text"]["text"]) <= OPTION_TEXT
        assert 0 < len(option["value"]) <= 150


def assert_valid_message(reply: dict[str, Any]) -> None:
    assert reply["text"]
    assert_valid_blocks(reply["blocks"], MESSAGE_BLOCKS)


def assert_valid_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert_valid_blocks(view["blocks"], VIEW_BLOCKS)
