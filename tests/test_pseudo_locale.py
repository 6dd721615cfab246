"""The conversation in the pseudo-locale `en_XA` (MISSIONBOT_LANGUAGE=en_XA): every string the
bot writes on the translated surfaces comes out accented, so English left among it is a string
that never went through gettext; and a third longer, so a Block Kit limit only a longer
language would break is broken here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.config import Settings, example_mission_file
from bot.mission.file import load_mission_file
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import outbox_settled

FRIEND = "UFRIEND01"
LIMITS = {"header": 150, "section": 3000, "context": 2000, "button": 75}
# What is not the bot's words: code, mentions, emoji, entities, the pseudo-locale's own text.
PROTECTED = re.compile(r"`[^`]*`|<[^<>]*>|:[a-z0-9_+\-']+:|&[a-z]+;|⟦[^⟧]*⟧|#[a-z0-9-]+")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"missionbot_language": "en_XA"})


def _content() -> list[str]:
    """The mission file's own words: content, shown as written in every language."""
    document = load_mission_file(example_mission_file())
    words = [document.company or "", document.statement]
    for principle in document.principles:
        words += [principle.title, principle.description or "", principle.category or ""]
    return sorted(words, key=len, reverse=True)


def _texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for block in blocks:
        kind = block["type"]
        if kind in {"header", "section"} and block.get("text"):
            found.append((kind, block["text"]["text"]))
        elif kind == "context":
            found += [("context", element["text"]) for element in block["elements"]]
        elif kind == "actions":
            found += [("button", element["text"]["text"]) for element in block["elements"]]
    return found


def _english_left(text: str, typed: list[str]) -> list[str]:
    for known in [*_content(), *typed]:
        text = text.replace(known, " ")
    text = PROTECTED.sub(" ", text)
    return re.findall(r"\b[A-Za-z]{4,}\b", text)


def _check(blocks: list[dict[str, Any]], typed: list[str]) -> None:
    assert len(blocks) <= 50
    for kind, text in _texts(blocks):
        assert len(text) <= LIMITS[kind], (kind, text[:80])
        assert not _english_left(text, typed), (kind, text[:200])


def test_the_translated_surfaces_have_no_english_left_and_keep_slacks_limits(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.add_user(FRIEND, profile={"display_name": "friend"})
    for text in ("", "1", "easy", "help", "today", "nonsense-principle"):
        _check(bot.command("/mission", text).json["blocks"], [text])
    words = "thanks for the call"
    for text in (
        f"<@{FRIEND}> #plain-words {words}",
        "me",
        "help",
        "undo",
        "undo",
        "settings",
        "settings language klingon",
    ):
        _check(bot.command("/kudos", text).json["blocks"], [words, "klingon"])
    bot.command("/kudos", f"<@{FRIEND}> #plain-words {words}")
    outbox_settled(bot.database)
    for call in slack.calls("chat.postMessage"):
        _check(call["blocks"], [words])
