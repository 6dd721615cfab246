"""Whatever Slack sends that no listener claims gets 200 (never Slack's error), with a note."""

from __future__ import annotations

import logging
import re

import pytest

from bot.slack.errors import BUTTON_NO_LONGER_USED, message_for
from tests.conftest import Bot
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.kudos import BEN, GIVER, give_kudos_button, message_shortcut, opened_view
from tests.support.slack_client import DEFAULT_CHANNEL


def old_button(slack: FakeSlack, *, response_url: bool = True) -> dict[str, object]:
    """A button from a message an older version posted: an action_id nobody listens to."""
    payload = give_kudos_button(None)
    payload["actions"] = [
        {"type": "button", "action_id": "vote_principle", "block_id": "b1", "value": "3"}
    ]
    payload["message"] = {"type": "message", "ts": "1700000001.000100", "text": "old post"}
    if response_url:
        payload["response_url"] = slack.response_url("oldbutton")
    return payload


def test_a_retired_button_gets_200_and_a_no_longer_used_note(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.interaction(old_button(slack))
    assert reply.status == 200
    note = slack.wait_for("response_url")[0]
    assert note["text"] == BUTTON_NO_LONGER_USED
    assert note["response_type"] == "ephemeral"
    assert note["replace_original"] is False


def test_a_retired_button_without_a_response_url_gets_200_and_no_note(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.interaction(old_button(slack, response_url=False))
    assert reply.status == 200
    assert slack.calls("response_url") == []


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "shortcut", "callback_id": "old_global_shortcut", "trigger_id": "1.2.t"},
        {"type": "view_submission", "view": {"type": "modal", "callback_id": "old", "state": {}}},
        {"type": "view_closed", "view": {"type": "modal", "callback_id": "old_modal"}},
        {"type": "block_suggestion", "action_id": "old_select", "value": "ab"},
    ],
    ids=["global shortcut", "modal submission", "modal closed", "options"],
)
def test_an_unknown_shortcut_or_view_gets_200(bot: Bot, payload: dict[str, object]) -> None:
    reply = bot.interaction(
        {**payload, "team": {"id": TEAM_ID, "domain": "tidewater"}, "user": {"id": GIVER}}
    )
    assert reply.status == 200


def test_an_event_type_the_bot_does_not_handle_gets_200(bot: Bot) -> None:
    reply = bot.event({"type": "pin_added", "user": GIVER, "channel_id": DEFAULT_CHANNEL})
    assert reply.status == 200


def test_an_unknown_slash_command_gets_200_and_a_hint(bot: Bot) -> None:
    reply = bot.command("/kudoz", "@ben")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "I don't know `/kudoz`" in reply.text
    assert "/kudos help" in reply.text


def test_an_unexpected_error_logs_one_line_with_the_id_the_apology_quotes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.errors")
    try:
        # A real KeyError, raised and caught as a listener's would be.
        {}["missing"]
    except KeyError as error:
        message = message_for(error)
    quoted = re.search(r"error id `([0-9a-f]{8})`", message.text)
    assert quoted is not None
    lines = [r for r in caplog.records if r.name == "bot.slack.errors"]
    assert len(lines) == 1
    logged = lines[0].getMessage()
    assert logged.startswith(f"unexpected error id={quoted.group(1)}: KeyError: 'missing' at ")
    assert "test_unknown_interactions.py" in logged
    assert "\n" not in logged
    assert lines[0].exc_info is None  # the traceback is logged at DEBUG only


def test_message_shortcut_on_an_apps_message_does_not_preselect_the_bot(
    bot: Bot, slack: FakeSlack
) -> None:
    # As Slack sends it for a message an app posted with its bot token: `user` is the app's
    # bot user, and `bot_id`, `app_id` and `bot_profile` name the app.
    payload = message_shortcut(slack, author="UOTHERAPP", text="Deploy finished")
    payload["message"] = {
        "type": "message",
        "user": "UOTHERAPP",
        "bot_id": "BOTHERAPP",
        "app_id": "AOTHERAPP",
        "text": "Deploy finished",
        "ts": "1700000123.000200",
        "team": TEAM_ID,
        "bot_profile": {"id": "BOTHERAPP", "app_id": "AOTHERAPP", "name": "deploys"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Deploy finished"}}],
    }
    assert bot.interaction(payload).status == 200
    recipients = next(b for b in opened_view(slack)["blocks"] if b.get("block_id") == "recipients")
    assert "initial_users" not in recipients["element"]


@pytest.mark.parametrize("author", ["legacy bot_message", "this bot"])
def test_message_shortcut_on_a_bot_message_leaves_recipients_empty(
    bot: Bot, slack: FakeSlack, author: str
) -> None:
    payload = message_shortcut(slack, author=BEN, text="beep")
    if author == "legacy bot_message":
        # An incoming webhook or legacy integration: no `user` at all.
        payload["message"] = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "BWEBHOOK1",
            "username": "alerts",
            "text": "beep",
            "ts": "1700000123.000200",
        }
    else:
        payload["message"] = {"type": "message", "user": "UMISSIONBOT", "text": "beep", "ts": "1"}
    bot.interaction(payload)
    recipients = next(b for b in opened_view(slack)["blocks"] if b.get("block_id") == "recipients")
    assert "initial_users" not in recipients["element"]


def test_message_shortcut_on_a_persons_message_still_preselects_them(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.interaction(message_shortcut(slack, author=BEN, text="fixed it"))
    recipients = next(b for b in opened_view(slack)["blocks"] if b.get("block_id") == "recipients")
    assert recipients["element"]["initial_users"] == [BEN]
