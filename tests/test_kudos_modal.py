"""The kudos modal, the "Give kudos for this" shortcut and the "Give kudos" button, over HTTP."""

from __future__ import annotations

from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import (
    BEN,
    CARL,
    DANA,
    GIVER,
    block,
    give_kudos_button,
    kudos_rows,
    message_shortcut,
    opened_view,
    outbox_settled,
    submission,
)


def test_modal_round_trip_records_the_kudos_and_closes_the_modal(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos", f"<@{DANA}|dana>")
    view = opened_view(slack)
    assert block(view, "recipients")["element"]["initial_users"] == [DANA]
    reply = bot.interaction(
        submission(
            slack,
            recipients=[DANA, BEN],
            principle="no-surprises",
            message="Told the customer about the fee before the bill.",
        )
    )
    assert reply.status == 200
    assert reply.body == b""  # an empty 200 closes the modal
    rows = kudos_rows(bot.database)
    assert [(r.receiver_id, r.source, r.channel_id) for r in rows] == [
        (DANA, "modal", "CGENERAL01"),
        (BEN, "modal", "CGENERAL01"),
    ]
    public = slack.wait_for("chat.postMessage", count=3)
    assert {c["channel"] for c in public} == {"CGENERAL01", DANA, BEN}
    confirmation = slack.wait_for("response_url")[0]
    assert confirmation["response_type"] == "ephemeral"
    assert "You have 3 of 5 kudos left today." in confirmation["text"]


def test_modal_submission_to_self_shows_an_inline_error(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.interaction(
        submission(slack, recipients=[GIVER], principle="plain-words", message="me!")
    )
    assert reply.json["response_action"] == "errors"
    assert "yourself" in reply.json["errors"]["recipients"]
    assert kudos_rows(bot.database) == []


def test_modal_submission_with_blank_message_shows_an_inline_error(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.interaction(
        submission(slack, recipients=[DANA], principle="plain-words", message=" \u200b ")
    )
    assert reply.json["response_action"] == "errors"
    assert "can't be empty" in reply.json["errors"]["message"]
    assert kudos_rows(bot.database) == []


def test_modal_submission_with_retired_principle_shows_an_inline_error(
    bot: Bot, slack: FakeSlack
) -> None:
    reply = bot.interaction(
        submission(slack, recipients=[DANA], principle="long-gone", message="thanks")
    )
    assert "current principles" in reply.json["errors"]["principle"]
    assert kudos_rows(bot.database) == []


def test_modal_over_the_allowance_shows_an_inline_error(bot: Bot, slack: FakeSlack) -> None:
    people = [f"UPEER{n:04d}" for n in range(6)]
    reply = bot.interaction(
        submission(slack, recipients=people, principle="plain-words", message="all of you")
    )
    assert "at most 5 people a day" in reply.json["errors"]["recipients"]
    assert kudos_rows(bot.database) == []


def test_modal_posts_through_response_url_when_the_bot_is_not_in_the_channel(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.channels["CPRIVATE1"] = {"is_member": False, "is_private": True}
    bot.interaction(
        submission(
            slack,
            recipients=[DANA],
            principle="plain-words",
            message="clear notice",
            share_in="CPRIVATE1",
        )
    )
    outbox_settled(bot.database)
    replies = {c["response_type"]: c for c in slack.wait_for("response_url", count=2)}
    assert "gave kudos to <@UDANA004>" in replies["in_channel"]["text"]
    assert "Kudos recorded" in replies["ephemeral"]["text"]
    # Tried in the channel first; Slack said channel_not_found, so it went by response_url.
    assert sorted(c["channel"] for c in slack.calls("chat.postMessage")) == ["CPRIVATE1", DANA]
    assert kudos_rows(bot.database)[0].public_channel_id == "CPRIVATE1"


def test_message_shortcut_opens_modal_with_author_and_link(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.interaction(message_shortcut(slack, author=BEN, text="fixed the manifest"))
    assert reply.status == 200
    view = opened_view(slack)
    assert block(view, "recipients")["element"]["initial_users"] == [BEN]
    link = "https://tidewater.slack.com/archives/CGENERAL01/p1700000123000200"
    assert link in block(view, "message")["element"]["initial_value"]
    assert slack.calls("chat.getPermalink")[0]["message_ts"] == "1700000123.000200"
    reply = bot.interaction(
        submission(
            slack,
            recipients=[BEN],
            principle="notice-the-work",
            message=block(view, "message")["element"]["initial_value"] + "Thank you!",
            source="shortcut",
        )
    )
    rows = kudos_rows(bot.database)
    assert [(r.receiver_id, r.source) for r in rows] == [(BEN, "shortcut")]
    assert link in rows[0].message


def test_message_shortcut_builds_the_link_when_slack_cannot(bot: Bot, slack: FakeSlack) -> None:
    slack.fail("chat.getPermalink", error="message_not_found")
    bot.interaction(message_shortcut(slack, author=CARL, text="hi"))
    message = block(opened_view(slack), "message")["element"]["initial_value"]
    assert "https://tidewater.slack.com/archives/CGENERAL01/p1700000123000200" in message


def test_message_shortcut_on_own_message_leaves_recipients_empty(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.interaction(message_shortcut(slack, author=GIVER, text="my own"))
    assert "initial_users" not in block(opened_view(slack), "recipients")["element"]


def test_give_kudos_button_opens_modal_with_its_principle(bot: Bot, slack: FakeSlack) -> None:
    reply = bot.interaction(give_kudos_button("fix-the-cause"))
    assert reply.status == 200
    view = opened_view(slack)
    assert block(view, "principle")["element"]["initial_option"]["value"] == "fix-the-cause"
    assert block(view, "share_in")["element"]["initial_conversation"] == "CGENERAL01"


def test_give_kudos_button_from_app_home_without_principle(bot: Bot, slack: FakeSlack) -> None:
    bot.interaction(give_kudos_button(None, channel=None))
    view = opened_view(slack)
    assert "initial_option" not in block(view, "principle")["element"]
    assert "initial_conversation" not in block(view, "share_in")["element"]
