"""Text no database can store (a NUL, an unpaired surrogate): the same polite refusal on SQLite
and PostgreSQL, from every surface, and nothing recorded."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.blocks.ids import KudosBlock
from bot.db.models import Kudos, Subscription
from bot.slack.errors import UNEXPECTED
from bot.slack.text_guard import REFUSAL
from bot.text import is_storable, unstorable_path
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, submission

NUL = "\x00"
LONE_SURROGATE = "\ud800"

COMMANDS = [
    ("/kudos", f"<@{BEN}> #plain-words thanks{NUL} for the notice"),
    ("/kudos", f"<@{BEN}> #plain{NUL}-words thanks for the notice"),
    ("/kudos", f"leaderboard #ab{NUL}cd"),
    ("/kudos", f"leaderboard 2026-0{NUL}3"),
    ("/kudos", f"principles {NUL}"),
    ("/mission", f"own-the{NUL}-outcome"),
    ("/mission", f"3{NUL}"),
    ("/mission", f"subscribe 08:{NUL}30"),
    ("/mission", f"subscribe 08:30 Europe/Ber{NUL}lin"),
]


def counts(bot: Bot) -> tuple[int, int]:
    with bot.database.transaction() as session:
        kudos = session.scalar(select(func.count()).select_from(Kudos))
        subscriptions = session.scalar(select(func.count()).select_from(Subscription))
    return int(kudos or 0), int(subscriptions or 0)


@pytest.mark.parametrize(
    ("command", "text"), COMMANDS, ids=[f"{c} {t}".replace(NUL, "<NUL>") for c, t in COMMANDS]
)
def test_a_nul_in_command_text_is_refused_politely_and_nothing_recorded(
    bot: Bot, slack: FakeSlack, command: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        reply = bot.command(command, text)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert REFUSAL in reply.text
    assert counts(bot) == (0, 0)
    assert slack.calls("chat.postMessage") == []
    assert slack.calls("views.open") == []
    assert not [r for r in caplog.records if r.exc_info]


def test_a_nul_in_the_modal_message_is_an_inline_error_and_nothing_recorded(
    bot: Bot, slack: FakeSlack
) -> None:
    payload = submission(
        slack, recipients=[BEN], principle="plain-words", message=f"thanks{NUL} for it"
    )
    reply = bot.interaction(payload)
    assert reply.status == 200
    assert reply.json == {"response_action": "errors", "errors": {KudosBlock.MESSAGE: REFUSAL}}
    assert counts(bot) == (0, 0)
    assert slack.calls("chat.postMessage") == []


def test_an_unpaired_surrogate_in_a_json_payload_is_refused_like_a_nul(
    bot: Bot, slack: FakeSlack
) -> None:
    payload = submission(
        slack, recipients=[BEN], principle="plain-words", message="thanks PLACEHOLDER"
    )
    # json.dumps would escape it the same way; spelled out to show what Slack would send.
    raw = json.dumps(payload).replace("PLACEHOLDER", "\\ud800")
    reply = bot.post("payload=" + quote(raw, safe=""))
    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert counts(bot) == (0, 0)


def test_a_nul_in_a_button_value_is_acknowledged_and_ignored(bot: Bot, slack: FakeSlack) -> None:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0TIDEWATER", "domain": "tidewater"},
        "user": {"id": "UANA0001", "team_id": "T0TIDEWATER"},
        "api_app_id": "AMISSIONBOT",
        "trigger_id": "1.2.trigger",
        "channel": {"id": "CGENERAL01"},
        "actions": [{"type": "button", "action_id": "give_kudos", "value": f"plain{NUL}"}],
    }
    reply = bot.interaction(payload)
    assert reply.status == 200
    assert slack.calls("views.open") == []


def test_the_same_command_without_the_nul_still_works(bot: Bot) -> None:
    reply = bot.command("/kudos", "leaderboard #abcd")
    assert "I don't know a principle called `abcd`" in reply.text
    assert UNEXPECTED not in reply.text


@pytest.mark.parametrize(
    ("text", "storable"),
    [
        ("plain", True),
        ("", True),
        ("emoji \U0001f389", True),
        (NUL, False),
        (LONE_SURROGATE, False),
    ],
)
def test_storable_text_has_no_nul_and_no_unpaired_surrogate(text: str, storable: bool) -> None:
    assert is_storable(text) is storable


def test_the_unstorable_path_names_where_it_is_keys_included() -> None:
    assert unstorable_path({"a": [{"b": "ok"}, {"c": f"x{NUL}"}]}) == ("a", "1", "c")
    assert unstorable_path({"a": {f"k{NUL}": 1}}) == ("a", f"k{NUL}")
    assert unstorable_path({"a": ["fine", 1, None, True]}) is None
