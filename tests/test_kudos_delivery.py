"""After the commit: the public message (escaped), DMs, confirmation, and Slack failing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.config import Settings
from tests.conftest import Bot
from tests.support.fake_slack import FakeSlack
from tests.support.kudos import BEN, DANA, GIVER, kudos_rows, submission

# Everything Slack would turn into a ping or a link: <!…>, <@…>, <#…>, <http…>.
SLACK_MARKUP = re.compile(r"<[^>]*>")


def all_text(call_params: dict[str, Any]) -> str:
    blocks = call_params.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return call_params["text"] + "\n" + json.dumps(blocks, ensure_ascii=False)


def public_post(slack: FakeSlack) -> dict[str, Any]:
    slack.wait_for("chat.postMessage")
    return next(c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01").params


def test_public_message_names_giver_receivers_principle_with_emoji_and_message(
    bot: Bot, slack: FakeSlack
) -> None:
    bot.command("/kudos", f"<@{DANA}|dana> <@{BEN}> #plain-words rewrote the delay notice")
    text = all_text(public_post(slack))
    assert f"<@{GIVER}> gave kudos to <@{DANA}> and <@{BEN}>" in text
    assert ":speech_balloon: *Say it in plain words*" in text
    assert "rewrote the delay notice" in text
    dms = slack.wait_for("chat.postMessage", count=3)
    assert {c["channel"] for c in dms} >= {DANA, BEN}
    confirmation = slack.wait_for("response_url")[0]
    assert confirmation["response_type"] == "ephemeral"
    assert "You have 3 of 5 kudos left today." in confirmation["text"]


def test_slack_markup_typed_in_a_command_cannot_ping_or_disguise_a_link(
    bot: Bot, slack: FakeSlack
) -> None:
    # As Slack sends it with should_escape: typed "@channel" arrives as <!channel>, a typed
    # "<https://evil|bank>" arrives entity-escaped, an auto-linked URL with a label as <…|…>.
    tricks = (
        "<!channel> <!here> <!everyone> <!subteam^S0OPS|@ops> "
        "&lt;https://evil.example|https://bank.example&gt; "
        "<https://evil.example/login|bank.example> &amp; more"
    )
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words {tricks}")
    post = public_post(slack)
    markup = set(SLACK_MARKUP.findall(all_text(post)))
    assert markup == {f"<@{GIVER}>", f"<@{DANA}>"}
    text = post["text"]
    assert "@channel @here @everyone @ops" in text
    assert "&lt;https://evil.example|https://bank.example&gt;" in text
    assert "bank.example (https://evil.example/login)" in text
    assert "&amp; more" in text
    assert "link_names" not in post


def test_markup_typed_into_the_modal_is_escaped_too(bot: Bot, slack: FakeSlack) -> None:
    message = "<!channel> see <https://evil.example|bank.example> & <@U0ATTACK>"
    bot.interaction(submission(slack, recipients=[DANA], principle="plain-words", message=message))
    assert kudos_rows(bot.database)[0].message == message
    markup = set(SLACK_MARKUP.findall(all_text(public_post(slack))))
    assert markup == {f"<@{GIVER}>", f"<@{DANA}>"}


def test_public_post_failure_after_commit_keeps_the_kudos_and_tells_the_giver(
    bot: Bot, slack: FakeSlack
) -> None:
    slack.fail("chat.postMessage", error="is_archived")
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert reply.status == 200
    assert len(kudos_rows(bot.database)) == 1
    confirmation = slack.wait_for("response_url")[0]["text"]
    assert "saved and counts" in confirmation
    assert "the public message in <#CGENERAL01> (is_archived)" in confirmation
    assert slack.wait_for("chat.postMessage", count=2)[1]["channel"] == DANA


def test_slack_down_after_commit_names_everything_that_did_not_arrive(
    bot: Bot, slack: FakeSlack
) -> None:
    # Three 500s exhaust the client's two retries for the public post; then the DM fails.
    slack.fail("chat.postMessage", status=500, times=3)
    slack.fail("chat.postMessage", error="account_inactive")
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert len(kudos_rows(bot.database)) == 1
    confirmation = slack.wait_for("response_url", timeout=15)[0]["text"]
    assert "the public message in <#CGENERAL01>" in confirmation
    assert f"the direct message to <@{DANA}> (account_inactive)" in confirmation


def test_rate_limited_post_is_retried_and_delivered(bot: Bot, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    confirmation = slack.wait_for("response_url", timeout=10)[0]["text"]
    assert "didn't take everything" not in confirmation
    assert kudos_rows(bot.database)[0].public_message_ts is not None


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Slack's answers are awaited briefly here, so that a slow Slack times out quickly."""
    return settings.model_copy(update={"slack_api_timeout": 0.3})


def test_a_public_post_that_times_out_is_retried_and_delivered(bot: Bot, slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", delay=0.6)
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert reply.status == 200
    confirmation = slack.wait_for("response_url", timeout=10)[0]["text"]
    assert "didn't take everything" not in confirmation
    public = [c for c in slack.calls("chat.postMessage") if c["channel"] == "CGENERAL01"]
    assert len(public) == 2
    assert kudos_rows(bot.database)[0].public_message_ts is not None


# Seconds of waiting out timeouts and backoffs, and nothing the database changes: SQLite only.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_slack_timing_out_every_time_keeps_the_kudos_and_names_what_did_not_arrive(
    bot: Bot, slack: FakeSlack
) -> None:
    # The public post and its two retries time out, then the DM and its two retries.
    slack.fail("chat.postMessage", delay=0.6, times=6)
    reply = bot.command("/kudos", f"<@{DANA}|dana> #plain-words thanks")
    assert reply.status == 200
    assert len(kudos_rows(bot.database)) == 1
    confirmation = slack.wait_for("response_url", timeout=15)[0]["text"]
    assert "saved and counts" in confirmation
    assert "the public message in <#CGENERAL01> (TimeoutError)" in confirmation
    assert f"the direct message to <@{DANA}> (TimeoutError)" in confirmation
