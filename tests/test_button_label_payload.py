"""A button click as Slack really sends it: the action carries the button's label as an object.

Slack's `block_actions` payload reports each action with `text: {"type": "plain_text", ...}`.
The body check in bot/slack/http.py once took `text` for a string everywhere and answered such
a click with 400 (found by the console, whose clicks carry the label as Slack's do).
"""

from __future__ import annotations

from bot.blocks.ids import Action, BlockId
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack

CHANNEL = "CLABELS01"


def test_share_in_channel_click_with_the_buttons_label_object_is_handled(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.command("/mission", "today", channel=CHANNEL)
    button = reply.json["blocks"][-1]["elements"][0]
    payload = bot.button_payload(
        Action.SHARE_TODAY, button["value"], block_id=BlockId.DAILY_ACTIONS, channel=CHANNEL
    )
    label = {"type": "plain_text", "text": "Share in channel", "emoji": True}
    payload["actions"][0]["text"] = label
    assert bot.interaction(payload).status == 200
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == CHANNEL


def test_a_label_object_outside_an_action_is_still_refused(bot: Bot) -> None:
    payload = bot.button_payload(
        Action.SHARE_TODAY, "2026-01-13", block_id=BlockId.DAILY_ACTIONS, channel=CHANNEL
    )
    payload["text"] = {"type": "plain_text", "text": "not where Slack puts one"}
    assert bot.interaction(payload).status == 400
